//! The JSON body extractor: `application/json` only (415), at most 1 MiB (413), malformed JSON
//! is `400 malformed_json`, and a body of the wrong shape (unknown field, wrong type, missing
//! field) is `422 invalid_body` with a pointer to the offending field.

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult, FieldError};

pub const JSON_LIMIT: usize = 1024 * 1024;

pub struct ApiJson<T> {
    pub body: T,
    /// SHA-256 of the raw body, for idempotency replays.
    pub sha256: String,
}

fn too_large() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("JSON bodies are limited to {JSON_LIMIT} bytes"),
    )
}

/// Reads the whole body (up to the JSON limit) after checking its media type.
pub async fn read_json_bytes(req: &HttpRequest, payload: &mut Payload) -> ApiResult<Vec<u8>> {
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > JSON_LIMIT {
            return Err(too_large());
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request("unreadable_body", e.to_string()))?;
        if body.len() + chunk.len() > JSON_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if !body.is_empty() {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::new(
                actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json",
            ));
        }
    }
    Ok(body)
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "malformed_json",
            "A JSON body is required",
        ));
    }
    // Syntax first, so a broken document is 400 and a well-formed but wrong one is 422.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {e}"))
    })?;
    super::text::check_unique_keys(bytes)?;
    super::text::check_body(&value)?;
    from_value(value)
}

/// Deserialises a parsed body; a wrong shape is `422 invalid_body` pointing at the field.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = pointer_of(e.path());
        let message = e.inner().to_string();
        let mut err = ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("The body does not have the expected shape: {message}"),
        );
        err.errors = vec![FieldError::new(pointer, message)];
        err
    })
}

/// Deserialises the result of applying a merge patch. The patch itself was read already, so a
/// field the merged whole lacks (a nested object started by the patch without its required
/// fields, say) is a `422 validation_failed` with a pointer to it, not a malformed body; any
/// other shape error stays `invalid_body`.
pub fn from_merged<T: DeserializeOwned>(value: serde_json::Value) -> ApiResult<T> {
    from_value(value).map_err(|mut e| {
        if e.errors
            .first()
            .is_some_and(|f| f.message.starts_with("missing field"))
        {
            e.code = "validation_failed";
            e.detail = "The change would leave a required field empty".into();
        }
        e
    })
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut p = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => p.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                p.push('/');
                p.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    p
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_json_bytes(&req, &mut payload).await?;
            let body = parse_json(&bytes)?;
            let sha256 = crate::auth::token::hex(&Sha256::digest(&bytes));
            Ok(ApiJson { body, sha256 })
        })
    }
}

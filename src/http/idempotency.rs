//! `Idempotency-Key` on creates: the first response is stored with the key (scoped to the
//! account, in the same transaction as the create), a replay with the same body returns it, and
//! the same key with another body answers `422 idempotency_key_reused`.

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse};
use std::future::{ready, Ready};

use crate::db::{idempotency, write_tx, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::http::etag;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match req.headers().get("idempotency-key") {
            None => Ok(None),
            Some(v) => match std::str::from_utf8(v.as_bytes()) {
                Ok(k) if valid_key(k) => Ok(Some(k.to_string())),
                _ => Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1–255 visible ASCII characters (spaces only inside)",
                )),
            },
        };
        ready(key.map(IdempotencyKey))
    }
}

/// The documented form (`openapi::constrain_parameters`): 1–255 printable ASCII characters,
/// neither first nor last a space (no tabs or control characters anywhere).
fn valid_key(k: &str) -> bool {
    let printable = |b: &u8| (b' '..=b'~').contains(b);
    (1..=255).contains(&k.len())
        && k.bytes().all(|b| printable(&b))
        && !k.starts_with(' ')
        && !k.ends_with(' ')
}

/// What a create produced: where the new resource lives and its JSON representation
/// (with a `version` field when it has an ETag).
pub struct Created {
    pub location: String,
    pub body: serde_json::Value,
}

impl Created {
    pub fn new<T: serde::Serialize>(location: String, body: &T) -> ApiResult<Created> {
        Ok(Created {
            location,
            body: serde_json::to_value(body).map_err(ApiError::internal)?,
        })
    }
}

fn respond(created: &Created, replayed: bool) -> HttpResponse {
    let mut res = HttpResponse::build(StatusCode::CREATED);
    res.insert_header((header::LOCATION, created.location.clone()));
    if let Some(v) = created.body.get("version").and_then(|v| v.as_i64()) {
        res.insert_header((header::ETAG, etag(v)));
    }
    if replayed {
        res.insert_header(("idempotent-replayed", "true"));
    }
    res.json(&created.body)
}

/// Runs a create in one write transaction, honouring the idempotency key.
/// `scope` distinguishes endpoints so one key cannot replay another endpoint's response.
pub async fn create<F>(
    state: &AppState,
    account_id: i64,
    key: IdempotencyKey,
    scope: impl Into<String>,
    body_sha256: String,
    f: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&mut AnyConnection) -> ApiResult<Created> + Send + 'static,
{
    // The scope names the endpoint and its target (e.g. the hazard), so one key cannot replay
    // another endpoint's or another object's response.
    let request_hash = format!("{}:{body_sha256}", scope.into());
    let expected = request_hash.clone();
    let Some(key) = key.0 else {
        let created = state.run(move |conn| write_tx(conn, f)).await?;
        return Ok(respond(&created, false));
    };
    let outcome = state
        .run(move |conn| {
            if let Some(stored) = idempotency::find(conn, account_id, &key)? {
                return Ok(Err(stored));
            }
            let attempt = write_tx(conn, |tx| {
                let created = f(tx)?;
                idempotency::insert(
                    tx,
                    account_id,
                    &key,
                    &request_hash,
                    &created.location,
                    &created.body,
                )?;
                Ok::<_, ApiError>(created)
            });
            match attempt {
                Ok(created) => Ok(Ok(created)),
                // A concurrent request with the same key committed first: replay it.
                Err(e) => match idempotency::find(conn, account_id, &key)? {
                    Some(stored) => Ok(Err(stored)),
                    None => Err(e),
                },
            }
        })
        .await?;
    match outcome {
        Ok(created) => Ok(respond(&created, false)),
        Err(stored) if stored.request_hash == expected => Ok(respond(
            &Created {
                location: stored.location,
                body: stored.body,
            },
            true,
        )),
        Err(_) => Err(ApiError::invalid_field(
            "idempotency_key_reused",
            "/",
            "This Idempotency-Key was used with a different request",
        )),
    }
}

//! One error type for the whole API, rendered as RFC 9457 `application/problem+json`.
//!
//! Handlers return `Result<_, ApiError>`; framework rejections (bad query, bad path, unknown
//! route, wrong method) are turned into the same shape by the handlers in `http::rejections`.
//! A `500` carries no internals: the cause is logged with the request id instead.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::domain::validate::FieldError;
use crate::domain::{Refusal, RefusalKind};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem document. `code` is stable and meant for programs; `title` and `detail`
/// are for people.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:hazard-registry:problem:validation_failed",
    "title": "The request is not valid",
    "status": 422,
    "detail": "1 field is invalid",
    "code": "validation_failed",
    "errors": [{"pointer": "/uscc", "message": "check character does not match (expected A)"}]
}))]
pub struct Problem {
    /// `urn:hazard-registry:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case error code.
    pub code: String,
    /// Field errors (only on `422`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `409 invalid_transition` and similar: facts the client can act on.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub context: Option<serde_json::Value>,
}

/// An error answer. Boxed so `Result<T, ApiError>` stays one pointer wide on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<ErrorDetails>);

#[derive(Debug)]
pub struct ErrorDetails {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub context: Option<serde_json::Value>,
    pub retry_after: Option<u64>,
    pub allow: Option<String>,
    /// Logged, never sent.
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ErrorDetails {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            context: None,
            retry_after: None,
            allow: None,
            cause: None,
        }))
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such resource, or it is outside your scope",
        )
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }
    pub fn precondition_required() -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            "if_match_required",
            "This write needs an If-Match header carrying the ETag you last read",
        )
    }
    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "stale_etag",
            "The resource changed since you read it; GET it again and retry",
        )
    }
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let n = errors.len();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            if n == 1 {
                "1 field is invalid".to_string()
            } else {
                format!("{n} fields are invalid")
            },
        );
        e.errors = errors;
        e
    }
    /// A 422 with its own code and one field error.
    pub fn invalid_field(code: &'static str, pointer: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message.clone());
        e.errors = vec![FieldError::new(pointer, message)];
        e
    }
    pub fn too_many_requests(retry_after: u64, detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", detail);
        e.retry_after = Some(retry_after.max(1));
        e
    }
    pub fn unavailable(cause: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "The database is unreachable; retry shortly",
        );
        e.retry_after = Some(5);
        e.cause = Some(cause.into());
        e
    }
    /// The evidence object storage did not answer (or answered an error): retry shortly.
    pub fn storage_unavailable(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "The evidence storage is not answering; retry shortly",
        );
        e.retry_after = Some(2);
        e.cause = Some(cause.to_string());
        e
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An unexpected error occurred; it has been logged with this request's id",
        );
        e.cause = Some(cause.to_string());
        e
    }
    pub fn with_context(mut self, context: serde_json::Value) -> Self {
        self.context = Some(context);
        self
    }

    pub fn title(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "The request could not be read",
            401 => "Authentication required",
            403 => "Not allowed",
            404 => "Not found",
            405 => "Method not allowed",
            409 => "Conflict with the current state",
            412 => "Precondition failed",
            413 => "Payload too large",
            415 => "Unsupported media type",
            416 => "Range not satisfiable",
            422 => "The request is not valid",
            428 => "Precondition required",
            429 => "Too many requests",
            503 => "Service unavailable",
            500 => "Internal server error",
            s if s < 500 => "The request was refused",
            _ => "Internal server error",
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:hazard-registry:problem:{}", self.code),
            title: self.title().to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            errors: self.errors.clone(),
            context: self.context.clone(),
        }
    }
}

impl std::ops::Deref for ApiError {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)?;
        if let Some(cause) = &self.cause {
            write!(f, " (cause: {cause})")?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(error.code = self.code, error.cause = ?self.cause, "request failed");
        }
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = &self.allow {
            res.insert_header((header::ALLOW, allow.clone()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"hazard-registry\""));
        }
        res.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

/// A rule's refusal, rendered with the status its kind stands for.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let status = match r.kind {
            RefusalKind::Forbidden => StatusCode::FORBIDDEN,
            RefusalKind::NotFound => StatusCode::NOT_FOUND,
            RefusalKind::Conflict => StatusCode::CONFLICT,
            RefusalKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let mut e = ApiError::new(status, r.code, r.detail);
        e.errors = r.errors;
        e.context = r.context;
        e
    }
}

/// A diesel error that reached a handler, classified by diesel's error kind (which diesel
/// derives from the SQLSTATE on PostgreSQL and the result code on SQLite), never by the
/// message text, which a PostgreSQL server translates into its `lc_messages` language:
/// lost connections are `503`, serialization failures `409 write_conflict`, the rest `500`.
/// Unique violations that mean something to a client are mapped where they can happen
/// ([`crate::db::on_unique_violation`]).
impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::NotFound => ApiError::not_found(),
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => ApiError::unavailable(e.to_string()),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => ApiError::conflict(
                "write_conflict",
                "A concurrent write got there first; retry the request",
            ),
            // SQLITE_BUSY past the busy timeout. diesel has no kind for it, and SQLite's own
            // messages are fixed by the library (it has no translations), so this one text is
            // stable; no PostgreSQL message is matched.
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message() == "database is locked" =>
            {
                ApiError::unavailable(e.to_string())
            }
            _ => ApiError::internal(e),
        }
    }
}

impl From<crate::db::Unavailable> for ApiError {
    fn from(e: crate::db::Unavailable) -> Self {
        match e {
            crate::db::Unavailable::Bug(cause) => ApiError::internal(cause),
            other => ApiError::unavailable(other.to_string()),
        }
    }
}

impl From<crate::auth::password::HashFailed> for ApiError {
    fn from(e: crate::auth::password::HashFailed) -> Self {
        match e {
            crate::auth::password::HashFailed::Busy => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "Too many passwords are being checked at once; retry shortly",
                );
                e.retry_after = Some(1);
                e
            }
            failed => ApiError::internal(failed),
        }
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        ApiError::unavailable(e.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

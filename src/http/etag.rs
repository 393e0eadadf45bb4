//! Optimistic concurrency: `ETag` on single-resource reads, `If-Match` required on changes.

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};
use std::future::{ready, Ready};

use crate::error::{ApiError, ApiResult};

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The raw `If-Match` header, if any.
#[derive(Debug, Clone)]
pub struct IfMatch(pub Option<String>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let v = req
            .headers()
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string());
        ready(Ok(IfMatch(v)))
    }
}

impl IfMatch {
    /// `428` without the header, `412` when no listed tag is the current one.
    /// Weak tags (`W/"3"`) compare by their value, as clients behind proxies send them.
    pub fn check(&self, current_version: i64) -> ApiResult<()> {
        let raw = self
            .0
            .as_deref()
            .ok_or_else(ApiError::precondition_required)?;
        let current = etag(current_version);
        let matches = raw
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current);
        if matches {
            Ok(())
        } else {
            Err(ApiError::precondition_failed())
        }
    }
}

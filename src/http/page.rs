//! Keyset pagination: `{"items": [...], "next_cursor": …}` with an opaque cursor that encodes
//! the sort key of the last row returned. No OFFSET: a page costs the same at row 10 and
//! row 10,000,000, and rows added meanwhile are neither skipped nor repeated.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

pub fn limit(raw: Option<i64>) -> ApiResult<i64> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// The cursor of an id-ordered collection: the last id seen.
pub fn decode_id_cursor(raw: Option<&str>) -> ApiResult<Option<i64>> {
    decode_tagged_cursor("id", raw)?
        .map(|n| n.parse().map_err(|_| invalid_cursor()))
        .transpose()
}

/// The key of a cursor issued as `encode_cursor("<tag>:<key>")`; a cursor with another tag
/// (another collection's or sort's) is `400 invalid_cursor`.
pub fn decode_tagged_cursor(tag: &str, raw: Option<&str>) -> ApiResult<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    decode_cursor(raw)?
        .strip_prefix(tag)
        .and_then(|k| k.strip_prefix(':'))
        .map(|k| Some(k.to_string()))
        .ok_or_else(invalid_cursor)
}

pub fn encode_id_cursor(id: i64) -> String {
    encode_cursor(&format!("id:{id}"))
}

/// An opaque cursor around a plain-text key.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// The plain-text key of a cursor this API issued.
pub fn decode_cursor(raw: &str) -> ApiResult<String> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid_cursor)
}

pub fn invalid_cursor() -> ApiError {
    ApiError::bad_request("invalid_cursor", "The cursor is not one this API issued")
}

/// Turns `limit + 1` fetched rows into a page.
pub fn finish<R, T>(
    rows: Vec<R>,
    limit: i64,
    id: impl Fn(&R) -> i64,
    map: impl FnMut(R) -> T,
) -> Page<T> {
    finish_with(rows, limit, |r| encode_id_cursor(id(r)), map)
}

/// Like [`finish`], for collections sorted by something other than the id: `cursor` encodes
/// the sort key of a row.
pub fn finish_with<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    cursor: impl Fn(&R) -> String,
    map: impl FnMut(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(cursor) } else { None };
    Page {
        items: rows.into_iter().map(map).collect(),
        next_cursor,
    }
}

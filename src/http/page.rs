//! Keyset pagination, written once: `{"items": [...], "next_cursor": …}`.
//!
//! Every collection takes `limit`, `cursor` and `updated_since` ([`PageParams`], read by the
//! [`Listing`] extractor beside the collection's own filters). The cursor is opaque and
//! tamper-evident: the sort key of the last row returned, bound to the collection, its sort
//! and its filters, and signed with the server's key (HMAC-SHA256). A cursor that was altered,
//! or that comes from another collection, sort or filter, is `400 invalid_cursor`. No OFFSET:
//! a page costs the same at row 10 and row 10,000,000, and rows added meanwhile are neither
//! skipped nor repeated.

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::{ready, Ready};
use utoipa::{IntoParams, ToSchema};

use crate::auth::cursors::CursorKey;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The paging and sync parameters every collection takes (documentation of the query
/// parameters [`Listing`] reads).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// RFC 3339; only entries changed (in logs and attachment lists: added) at or after this instant.
    #[param(format = DateTime)]
    pub updated_since: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, with the same filters and sort.
    pub cursor: Option<String>,
}

/// No filters besides paging (sub-collections: timelines, histories, attachments, …).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoFilters {}

/// One request's paging: the limit, the instant to sync from, and the position after which
/// the page starts.
pub struct Paging {
    pub limit: i64,
    pub updated_since: Option<chrono::NaiveDateTime>,
    cursor: Option<String>,
    /// The collection and its filters, which a cursor is valid for.
    binding: String,
    key: CursorKey,
}

impl Paging {
    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Where the previous page ended, as the key type the collection issued.
    pub fn after<K: DeserializeOwned>(&self) -> ApiResult<Option<K>> {
        let Some(raw) = &self.cursor else {
            return Ok(None);
        };
        let (payload, signature) = raw.split_once('.').ok_or_else(invalid_cursor)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| invalid_cursor())?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| invalid_cursor())?;
        if !self.key.verify(&self.binding, &payload, &signature) {
            return Err(invalid_cursor());
        }
        serde_json::from_slice(&payload)
            .map(Some)
            .map_err(|_| invalid_cursor())
    }

    fn cursor_for<K: Serialize>(&self, key: &K) -> String {
        let payload = serde_json::to_vec(key).unwrap_or_default();
        let tag = self.key.sign(&self.binding, &payload);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Turns the `fetch()` rows read into a page; `key` gives a row's sort key (what `after`
    /// hands back for the next page).
    pub fn finish<R, T, K: Serialize>(
        &self,
        mut rows: Vec<R>,
        key: impl Fn(&R) -> K,
        map: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| self.cursor_for(&key(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

pub fn invalid_cursor() -> ApiError {
    ApiError::bad_request(
        "invalid_cursor",
        "The cursor is not one this API issued for this collection, sort and filters",
    )
}

/// A collection's query: its own filters `Q` (unknown parameters are `400 invalid_query`) and
/// the [`Paging`] every collection shares.
pub struct Listing<Q> {
    pub filters: Q,
    pub paging: Paging,
}

impl<Q: DeserializeOwned> Listing<Q> {
    fn parse(req: &HttpRequest) -> ApiResult<Listing<Q>> {
        let bad = |detail: String| ApiError::bad_request("invalid_query", detail);
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).map_err(|e| bad(e.to_string()))?;
        let (page_pairs, mut filter_pairs): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .partition(|(k, _)| matches!(k.as_str(), "limit" | "cursor" | "updated_since"));
        let encode = |p: &[(String, String)]| serde_urlencoded::to_string(p).unwrap_or_default();
        let params: PageParams =
            serde_urlencoded::from_str(&encode(&page_pairs)).map_err(|e| bad(e.to_string()))?;
        let filters: Q =
            serde_urlencoded::from_str(&encode(&filter_pairs)).map_err(|e| bad(e.to_string()))?;
        let limit = match params.limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => return Err(bad(format!("limit must be between 1 and {MAX_LIMIT}"))),
        };
        let updated_since = parse_timestamp("updated_since", params.updated_since.as_deref())?;
        // A cursor holds for the collection and everything that selects or orders its rows.
        if let Some(since) = &params.updated_since {
            filter_pairs.push(("updated_since".into(), since.clone()));
        }
        // An empty value (`sort=`, `q=`) selects as its absence does.
        filter_pairs.retain(|(_, v)| !v.is_empty());
        filter_pairs.sort();
        let binding = format!("{}?{}", req.path(), encode(&filter_pairs));
        let key = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.cursor_key.clone())
            .ok_or_else(|| ApiError::internal("application state missing"))?;
        Ok(Listing {
            filters,
            paging: Paging {
                limit,
                updated_since,
                cursor: params.cursor,
                binding,
                key,
            },
        })
    }
}

impl<Q: DeserializeOwned> FromRequest for Listing<Q> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Listing::parse(req))
    }
}

/// Parses an RFC 3339 timestamp query value (`updated_since`, `since`) to UTC.
pub fn parse_timestamp(name: &str, raw: Option<&str>) -> ApiResult<Option<chrono::NaiveDateTime>> {
    raw.map(|s| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.naive_utc())
            .map_err(|_| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("{name} must be an RFC 3339 timestamp like 2026-11-29T08:00:00Z"),
                )
            })
    })
    .transpose()
}

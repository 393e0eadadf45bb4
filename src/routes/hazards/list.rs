//! Listing and reading hazards: filters, sorts and keyset pages.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::db::hazards::{self, HazardCursor, HazardListFilter, HazardRow, HazardSort};
use crate::domain::hazard::{HazardLevel, HazardSource, HazardStatus};
use crate::error::{ApiError, ApiResult};
use crate::http::page::{self, Listing};
use crate::routes::with_etag;
use crate::state::AppState;

use super::{visible_hazard, HazardResponse};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HazardQuery {
    /// One or more statuses, comma-separated (`reported,rectifying`).
    #[param(schema_with = status_list_schema)]
    pub status: Option<String>,
    pub level: Option<HazardLevel>,
    pub source: Option<HazardSource>,
    pub enterprise_id: Option<i64>,
    /// This jurisdiction and everything below it.
    pub jurisdiction_code: Option<String>,
    pub sector_code: Option<String>,
    /// Overdue today (Asia/Shanghai), or not.
    pub overdue: Option<bool>,
    /// Deadline strictly before this date.
    pub deadline_before: Option<NaiveDate>,
    /// Deadline strictly after this date.
    pub deadline_after: Option<NaiveDate>,
    /// Under active listed supervision, or not.
    pub listed: Option<bool>,
    /// Part of the code, title or description (case-insensitive).
    pub q: Option<String>,
    /// Default: oldest first. Hazards without a deadline come last in ascending and first in
    /// descending order. An empty `sort=` is the default too.
    #[serde(default, deserialize_with = "empty_as_default")]
    pub sort: Option<HazardOrder>,
}

crate::domain::text_enum! {
    /// `rectification_deadline` or `updated_at`, ascending; prefixed with `-`, descending.
    pub enum HazardOrder {
        DeadlineAsc = "rectification_deadline",
        DeadlineDesc = "-rectification_deadline",
        UpdatedAsc = "updated_at",
        UpdatedDesc = "-updated_at",
    }
}

/// `sort=` (empty) reads as no sort given.
fn empty_as_default<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<HazardOrder>, D::Error> {
    let raw = Option::<String>::deserialize(d)?;
    match raw.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => HazardOrder::parse(s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "sort must be rectification_deadline, updated_at, or either with a leading -; got {s}"
            ))
        }),
    }
}

fn sort_of(order: Option<HazardOrder>) -> HazardSort {
    match order {
        None => HazardSort::Id,
        Some(HazardOrder::DeadlineAsc) => HazardSort::DeadlineAsc,
        Some(HazardOrder::DeadlineDesc) => HazardSort::DeadlineDesc,
        Some(HazardOrder::UpdatedAsc) => HazardSort::UpdatedAsc,
        Some(HazardOrder::UpdatedDesc) => HazardSort::UpdatedDesc,
    }
}

/// The `status` filter: one status or several, comma-separated.
fn status_list_schema() -> utoipa::openapi::Object {
    let one = HazardStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("|");
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(format!("^(({one})(,({one}))*)?$")))
        .examples(["reported,rectifying"])
        .build()
}

/// A row's position in the sort (what the next page's cursor carries).
pub(super) fn cursor_of(sort: HazardSort, r: &HazardRow) -> HazardCursor {
    match sort {
        HazardSort::Id => HazardCursor::Id(r.id),
        HazardSort::DeadlineAsc | HazardSort::DeadlineDesc => {
            HazardCursor::Deadline(r.deadline_key, r.id)
        }
        HazardSort::UpdatedAsc | HazardSort::UpdatedDesc => {
            HazardCursor::Updated(r.updated_at, r.id)
        }
    }
}

fn parse_statuses(raw: Option<&str>) -> ApiResult<Vec<String>> {
    raw.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                HazardStatus::parse(s)
                    .map(|st| st.as_str().to_string())
                    .ok_or_else(|| {
                        ApiError::bad_request("invalid_query", format!("unknown status {s}"))
                    })
            })
            .collect()
    })
    .unwrap_or(Ok(Vec::new()))
}

/// The list's filter from its query (the first page: no cursor; `jurisdiction_code` is
/// resolved on a connection, `routes::jurisdiction_filter`). The export reads the same.
pub(super) fn list_filter(
    q: HazardQuery,
    today: NaiveDate,
    updated_since: Option<chrono::NaiveDateTime>,
) -> ApiResult<HazardListFilter> {
    Ok(HazardListFilter {
        statuses: parse_statuses(q.status.as_deref())?,
        level: q.level.map(|l| l.as_str().to_string()),
        source: q.source.map(|s| s.as_str().to_string()),
        enterprise_id: q.enterprise_id,
        jurisdiction: None,
        sector_code: q.sector_code,
        overdue: q.overdue,
        today,
        deadline_before: q.deadline_before,
        deadline_after: q.deadline_after,
        listed: q.listed,
        q: q.q.filter(|s| !s.trim().is_empty()),
        updated_since,
        sort: sort_of(q.sort),
        after: None,
        fetch: 1,
    })
}

/// List hazards
///
/// Any signed-in account, limited to its scope: regulators and auditors see the hazards of
/// their jurisdiction subtree (an officer bound to a department only its sectors), an
/// enterprise account only its own enterprise's. Each hazard carries the computed `overdue` and
/// `overdue_days` (today, Asia/Shanghai, after the deadline while `reported` or `rectifying`)
/// and `listed` (under active 挂牌督办).
///
/// Filters: `status` (comma-separated), `level`, `source`, `enterprise_id`, `jurisdiction_code`
/// (that jurisdiction and below; an unknown code is `422 validation_failed`), `sector_code`,
/// `overdue`, `deadline_before`, `deadline_after`, `listed`, `q` (part of the code, title or
/// description) and `updated_since`. `sort` is `rectification_deadline` or `updated_at`, with a
/// leading `-` for descending (default: oldest first); hazards without a deadline sort last
/// ascending and first descending. Keyset pages stay correct for every sort, but a cursor is
/// valid only with the `sort` it came from (`400 invalid_cursor`). Unknown parameters,
/// statuses or sorts answer `400 invalid_query`.
#[utoipa::path(
    tag = "hazards", operation_id = "list_hazards", params(HazardQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the hazards in your scope", body = page::Page<HazardResponse>))
)]
#[get("/hazards")]
pub async fn list_hazards(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<HazardQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let today = state.clock.today();
    let jurisdiction = q.jurisdiction_code.clone();
    let mut filter = list_filter(q, today, paging.updated_since)?;
    let sort = filter.sort;
    filter.after = paging.after()?;
    filter.fetch = paging.fetch();
    let rows = state
        .run(move |c| {
            filter.jurisdiction = crate::routes::jurisdiction_filter(c, jurisdiction.as_deref())?;
            Ok(hazards::list_visible(c, &p.scope(), &filter)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(
        rows,
        |r| cursor_of(sort, r),
        |r| HazardResponse::from_row(r, today),
    )))
}

/// Get a hazard
///
/// Any signed-in account within its scope (as for the list); anything else is `404`, whether
/// it exists or not. The answer carries the computed `overdue`, `overdue_days` and `listed`,
/// the last `rectification_note` and `submitted_by`, and the `ETag` to send as `If-Match` with
/// a `PATCH` or a transition.
#[utoipa::path(
    tag = "hazards", operation_id = "get_hazard",
    params(("id" = i64, Path, description = "Hazard id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The hazard", body = HazardResponse, headers(("ETag" = String, description = "Version tag for If-Match"))),
    )
)]
#[get("/hazards/{id}")]
pub async fn get_hazard(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state.run(move |c| visible_hazard(c, &p, id)).await?;
    Ok(with_etag(
        row.version,
        &HazardResponse::new(&row, state.clock.today()),
    ))
}

//! The regulators' statistics: hazards found, closed, open, overdue and the rectification rate,
//! major hazards listed and delisted, extensions granted — per group, over the caller's scope,
//! computed by the database.

use actix_web::{get, web, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::schema::{jurisdictions, sectors};
use crate::db::stats::{self, HazardGroup, HazardGrouping, ListingGroup};
use crate::db::AnyConnection;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use diesel::prelude::*;

crate::domain::text_enum! {
    /// How hazard statistics are grouped: `jurisdiction` (the county-level unit), `sector`,
    /// `level`, `source` or `month` (`YYYY-MM` of discovery).
    pub enum HazardGroupBy {
        Jurisdiction = "jurisdiction",
        Sector = "sector",
        Level = "level",
        Source = "source",
        Month = "month",
    }
}

crate::domain::text_enum! {
    /// How listing statistics are grouped: `level` (province, city, county) or `jurisdiction`
    /// (the hazard's county-level unit).
    pub enum ListingGroupBy {
        Level = "level",
        Jurisdiction = "jurisdiction",
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HazardStatsQuery {
    pub group_by: HazardGroupBy,
    /// First day (Asia/Shanghai), inclusive; default 1 January of this year.
    pub from: Option<NaiveDate>,
    /// Last day, inclusive; default 31 December of this year.
    pub to: Option<NaiveDate>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListingStatsQuery {
    pub group_by: ListingGroupBy,
    /// First day (Asia/Shanghai), inclusive; default 1 January of this year.
    pub from: Option<NaiveDate>,
    /// Last day, inclusive; default 31 December of this year.
    pub to: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema, Default, Clone)]
pub struct HazardFigures {
    /// Non-void hazards discovered in [from, to].
    pub found: i64,
    pub closed: i64,
    /// Not closed.
    pub open: i64,
    /// Overdue today.
    pub overdue: i64,
    /// closed ÷ found, to 4 decimals (0 when nothing was found).
    pub rectification_rate: f64,
    pub major_found: i64,
    /// Ever listed.
    pub major_listed: i64,
    /// With a delisted listing.
    pub major_delisted: i64,
    /// Approved deadline extensions of these hazards.
    pub extensions_granted: i64,
}

impl HazardFigures {
    fn from_group(g: &HazardGroup) -> Self {
        HazardFigures {
            found: g.found,
            closed: g.closed,
            open: g.found - g.closed,
            overdue: g.overdue,
            rectification_rate: rate(g.closed, g.found),
            major_found: g.major_found,
            major_listed: g.major_listed,
            major_delisted: g.major_delisted,
            extensions_granted: g.extensions_granted,
        }
    }
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
    }
}

#[derive(Serialize, ToSchema)]
pub struct HazardStatsRow {
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub figures: HazardFigures,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "group_by": "jurisdiction", "from": "2026-01-01", "to": "2026-12-31",
    "rows": [{"key": "431302", "label": "娄星区", "found": 3, "closed": 1, "open": 2, "overdue": 1,
              "rectification_rate": 0.3333, "major_found": 1, "major_listed": 1, "major_delisted": 0,
              "extensions_granted": 1}],
    "totals": {"found": 3, "closed": 1, "open": 2, "overdue": 1, "rectification_rate": 0.3333,
               "major_found": 1, "major_listed": 1, "major_delisted": 0, "extensions_granted": 1}
}))]
pub struct HazardStats {
    pub group_by: HazardGroupBy,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<HazardStatsRow>,
    pub totals: HazardFigures,
}

#[derive(Serialize, ToSchema, Default, Clone)]
pub struct ListingFigures {
    pub total: i64,
    pub listed: i64,
    pub delisted: i64,
    pub cancelled: i64,
    /// Still listed and past the deadline today.
    pub overdue: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ListingStatsRow {
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub figures: ListingFigures,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "group_by": "level", "from": "2026-01-01", "to": "2026-12-31",
    "rows": [{"key": "county", "label": "县级挂牌", "total": 2, "listed": 1, "delisted": 1, "cancelled": 0, "overdue": 0}],
    "totals": {"total": 2, "listed": 1, "delisted": 1, "cancelled": 0, "overdue": 0}
}))]
pub struct ListingStats {
    pub group_by: ListingGroupBy,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<ListingStatsRow>,
    pub totals: ListingFigures,
}

pub(crate) fn period(
    state: &AppState,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<(NaiveDate, NaiveDate)> {
    let year = state.clock.today().year();
    let from = from
        .or(NaiveDate::from_ymd_opt(year, 1, 1))
        .ok_or_else(|| ApiError::internal("date"))?;
    let to = to
        .or(NaiveDate::from_ymd_opt(year, 12, 31))
        .ok_or_else(|| ApiError::internal("date"))?;
    if from > to {
        return Err(ApiError::invalid_field(
            "validation_failed",
            "/from",
            "from must not be after to",
        ));
    }
    if !(1900..=9998).contains(&from.year()) || !(1900..=9998).contains(&to.year()) {
        return Err(ApiError::invalid_field(
            "validation_failed",
            if (1900..=9998).contains(&from.year()) {
                "/to"
            } else {
                "/from"
            },
            "from and to must be between 1900 and 9998",
        ));
    }
    Ok((from, to))
}

/// Human labels for group keys (names of jurisdictions and sectors, Chinese terms otherwise).
fn labels(c: &mut AnyConnection, kind: &str, keys: &[String]) -> ApiResult<Vec<String>> {
    let named: Vec<(String, String)> = match kind {
        "jurisdiction" => jurisdictions::table
            .filter(jurisdictions::code.eq_any(keys))
            .select((jurisdictions::code, jurisdictions::name))
            .load(c)?,
        "sector" => sectors::table
            .filter(sectors::code.eq_any(keys))
            .select((sectors::code, sectors::name))
            .load(c)?,
        _ => Vec::new(),
    };
    Ok(keys
        .iter()
        .map(|k| {
            let fixed = match (kind, k.as_str()) {
                ("level", "general") => Some("一般隐患"),
                ("level", "major") => Some("重大隐患"),
                ("level", "county") => Some("县级挂牌"),
                ("level", "city") => Some("市级挂牌"),
                ("level", "province") => Some("省级挂牌"),
                ("source", "self_inspection") => Some("企业自查"),
                ("source", "regulator_inspection") => Some("监管检查"),
                ("source", "public_report") => Some("群众举报"),
                ("source", "other") => Some("其他"),
                _ => None,
            };
            fixed
                .map(str::to_string)
                .or_else(|| named.iter().find(|(c, _)| c == k).map(|(_, n)| n.clone()))
                .unwrap_or_else(|| k.clone())
        })
        .collect())
}

/// Hazard statistics
///
/// For regulators and auditors; enterprise accounts get `403 forbidden`. Counts the non-void
/// hazards in your scope (your jurisdiction subtree; for an officer bound to a department, only
/// its sectors) whose `discovered_on` lies in [`from`, `to`] (default: the current year,
/// Asia/Shanghai), grouped by `group_by`: `jurisdiction` (the county-level unit), `sector`,
/// `level`, `source` or `month` (`YYYY-MM` of discovery). Each row has a human `label`.
///
/// Figures: `found`, `closed`, `open` (= found − closed), `overdue` (overdue today),
/// `rectification_rate` (closed ÷ found, 4 decimals, 0 when nothing was found), `major_found`
/// (currently major), `major_listed` (ever listed), `major_delisted` (a listing delisted) and
/// `extensions_granted` (approved hazard extensions). `totals` is the sum of the rows. A
/// missing or unknown `group_by` or an unknown parameter answer `400 invalid_query`; `from`
/// after `to` or a year outside 1900–9998 answer `422 validation_failed`.
#[utoipa::path(
    tag = "stats", operation_id = "hazard_stats", params(HazardStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures per group and in total", body = HazardStats),
        (status = 403, description = "Enterprise accounts have no statistics (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` after `to`, or a year outside 1900–9998 (`validation_failed`, pointing at the parameter)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/hazards")]
pub async fn hazard_stats(
    p: Principal,
    state: web::Data<AppState>,
    query: web::Query<HazardStatsQuery>,
) -> ApiResult<HttpResponse> {
    policy::read_stats(&p)?;
    let q = query.into_inner();
    let grouping = match q.group_by {
        HazardGroupBy::Jurisdiction => HazardGrouping::Jurisdiction,
        HazardGroupBy::Sector => HazardGrouping::Sector,
        HazardGroupBy::Level => HazardGrouping::Level,
        HazardGroupBy::Source => HazardGrouping::Source,
        HazardGroupBy::Month => HazardGrouping::Month,
    };
    let (from, to) = period(&state, q.from, q.to)?;
    let today = state.clock.today();
    let kind = q.group_by.as_str();
    let (groups, names) = state
        .run(move |c| {
            // One snapshot for the tallies, the rows and the overdue count, which are read by
            // separate statements and added up (on PostgreSQL each would see its own).
            let groups = diesel::Connection::transaction(c, |c| {
                crate::db::repeatable_read(c)?;
                stats::hazards(c, &p.scope(), grouping, from, to, today)
            })?;
            let keys: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
            let names = labels(c, kind, &keys)?;
            Ok((groups, names))
        })
        .await?;
    let mut total = HazardGroup::default();
    for g in &groups {
        total.add(g);
    }
    let rows = groups
        .iter()
        .zip(names)
        .map(|(g, label)| HazardStatsRow {
            key: g.key.clone(),
            label,
            figures: HazardFigures::from_group(g),
        })
        .collect();
    Ok(HttpResponse::Ok().json(HazardStats {
        group_by: q.group_by,
        from,
        to,
        rows,
        totals: HazardFigures::from_group(&total),
    }))
}

/// Listing statistics
///
/// For regulators and auditors; enterprise accounts get `403 forbidden`. Counts the listings
/// (挂牌督办) of hazards in your scope (jurisdiction subtree; department officers: their sectors)
/// made in [`from`, `to`] — `listed_at` by Asia/Shanghai day, default the current year —
/// grouped by `group_by`: `level` (`province`, `city`, `county`) or `jurisdiction` (the hazard's
/// county-level unit).
///
/// Figures: `total`, `listed` (still active), `delisted` (销号), `cancelled` and `overdue`
/// (still listed and past the listing deadline today); `totals` is the sum of the rows. A
/// missing or unknown `group_by` or an unknown parameter answer `400 invalid_query`; `from`
/// after `to` or a year outside 1900–9998 answer `422 validation_failed`.
#[utoipa::path(
    tag = "stats", operation_id = "listing_stats", params(ListingStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures per group and in total", body = ListingStats),
        (status = 403, description = "Enterprise accounts have no statistics (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` after `to`, or a year outside 1900–9998 (`validation_failed`, pointing at the parameter)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/listings")]
pub async fn listing_stats(
    p: Principal,
    state: web::Data<AppState>,
    query: web::Query<ListingStatsQuery>,
) -> ApiResult<HttpResponse> {
    policy::read_stats(&p)?;
    let q = query.into_inner();
    let by_level = q.group_by == ListingGroupBy::Level;
    let (from, to) = period(&state, q.from, q.to)?;
    let today = state.clock.today();
    let kind = q.group_by.as_str();
    let (groups, names) = state
        .run(move |c| {
            let groups = stats::listings(c, &p.scope(), by_level, from, to, today)?;
            let keys: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
            let names = labels(c, kind, &keys)?;
            Ok((groups, names))
        })
        .await?;
    let figures = |g: &ListingGroup| ListingFigures {
        total: g.total,
        listed: g.listed,
        delisted: g.delisted,
        cancelled: g.cancelled,
        overdue: g.overdue,
    };
    let mut totals = ListingFigures::default();
    for g in &groups {
        totals.total += g.total;
        totals.listed += g.listed;
        totals.delisted += g.delisted;
        totals.cancelled += g.cancelled;
        totals.overdue += g.overdue;
    }
    let rows = groups
        .iter()
        .zip(names)
        .map(|(g, label)| ListingStatsRow {
            key: g.key.clone(),
            label,
            figures: figures(g),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ListingStats {
        group_by: q.group_by,
        from,
        to,
        rows,
        totals,
    }))
}

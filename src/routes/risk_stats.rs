//! The regulators' views of dual prevention (双重预防, issue 11): risk units by colour, the
//! enterprises with red units and their 包保 completeness, inspection slots done and missed,
//! hazards by origin. For regulators and auditors in scope; enterprise accounts get `403`.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::inspections;
use crate::db::ledger::Names;
use crate::db::risk;
use crate::domain::inspection::completion_rate;
use crate::domain::risk::RiskLevel;
use crate::error::{ApiResult, Problem};
use crate::http::page::{self, Listing};
use crate::state::AppState;

/// How to group risk units.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum RiskUnitGroupBy {
    /// The county-level unit.
    Jurisdiction,
    Sector,
    /// Both: keys `<county code>:<sector code>`.
    JurisdictionSector,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RiskUnitStatsQuery {
    pub group_by: RiskUnitGroupBy,
}

/// Units by colour in one group.
#[derive(Serialize, ToSchema, Default, Clone)]
pub struct ColourCounts {
    pub red: i64,
    pub orange: i64,
    pub yellow: i64,
    pub blue: i64,
    /// No risk event assessed yet.
    pub unassessed: i64,
    pub total: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RiskUnitStatsRow {
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub counts: ColourCounts,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "group_by": "jurisdiction",
    "rows": [{"key": "431302", "label": "娄星区", "red": 2, "orange": 5, "yellow": 11, "blue": 30, "unassessed": 4, "total": 52}],
    "totals": {"red": 2, "orange": 5, "yellow": 11, "blue": 30, "unassessed": 4, "total": 52}
}))]
pub struct RiskUnitStats {
    pub group_by: RiskUnitGroupBy,
    pub rows: Vec<RiskUnitStatsRow>,
    pub totals: ColourCounts,
}

impl ColourCounts {
    fn add(&mut self, level: Option<RiskLevel>, n: i64) {
        match level {
            Some(RiskLevel::Red) => self.red += n,
            Some(RiskLevel::Orange) => self.orange += n,
            Some(RiskLevel::Yellow) => self.yellow += n,
            Some(RiskLevel::Blue) => self.blue += n,
            None => self.unassessed += n,
        }
        self.total += n;
    }
}

/// Risk units by colour
///
/// The risk units in your scope counted by level (red 重大, orange 较大, yellow 一般, blue 低,
/// or not assessed yet) per county-level unit (`group_by=jurisdiction`), per sector
/// (`group_by=sector`), or per sector within each county-level unit
/// (`group_by=jurisdiction_sector`, keys `<county code>:<sector code>`), with totals.
#[utoipa::path(
    tag = "stats", operation_id = "risk_unit_stats", params(RiskUnitStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Units by colour per group", body = RiskUnitStats),
        (status = 403, description = "Enterprise accounts have no statistics (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/risk-units")]
pub async fn risk_unit_stats(
    p: Principal,
    state: web::Data<AppState>,
    query: web::Query<RiskUnitStatsQuery>,
) -> ApiResult<HttpResponse> {
    policy::read_stats(&p)?;
    let group_by = query.into_inner().group_by;
    let grouping = match group_by {
        RiskUnitGroupBy::Jurisdiction => risk::UnitGrouping::County,
        RiskUnitGroupBy::Sector => risk::UnitGrouping::Sector,
        RiskUnitGroupBy::JurisdictionSector => risk::UnitGrouping::CountyAndSector,
    };
    let (counts, names) = state
        .run(move |c| {
            Ok((
                risk::units_by_level(c, &p.scope(), grouping)?,
                Names::load(c)?,
            ))
        })
        .await?;
    let mut groups: BTreeMap<String, ColourCounts> = BTreeMap::new();
    let mut totals = ColourCounts::default();
    for (key, level, n) in counts {
        groups.entry(key).or_default().add(level, n);
        totals.add(level, n);
    }
    let rows = groups
        .into_iter()
        .map(|(key, counts)| RiskUnitStatsRow {
            label: match key.split_once(':') {
                Some((county, sector)) if group_by == RiskUnitGroupBy::JurisdictionSector => {
                    format!("{} · {}", names.jurisdiction(county), names.sector(sector))
                }
                _ if group_by == RiskUnitGroupBy::Sector => names.sector(&key),
                _ => names.jurisdiction(&key),
            },
            key,
            counts,
        })
        .collect();
    Ok(HttpResponse::Ok().json(RiskUnitStats {
        group_by,
        rows,
        totals,
    }))
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "enterprise_id": 42, "name": "娄底市华兴化工有限公司", "county_code": "431302",
    "red_units": 1, "major_hazard_sources": 2, "incomplete_sources": 1, "accountability_complete": false
}))]
pub struct RedEnterprise {
    pub enterprise_id: i64,
    pub name: String,
    pub county_code: String,
    /// Its red (重大) risk units.
    pub red_units: i64,
    /// Its units that are or contain a 重大危险源.
    pub major_hazard_sources: i64,
    /// Of those, how many lack one of the three 包保责任人.
    pub incomplete_sources: i64,
    /// Every major hazard source names all three.
    pub accountability_complete: bool,
}

/// Enterprises with red risk units
///
/// A page (by enterprise id) of the enterprises in your scope that have at least one red
/// (重大) risk unit, with their major hazard sources and whether each names its three
/// 包保责任人 (principal, technical, operating).
#[utoipa::path(
    tag = "stats", operation_id = "red_risk_enterprises", params(page::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of enterprises", body = page::Page<RedEnterprise>),
        (status = 403, description = "Enterprise accounts have no statistics (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/red-risk-enterprises")]
pub async fn red_risk_enterprises(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<page::NoFilters>,
) -> ApiResult<HttpResponse> {
    policy::read_stats(&p)?;
    let Listing { paging, .. } = query;
    let (after, fetch) = (paging.after::<i64>()?, paging.fetch());
    let items = state
        .run(move |c| {
            let rows = risk::red_enterprises(c, &p.scope(), after, fetch)?;
            let named =
                crate::db::ledger::enterprises(c, rows.iter().map(|r| r.enterprise_id).collect())?;
            let counties = crate::db::enterprises::county_codes(
                c,
                rows.iter().map(|r| r.enterprise_id).collect(),
            )?;
            Ok(rows
                .into_iter()
                .map(|r| RedEnterprise {
                    name: named
                        .get(&r.enterprise_id)
                        .map(|x| x.0.clone())
                        .unwrap_or_default(),
                    county_code: counties.get(&r.enterprise_id).cloned().unwrap_or_default(),
                    enterprise_id: r.enterprise_id,
                    red_units: r.red_units,
                    major_hazard_sources: r.major_sources,
                    incomplete_sources: r.incomplete_sources,
                    accountability_complete: r.incomplete_sources == 0,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(items, |r| r.enterprise_id, |r| r)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day (Asia/Shanghai), inclusive; default 1 January of this year.
    pub from: Option<NaiveDate>,
    /// Last day, inclusive; default 31 December of this year.
    pub to: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "enterprise_id": 42, "name": "娄底市华兴化工有限公司", "due": 30, "done": 28, "missed": 2, "open": 0,
    "completion_rate": 0.9333
}))]
pub struct InspectionCompliance {
    pub enterprise_id: i64,
    pub name: String,
    /// Slots that started in the period.
    pub due: i64,
    pub done: i64,
    /// Ended unchecked (漏检).
    pub missed: i64,
    /// Still open now.
    pub open: i64,
    /// `done ÷ (done + missed)`, 4 decimals.
    pub completion_rate: f64,
}

/// Inspection slots done and missed per enterprise
///
/// A page (by enterprise id) of the enterprises in your scope with inspection slots starting
/// in [`from`, `to`] (Asia/Shanghai days; default this year): due, done, missed (ended
/// unchecked, 漏检), still open, and the completion rate. Slots are materialised by the
/// scheduler (`HAZREG_REMINDER_INTERVAL_SECS`) and whenever a task is read.
#[utoipa::path(
    tag = "stats", operation_id = "inspection_stats", params(PeriodQuery, page::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of enterprises", body = page::Page<InspectionCompliance>),
        (status = 403, description = "Enterprise accounts have no statistics (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` after `to`, or a year outside 1900–9998 (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/inspections")]
pub async fn inspection_stats(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<PeriodQuery>,
) -> ApiResult<HttpResponse> {
    policy::read_stats(&p)?;
    let Listing { filters: q, paging } = query;
    let (from, to) = crate::routes::stats::period(&state, q.from, q.to)?;
    let (after, fetch) = (paging.after::<i64>()?, paging.fetch());
    let now = state.clock.now().naive_utc();
    // Shanghai days as UTC instants.
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::hours(8);
    let end = to
        .succ_opt()
        .unwrap_or(to)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        - chrono::Duration::hours(8);
    let items = state
        .run(move |c| {
            let rows =
                inspections::tally_by_enterprise(c, &p.scope(), start, end, now, after, fetch)?;
            let named =
                crate::db::ledger::enterprises(c, rows.iter().map(|r| r.enterprise_id).collect())?;
            Ok(rows
                .into_iter()
                .map(|r| InspectionCompliance {
                    name: named
                        .get(&r.enterprise_id)
                        .map(|x| x.0.clone())
                        .unwrap_or_default(),
                    enterprise_id: r.enterprise_id,
                    open: r.due - r.done - r.missed,
                    completion_rate: completion_rate(r.done, r.missed),
                    due: r.due,
                    done: r.done,
                    missed: r.missed,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(items, |r| r.enterprise_id, |r| r)))
}

#[derive(Serialize, ToSchema)]
pub struct OriginRow {
    /// `inspection` (found by a check record), `public_report` or `other`.
    pub origin: String,
    pub label: String,
    pub found: i64,
    /// Not closed yet.
    pub open: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-01-01", "to": "2026-12-31",
    "rows": [{"origin": "inspection", "label": "排查发现", "found": 40, "open": 6},
             {"origin": "other", "label": "其他", "found": 12, "open": 3}]
}))]
pub struct OriginStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<OriginRow>,
}

/// Hazards by origin
///
/// The non-void hazards in your scope discovered in [`from`, `to`] (default this year), by
/// where they came from: `inspection` (a check record found them), `public_report` (举报) or
/// `other`, with how many are still open.
#[utoipa::path(
    tag = "stats", operation_id = "hazard_origin_stats", params(PeriodQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Hazards per origin", body = OriginStats),
        (status = 403, description = "Enterprise accounts have no statistics (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` after `to`, or a year outside 1900–9998 (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/hazard-origins")]
pub async fn hazard_origin_stats(
    p: Principal,
    state: web::Data<AppState>,
    query: web::Query<PeriodQuery>,
) -> ApiResult<HttpResponse> {
    policy::read_stats(&p)?;
    let q = query.into_inner();
    let (from, to) = crate::routes::stats::period(&state, q.from, q.to)?;
    let mut rows = state
        .run(move |c| Ok(risk::hazards_by_origin(c, &p.scope(), from, to)?))
        .await?;
    rows.sort();
    Ok(HttpResponse::Ok().json(OriginStats {
        from,
        to,
        rows: rows
            .into_iter()
            .map(|(origin, found, open)| OriginRow {
                label: match origin.as_str() {
                    "inspection" => "排查发现",
                    "public_report" => "群众举报",
                    _ => "其他",
                }
                .to_string(),
                origin,
                found,
                open,
            })
            .collect(),
    }))
}

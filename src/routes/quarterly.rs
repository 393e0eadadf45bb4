//! Quarterly hazard statistics reports (16号令, SPEC §9, `domain::quarterly`): an enterprise
//! (or a regulator for it) submits a quarter's figures, frozen and hashed; regulators see who
//! reported, who is late and who has not; the reports export like the ledgers.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::events::{self, Place};
use crate::db::ledger::Names;
use crate::db::quarterly::{self, NewReport, ReportListFilter, ReportRow};
use crate::db::scope::Scope;
use crate::db::{enterprises, to_utc, AnyConnection};
use crate::domain::event::EventType;
use crate::domain::ledger::QUARTERLY_COLUMNS;
use crate::domain::quarterly::{Quarter, QuarterFigures, ReportState};
use crate::domain::validate::Errors;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::export::{self, Cell, Ledger, Source};
use crate::http::idempotency::{self, Created};
use crate::http::page::{self, Listing};
use crate::http::{ApiJson, IdempotencyKey};
use crate::routes::submissions::canonical;
use crate::routes::with_etag;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"year": 2026, "quarter": 3, "signed_by": "王建国"}))]
pub struct QuarterlyReportRequest {
    /// The enterprise reported for: implied for enterprise accounts (naming another is `404`),
    /// required from regulators.
    #[serde(default)]
    pub enterprise_id: Option<i64>,
    /// From 2000.
    #[schema(minimum = 2000, maximum = 9999)]
    pub year: i64,
    /// 1–4.
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: i64,
    /// The principal (主要负责人) who signs the report, by name (1–100 characters).
    pub signed_by: String,
}

/// The enterprise as it was when the report was made.
#[derive(Serialize, Deserialize, ToSchema, Clone)]
pub struct ReportedEnterprise {
    pub id: i64,
    pub name: String,
    pub uscc: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
}

/// The report exactly as frozen: `content_sha256` is the SHA-256 of its canonical JSON (keys
/// sorted at every level, no white space).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReportDocument {
    pub enterprise: ReportedEnterprise,
    pub year: i32,
    pub quarter: u32,
    /// The quarter's first and last day.
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    /// The day (Asia/Shanghai) the figures were computed: `rectified`, `open` and `overdue`
    /// are as of this day.
    pub as_of: NaiveDate,
    pub figures: QuarterFigures,
    pub signed_by: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "enterprise_id": 42, "year": 2026, "quarter": 3, "due_on": "2026-10-15",
    "state": "on_time", "signed_by": "王建国",
    "figures": {"found": 12, "found_major": 1, "rectified": 9, "rectified_major": 0, "open": 3,
                "overdue": 1, "rectification_rate": 0.75, "funds_10k_yuan": 18.5, "earlier_open": 2},
    "document": {"enterprise": {"id": 42, "name": "娄底市华兴化工有限公司", "uscc": "914313009B2YGXAG2A",
                 "jurisdiction_code": "431302", "sector_code": "hazardous_chemicals"},
                 "year": 2026, "quarter": 3, "period_from": "2026-07-01", "period_to": "2026-09-30",
                 "as_of": "2026-10-08",
                 "figures": {"found": 12, "found_major": 1, "rectified": 9, "rectified_major": 0, "open": 3,
                             "overdue": 1, "rectification_rate": 0.75, "funds_10k_yuan": 18.5, "earlier_open": 2},
                 "signed_by": "王建国"},
    "content_sha256": "9c1f…", "submitted_by": 17, "submitted_at": "2026-10-08T02:00:00Z", "version": 1
}))]
pub struct QuarterlyReportResponse {
    pub id: i64,
    pub enterprise_id: i64,
    pub year: i32,
    pub quarter: i32,
    /// The day it was due (`HAZREG_QUARTERLY_REPORT_DUE_DAY` of the month after the quarter).
    pub due_on: NaiveDate,
    /// `on_time` or `late` (submitted after `due_on`, Asia/Shanghai).
    pub state: ReportState,
    pub signed_by: String,
    pub figures: QuarterFigures,
    /// The frozen report; every read returns it unchanged, whatever happens to the hazards.
    pub document: ReportDocument,
    /// SHA-256 (hex) of the canonical JSON of `document`.
    pub content_sha256: String,
    pub submitted_by: i64,
    pub submitted_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<&ReportRow> for QuarterlyReportResponse {
    type Error = ApiError;
    fn try_from(r: &ReportRow) -> ApiResult<Self> {
        Ok(QuarterlyReportResponse {
            id: r.id,
            enterprise_id: r.enterprise_id,
            year: r.year,
            quarter: r.quarter,
            due_on: r.due_on,
            state: if r.late {
                ReportState::Late
            } else {
                ReportState::OnTime
            },
            signed_by: r.signed_by.clone(),
            figures: r.figures(),
            document: serde_json::from_str(&r.content).map_err(ApiError::internal)?,
            content_sha256: r.content_sha256.clone(),
            submitted_by: r.submitted_by,
            submitted_at: to_utc(r.submitted_at),
            version: r.version,
        })
    }
}

fn place(r: &ReportRow) -> Place {
    Place::regulated(
        &r.city_code,
        &r.county_code,
        &r.jurisdiction_code,
        r.enterprise_id,
        &r.sector_code,
    )
}

fn already_reported() -> ApiError {
    ApiError::from(crate::domain::Refusal::conflict(
        "already_reported",
        "This enterprise has already reported this quarter; a report is never changed",
    ))
}

/// Submit a quarterly report
///
/// 16号令 第十四条: each quarter an enterprise reports its hazard statistics, signed by its
/// principal, by the 15th of the following month. The server computes the figures from the
/// enterprise's hazards (see `QuarterFigures`) on the day of submission (Asia/Shanghai) and
/// freezes them with the enterprise's particulars and `signed_by` into an immutable
/// `document`; `content_sha256` is the SHA-256 of its canonical JSON (keys sorted, no spaces),
/// so anyone can recompute it. Later edits to the hazards never change a report.
///
/// Enterprise accounts report for their own enterprise (`enterprise_id` implied; naming
/// another is `404`); regulators may file one for an enterprise in their scope (for a paper
/// report), naming `enterprise_id` (`422` without; `404` outside scope). Auditors get `403`.
/// A quarter that has not ended is `422`; a closed enterprise `409 enterprise_closed`; a
/// second report for the same quarter `409 already_reported`. A report after the due date is
/// accepted and marked `late`. Audited, in the change feed as `quarterly_report.created`;
/// `Idempotency-Key` makes a retry replay the first `201`.
#[utoipa::path(
    tag = "quarterly-reports", operation_id = "create_quarterly_report", request_body = QuarterlyReportRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Submitted and frozen", body = QuarterlyReportResponse,
         headers(("Location" = String, description = "URL of the report"), ("ETag" = String, description = "Version tag"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Auditors do not report (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The enterprise does not exist or is outside your scope (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reported for this quarter (`already_reported`), or the enterprise is closed (`enterprise_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); no `enterprise_id` from a regulator, a quarter not 1–4 or not yet ended, a blank or too long `signed_by` (`validation_failed`); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/quarterly-reports")]
pub async fn create_quarterly_report(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<QuarterlyReportRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.body;
    let (now, today) = (state.clock.now(), state.clock.today());
    let due_day = state.config.quarterly_report_due_day;
    let actor = Actor::from(&p);
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_quarterly_report",
        body.sha256,
        move |c| {
            policy::submit_quarterly_report(&p)?;
            // One consistent view of the hazards counted (before the transaction's first query).
            crate::db::repeatable_read(c)?;
            let enterprise_id = match (p.enterprise_id, req.enterprise_id) {
                (Some(own), Some(named)) if named != own => return Err(ApiError::not_found()),
                (Some(own), _) | (None, Some(own)) => own,
                (None, None) => {
                    return Err(ApiError::invalid_field(
                        "validation_failed",
                        "/enterprise_id",
                        "required: the enterprise the report is for",
                    ))
                }
            };
            let enterprise = enterprises::get_visible(c, &p.scope(), enterprise_id)?
                .ok_or_else(ApiError::not_found)?;
            enterprise.status.accepts_hazards()?;
            let mut e = Errors::default();
            let quarter = Quarter::check(&mut e, req.year, req.quarter);
            if let Some(q) = quarter {
                q.check_ended(&mut e, today);
            }
            let signed_by = e.text("/signed_by", &req.signed_by, 100);
            e.into_result().map_err(ApiError::validation)?;
            let quarter = quarter.expect("checked above");
            let figures = quarterly::figures(c, enterprise_id, quarter, today)?;
            let document = ReportDocument {
                enterprise: ReportedEnterprise {
                    id: enterprise.id,
                    name: enterprise.name.clone(),
                    uscc: enterprise.uscc.clone(),
                    jurisdiction_code: enterprise.jurisdiction_code.clone(),
                    sector_code: enterprise.sector_code.clone(),
                },
                year: quarter.year,
                quarter: quarter.quarter,
                period_from: quarter.first_day(),
                period_to: quarter.last_day(),
                as_of: today,
                figures,
                signed_by: signed_by.clone(),
            };
            let content = canonical(&serde_json::to_value(&document).map_err(ApiError::internal)?);
            let sha = crate::auth::token::hex(&Sha256::digest(content.as_bytes()));
            let due_on = quarter.due_on(due_day);
            let at = now.naive_utc();
            let row = quarterly::insert(
                c,
                &NewReport {
                    enterprise_id,
                    year: quarter.year,
                    quarter: quarter.quarter as i32,
                    city_code: &enterprise.city_code,
                    county_code: &enterprise.county_code,
                    jurisdiction_code: &enterprise.jurisdiction_code,
                    sector_code: &enterprise.sector_code,
                    signed_by: &signed_by,
                    found: figures.found,
                    found_major: figures.found_major,
                    rectified: figures.rectified,
                    rectified_major: figures.rectified_major,
                    overdue: figures.overdue,
                    funds_10k_yuan: figures.funds_10k_yuan,
                    earlier_open: figures.earlier_open,
                    due_on,
                    late: ReportState::reported(due_on, today) == ReportState::Late,
                    content: &content,
                    content_sha256: &sha,
                    submitted_by: p.account_id,
                    submitted_at: at,
                    updated_at: at,
                },
            )
            .map_err(|e| crate::db::on_unique_violation(e, already_reported))?;
            let response = QuarterlyReportResponse::try_from(&row)?;
            audit::created(c, &actor, "quarterly_report", row.id, &response)?;
            events::publish(
                c,
                &actor,
                EventType::QuarterlyReportCreated,
                row.id,
                &place(&row),
                &response,
            )?;
            Created::new(format!("/api/v1/quarterly-reports/{}", row.id), &response)
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuarterlyReportQuery {
    pub enterprise_id: Option<i64>,
    pub year: Option<i32>,
    /// 1–4.
    #[param(minimum = 1, maximum = 4)]
    pub quarter: Option<i32>,
    /// Reports of enterprises of this county-level unit.
    pub county_code: Option<String>,
}

fn report_filter(q: QuarterlyReportQuery) -> ApiResult<ReportListFilter> {
    if q.quarter.is_some_and(|n| !(1..=4).contains(&n)) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "quarter must be 1, 2, 3 or 4",
        ));
    }
    Ok(ReportListFilter {
        enterprise_id: q.enterprise_id,
        year: q.year,
        quarter: q.quarter,
        county_code: q.county_code.filter(|c| !c.is_empty()),
        ..Default::default()
    })
}

/// List quarterly reports
///
/// The reports in your scope, oldest first: an enterprise account its own enterprise's;
/// regulators and auditors those of enterprises in their scope. Filters: `enterprise_id`,
/// `year`, `quarter`, `county_code`, `updated_since`. Unknown parameters or values answer
/// `400 invalid_query`.
#[utoipa::path(
    tag = "quarterly-reports", operation_id = "list_quarterly_reports",
    params(QuarterlyReportQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of reports", body = page::Page<QuarterlyReportResponse>))
)]
#[get("/quarterly-reports")]
pub async fn list_quarterly_reports(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<QuarterlyReportQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let mut filter = report_filter(q)?;
    filter.updated_since = paging.updated_since;
    filter.after_id = paging.after()?;
    filter.fetch = paging.fetch();
    let rows = state
        .run(move |c| Ok(quarterly::list_visible(c, &p.scope(), &filter)?))
        .await?;
    let page = paging.finish(rows, |r| r.id, |r| QuarterlyReportResponse::try_from(&r));
    Ok(HttpResponse::Ok().json(page::Page {
        items: page.items.into_iter().collect::<ApiResult<Vec<_>>>()?,
        next_cursor: page.next_cursor,
    }))
}

/// Get a quarterly report
///
/// A report in your scope (else `404`), exactly as frozen, with its `ETag`.
#[utoipa::path(
    tag = "quarterly-reports", operation_id = "get_quarterly_report",
    params(("id" = i64, Path, description = "Report id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The report", body = QuarterlyReportResponse, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/quarterly-reports/{id}")]
pub async fn get_quarterly_report(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .run(move |c| quarterly::get_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found))
        .await?;
    Ok(with_etag(
        row.version,
        &QuarterlyReportResponse::try_from(&row)?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// From 2000.
    #[param(minimum = 2000, maximum = 9999)]
    pub year: i32,
    /// 1–4.
    #[param(minimum = 1, maximum = 4)]
    pub quarter: i32,
    /// Only enterprises of this county-level unit (the summary too).
    pub county_code: Option<String>,
    /// Only enterprises in this state (the summary is not filtered).
    pub state: Option<ReportState>,
}

/// The enterprises' page (`updated_since` is not a parameter of this view).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CompliancePaging {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where the previous page ended.
    cursor: Option<String>,
}

/// One county-level unit's figures for the quarter.
#[derive(Serialize, ToSchema)]
pub struct CountyCompliance {
    pub county_code: String,
    pub name: String,
    /// Operating enterprises.
    pub enterprises: i64,
    pub on_time: i64,
    pub late: i64,
    /// Not reported yet: `missing` once the due date has passed, else `pending`.
    pub not_reported: i64,
}

/// One enterprise's standing.
#[derive(Serialize, ToSchema)]
pub struct EnterpriseCompliance {
    pub enterprise_id: i64,
    pub name: String,
    pub uscc: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub state: ReportState,
    pub report_id: Option<i64>,
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "year": 2026, "quarter": 3, "due_on": "2026-10-15", "as_of": "2026-10-20",
    "counties": [{"county_code": "431302", "name": "娄星区", "enterprises": 3, "on_time": 1, "late": 1, "not_reported": 1}],
    "totals": {"county_code": "", "name": "合计", "enterprises": 3, "on_time": 1, "late": 1, "not_reported": 1},
    "items": [
        {"enterprise_id": 42, "name": "娄底市华兴化工有限公司", "uscc": "914313009B2YGXAG2A", "county_code": "431302",
         "jurisdiction_code": "431302", "state": "on_time", "report_id": 3, "submitted_at": "2026-10-08T02:00:00Z"},
        {"enterprise_id": 43, "name": "娄星区宏达建筑有限公司", "uscc": "91431302PMYCJ7G420", "county_code": "431302",
         "jurisdiction_code": "431302", "state": "missing", "report_id": null, "submitted_at": null}
    ],
    "next_cursor": null
}))]
pub struct ComplianceResponse {
    pub year: i32,
    pub quarter: i32,
    pub due_on: NaiveDate,
    /// Today (Asia/Shanghai): `missing` and `pending` are as of this day.
    pub as_of: NaiveDate,
    /// Per county-level unit in your scope.
    pub counties: Vec<CountyCompliance>,
    pub totals: CountyCompliance,
    /// A page of the operating enterprises in scope (by id) with their state.
    pub items: Vec<EnterpriseCompliance>,
    pub next_cursor: Option<String>,
}

/// Who has reported a quarter
///
/// For regulators and auditors (enterprise accounts get `403`): for a quarter, per
/// county-level unit in your scope, how many operating enterprises reported on time, late, or
/// not yet; and a page of the enterprises (by id) with their `state`: `on_time`, `late`,
/// `missing` (not reported and the due date has passed) or `pending` (not reported, still
/// time). The due date is `HAZREG_QUARTERLY_REPORT_DUE_DAY` (default 15) of the month after
/// the quarter; dates are Asia/Shanghai. Filters `county_code` (summary and page) and
/// `state` (page only); a bad `year`, `quarter` or `state` is `400 invalid_query`, an
/// unknown `county_code` `422`.
#[utoipa::path(
    tag = "quarterly-reports", operation_id = "quarterly_report_compliance",
    params(ComplianceQuery, CompliancePaging),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The quarter's standing in your scope", body = ComplianceResponse),
        (status = 403, description = "Enterprise accounts do not see other enterprises' standing (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No jurisdiction has this `county_code` (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/quarterly-reports/compliance")]
pub async fn quarterly_report_compliance(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<ComplianceQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    policy::read_stats(&p)?;
    let bad = |detail: &str| ApiError::bad_request("invalid_query", detail.to_string());
    if paging.updated_since.is_some() {
        return Err(bad("updated_since is not a filter of this view"));
    }
    let mut e = Errors::default();
    let quarter = Quarter::check(&mut e, q.year.into(), q.quarter.into())
        .ok_or_else(|| bad("year must be from 2000 and quarter 1, 2, 3 or 4"))?;
    let today = state.clock.today();
    let due_on = quarter.due_on(state.config.quarterly_report_due_day);
    let after = paging.after::<i64>()?;
    let fetch = paging.fetch();
    let county = q.county_code.filter(|c| !c.is_empty());
    let wanted = q.state;
    let (counties, rows) = state
        .run(move |c| {
            if let Some(code) = &county {
                crate::routes::jurisdiction_filter(c, Some(code))?;
            }
            let scope = p.scope();
            let names = Names::load(c)?;
            let counties: Vec<CountyCompliance> = quarterly::standing(c, &scope, quarter)?
                .into_iter()
                .filter(|s| county.as_ref().is_none_or(|code| &s.county_code == code))
                .map(|s| CountyCompliance {
                    name: names.jurisdiction(&s.county_code),
                    not_reported: s.enterprises - s.on_time - s.late,
                    county_code: s.county_code,
                    enterprises: s.enterprises,
                    on_time: s.on_time,
                    late: s.late,
                })
                .collect();
            let rows = quarterly::standings(
                c,
                &scope,
                quarter,
                county.as_deref(),
                wanted,
                due_on,
                today,
                after,
                fetch,
            )?;
            Ok((counties, rows))
        })
        .await?;
    let totals = counties.iter().fold(
        CountyCompliance {
            county_code: String::new(),
            name: "合计".into(),
            enterprises: 0,
            on_time: 0,
            late: 0,
            not_reported: 0,
        },
        |mut t, c| {
            t.enterprises += c.enterprises;
            t.on_time += c.on_time;
            t.late += c.late;
            t.not_reported += c.not_reported;
            t
        },
    );
    let page = paging.finish(
        rows,
        |r| r.enterprise_id,
        |r| EnterpriseCompliance {
            state: match r.report {
                Some((_, _, true)) => ReportState::Late,
                Some((_, _, false)) => ReportState::OnTime,
                None => ReportState::unreported(due_on, today),
            },
            report_id: r.report.map(|x| x.0),
            submitted_at: r.report.map(|x| to_utc(x.1)),
            enterprise_id: r.enterprise_id,
            name: r.name,
            uscc: r.uscc,
            county_code: r.county_code,
            jurisdiction_code: r.jurisdiction_code,
        },
    );
    Ok(HttpResponse::Ok().json(ComplianceResponse {
        year: quarter.year,
        quarter: quarter.quarter as i32,
        due_on,
        as_of: today,
        counties,
        totals,
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

static QUARTERLY_LEDGER: Ledger = Ledger {
    title: "季度隐患排查治理统计台账",
    slug: "quarterly-reports",
    columns: QUARTERLY_COLUMNS,
};

struct Reports {
    scope: Scope,
    filter: ReportListFilter,
}

impl Source for Reports {
    type Row = ReportRow;

    fn start(&mut self, _: &mut AnyConnection) -> ApiResult<()> {
        Ok(())
    }

    fn read(&mut self, c: &mut AnyConnection) -> ApiResult<Vec<ReportRow>> {
        let rows = quarterly::list_visible(c, &self.scope, &self.filter)?;
        if let Some(last) = rows.last() {
            self.filter.after_id = Some(last.id);
        }
        Ok(rows)
    }

    fn cells(
        &self,
        _: &mut AnyConnection,
        rows: &[ReportRow],
        names: &Names,
    ) -> ApiResult<Vec<Vec<Cell>>> {
        rows.iter()
            .map(|r| {
                let doc: ReportDocument =
                    serde_json::from_str(&r.content).map_err(ApiError::internal)?;
                let f = r.figures();
                Ok(vec![
                    doc.enterprise.name.into(),
                    doc.enterprise.uscc.into(),
                    names.jurisdiction(&r.county_code).into(),
                    names.sector(&r.sector_code).into(),
                    format!("{}年第{}季度", r.year, r.quarter).into(),
                    f.found.into(),
                    f.found_major.into(),
                    f.rectified.into(),
                    f.rectified_major.into(),
                    f.open.into(),
                    f.overdue.into(),
                    format!("{:.2}%", f.rectification_rate * 100.0).into(),
                    Some(f.funds_10k_yuan).into(),
                    f.earlier_open.into(),
                    r.signed_by.as_str().into(),
                    crate::clock::shanghai_date(to_utc(r.submitted_at)).into(),
                    r.late.into(),
                    r.content_sha256.as_str().into(),
                ])
            })
            .collect()
    }
}

/// Export quarterly reports
///
/// The reports of the list with the same filters (`enterprise_id`, `year`, `quarter`,
/// `county_code`, `updated_since`) as a ledger: `format=csv` (UTF-8 with a BOM) or `xlsx`,
/// streamed, in scope, oldest first. Columns: 序号, 企业名称, 统一社会信用代码, 所属区县,
/// 行业领域, 报告期, 排查隐患数, 其中重大隐患, 已整改, 其中重大已整改, 未整改, 逾期未整改,
/// 整改率, 整改资金(万元), 以前季度未整改, 主要负责人签字, 报送日期, 是否逾期报送,
/// 内容摘要(SHA-256). `limit` and `cursor` are not parameters here (`400`).
#[utoipa::path(
    tag = "quarterly-reports", operation_id = "export_quarterly_reports",
    params(crate::http::export::ExportParams, QuarterlyReportQuery),
    security(("bearer" = [])),
    responses(export::ExportResponses)
)]
#[get("/quarterly-reports/export")]
pub async fn export_quarterly_reports(
    p: Principal,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (format, q, updated_since) = export::query::<QuarterlyReportQuery>(req.query_string())?;
    let mut filter = report_filter(q)?;
    filter.updated_since = updated_since;
    filter.fetch = export::BATCH;
    let source = Reports {
        scope: p.scope(),
        filter,
    };
    export::respond(&state, &QUARTERLY_LEDGER, format, source).await
}

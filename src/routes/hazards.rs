//! Hazards (隐患): recording, editing, listing, the lifecycle transitions and the timeline.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::hazards::{self, HazardCursor, HazardListFilter, HazardRow, HazardSort, NewHazard};
use crate::db::scope::county_level_code;
use crate::db::{enterprises, to_utc, write_tx, AnyConnection};
use crate::domain::hazard::lifecycle::{self, Outcome};
use crate::domain::hazard::{
    editing, overdue_days, Action, AttachmentStage, HazardFields, HazardLevel, HazardSource,
    HazardStatus,
};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::json::from_merged;
use crate::http::page::{self, Listing};
use crate::http::{patch as merge_patch, ApiJson, IdempotencyKey, IfMatch};
use crate::routes::audit::AuditEvent;
use crate::routes::with_etag;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 7, "code": "431302-2026-00017", "enterprise_id": 42,
    "title": "配电室未配置绝缘垫", "description": "1# 配电室高压柜前未铺设绝缘垫",
    "location": "1# 配电室", "level": "general", "source": "regulator_inspection",
    "nature": "unsafe_condition", "standard_ref": "GB 50054-2011 第 4.2 条", "major_reason": null,
    "discovered_on": "2026-11-20", "responsible_person": "张伟（设备部经理）",
    "rectification_deadline": "2026-12-05", "measures": "采购并铺设绝缘垫；整改前挂警示牌",
    "funds_10k_yuan": 0.5, "acceptance_criteria": "绝缘垫覆盖柜前操作区",
    "major_report": null, "governance_plan": null,
    "jurisdiction_code": "431302", "sector_code": "industry_trade", "status": "rectifying",
    "overdue": false, "overdue_days": 0, "listed": false, "rectification_note": null,
    "reported_by": 3, "submitted_by": null,
    "created_at": "2026-11-20T02:00:00Z", "updated_at": "2026-11-20T02:00:00Z", "closed_at": null,
    "version": 1
}))]
pub struct HazardResponse {
    pub id: i64,
    /// `<county-level code>-<year>-<5-digit sequence>`, never reused.
    pub code: String,
    #[serde(flatten)]
    pub fields: HazardFields,
    /// From the enterprise at creation.
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub status: HazardStatus,
    /// Today (Asia/Shanghai) is after the deadline and the hazard is `reported` or `rectifying`.
    pub overdue: bool,
    /// 0 when not overdue.
    pub overdue_days: i64,
    /// Under active listed supervision (挂牌督办).
    pub listed: bool,
    /// The note of the last `submit_for_acceptance`.
    pub rectification_note: Option<String>,
    pub reported_by: i64,
    /// Who submitted the current rectification for acceptance.
    pub submitted_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl HazardResponse {
    pub fn new(r: &HazardRow, today: NaiveDate) -> HazardResponse {
        let days = overdue_days(r.status(), r.rectification_deadline, today);
        HazardResponse {
            id: r.id,
            code: r.code.clone(),
            fields: r.fields(),
            jurisdiction_code: r.jurisdiction_code.clone(),
            sector_code: r.sector_code.clone(),
            status: r.status(),
            overdue: days > 0,
            overdue_days: days,
            listed: r.listed,
            rectification_note: r.rectification_note.clone(),
            reported_by: r.reported_by,
            submitted_by: r.submitted_by,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            closed_at: r.closed_at.map(to_utc),
            version: r.version,
        }
    }
}

/// The hazard, if the caller can see it (else 404).
pub fn visible_hazard(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<HazardRow> {
    hazards::get_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)
}

/// Record a hazard
///
/// Regulators record hazards of enterprises in their scope (`enterprise_id` required); an
/// enterprise account records hazards of its own enterprise (`enterprise_id` implied; naming
/// another is `404`). Auditors get `403 forbidden`. An enterprise outside your scope is `404`;
/// a closed enterprise is `409 enterprise_closed`.
///
/// `source` defaults to `self_inspection` for enterprise accounts and `regulator_inspection`
/// for regulators; neither may claim the other's (`422`). A `major` hazard cites the 判定标准
/// clause (`standard_ref`) or gives `major_reason`; `discovered_on` is not in the future and
/// the deadline not before it (a past deadline is accepted). A hazard recorded with the
/// complete 五定 block (and, for `major`, `major_report` and `governance_plan`) starts in
/// `rectifying`, otherwise in `reported`. The `code` (`<county-level unit>-<year>-<5 digits>`)
/// is never reused; `jurisdiction_code` and `sector_code` are copied from the enterprise. The
/// creation is audited; `Idempotency-Key` makes a retry replay the first `201`.
#[utoipa::path(
    tag = "hazards", operation_id = "create_hazard", request_body = HazardFields,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded; `Location` names the new hazard", body = HazardResponse,
         headers(("Location" = String, description = "URL of the new hazard"), ("ETag" = String, description = "Version tag"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Auditors cannot record hazards (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The enterprise does not exist or is outside your scope; for an enterprise account, any enterprise but its own (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The enterprise is closed (`enterprise_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid fields (`validation_failed`: no `enterprise_id` from a regulator, a `source` your role may not claim, a future `discovered_on`, a deadline before it, a major hazard without `standard_ref` or `major_reason`, …); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/hazards")]
pub async fn create_hazard(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<HazardFields>,
) -> ApiResult<HttpResponse> {
    let mut fields = body.body;
    let (now, today) = (state.clock.now(), state.clock.today());
    let year = crate::clock::shanghai_date(now).year();
    let actor = Actor::from(&p);
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_hazard",
        body.sha256,
        move |c| {
            // Auditors never record hazards, whatever they name.
            policy::work_on_hazards(&p)?;
            let enterprise_id = editing::enterprise_of_new(p.enterprise_id, fields.enterprise_id)?;
            let enterprise = enterprises::get_visible(c, &p.scope(), enterprise_id)?
                .ok_or_else(ApiError::not_found)?;
            enterprise.status.accepts_hazards()?;
            fields.enterprise_id = Some(enterprise_id);
            fields.source = Some(policy::hazard_source(&p, fields.source)?);
            let fields = fields.validate(today).map_err(ApiError::validation)?;
            let status = lifecycle::initial_status(&fields);
            let county = county_level_code(c, &enterprise.jurisdiction_code)?;
            let prefix = format!("{county}-{year}");
            let code = hazards::next_code(c, &prefix)?;
            let row = hazards::insert(
                c,
                &NewHazard {
                    code: &code,
                    enterprise_id,
                    jurisdiction_code: &enterprise.jurisdiction_code,
                    county_code: &county,
                    sector_code: &enterprise.sector_code,
                    status,
                    reported_by: p.account_id,
                },
                &fields,
            )?;
            let response = HazardResponse::new(&row, today);
            audit::created(c, &actor, "hazard", row.id, &response)?;
            Created::new(format!("/api/v1/hazards/{}", row.id), &response)
        },
    )
    .await
}

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
fn cursor_of(sort: HazardSort, r: &HazardRow) -> HazardCursor {
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

/// List hazards
///
/// Any signed-in account, limited to its scope: regulators and auditors see the hazards of
/// their jurisdiction subtree (an officer bound to a department only its sectors), an
/// enterprise account only its own enterprise's. Each hazard carries the computed `overdue` and
/// `overdue_days` (today, Asia/Shanghai, after the deadline while `reported` or `rectifying`)
/// and `listed` (under active 挂牌督办).
///
/// Filters: `status` (comma-separated), `level`, `source`, `enterprise_id`, `jurisdiction_code`
/// (that jurisdiction and below; an unknown code is `400 invalid_query`), `sector_code`,
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
    let sort = sort_of(q.sort);
    let today = state.clock.today();
    let mut filter = HazardListFilter {
        statuses: parse_statuses(q.status.as_deref())?,
        level: q.level.map(|l| l.as_str().to_string()),
        source: q.source.map(|s| s.as_str().to_string()),
        enterprise_id: q.enterprise_id,
        jurisdiction_path: None,
        sector_code: q.sector_code,
        overdue: q.overdue,
        today,
        deadline_before: q.deadline_before,
        deadline_after: q.deadline_after,
        listed: q.listed,
        q: q.q.filter(|s| !s.trim().is_empty()),
        updated_since: paging.updated_since,
        sort,
        after: paging.after()?,
        fetch: paging.fetch(),
    };
    let jurisdiction = q.jurisdiction_code;
    let rows = state
        .run(move |c| {
            filter.jurisdiction_path =
                crate::routes::jurisdiction_filter(c, jurisdiction.as_deref())?;
            Ok(hazards::list_visible(c, &p.scope(), &filter)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(
        rows,
        |r| cursor_of(sort, r),
        |r| HazardResponse::new(&r, today),
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

/// Change a hazard's fields
///
/// A JSON merge patch over the fields of the create body (`null` clears an optional field;
/// `major_report` and `governance_plan` merge field by field); needs `If-Match` (`428`
/// without, `412` when stale). The status never changes here (sending `status` is
/// `422 invalid_body`; use `POST …/transitions`); `level` changes only through the `regrade`
/// transition and `enterprise_id` never (`422 validation_failed`).
///
/// Who: regulators in scope and the enterprise's own accounts; auditors get `403 forbidden`.
/// On a hazard a regulator recorded, an enterprise account may fill in the rectification
/// (五定, report, plan) but not change the finding (`title`, `description`, `location`,
/// `source`, `nature`, `standard_ref`, `major_reason`, `discovered_on`): `403 field_not_allowed`.
///
/// Rules: closed and void hazards are read-only (`409 not_editable`; reopen first). The
/// `rectification_deadline` can change only while `reported`; from `rectifying` on it is locked
/// (`409 deadline_locked`) and moves only through an approved extension. Once rectification has
/// started, the 五定 block (and, for major, the report and plan) cannot be blanked (`422`). The
/// edit is audited (before/after); a patch that changes nothing records no event.
#[utoipa::path(
    tag = "hazards", operation_id = "update_hazard", request_body = HazardFields,
    params(
        ("id" = i64, Path, description = "Hazard id"),
        ("If-Match" = String, Header, description = "The ETag you last read"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed hazard", body = HazardResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors are read-only (`forbidden`); an enterprise account changing a finding a regulator recorded (`field_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hazard is closed or void (`not_editable`, with `context.status`), or the deadline is locked since rectification started (`deadline_locked`, with `context.status` and `context.rectification_deadline`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`: not an object, an unknown field such as `status`, a wrong type); invalid values (`validation_failed`): changing `level` or `enterprise_id`, a `source` your role may not claim, blanking the 五定 block or the major report/plan once rectifying, …", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/hazards/{id}")]
pub async fn update_hazard(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let patch = body.body;
    if !patch.is_object() {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "",
            "A JSON object is required",
        ));
    }
    let today = state.clock.today();
    let actor = Actor::from(&p);
    let response = state
        .run(move |c| {
            write_tx(c, |c| {
                let row = visible_hazard(c, &p, id)?;
                // The shape of the patch first (unknown fields, wrong types, `status`).
                let mut merged = serde_json::to_value(row.fields()).map_err(ApiError::internal)?;
                merge_patch::merge(&mut merged, &patch);
                let input: HazardFields = from_merged(merged.clone())?;
                let current = serde_json::to_value(row.fields()).map_err(ApiError::internal)?;
                let changed = merge_patch::changed_fields(&current, &merged);
                let reporter = crate::db::accounts::role_of(c, row.reported_by)?;
                policy::edit_hazard(&p, reporter, &changed)?;
                if_match.check(row.version)?;
                let names_source = patch.get("source").is_some();
                let fields = editing::edit(
                    row.state(),
                    &row.fields(),
                    row.enterprise_id,
                    input,
                    today,
                    |given| match given {
                        Some(s) if !names_source => Ok(s),
                        _ => policy::hazard_source(&p, given),
                    },
                )?;
                let before = HazardResponse::new(&row, today);
                let updated = hazards::update_fields(c, id, row.version, &fields)?
                    .ok_or_else(ApiError::precondition_failed)?;
                let after = HazardResponse::new(&updated, today);
                audit::updated(c, &actor, "hazard", id, &before, &after, None)?;
                Ok(after)
            })
        })
        .await?;
    Ok(with_etag(response.version, &response))
}

/// A lifecycle action. `reason` is required for `reject`, `void`, `reopen` and `regrade`;
/// `note` (the rectification note) for `submit_for_acceptance`; `level` for `regrade`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "submit_for_acceptance", "note": "已铺设绝缘垫并挂牌，附整改后照片"}))]
pub struct TransitionRequest {
    pub action: Action,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// The new level (`regrade` only).
    #[serde(default)]
    pub level: Option<HazardLevel>,
}

impl TransitionRequest {
    fn as_domain(&self) -> lifecycle::Request {
        lifecycle::Request {
            action: self.action,
            reason: self.reason.clone(),
            note: self.note.clone(),
            level: self.level,
        }
    }
}

/// Take a lifecycle action on a hazard
///
/// State changes only here (`{"action": …}`), never by writing `status`. Needs `If-Match` with
/// the hazard's `ETag` (`428`/`412`); answers `200` with the hazard after the action and its
/// new `ETag`.
///
/// ```text
/// reported ─start_rectification─▶ rectifying ─submit_for_acceptance─▶ pending_acceptance ─accept─▶ closed
///                                   ▲─────────────── reject ──────────────────┘          closed ─reopen─▶ rectifying
/// void: from any open state (regulator, reason)      regrade: level change with reason
/// ```
///
/// Who: regulators in scope take every action. The enterprise's own accounts may
/// `start_rectification`, `submit_for_acceptance`, `accept` or `reject` a *general* hazard, and
/// `regrade` (raise to major, never lower); `void`, `reopen`, accepting or rejecting a major
/// hazard and regrading major → general are for regulators (`403 regulator_required`).
/// Auditors get `403 forbidden`. The user who submitted the rectification may not `accept` it
/// (`403 separation_of_duties`), but may still `reject` (withdraw) it.
///
/// Rules: an action not allowed from the current state is `409 invalid_transition` (with
/// `context.status` and `context.allowed_actions`). A listed hazard (active 挂牌督办) cannot be
/// accepted — it is closed by delisting (销号) — nor voided or regraded to general
/// (`409 hazard_listed`). `start_rectification` needs the 五定 block (and, for major,
/// `major_report` and `governance_plan`), and `submit_for_acceptance` at least one attachment
/// with stage `after` (`422 prerequisites_missing`, with pointers to what is missing).
/// `submit_for_acceptance` needs a `note` (the rectification note); `reject`, `void`, `reopen`
/// and `regrade` need a `reason`; `regrade` needs a different `level`, and raising to major
/// after rectification started needs the report and plan (`422 validation_failed`). `accept`
/// takes an optional `note`. Each action is audited under its name and appears on the
/// hazard's timeline.
#[utoipa::path(
    tag = "hazards", operation_id = "transition_hazard",
    request_body(content = TransitionRequest, examples(
        ("start_rectification" = (summary = "Start rectification (needs the 五定 block)", value = json!({"action": "start_rectification"}))),
        ("submit_for_acceptance" = (summary = "Submit the rectification (needs a note and an `after` attachment)", value = json!({"action": "submit_for_acceptance", "note": "已铺设绝缘垫并挂牌，附整改后照片"}))),
        ("accept" = (summary = "Accept the rectification and close (never by the submitter)", value = json!({"action": "accept", "note": "现场复核合格"}))),
        ("reject" = (summary = "Send back to rectifying", value = json!({"action": "reject", "reason": "绝缘垫规格不符，耐压等级不足"}))),
        ("void" = (summary = "Void (regulator)", value = json!({"action": "void", "reason": "重复登记，与 431302-2026-00016 为同一隐患"}))),
        ("reopen" = (summary = "Reopen a closed hazard (regulator)", value = json!({"action": "reopen", "reason": "复查发现问题反弹"}))),
        ("regrade" = (summary = "Change the level", value = json!({"action": "regrade", "level": "major", "reason": "经专家论证属重大事故隐患"}))),
    )),
    params(
        ("id" = i64, Path, description = "Hazard id"),
        ("If-Match" = String, Header, description = "The ETag you last read"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The hazard after the action", body = HazardResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors are read-only (`forbidden`); the action is a regulator's — `void`, `reopen`, `accept`/`reject` of a major hazard, regrading major → general (`regulator_required`); or you submitted the rectification you are accepting (`separation_of_duties`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The action is not allowed from the current state (`invalid_transition`, with `context.status` and `context.allowed_actions`), or the hazard is under listed supervision and cannot be accepted, voided or regraded to general (`hazard_listed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A prerequisite is missing (`prerequisites_missing`: the 五定 block, the major report and plan, or an `after` attachment, with pointers); a missing `reason`, `note` or `level`, the same level again, or a major level without `standard_ref`/`major_reason` or (once rectifying) without report and plan (`validation_failed`); an unknown action or field (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/hazards/{id}/transitions")]
pub async fn transition_hazard(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<TransitionRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let req = body.body;
    let today = state.clock.today();
    let actor = Actor::from(&p);
    let response = state
        .run(move |c| {
            write_tx(c, |c| {
                let row = visible_hazard(c, &p, id)?;
                policy::hazard_action(&p, req.action, row.level(), req.level)?;
                if_match.check(row.version)?;
                lifecycle::next_status(row.status(), req.action)?;
                if req.action == Action::Accept {
                    policy::close_rectification(
                        &p,
                        row.submitted_by,
                        "accept a rectification you submitted",
                    )?;
                }
                let facts = lifecycle::Facts {
                    actor_id: p.account_id,
                    has_after_evidence: req.action == Action::SubmitForAcceptance
                        && hazards::has_attachment(c, row.id, AttachmentStage::After.as_str())?,
                };
                let Outcome { change, details } =
                    lifecycle::plan(row.state(), &row.fields(), &req.as_domain(), facts)?;
                let updated = hazards::change(c, id, row.version, &change)?
                    .ok_or_else(ApiError::precondition_failed)?;
                audit::record(
                    c,
                    &actor,
                    req.action.as_str(),
                    "hazard",
                    &id.to_string(),
                    &details,
                )?;
                Ok(HazardResponse::new(&updated, today))
            })
        })
        .await?;
    Ok(with_etag(response.version, &response))
}

/// List a hazard's timeline
///
/// Any signed-in account that can see the hazard (else `404`). Everything that happened to it,
/// oldest first, from the audit log: `create`, each `update` (before/after), each transition
/// under its action name (actor, `reason`, `note`, `level`), `extension_requested`,
/// `extension_approved`/`extension_denied`, `attachment_added`, and the events of its listings
/// (`listed`, `delisted`, `listing_cancelled`, listing extension requests and decisions).
/// Paged with `limit` and `cursor`; `updated_since` keeps the events at or after an instant.
#[utoipa::path(
    tag = "hazards", operation_id = "list_hazard_timeline",
    params(("id" = i64, Path, description = "Hazard id"), crate::http::page::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the hazard's events, oldest first", body = page::Page<AuditEvent>),
    )
)]
#[get("/hazards/{id}/timeline")]
pub async fn list_hazard_timeline(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: crate::http::page::Listing<crate::http::page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    crate::routes::audit::entity_events(&state, "hazard", id, query.paging, move |c| {
        visible_hazard(c, &p, id).map(|_| ())
    })
    .await
}

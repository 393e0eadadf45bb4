//! 隐患排查 (issue 11, SPEC §9): inspection tasks over control measures, their due slots, and
//! check records; a failed measure raises (or links) a hazard naming its origin.

use std::collections::HashMap;

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::hazards::{self as hazard_db, Origin};
use crate::db::inspections::{self as db, NewTask, RecordRow, ResultRow, SlotRow, TaskRow};
use crate::db::risk::{self as risk_db, Owner};
use crate::db::{enterprises, to_utc, AnyConnection};
use crate::domain::hazard::{HazardFields, HazardLevel, HazardStatus};
use crate::domain::inspection::{
    already_checked, check_recordable, completion_rate, slot_state, Cycle, CycleUnit, SlotState,
};
use crate::domain::validate::Errors;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::page::{self, Listing};
use crate::http::{ApiJson, IdempotencyKey};
use crate::routes::with_etag;
use crate::state::AppState;

/// Shanghai local time now, as the cycles count it.
fn local(now: DateTime<Utc>) -> chrono::NaiveDateTime {
    now.naive_utc() + chrono::Duration::hours(8)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "液氯储罐区日检", "measure_ids": [21, 22], "assignee_post": "罐区巡检员",
    "cycle_unit": "day", "cycle_every": 1, "working_days_only": false, "starts_on": "2026-12-01"
}))]
pub struct TaskRequest {
    /// 1–200 characters.
    pub name: String,
    /// The control measures checked (1–100, all of your enterprise).
    pub measure_ids: Vec<i64>,
    /// An account of your enterprise that checks, or (and) a post (岗位) by name.
    #[serde(default)]
    pub assignee_account_id: Option<i64>,
    #[serde(default)]
    pub assignee_post: Option<String>,
    pub cycle_unit: CycleUnit,
    /// Every N units (1–1000).
    pub cycle_every: i32,
    /// No slots starting on a Saturday or Sunday (hour and day cycles).
    #[serde(default)]
    pub working_days_only: bool,
    /// The first day (Asia/Shanghai); its first slot starts at 00:00.
    pub starts_on: NaiveDate,
    /// The last day slots may start on, if any.
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "uuid": "9b3f6f0e-9d1c-4c8e-8f31-0a3b4c5d6e7f", "enterprise_id": 42, "name": "液氯储罐区日检",
    "measure_ids": [21, 22], "assignee_account_id": null, "assignee_post": "罐区巡检员",
    "cycle_unit": "day", "cycle_every": 1, "working_days_only": false,
    "starts_on": "2026-12-01", "ends_on": null, "done": 28, "missed": 2, "completion_rate": 0.9333,
    "created_at": "2026-12-01T02:00:00Z", "updated_at": "2026-12-01T02:00:00Z", "version": 1
}))]
pub struct TaskResponse {
    pub id: i64,
    pub uuid: String,
    pub enterprise_id: i64,
    pub name: String,
    pub measure_ids: Vec<i64>,
    pub assignee_account_id: Option<i64>,
    pub assignee_post: Option<String>,
    pub cycle_unit: CycleUnit,
    pub cycle_every: i32,
    pub working_days_only: bool,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// Slots checked.
    pub done: i64,
    /// Slots that ended unchecked (漏检).
    pub missed: i64,
    /// `done ÷ (done + missed)`, 4 decimals.
    pub completion_rate: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn task_response(r: &TaskRow, measure_ids: Vec<i64>, done: i64, missed: i64) -> TaskResponse {
    TaskResponse {
        id: r.id,
        uuid: r.uuid.clone(),
        enterprise_id: r.enterprise_id,
        name: r.name.clone(),
        measure_ids,
        assignee_account_id: r.assignee_account_id,
        assignee_post: r.assignee_post.clone(),
        cycle_unit: r.cycle_unit,
        cycle_every: r.cycle_every,
        working_days_only: r.working_days_only,
        starts_on: r.starts_on,
        ends_on: r.ends_on,
        done,
        missed,
        completion_rate: completion_rate(done, missed),
        created_at: to_utc(r.created_at),
        updated_at: to_utc(r.updated_at),
        version: r.version,
    }
}

/// The task's response with its slots materialised and counted at `now`.
fn full_task(c: &mut AnyConnection, r: &TaskRow, now: DateTime<Utc>) -> ApiResult<TaskResponse> {
    db::materialise(c, r, local(now))?;
    let (done, missed) = db::tally(c, r.id, now.naive_utc())?;
    let measures = db::measures_of(c, &[r.id])?
        .remove(&r.id)
        .unwrap_or_default();
    Ok(task_response(r, measures, done, missed))
}

/// Create an inspection task
///
/// An enterprise account sets up a recurring check of some of its control measures
/// (`measure_ids`, each once; another enterprise's is `422`), by an account or post, on a
/// cycle of every N hours, days, weeks, months, quarters or years from `starts_on` (Asia/Shanghai,
/// 00:00), optionally working days only. Its slots appear as the clock reaches them
/// (`GET …/{id}/slots`); a slot not checked by its end is missed. Regulators and auditors
/// read (`403`).
#[utoipa::path(
    tag = "inspections", operation_id = "create_inspection_task", request_body = TaskRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = TaskResponse,
         headers(("Location" = String, description = "URL of the task"), ("ETag" = String, description = "Version tag"))),
        (status = 403, description = "Only the enterprise keeps its register (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The enterprise is closed (`enterprise_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid fields, measures or assignee (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/inspection-tasks")]
pub async fn create_inspection_task(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<TaskRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.body;
    let now = state.clock.now();
    let actor = Actor::from(&p);
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_inspection_task",
        body.sha256,
        move |c| {
            let enterprise_id = policy::edit_risk_register(&p)?;
            let enterprise = enterprises::get_visible(c, &p.scope(), enterprise_id)?
                .ok_or_else(ApiError::not_found)?;
            enterprise.status.accepts_hazards()?;
            let mut e = Errors::default();
            let name = e.text("/name", &req.name, 200);
            let post = e.opt_text("/assignee_post", req.assignee_post.as_deref(), 50);
            if !(1..=1000).contains(&req.cycle_every) {
                e.add("/cycle_every", "must be from 1 to 1000");
            }
            if req.ends_on.is_some_and(|d| d < req.starts_on) {
                e.add("/ends_on", "must not be before starts_on");
            }
            let mut ids = req.measure_ids.clone();
            ids.sort_unstable();
            ids.dedup();
            if ids.len() != req.measure_ids.len() {
                e.add("/measure_ids", "names a measure twice");
            }
            if ids.is_empty() || ids.len() > 100 {
                e.add("/measure_ids", "1 to 100 control measures");
            }
            let known = db::measures_of_enterprise(c, enterprise_id, &ids)?;
            for (i, id) in req.measure_ids.iter().enumerate() {
                if !known.contains(id) {
                    e.add(
                        &format!("/measure_ids/{i}"),
                        "not a control measure of your enterprise",
                    );
                }
            }
            if let Some(a) = req.assignee_account_id {
                if !crate::db::accounts::belongs_to_enterprise(c, a, enterprise_id)? {
                    e.add("/assignee_account_id", "not an account of your enterprise");
                }
            }
            e.into_result().map_err(ApiError::validation)?;
            let row = db::insert_task(
                c,
                &Owner::of(&enterprise),
                &NewTask {
                    name: &name,
                    assignee_account_id: req.assignee_account_id,
                    assignee_post: post.as_deref(),
                    cycle: Cycle {
                        unit: req.cycle_unit,
                        every: req.cycle_every as u32,
                        working_days_only: req.working_days_only,
                    },
                    starts_on: req.starts_on,
                    ends_on: req.ends_on,
                },
                &ids,
            )?;
            let response = full_task(c, &row, now)?;
            audit::created(c, &actor, "inspection_task", row.id, &response)?;
            Created::new(format!("/api/v1/inspection-tasks/{}", row.id), &response)
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    pub enterprise_id: Option<i64>,
}

/// List inspection tasks
///
/// The tasks in your scope, oldest first, each with its done and missed slots and
/// completion rate as of now (slots the scheduler has materialised, every
/// `HAZREG_REMINDER_INTERVAL_SECS`; reading one task or its slots materialises them at once).
/// Filters: `enterprise_id`, `updated_since`.
#[utoipa::path(
    tag = "inspections", operation_id = "list_inspection_tasks", params(TaskQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of tasks", body = page::Page<TaskResponse>))
)]
#[get("/inspection-tasks")]
pub async fn list_inspection_tasks(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<TaskQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let (after, fetch, since) = (paging.after()?, paging.fetch(), paging.updated_since);
    let now = state.clock.now();
    let items = state
        .run(move |c| {
            let rows = db::list_tasks(c, &p.scope(), q.enterprise_id, since, after, fetch)?;
            rows.iter()
                .map(|r| full_task(c, r, now))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(items, |r| r.id, |r| r)))
}

fn visible_task(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<TaskRow> {
    db::task_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)
}

/// Get an inspection task
///
/// A task in your scope (else `404`), with its tallies as of now.
#[utoipa::path(
    tag = "inspections", operation_id = "get_inspection_task",
    params(("id" = i64, Path, description = "Task id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The task", body = TaskResponse, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/inspection-tasks/{id}")]
pub async fn get_inspection_task(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = state.clock.now();
    let response = state
        .run(move |c| {
            let row = visible_task(c, &p, id)?;
            full_task(c, &row, now)
        })
        .await?;
    Ok(with_etag(response.version, &response))
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 77, "task_id": 3, "seq": 6, "starts_at": "2026-12-06T16:00:00Z", "ends_at": "2026-12-07T16:00:00Z",
    "state": "done", "record_id": 51
}))]
pub struct SlotResponse {
    pub id: i64,
    pub task_id: i64,
    /// The period's number from the task's first (0).
    pub seq: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub state: SlotState,
    pub record_id: Option<i64>,
}

fn slot_response(s: &SlotRow, now: DateTime<Utc>) -> SlotResponse {
    SlotResponse {
        id: s.id,
        task_id: s.task_id,
        seq: s.seq,
        starts_at: to_utc(s.starts_at),
        ends_at: to_utc(s.ends_at),
        state: slot_state(s.record_id.is_some(), s.ends_at, now.naive_utc()),
        record_id: s.record_id,
    }
}

/// List a task's slots
///
/// Every slot that has started, in order, each `open`, `done` or `missed` as of now.
#[utoipa::path(
    tag = "inspections", operation_id = "list_inspection_slots",
    params(("id" = i64, Path, description = "Task id"), page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of slots", body = page::Page<SlotResponse>))
)]
#[get("/inspection-tasks/{id}/slots")]
pub async fn list_inspection_slots(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: Listing<page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let Listing { paging, .. } = query;
    let (after, fetch) = (paging.after::<i32>()?, paging.fetch());
    let now = state.clock.now();
    let rows = state
        .run(move |c| {
            let task = visible_task(c, &p, id)?;
            db::materialise(c, &task, local(now))?;
            Ok(db::slots_of_task(c, id, after, fetch)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |s| s.seq, |s| slot_response(&s, now))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"measure_id": 22, "ok": false, "note": "2 号罐报警器未通电"}))]
pub struct ResultInput {
    pub measure_id: i64,
    pub ok: bool,
    /// Required when not ok (1–2000 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// When not ok: an open hazard of your enterprise this failure is (instead of a new one).
    #[serde(default)]
    pub hazard_id: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slot_id": 77,
    "results": [{"measure_id": 21, "ok": true}, {"measure_id": 22, "ok": false, "note": "2 号罐报警器未通电"}]
}))]
pub struct RecordRequest {
    /// An `open` slot of one of your tasks.
    pub slot_id: i64,
    /// One result per measure of the task, each once.
    pub results: Vec<ResultInput>,
}

#[derive(Serialize, ToSchema)]
pub struct ResultResponse {
    pub measure_id: i64,
    pub ok: bool,
    pub note: Option<String>,
    /// The hazard the failure raised or was linked to.
    pub hazard_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 51, "uuid": "3c1d5a2e-7b6f-4e3a-9c1d-2b4a6e8f0a12", "slot_id": 77, "task_id": 3, "enterprise_id": 42,
    "checked_by": 17, "checked_at": "2026-12-07T01:30:00Z", "failed": 1,
    "results": [{"measure_id": 21, "ok": true, "note": null, "hazard_id": null},
                {"measure_id": 22, "ok": false, "note": "2 号罐报警器未通电", "hazard_id": 1207}]
}))]
pub struct RecordResponse {
    pub id: i64,
    pub uuid: String,
    pub slot_id: i64,
    pub task_id: i64,
    pub enterprise_id: i64,
    pub checked_by: i64,
    pub checked_at: DateTime<Utc>,
    /// Measures found failing.
    pub failed: i32,
    pub results: Vec<ResultResponse>,
}

fn record_responses(c: &mut AnyConnection, rows: Vec<RecordRow>) -> ApiResult<Vec<RecordResponse>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut results: HashMap<i64, Vec<ResultResponse>> = HashMap::new();
    for r in db::results_of(c, &ids)? {
        let ResultRow {
            record_id,
            measure_id,
            ok,
            note,
            hazard_id,
        } = r;
        results.entry(record_id).or_default().push(ResultResponse {
            measure_id,
            ok,
            note,
            hazard_id,
        });
    }
    Ok(rows
        .into_iter()
        .map(|r| RecordResponse {
            results: results.remove(&r.id).unwrap_or_default(),
            id: r.id,
            uuid: r.uuid,
            slot_id: r.slot_id,
            task_id: r.task_id,
            enterprise_id: r.enterprise_id,
            checked_by: r.checked_by,
            checked_at: to_utc(r.checked_at),
            failed: r.failed,
        })
        .collect())
}

/// Record a check
///
/// For an `open` slot of one of your tasks (a slot not started or already ended is `409
/// slot_closed`; checked already `409 already_checked`): one result per measure of the task.
/// Each failed measure (`ok: false`, with a `note`) raises a hazard of your enterprise —
/// `general`, `self_inspection`, discovered today, titled after the unit and the measure —
/// or is linked to an open hazard you name (`hazard_id`); the hazard names its origin
/// (`check_record_id`, `control_measure_id`, `risk_unit_id`). While such a hazard is open the
/// measure is failing and its unit out of control (`GET /api/v1/control-measures`,
/// `/risk-units`). All in one transaction. Enterprise accounts only (`403`).
#[utoipa::path(
    tag = "inspections", operation_id = "create_check_record", request_body = RecordRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = RecordResponse,
         headers(("Location" = String, description = "URL of the record"))),
        (status = 403, description = "Only the enterprise records its checks (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The slot is not in your scope (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slot is not open (`slot_closed`) or was checked already (`already_checked`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); results that do not cover the task's measures exactly once, a failure without a note, a linked hazard not open or not yours (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/check-records")]
pub async fn create_check_record(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<RecordRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.body;
    let (now, today) = (state.clock.now(), state.clock.today());
    let actor = Actor::from(&p);
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_check_record",
        body.sha256,
        move |c| {
            policy::edit_risk_register(&p)?;
            let slot =
                db::slot_visible(c, &p.scope(), req.slot_id)?.ok_or_else(ApiError::not_found)?;
            check_recordable(
                slot.record_id.is_some(),
                slot.starts_at,
                slot.ends_at,
                now.naive_utc(),
            )?;
            let measures = db::measures_of(c, &[slot.task_id])?
                .remove(&slot.task_id)
                .unwrap_or_default();
            let mut e = Errors::default();
            let mut seen = std::collections::HashSet::new();
            for (i, r) in req.results.iter().enumerate() {
                if !measures.contains(&r.measure_id) {
                    e.add(
                        &format!("/results/{i}/measure_id"),
                        "not a measure of this task",
                    );
                } else if !seen.insert(r.measure_id) {
                    e.add(&format!("/results/{i}/measure_id"), "given twice");
                }
                if !r.ok {
                    e.text(
                        &format!("/results/{i}/note"),
                        r.note.as_deref().unwrap_or(""),
                        2000,
                    );
                } else if r.hazard_id.is_some() {
                    e.add(
                        &format!("/results/{i}/hazard_id"),
                        "only a failed measure names a hazard",
                    );
                }
                if let Some(h) = r.hazard_id {
                    let open = hazard_db::get_visible(c, &p.scope(), h)?.is_some_and(|x| {
                        !matches!(x.status(), HazardStatus::Closed | HazardStatus::Void)
                    });
                    if !open {
                        e.add(
                            &format!("/results/{i}/hazard_id"),
                            "not an open hazard of your enterprise",
                        );
                    }
                }
            }
            if seen.len() != measures.len() && e.is_empty() {
                e.add("/results", "give one result for every measure of the task");
            }
            e.into_result().map_err(ApiError::validation)?;
            let failed = req.results.iter().filter(|r| !r.ok).count() as i32;
            // Checked by another request meanwhile: the same refusal as above.
            let record = db::insert_record(c, &slot, p.account_id, failed)?
                .ok_or_else(|| ApiError::from(already_checked()))?;
            for r in &req.results {
                let note = r.note.as_deref().map(str::trim);
                let hazard = match (r.ok, r.hazard_id) {
                    (true, _) => None,
                    (false, Some(h)) => Some(h),
                    (false, None) => {
                        let measure = risk_db::measure_visible(c, &p.scope(), r.measure_id)?
                            .ok_or_else(ApiError::not_found)?;
                        let unit = risk_db::unit_visible(c, &p.scope(), measure.unit_id)?
                            .ok_or_else(ApiError::not_found)?;
                        let title: String = format!("{}：{}未落实", unit.name, measure.description)
                            .chars()
                            .take(200)
                            .collect();
                        let fields = HazardFields {
                            enterprise_id: Some(slot.enterprise_id),
                            title,
                            description: note.unwrap_or_default().to_string(),
                            location: unit.location.clone(),
                            level: HazardLevel::General,
                            source: None,
                            nature: None,
                            standard_ref: None,
                            major_reason: None,
                            discovered_on: today,
                            responsible_person: None,
                            rectification_deadline: None,
                            measures: None,
                            funds_10k_yuan: None,
                            acceptance_criteria: None,
                            major_report: None,
                            governance_plan: None,
                        };
                        let row = crate::routes::hazards::create::record(
                            c,
                            &p,
                            &actor,
                            fields,
                            now,
                            today,
                            Origin {
                                check_record_id: Some(record.id),
                                control_measure_id: Some(measure.id),
                                risk_unit_id: Some(unit.id),
                                ..Default::default()
                            },
                        )?;
                        Some(row.id)
                    }
                };
                if let (Some(h), Some(_)) = (hazard, r.hazard_id) {
                    // A linked hazard found otherwise now names this check as its origin too,
                    // unless a check named it already.
                    let unit = risk_db::measure_visible(c, &p.scope(), r.measure_id)?
                        .ok_or_else(ApiError::not_found)?
                        .unit_id;
                    hazard_db::set_origin(
                        c,
                        h,
                        Origin {
                            check_record_id: Some(record.id),
                            control_measure_id: Some(r.measure_id),
                            risk_unit_id: Some(unit),
                            ..Default::default()
                        },
                    )?;
                }
                db::insert_result(c, record.id, r.measure_id, r.ok, note, hazard)?;
            }
            let response = record_responses(c, vec![record])?.remove(0);
            audit::created(
                c,
                &actor,
                "check_record",
                response.id,
                &json!({"slot_id": response.slot_id, "failed": failed}),
            )?;
            Created::new(format!("/api/v1/check-records/{}", response.id), &response)
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    pub task_id: Option<i64>,
}

/// List check records
///
/// The records in your scope, oldest first, with their results. Filters: `task_id`,
/// `updated_since`.
#[utoipa::path(
    tag = "inspections", operation_id = "list_check_records", params(RecordQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of records", body = page::Page<RecordResponse>))
)]
#[get("/check-records")]
pub async fn list_check_records(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<RecordQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let (after, fetch, since) = (paging.after()?, paging.fetch(), paging.updated_since);
    let items = state
        .run(move |c| {
            let rows = db::list_records(c, &p.scope(), q.task_id, since, after, fetch)?;
            record_responses(c, rows)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(items, |r| r.id, |r| r)))
}

/// Get a check record
///
/// A record in your scope (else `404`), with its results.
#[utoipa::path(
    tag = "inspections", operation_id = "get_check_record",
    params(("id" = i64, Path, description = "Record id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The record", body = RecordResponse))
)]
#[get("/check-records/{id}")]
pub async fn get_check_record(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let response = state
        .run(move |c| {
            let row = db::record_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)?;
            Ok(record_responses(c, vec![row])?.remove(0))
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

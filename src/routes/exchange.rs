//! The national-model exchange (双重预防 数据接入, SPEC §9): one `GET` per table in the field
//! layout of the 危化品 双重预防 data-access model, incremental by `updated_since`, every row
//! under a stable UUID. Code lists: `domain::exchange`; the layout: `docs/DUAL-PREVENTION-EXCHANGE.md`.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::hazards::{self as hazard_db, HazardRow};
use crate::db::inspections as insp;
use crate::db::risk::{self as risk_db, RegisterFilter};
use crate::db::{to_utc, AnyConnection};
use crate::domain::exchange::{self as code, derived_uuid};
use crate::domain::hazard::HazardStatus;
use crate::error::ApiResult;
use crate::http::page::{self, Listing, Paging};
use crate::state::AppState;

/// What a lookup (USCC, UUID) gives for an id; empty when the row is gone.
fn looked_up(found: &std::collections::HashMap<i64, String>, id: i64) -> String {
    found.get(&id).cloned().unwrap_or_default()
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "6f1c2f8e-3b7a-4a53-9d7e-3f6f0c1b2a90", "companyCode": "914313009B2YGXAG2A",
    "riskUnitName": "液氯储罐区", "hazardDep": "生产部", "hazardLiablePerson": "赵工",
    "isMajorHazard": 1, "principalPerson": "王建国", "technicalPerson": "李工", "operatingPerson": "张班长",
    "longitude": 112.0, "latitude": 27.7, "riskLevel": 2, "deleted": 0,
    "createDate": "2026-12-07 10:00:00", "updateDate": "2026-12-07 10:00:00"
}))]
pub struct ExchangeRiskUnit {
    pub id: String,
    /// 统一社会信用代码.
    pub company_code: String,
    pub risk_unit_name: String,
    pub hazard_dep: Option<String>,
    pub hazard_liable_person: Option<String>,
    /// 1 is or contains a 重大危险源, else 0.
    pub is_major_hazard: i32,
    pub principal_person: Option<String>,
    pub technical_person: Option<String>,
    pub operating_person: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    /// 1 重大, 2 较大, 3 一般, 4 低; null while unassessed.
    pub risk_level: Option<i32>,
    pub deleted: i32,
    pub create_date: String,
    pub update_date: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "1d0f2c55-0f0e-4a70-8e2b-5b8f2f0f8c11", "riskUnitId": "6f1c2f8e-3b7a-4a53-9d7e-3f6f0c1b2a90",
    "riskEventName": "液氯储罐泄漏", "riskDescription": "阀门密封失效导致泄漏",
    "evaluationMethod": "LEC", "riskValue": 270, "riskLevel": 2, "deleted": 0,
    "createDate": "2026-12-07 10:00:00", "updateDate": "2026-12-07 10:00:00"
}))]
pub struct ExchangeRiskEvent {
    pub id: String,
    pub risk_unit_id: String,
    pub risk_event_name: String,
    pub risk_description: Option<String>,
    /// `LS` or `LEC`.
    pub evaluation_method: String,
    /// R (LS) or D (LEC).
    pub risk_value: f64,
    pub risk_level: i32,
    pub deleted: i32,
    pub create_date: String,
    pub update_date: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "0a6b7d1e-5c55-4a8e-9a57-2e9f6c2d7b31", "riskEventId": "1d0f2c55-0f0e-4a70-8e2b-5b8f2f0f8c11",
    "riskMeasureDesc": "有毒气体检测报警与紧急切断阀联锁", "classify1": 1, "controlLevel": 2,
    "troubleshootContent": "有毒气体检测报警与紧急切断阀联锁", "liablePerson": "赵工", "deleted": 0,
    "createDate": "2026-12-07 10:00:00", "updateDate": "2026-12-07 10:00:00"
}))]
pub struct ExchangeControlMeasure {
    pub id: String,
    pub risk_event_id: String,
    pub risk_measure_desc: String,
    /// 1 工程技术, 2 管理措施, 3 培训教育, 4 个体防护, 5 应急处置.
    pub classify1: i32,
    /// 1 公司, 2 车间, 3 班组, 4 岗位.
    pub control_level: i32,
    /// What a check looks at (the measure).
    pub troubleshoot_content: String,
    pub liable_person: Option<String>,
    pub deleted: i32,
    pub create_date: String,
    pub update_date: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "c0a8012e-5d0b-5b8e-9e3a-6f2a1c3d4e5f", "riskMeasureId": "0a6b7d1e-5c55-4a8e-9a57-2e9f6c2d7b31",
    "troubleshootContent": "有毒气体检测报警与紧急切断阀联锁", "checkCycle": 1, "checkCycleUnit": "天",
    "workStartTime": "2026-12-01", "workEndTime": null, "workDayType": 0, "deleted": 0,
    "createDate": "2026-12-01 10:00:00", "updateDate": "2026-12-01 10:00:00"
}))]
pub struct ExchangeCheckTask {
    /// Derived from the task's and the measure's UUIDs (a task checks several measures; the
    /// model has one task per measure).
    pub id: String,
    pub risk_measure_id: String,
    pub troubleshoot_content: String,
    pub check_cycle: i32,
    /// 小时, 天, 周, 月, 季, 年.
    pub check_cycle_unit: String,
    pub work_start_time: String,
    pub work_end_time: Option<String>,
    /// 0 every day, 1 working days only.
    pub work_day_type: i32,
    pub deleted: i32,
    pub create_date: String,
    pub update_date: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "f3b0c1d2-7e8f-5a6b-9c0d-1e2f3a4b5c6d", "checkTaskId": "c0a8012e-5d0b-5b8e-9e3a-6f2a1c3d4e5f",
    "riskMeasureId": "0a6b7d1e-5c55-4a8e-9a57-2e9f6c2d7b31", "checkTime": "2026-12-07 09:30:00",
    "checkStatus": 1, "checkNote": "2 号罐报警器未通电", "createDate": "2026-12-07 09:30:00",
    "updateDate": "2026-12-07 09:30:00"
}))]
pub struct ExchangeCheckRecord {
    /// Derived from the record's and the measure's UUIDs (one row per measure checked).
    pub id: String,
    pub check_task_id: String,
    pub risk_measure_id: String,
    pub check_time: String,
    /// 0 正常, 1 存在隐患.
    pub check_status: i32,
    pub check_note: Option<String>,
    pub create_date: String,
    pub update_date: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "9e8d7c6b-5a4f-5e3d-8c2b-1a0f9e8d7c6b", "hazardCode": "431302-2026-00017",
    "companyCode": "914313009B2YGXAG2A", "riskMeasureId": "0a6b7d1e-5c55-4a8e-9a57-2e9f6c2d7b31",
    "checkRecordId": "f3b0c1d2-7e8f-5a6b-9c0d-1e2f3a4b5c6d", "dangerName": "液氯储罐区：报警联锁未落实",
    "dangerDesc": "2 号罐报警器未通电", "dangerLevel": 0, "dangerSrc": 1, "hazardDangerType": 1,
    "dangerManageDeadline": "2026-12-20", "liablePerson": "张伟", "controlMeasures": "更换电源模块",
    "cost": 0.5, "dangerState": 9, "checkAcceptPerson": "李华", "checkAcceptTime": "2026-12-15 16:00:00",
    "registTime": "2026-12-07", "deleted": 0, "createDate": "2026-12-07 09:30:00", "updateDate": "2026-12-15 16:00:00"
}))]
pub struct ExchangeHazard {
    /// Derived from the hazard's code (unique, never reused).
    pub id: String,
    pub hazard_code: String,
    pub company_code: String,
    /// The control measure whose check found it, if a check did.
    pub risk_measure_id: Option<String>,
    /// The check record (row of the measure) that found it.
    pub check_record_id: Option<String>,
    pub danger_name: String,
    pub danger_desc: String,
    /// 0 一般隐患, 1 重大隐患.
    pub danger_level: i32,
    /// 1 日常排查, 2 监管检查, 3 群众举报, 9 其他.
    pub danger_src: i32,
    /// 1 物的不安全状态, 2 人的不安全行为, 3 管理缺陷, 9 未分类.
    pub hazard_danger_type: i32,
    pub danger_manage_deadline: Option<String>,
    pub liable_person: Option<String>,
    pub control_measures: Option<String>,
    /// 整改资金, 万元.
    pub cost: Option<f64>,
    /// 0 整改中, 1 待验收, 9 已验收.
    pub danger_state: i32,
    pub check_accept_person: Option<String>,
    pub check_accept_time: Option<String>,
    /// The day it was found.
    pub regist_time: String,
    /// 1 for a voided hazard.
    pub deleted: i32,
    pub create_date: String,
    pub update_date: String,
}

/// A page of the register's rows changed since `updated_since`, in id order.
fn register_filter(paging: &Paging) -> ApiResult<RegisterFilter> {
    Ok(RegisterFilter {
        updated_since: paging.updated_since,
        after_id: paging.after()?,
        fetch: paging.fetch(),
        ..Default::default()
    })
}

fn when(t: chrono::NaiveDateTime) -> String {
    code::datetime(to_utc(t))
}

/// Risk analysis units (national model)
///
/// The risk units in your scope in the data-access model's layout, oldest first; `updated_since`
/// gives those changed since then. Every role reads what its scope holds.
#[utoipa::path(
    tag = "exchange", operation_id = "exchange_risk_units", params(page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of units", body = page::Page<ExchangeRiskUnit>))
)]
#[get("/exchange/dual-prevention/risk-units")]
pub async fn exchange_risk_units(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let Listing { paging, .. } = query;
    let f = register_filter(&paging)?;
    let (rows, codes) = state
        .run(move |c| {
            let rows = risk_db::list_units(c, &p.scope(), &f)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.enterprise_id).collect();
            Ok((rows, insp::company_codes(c, &ids)?))
        })
        .await?;
    let page = paging.finish(
        rows,
        |r| r.id,
        |r| ExchangeRiskUnit {
            id: r.uuid.clone(),
            company_code: looked_up(&codes, r.enterprise_id),
            risk_unit_name: r.name.clone(),
            hazard_dep: r.department.clone(),
            hazard_liable_person: r.responsible_person.clone(),
            is_major_hazard: i32::from(r.major_hazard_source),
            principal_person: r.principal_person.clone(),
            technical_person: r.technical_person.clone(),
            operating_person: r.operating_person.clone(),
            longitude: r.longitude,
            latitude: r.latitude,
            risk_level: r.risk_level.map(code::risk_level),
            deleted: 0,
            create_date: when(r.created_at),
            update_date: when(r.updated_at),
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// Risk events (national model)
///
/// The risk events in your scope in the model's layout, with their current grading.
#[utoipa::path(
    tag = "exchange", operation_id = "exchange_risk_events", params(page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of events", body = page::Page<ExchangeRiskEvent>))
)]
#[get("/exchange/dual-prevention/risk-events")]
pub async fn exchange_risk_events(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let Listing { paging, .. } = query;
    let f = register_filter(&paging)?;
    let (rows, units) = state
        .run(move |c| {
            let rows = risk_db::list_events(c, &p.scope(), &f)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.unit_id).collect();
            Ok((rows, risk_db::unit_uuids(c, &ids)?))
        })
        .await?;
    let page = paging.finish(
        rows,
        |r| r.id,
        |r| ExchangeRiskEvent {
            id: r.uuid.clone(),
            risk_unit_id: looked_up(&units, r.unit_id),
            risk_event_name: r.name.clone(),
            risk_description: r.description.clone(),
            evaluation_method: r.method.as_str().to_uppercase(),
            risk_value: r.score,
            risk_level: code::risk_level(r.level),
            deleted: 0,
            create_date: when(r.created_at),
            update_date: when(r.updated_at),
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// Control measures (national model)
///
/// The control measures in your scope in the model's layout.
#[utoipa::path(
    tag = "exchange", operation_id = "exchange_control_measures", params(page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of measures", body = page::Page<ExchangeControlMeasure>))
)]
#[get("/exchange/dual-prevention/control-measures")]
pub async fn exchange_control_measures(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let Listing { paging, .. } = query;
    let f = register_filter(&paging)?;
    let (rows, events) = state
        .run(move |c| {
            let rows = risk_db::list_measures(c, &p.scope(), &f)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.event_id).collect();
            Ok((rows, risk_db::event_uuids(c, &ids)?))
        })
        .await?;
    let page = paging.finish(
        rows,
        |r| r.id,
        |r| ExchangeControlMeasure {
            id: r.uuid.clone(),
            risk_event_id: looked_up(&events, r.event_id),
            risk_measure_desc: r.description.clone(),
            classify1: code::measure_class(r.classification),
            control_level: code::control_tier(r.tier),
            troubleshoot_content: r.description.clone(),
            liable_person: r.responsible_person.clone(),
            deleted: 0,
            create_date: when(r.created_at),
            update_date: when(r.updated_at),
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// Check tasks (national model)
///
/// The inspection tasks in your scope in the model's layout: one row per task and measure (the
/// model's task checks one measure). A page holds the rows of up to `limit` tasks.
#[utoipa::path(
    tag = "exchange", operation_id = "exchange_check_tasks", params(page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of task rows", body = page::Page<ExchangeCheckTask>))
)]
#[get("/exchange/dual-prevention/check-tasks")]
pub async fn exchange_check_tasks(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let Listing { paging, .. } = query;
    let (since, after, fetch) = (paging.updated_since, paging.after()?, paging.fetch());
    let (tasks, links, measures) = state
        .run(move |c| {
            let tasks = insp::list_tasks(c, &p.scope(), None, since, after, fetch)?;
            let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
            let links = insp::measures_of(c, &ids)?;
            let mids: Vec<i64> = links.values().flatten().copied().collect();
            let measures = risk_db::measures_by_id(c, &mids)?;
            Ok((tasks, links, measures))
        })
        .await?;
    let page = paging.finish(tasks, |t| t.id, |t| t);
    let items = page
        .items
        .iter()
        .flat_map(|t| {
            links.get(&t.id).into_iter().flatten().filter_map(|mid| {
                let m = measures.get(mid)?;
                Some(ExchangeCheckTask {
                    id: derived_uuid(&[&t.uuid, &m.uuid]),
                    risk_measure_id: m.uuid.clone(),
                    troubleshoot_content: m.description.clone(),
                    check_cycle: t.cycle_every,
                    check_cycle_unit: code::cycle_unit(t.cycle_unit).to_string(),
                    work_start_time: t.starts_on.to_string(),
                    work_end_time: t.ends_on.map(|d| d.to_string()),
                    work_day_type: i32::from(t.working_days_only),
                    deleted: 0,
                    create_date: when(t.created_at),
                    update_date: when(t.updated_at),
                })
            })
        })
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(page::Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Check records (national model)
///
/// The check records in your scope in the model's layout: one row per record and measure
/// checked, `checkStatus` 1 where the measure failed. A page holds the rows of up to `limit`
/// records.
#[utoipa::path(
    tag = "exchange", operation_id = "exchange_check_records", params(page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of record rows", body = page::Page<ExchangeCheckRecord>))
)]
#[get("/exchange/dual-prevention/check-records")]
pub async fn exchange_check_records(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let Listing { paging, .. } = query;
    let (since, after, fetch) = (paging.updated_since, paging.after()?, paging.fetch());
    let (records, results, measures, tasks) = state
        .run(move |c| {
            let records = insp::list_records(c, &p.scope(), None, since, after, fetch)?;
            let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
            let results = insp::results_of(c, &ids)?;
            let mids: Vec<i64> = results.iter().map(|r| r.measure_id).collect();
            let tids: Vec<i64> = records.iter().map(|r| r.task_id).collect();
            Ok((
                records,
                results,
                insp::measure_uuids(c, &mids)?,
                insp::task_uuids(c, &tids)?,
            ))
        })
        .await?;
    let page = paging.finish(records, |r| r.id, |r| r);
    let items = page
        .items
        .iter()
        .flat_map(|r| {
            let task = tasks.get(&r.task_id).cloned().unwrap_or_default();
            let measures = &measures;
            results
                .iter()
                .filter(move |x| x.record_id == r.id)
                .map(move |x| {
                    let measure = measures.get(&x.measure_id).cloned().unwrap_or_default();
                    ExchangeCheckRecord {
                        id: derived_uuid(&[&r.uuid, &measure]),
                        check_task_id: derived_uuid(&[&task, &measure]),
                        risk_measure_id: measure,
                        check_time: when(r.checked_at),
                        check_status: i32::from(!x.ok),
                        check_note: x.note.clone(),
                        create_date: when(r.created_at),
                        update_date: when(r.updated_at),
                    }
                })
        })
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(page::Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

fn exchange_hazard(
    h: &HazardRow,
    companies: &std::collections::HashMap<i64, String>,
    measures: &std::collections::HashMap<i64, String>,
    records: &std::collections::HashMap<i64, String>,
    acceptors: &std::collections::HashMap<i64, String>,
) -> ExchangeHazard {
    let f = h.fields();
    let measure = h.control_measure_id.and_then(|m| measures.get(&m).cloned());
    let record = match (h.check_record_id.and_then(|r| records.get(&r)), &measure) {
        (Some(r), Some(m)) => Some(derived_uuid(&[r, m])),
        _ => None,
    };
    let closed = h.status() == HazardStatus::Closed;
    ExchangeHazard {
        id: derived_uuid(&["hazard", &h.code]),
        hazard_code: h.code.clone(),
        company_code: looked_up(companies, h.enterprise_id),
        risk_measure_id: measure,
        check_record_id: record,
        danger_name: f.title.clone(),
        danger_desc: f.description.clone(),
        danger_level: code::danger_level(h.level()),
        danger_src: code::danger_src(h.source, h.check_record_id.is_some()),
        hazard_danger_type: code::hazard_danger_type(f.nature),
        danger_manage_deadline: h.rectification_deadline.map(|d| d.to_string()),
        liable_person: f.responsible_person.clone(),
        control_measures: f.measures.clone(),
        cost: f.funds_10k_yuan,
        danger_state: code::danger_state(h.status()),
        check_accept_person: if closed {
            acceptors.get(&h.id).cloned()
        } else {
            None
        },
        check_accept_time: if closed { h.closed_at.map(when) } else { None },
        regist_time: h.discovered_on.to_string(),
        deleted: i32::from(h.status() == HazardStatus::Void),
        create_date: when(h.created_at),
        update_date: when(h.updated_at),
    }
}

/// Hazards (national model)
///
/// The hazards in your scope in the model's layout: `dangerLevel` 0/1, `dangerState` 0/1/9
/// with the accepting person and time once accepted, `dangerSrc`, `hazardDangerType`, and
/// for a hazard a check found, `riskMeasureId` and `checkRecordId`. Voided hazards are
/// `deleted: 1`.
#[utoipa::path(
    tag = "exchange", operation_id = "exchange_hazards", params(page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of hazards", body = page::Page<ExchangeHazard>))
)]
#[get("/exchange/dual-prevention/hazards")]
pub async fn exchange_hazards(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let Listing { paging, .. } = query;
    let (since, after, fetch) = (paging.updated_since, paging.after()?, paging.fetch());
    let items = state
        .run(move |c: &mut AnyConnection| {
            let rows = hazard_db::changed_since(c, &p.scope(), since, after, fetch)?;
            let eids: Vec<i64> = rows.iter().map(|h| h.enterprise_id).collect();
            let mids: Vec<i64> = rows.iter().filter_map(|h| h.control_measure_id).collect();
            let rids: Vec<i64> = rows.iter().filter_map(|h| h.check_record_id).collect();
            let closed: Vec<i64> = rows
                .iter()
                .filter(|h| h.status() == HazardStatus::Closed)
                .map(|h| h.id)
                .collect();
            let companies = insp::company_codes(c, &eids)?;
            let measures = insp::measure_uuids(c, &mids)?;
            let records = insp::record_uuids(c, &rids)?;
            let acceptors = crate::db::ledger::acceptors(c, closed)?;
            Ok(rows
                .iter()
                .map(|h| {
                    (
                        h.id,
                        exchange_hazard(h, &companies, &measures, &records, &acceptors),
                    )
                })
                .collect::<Vec<_>>())
        })
        .await?;
    let page = paging.finish(items, |x| x.0, |x| x.1);
    Ok(HttpResponse::Ok().json(page))
}

//! The risk register (风险分级管控, issue 11, SPEC §9): risk analysis units, risk events with
//! their LS/LEC assessments, control measures. An enterprise keeps its own register;
//! regulators and auditors read it in scope.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::risk::{
    self as db, AssessmentRow, EventRow, MeasureRow, NewMeasure, Owner, RegisterFilter, UnitRow,
    UnitValues,
};
use crate::db::{enterprises, to_utc, write_tx, AnyConnection};
use crate::domain::risk::{
    grade, AssessmentInput, ControlTier, MeasureClass, RiskLevel, RiskMethod,
};
use crate::domain::validate::Errors;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::page::{self, Listing};
use crate::http::{ApiJson, IdempotencyKey, IfMatch};
use crate::routes::with_etag;
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Units

/// A risk analysis unit's writable fields (the create body, and what a `PATCH` merges into).
#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "液氯储罐区", "location": "厂区东北角 2 号罐区", "department": "生产部",
    "responsible_person": "赵工", "longitude": 112.0, "latitude": 27.7,
    "major_hazard_source": true, "principal_person": "王建国", "technical_person": "李工",
    "operating_person": "张班长"
}))]
pub struct UnitInput {
    /// 1–200 characters.
    pub name: String,
    #[serde(default)]
    pub location: Option<String>,
    /// The responsible department (责任部门).
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub responsible_person: Option<String>,
    /// WGS-84, −180–180; given together with `latitude`.
    #[serde(default)]
    pub longitude: Option<f64>,
    /// WGS-84, −90–90.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Is, or contains, a 重大危险源.
    #[serde(default)]
    pub major_hazard_source: bool,
    /// 包保责任人 of a major hazard source: 主要负责人 (principal).
    #[serde(default)]
    pub principal_person: Option<String>,
    /// 技术负责人 (technical).
    #[serde(default)]
    pub technical_person: Option<String>,
    /// 操作负责人 (operating).
    #[serde(default)]
    pub operating_person: Option<String>,
}

impl UnitInput {
    fn check(&self) -> Result<UnitValues, Vec<crate::domain::validate::FieldError>> {
        let mut e = Errors::default();
        let v = UnitValues {
            name: e.text("/name", &self.name, 200),
            location: e.opt_text("/location", self.location.as_deref(), 200),
            department: e.opt_text("/department", self.department.as_deref(), 100),
            responsible_person: e.opt_text(
                "/responsible_person",
                self.responsible_person.as_deref(),
                50,
            ),
            longitude: self.longitude,
            latitude: self.latitude,
            major_hazard_source: self.major_hazard_source,
            principal_person: e.opt_text("/principal_person", self.principal_person.as_deref(), 50),
            technical_person: e.opt_text("/technical_person", self.technical_person.as_deref(), 50),
            operating_person: e.opt_text("/operating_person", self.operating_person.as_deref(), 50),
        };
        match (self.longitude, self.latitude) {
            (Some(x), Some(y)) => {
                if !(-180.0..=180.0).contains(&x) {
                    e.add("/longitude", "must be from -180 to 180");
                }
                if !(-90.0..=90.0).contains(&y) {
                    e.add("/latitude", "must be from -90 to 90");
                }
            }
            (None, None) => {}
            (None, Some(_)) => e.add("/longitude", "give longitude and latitude together"),
            (Some(_), None) => e.add("/latitude", "give longitude and latitude together"),
        }
        e.into_result().map(|_| v)
    }

    fn of(r: &UnitRow) -> UnitInput {
        UnitInput {
            name: r.name.clone(),
            location: r.location.clone(),
            department: r.department.clone(),
            responsible_person: r.responsible_person.clone(),
            longitude: r.longitude,
            latitude: r.latitude,
            major_hazard_source: r.major_hazard_source,
            principal_person: r.principal_person.clone(),
            technical_person: r.technical_person.clone(),
            operating_person: r.operating_person.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 5, "uuid": "6f1c2f8e-3b7a-4a53-9d7e-3f6f0c1b2a90", "enterprise_id": 42,
    "jurisdiction_code": "431302", "sector_code": "hazardous_chemicals",
    "name": "液氯储罐区", "location": "厂区东北角 2 号罐区", "department": "生产部",
    "responsible_person": "赵工", "longitude": 112.0, "latitude": 27.7,
    "major_hazard_source": true, "principal_person": "王建国", "technical_person": "李工",
    "operating_person": "张班长", "accountability_complete": true, "risk_level": "orange", "controlled": true,
    "created_at": "2026-12-07T02:00:00Z", "updated_at": "2026-12-07T02:00:00Z", "version": 2
}))]
pub struct UnitResponse {
    pub id: i64,
    /// Stable across systems (the national data model's record id).
    pub uuid: String,
    pub enterprise_id: i64,
    pub jurisdiction_code: String,
    pub sector_code: String,
    #[serde(flatten)]
    pub fields: UnitInput,
    /// For a major hazard source: all three 包保责任人 are named. `null` for other units.
    pub accountability_complete: Option<bool>,
    /// The worst level of its risk events; `null` while it has none.
    pub risk_level: Option<RiskLevel>,
    /// False while a hazard a check found at one of its measures is open (失控).
    pub controlled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl UnitResponse {
    fn new(r: &UnitRow) -> UnitResponse {
        UnitResponse {
            id: r.id,
            uuid: r.uuid.clone(),
            enterprise_id: r.enterprise_id,
            jurisdiction_code: r.jurisdiction_code.clone(),
            sector_code: r.sector_code.clone(),
            fields: UnitInput::of(r),
            accountability_complete: r.major_hazard_source.then(|| {
                r.principal_person.is_some()
                    && r.technical_person.is_some()
                    && r.operating_person.is_some()
            }),
            risk_level: r.risk_level,
            controlled: true,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        }
    }
}

/// Record a risk analysis unit
///
/// An enterprise account records the units of its own enterprise (regulators and auditors
/// read the register: `403`). Name 1–200 characters; coordinates together and in range; a
/// major hazard source names its three 包保责任人 (`accountability_complete` says whether it
/// does). Audited; `Idempotency-Key` replays the first `201`.
#[utoipa::path(
    tag = "risk-register", operation_id = "create_risk_unit", request_body = UnitInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = UnitResponse,
         headers(("Location" = String, description = "URL of the unit"), ("ETag" = String, description = "Version tag"))),
        (status = 403, description = "Only the enterprise keeps its register (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The enterprise is closed (`enterprise_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid fields (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/risk-units")]
pub async fn create_risk_unit(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<UnitInput>,
) -> ApiResult<HttpResponse> {
    let input = body.body;
    let actor = Actor::from(&p);
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_risk_unit",
        body.sha256,
        move |c| {
            let enterprise_id = policy::edit_risk_register(&p)?;
            let enterprise = enterprises::get_visible(c, &p.scope(), enterprise_id)?
                .ok_or_else(ApiError::not_found)?;
            enterprise.status.accepts_hazards()?;
            let values = input.check().map_err(ApiError::validation)?;
            let row = db::insert_unit(c, &Owner::of(&enterprise), &values)?;
            let response = UnitResponse::new(&row);
            audit::created(c, &actor, "risk_unit", row.id, &response)?;
            Created::new(format!("/api/v1/risk-units/{}", row.id), &response)
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    pub enterprise_id: Option<i64>,
    /// The unit's level (its worst event).
    pub risk_level: Option<RiskLevel>,
    pub major_hazard_source: Option<bool>,
}

/// List risk analysis units
///
/// The units in your scope, oldest first: an enterprise its own; regulators and auditors those
/// of enterprises in scope. Filters: `enterprise_id`, `risk_level`, `major_hazard_source`,
/// `updated_since`.
#[utoipa::path(
    tag = "risk-register", operation_id = "list_risk_units", params(UnitQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of units", body = page::Page<UnitResponse>))
)]
#[get("/risk-units")]
pub async fn list_risk_units(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<UnitQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let f = RegisterFilter {
        enterprise_id: q.enterprise_id,
        level: q.risk_level,
        major_hazard_source: q.major_hazard_source,
        updated_since: paging.updated_since,
        after_id: paging.after()?,
        fetch: paging.fetch(),
        ..Default::default()
    };
    let items = state
        .run(move |c| {
            let rows = db::list_units(c, &p.scope(), &f)?;
            units_with_control(c, &rows)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(items, |r| r.id, |r| r)))
}

fn visible_unit(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<UnitRow> {
    db::unit_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)
}

/// Get a risk analysis unit
///
/// A unit in your scope (else `404`), with its `ETag`.
#[utoipa::path(
    tag = "risk-register", operation_id = "get_risk_unit",
    params(("id" = i64, Path, description = "Unit id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The unit", body = UnitResponse, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/risk-units/{id}")]
pub async fn get_risk_unit(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let response = state
        .run(move |c| {
            let row = visible_unit(c, &p, id)?;
            Ok(units_with_control(c, &[row])?.remove(0))
        })
        .await?;
    Ok(with_etag(response.version, &response))
}

/// Change a risk analysis unit
///
/// A JSON merge patch over the unit's writable fields, validated like a create; `If-Match`
/// required (`428`/`412`). The enterprise's own accounts only (`403` for others who see it).
/// Audited.
#[utoipa::path(
    tag = "risk-register", operation_id = "update_risk_unit", request_body = UnitInput,
    params(("id" = i64, Path, description = "Unit id"), ("If-Match" = String, Header, description = "The unit's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed", body = UnitResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Only the enterprise keeps its register (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The unit changed since your `ETag` (`stale_etag`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required (`if_match_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid fields (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/risk-units/{id}")]
pub async fn update_risk_unit(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let patch = body.body;
    let actor = Actor::from(&p);
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let before = visible_unit(c, &p, id)?;
                policy::edit_risk_register(&p)?;
                if_match.check(before.version)?;
                let mut merged =
                    serde_json::to_value(UnitInput::of(&before)).map_err(ApiError::internal)?;
                crate::http::patch::merge(&mut merged, &patch);
                let input: UnitInput = crate::http::json::from_merged(merged)?;
                let values = input.check().map_err(ApiError::validation)?;
                let after = db::update_unit(c, id, before.version, &values)?
                    .ok_or_else(ApiError::precondition_failed)?;
                audit::updated(
                    c,
                    &actor,
                    "risk_unit",
                    id,
                    &UnitResponse::new(&before),
                    &UnitResponse::new(&after),
                    None,
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(with_etag(row.version, &UnitResponse::new(&row)))
}

// ---------------------------------------------------------------------------------------------
// Events

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "unit_id": 5, "name": "液氯储罐泄漏", "description": "储罐阀门密封失效导致液氯泄漏，引发中毒",
    "assessment": {"method": "lec", "l": 3, "e": 6, "c": 15}
}))]
pub struct EventRequest {
    /// The unit it belongs to (yours).
    pub unit_id: i64,
    /// 1–200 characters.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The first assessment.
    pub assessment: AssessmentInput,
}

/// A grading as recorded.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "method": "ls", "l": 4, "s": 5, "e": null, "c": null, "score": 20, "level": "red",
    "assessed_by": 17, "assessed_on": "2026-12-07"
}))]
pub struct AssessmentResponse {
    pub method: RiskMethod,
    pub l: f64,
    pub s: Option<f64>,
    pub e: Option<f64>,
    pub c: Option<f64>,
    /// R = L×S, or D = L×E×C.
    pub score: f64,
    pub level: RiskLevel,
    pub assessed_by: i64,
    /// Asia/Shanghai.
    pub assessed_on: NaiveDate,
}

/// An assessment's answer from a row that keeps one: an event's row (its current assessment)
/// or an assessment's own row, which share these columns.
macro_rules! assessment_of {
    ($r:expr) => {
        AssessmentResponse {
            method: $r.method,
            l: $r.l,
            s: $r.s,
            e: $r.e,
            c: $r.c,
            score: $r.score,
            level: $r.level,
            assessed_by: $r.assessed_by,
            assessed_on: $r.assessed_on,
        }
    };
}

impl AssessmentResponse {
    /// An event's current assessment, as its row keeps it.
    fn current(r: &EventRow) -> AssessmentResponse {
        assessment_of!(r)
    }
}

impl From<&AssessmentRow> for AssessmentResponse {
    fn from(r: &AssessmentRow) -> Self {
        assessment_of!(r)
    }
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 9, "uuid": "1d0f2c55-0f0e-4a70-8e2b-5b8f2f0f8c11", "unit_id": 5, "enterprise_id": 42,
    "name": "液氯储罐泄漏", "description": "储罐阀门密封失效导致液氯泄漏，引发中毒",
    "assessment": {"method": "lec", "l": 3, "e": 6, "c": 15, "s": null, "score": 270, "level": "orange",
                   "assessed_by": 17, "assessed_on": "2026-12-07"},
    "created_at": "2026-12-07T02:00:00Z", "updated_at": "2026-12-07T02:00:00Z", "version": 1
}))]
pub struct EventResponse {
    pub id: i64,
    pub uuid: String,
    pub unit_id: i64,
    pub enterprise_id: i64,
    pub name: String,
    pub description: Option<String>,
    /// The current assessment (`GET …/assessments` lists every one).
    pub assessment: AssessmentResponse,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl EventResponse {
    fn new(r: &EventRow) -> EventResponse {
        EventResponse {
            id: r.id,
            uuid: r.uuid.clone(),
            unit_id: r.unit_id,
            enterprise_id: r.enterprise_id,
            name: r.name.clone(),
            description: r.description.clone(),
            assessment: AssessmentResponse::current(r),
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        }
    }
}

/// Record a risk event, with its first assessment
///
/// Under one of your units (`404` for a unit you do not see). Graded by LS (`l`, `s` each
/// 1–5; R = L×S: 20–25 red 重大, 15–16 orange 较大, 9–12 yellow 一般, 1–8 blue 低) or LEC (`l`
/// ∈ 0.1, 0.2, 0.5, 1, 3, 6, 10; `e` ∈ 0.5, 1, 2, 3, 6, 10; `c` ∈ 1, 3, 7, 15, 40, 100; D =
/// L×E×C: above 320 red, 160–320 orange, 70–160 (not 160) yellow, below 70 blue); the
/// thresholds are reference data. A factor outside its table, or one the method does not
/// take, is `422` with its pointer. The unit's level becomes its worst event's, the
/// enterprise's `computed_risk_level` its worst unit's. Enterprise accounts only (`403`).
#[utoipa::path(
    tag = "risk-register", operation_id = "create_risk_event", request_body = EventRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded and graded", body = EventResponse,
         headers(("Location" = String, description = "URL of the event"), ("ETag" = String, description = "Version tag"))),
        (status = 403, description = "Only the enterprise keeps its register (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The unit is not in your scope (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid fields or factors (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/risk-events")]
pub async fn create_risk_event(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<EventRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.body;
    let today = state.clock.today();
    let grading = state.risk_grading;
    let actor = Actor::from(&p);
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_risk_event",
        body.sha256,
        move |c| {
            policy::edit_risk_register(&p)?;
            let unit = visible_unit(c, &p, req.unit_id)?;
            let mut e = Errors::default();
            let name = e.text("/name", &req.name, 200);
            let description = e.opt_text("/description", req.description.as_deref(), 2000);
            let graded = grade(&mut e, "/assessment", req.assessment, &grading);
            e.into_result().map_err(ApiError::validation)?;
            let graded = graded.expect("no errors");
            let row = db::insert_event(
                c,
                &unit,
                &name,
                description.as_deref(),
                &graded,
                p.account_id,
                today,
            )?;
            let response = EventResponse::new(&row);
            audit::created(c, &actor, "risk_event", row.id, &response)?;
            Created::new(format!("/api/v1/risk-events/{}", row.id), &response)
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    pub enterprise_id: Option<i64>,
    pub unit_id: Option<i64>,
    /// The current level.
    pub level: Option<RiskLevel>,
}

/// List risk events
///
/// The events in your scope, oldest first. Filters: `enterprise_id`, `unit_id`, `level`,
/// `updated_since`.
#[utoipa::path(
    tag = "risk-register", operation_id = "list_risk_events", params(EventQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of events", body = page::Page<EventResponse>))
)]
#[get("/risk-events")]
pub async fn list_risk_events(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<EventQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let f = RegisterFilter {
        enterprise_id: q.enterprise_id,
        unit_id: q.unit_id,
        level: q.level,
        updated_since: paging.updated_since,
        after_id: paging.after()?,
        fetch: paging.fetch(),
        ..Default::default()
    };
    let rows = state
        .run(move |c| Ok(db::list_events(c, &p.scope(), &f)?))
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.id, |r| EventResponse::new(&r))))
}

fn visible_event(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<EventRow> {
    db::event_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)
}

/// Get a risk event
///
/// An event in your scope (else `404`), with its current assessment and `ETag`.
#[utoipa::path(
    tag = "risk-register", operation_id = "get_risk_event",
    params(("id" = i64, Path, description = "Event id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The event", body = EventResponse, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/risk-events/{id}")]
pub async fn get_risk_event(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state.run(move |c| visible_event(c, &p, id)).await?;
    Ok(with_etag(row.version, &EventResponse::new(&row)))
}

/// List an event's assessments
///
/// Every assessment of the event, oldest first, the current one last (one page).
#[utoipa::path(
    tag = "risk-register", operation_id = "list_risk_assessments",
    params(("id" = i64, Path, description = "Event id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The assessments", body = page::Page<AssessmentResponse>))
)]
#[get("/risk-events/{id}/assessments")]
pub async fn list_risk_assessments(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let rows = state
        .run(move |c| {
            visible_event(c, &p, id)?;
            Ok(db::assessments(c, id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page::Page {
        items: rows
            .iter()
            .map(AssessmentResponse::from)
            .collect::<Vec<_>>(),
        next_cursor: None,
    }))
}

/// Assess a risk event again
///
/// A new assessment (as on create), kept with the earlier ones; the event, its unit and the
/// enterprise are graded again. `If-Match` with the event's `ETag` is required. Enterprise
/// accounts only. Answers the event with its new `ETag`.
#[utoipa::path(
    tag = "risk-register", operation_id = "assess_risk_event", request_body = AssessmentInput,
    params(("id" = i64, Path, description = "Event id"), ("If-Match" = String, Header, description = "The event's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Assessed", body = EventResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Only the enterprise keeps its register (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The event changed since your `ETag` (`stale_etag`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required (`if_match_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid factors (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/risk-events/{id}/assessments")]
pub async fn assess_risk_event(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<AssessmentInput>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let input = body.body;
    let today = state.clock.today();
    let grading = state.risk_grading;
    let actor = Actor::from(&p);
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let before = visible_event(c, &p, id)?;
                policy::edit_risk_register(&p)?;
                if_match.check(before.version)?;
                let mut e = Errors::default();
                let graded = grade(&mut e, "", input, &grading);
                e.into_result().map_err(ApiError::validation)?;
                let graded = graded.expect("no errors");
                let after = db::reassess(c, &before, &graded, p.account_id, today)?
                    .ok_or_else(ApiError::precondition_failed)?;
                audit::updated(
                    c,
                    &actor,
                    "risk_event",
                    id,
                    &EventResponse::new(&before),
                    &EventResponse::new(&after),
                    None,
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(with_etag(row.version, &EventResponse::new(&row)))
}

// ---------------------------------------------------------------------------------------------
// Control measures

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "event_id": 9, "description": "储罐区设置有毒气体检测报警并与紧急切断阀联锁",
    "classification": "engineering", "tier": "workshop", "responsible_person": "赵工"
}))]
pub struct MeasureRequest {
    /// The risk event it controls (yours).
    pub event_id: i64,
    /// 1–2000 characters.
    pub description: String,
    pub classification: MeasureClass,
    pub tier: ControlTier,
    /// An account of your enterprise responsible for it.
    #[serde(default)]
    pub responsible_account_id: Option<i64>,
    /// Or a person, by name.
    #[serde(default)]
    pub responsible_person: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 21, "uuid": "0a6b7d1e-5c55-4a8e-9a57-2e9f6c2d7b31", "event_id": 9, "unit_id": 5, "enterprise_id": 42,
    "description": "储罐区设置有毒气体检测报警并与紧急切断阀联锁", "classification": "engineering",
    "tier": "workshop", "responsible_account_id": null, "responsible_person": "赵工", "failing": false,
    "created_at": "2026-12-07T02:00:00Z", "updated_at": "2026-12-07T02:00:00Z", "version": 1
}))]
pub struct MeasureResponse {
    pub id: i64,
    pub uuid: String,
    pub event_id: i64,
    pub unit_id: i64,
    pub enterprise_id: i64,
    pub description: String,
    pub classification: MeasureClass,
    pub tier: ControlTier,
    pub responsible_account_id: Option<i64>,
    pub responsible_person: Option<String>,
    /// True while a hazard a check found at it is open.
    pub failing: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl MeasureResponse {
    fn new(r: &MeasureRow) -> MeasureResponse {
        MeasureResponse {
            id: r.id,
            uuid: r.uuid.clone(),
            event_id: r.event_id,
            unit_id: r.unit_id,
            enterprise_id: r.enterprise_id,
            description: r.description.clone(),
            classification: r.classification,
            tier: r.tier,
            responsible_account_id: r.responsible_account_id,
            responsible_person: r.responsible_person.clone(),
            failing: false,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        }
    }
}

/// Record a control measure
///
/// Under one of your risk events (`404` otherwise): what is done (`description`), its
/// `classification` (engineering, management, training, personal_protection, emergency), the
/// `tier` that controls it (company, workshop, team, post) and who is responsible — an account
/// of your enterprise (`responsible_account_id`; another is `422`) or a named person.
/// Enterprise accounts only (`403`).
#[utoipa::path(
    tag = "risk-register", operation_id = "create_control_measure", request_body = MeasureRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = MeasureResponse,
         headers(("Location" = String, description = "URL of the measure"), ("ETag" = String, description = "Version tag"))),
        (status = 403, description = "Only the enterprise keeps its register (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The event is not in your scope (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid fields, an account not of your enterprise (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/control-measures")]
pub async fn create_control_measure(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<MeasureRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.body;
    let actor = Actor::from(&p);
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_control_measure",
        body.sha256,
        move |c| {
            policy::edit_risk_register(&p)?;
            let event = visible_event(c, &p, req.event_id)?;
            let mut e = Errors::default();
            let description = e.text("/description", &req.description, 2000);
            let person = e.opt_text("/responsible_person", req.responsible_person.as_deref(), 50);
            if let Some(account) = req.responsible_account_id {
                if !crate::db::accounts::belongs_to_enterprise(c, account, event.enterprise_id)? {
                    e.add(
                        "/responsible_account_id",
                        "not an account of this enterprise",
                    );
                }
            }
            e.into_result().map_err(ApiError::validation)?;
            let row = db::insert_measure(
                c,
                &event,
                &NewMeasure {
                    description: &description,
                    classification: req.classification,
                    tier: req.tier,
                    responsible_account_id: req.responsible_account_id,
                    responsible_person: person.as_deref(),
                },
            )?;
            let response = MeasureResponse::new(&row);
            audit::created(c, &actor, "control_measure", row.id, &response)?;
            Created::new(format!("/api/v1/control-measures/{}", row.id), &response)
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MeasureQuery {
    pub enterprise_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub event_id: Option<i64>,
}

/// List control measures
///
/// The measures in your scope, oldest first. Filters: `enterprise_id`, `unit_id`,
/// `event_id`, `updated_since`.
#[utoipa::path(
    tag = "risk-register", operation_id = "list_control_measures", params(MeasureQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of measures", body = page::Page<MeasureResponse>))
)]
#[get("/control-measures")]
pub async fn list_control_measures(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<MeasureQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let f = RegisterFilter {
        enterprise_id: q.enterprise_id,
        unit_id: q.unit_id,
        event_id: q.event_id,
        updated_since: paging.updated_since,
        after_id: paging.after()?,
        fetch: paging.fetch(),
        ..Default::default()
    };
    let items = state
        .run(move |c| {
            let rows = db::list_measures(c, &p.scope(), &f)?;
            measures_with_failing(c, &rows)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(items, |r| r.id, |r| r)))
}

/// Get a control measure
///
/// A measure in your scope (else `404`), with its `ETag`.
#[utoipa::path(
    tag = "risk-register", operation_id = "get_control_measure",
    params(("id" = i64, Path, description = "Measure id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The measure", body = MeasureResponse, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/control-measures/{id}")]
pub async fn get_control_measure(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let response = state
        .run(move |c| {
            let row = db::measure_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)?;
            Ok(measures_with_failing(c, &[row])?.remove(0))
        })
        .await?;
    Ok(with_etag(response.version, &response))
}

/// Units with `controlled` as of the open hazards checks found (one query for them all).
fn units_with_control(c: &mut AnyConnection, rows: &[UnitRow]) -> ApiResult<Vec<UnitResponse>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let out = crate::db::inspections::units_out_of_control(c, &ids)?;
    Ok(rows
        .iter()
        .map(|r| UnitResponse {
            controlled: !out.contains(&r.id),
            ..UnitResponse::new(r)
        })
        .collect())
}

/// Measures with `failing` as of the open hazards checks found (one query for them all).
fn measures_with_failing(
    c: &mut AnyConnection,
    rows: &[MeasureRow],
) -> ApiResult<Vec<MeasureResponse>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let failing = crate::db::inspections::failing_measures(c, &ids)?;
    Ok(rows
        .iter()
        .map(|r| MeasureResponse {
            failing: failing.contains(&r.id),
            ..MeasureResponse::new(r)
        })
        .collect())
}

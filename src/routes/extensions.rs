//! Deadline extensions (延期): a locked deadline (a hazard under rectification, an active
//! listing) moves only when an authorised regulator approves a request. The rules live here
//! once; the hazard and listing endpoints supply their subject.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::events;
use crate::db::extensions::{self, ExtensionRow, Subject};
use crate::db::{hazards, AnyConnection};
use crate::db::{to_utc, write_tx};
use crate::domain::event::EventType;
use crate::domain::extension::{self, ExtensionStatus, ExtensionSubject};
use crate::domain::hazard::lifecycle;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::page;
use crate::http::{ApiJson, IdempotencyKey};
use crate::routes::hazards::{visible_hazard, HazardResponse};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"new_deadline": "2026-12-20", "reason": "绝缘垫供货延迟，厂家承诺 12 月 15 日到货"}))]
pub struct ExtensionRequest {
    /// Later than the current deadline.
    pub new_deadline: NaiveDate,
    pub reason: String,
}

crate::domain::text_enum! {
    pub enum Decision {
        Approve = "approve",
        Deny = "deny",
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "approve", "note": "供货证明属实，同意延期至 12 月 20 日"}))]
pub struct DecisionRequest {
    pub decision: Decision,
    pub note: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "subject_type": "hazard", "subject_id": 7, "old_deadline": "2026-12-05", "new_deadline": "2026-12-20",
    "reason": "绝缘垫供货延迟", "status": "approved", "requested_by": 12,
    "requested_at": "2026-12-01T03:00:00Z", "decided_by": 4, "decided_at": "2026-12-02T01:00:00Z",
    "decision_note": "同意延期"
}))]
pub struct ExtensionResponse {
    pub id: i64,
    pub subject_type: ExtensionSubject,
    pub subject_id: i64,
    pub old_deadline: Option<NaiveDate>,
    pub new_deadline: NaiveDate,
    pub reason: String,
    pub status: ExtensionStatus,
    pub requested_by: i64,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

impl From<ExtensionRow> for ExtensionResponse {
    fn from(r: ExtensionRow) -> Self {
        ExtensionResponse {
            id: r.id,
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            old_deadline: r.old_deadline,
            new_deadline: r.new_deadline,
            reason: r.reason,
            status: r.status,
            requested_by: r.requested_by,
            requested_at: to_utc(r.requested_at),
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(to_utc),
            decision_note: r.decision_note,
        }
    }
}

/// A subject whose deadline an extension moves, as loaded for one request.
pub struct Target {
    pub subject: Subject,
    pub deadline: Option<NaiveDate>,
    /// Why requests are not taken now (409), if they are not.
    pub closed_to_requests: Option<crate::domain::Refusal>,
    /// Whether a decision still matters (the subject is still open).
    pub open: bool,
    /// Timelines the events go on: (entity_type, entity_id).
    pub timelines: Vec<(&'static str, i64)>,
    /// Publishes the change feed's event on the subject (`decided`: a decision, else a
    /// request): its `GET` after the change, with the `extension`.
    pub announce: Announce,
}

pub type Announce = fn(&mut AnyConnection, &Actor, i64, bool, &ExtensionResponse) -> ApiResult<()>;

fn announce_hazard(
    c: &mut AnyConnection,
    actor: &Actor,
    id: i64,
    decided: bool,
    ext: &ExtensionResponse,
) -> ApiResult<()> {
    let row = hazards::get(c, id)?;
    let data = events::with(
        &HazardResponse::new(&row, crate::db::today()),
        "extension",
        ext,
    )?;
    let event_type = if decided {
        EventType::HazardExtensionDecided
    } else {
        EventType::HazardExtensionRequested
    };
    events::publish(c, actor, event_type, id, &events::Place::from(&row), &data)?;
    Ok(())
}

fn record(
    c: &mut AnyConnection,
    actor: &Actor,
    t: &Target,
    action: &str,
    details: &serde_json::Value,
) -> ApiResult<()> {
    for (entity, id) in &t.timelines {
        audit::record(c, actor, action, entity, &id.to_string(), details)?;
    }
    Ok(())
}

/// Files a request against `target` (the caller's right to ask is checked by the caller).
pub fn request(
    c: &mut AnyConnection,
    p: &Principal,
    target: Target,
    req: &ExtensionRequest,
    location: impl FnOnce(i64) -> String,
) -> ApiResult<Created> {
    if let Some(refusal) = target.closed_to_requests {
        return Err(refusal.into());
    }
    let reason = extension::check_request(
        target.deadline,
        extensions::pending_exists(c, target.subject)?,
        &req.reason,
        req.new_deadline,
    )?;
    let row = extensions::insert(
        c,
        target.subject,
        target.deadline,
        req.new_deadline,
        &reason,
        p.account_id,
    )
    .map_err(|e| {
        crate::db::on_unique_violation(e, || ApiError::from(extension::pending_refusal()))
    })?;
    let details =
        json!({"extension_id": row.id, "new_deadline": row.new_deadline, "reason": reason});
    let actor = Actor::from(p);
    record(c, &actor, &target, "extension_requested", &details)?;
    let response = ExtensionResponse::from(row);
    (target.announce)(c, &actor, target.subject.id, false, &response)?;
    Created::new(location(response.id), &response)
}

/// Decides a request on `target`: never by the one who asked; approval moves the deadline
/// through `apply` in the same transaction. `may_decide` is the subject's authority rule.
pub fn decide(
    c: &mut AnyConnection,
    p: &Principal,
    target: Target,
    extension_id: i64,
    req: &DecisionRequest,
    may_decide: impl FnOnce(&Principal) -> crate::domain::Verdict,
    apply: impl FnOnce(&mut AnyConnection, NaiveDate) -> ApiResult<()>,
) -> ApiResult<ExtensionRow> {
    let ext = extensions::get(c, target.subject, extension_id)?.ok_or_else(ApiError::not_found)?;
    may_decide(p)?;
    policy::not_the_same_user(
        p,
        Some(ext.requested_by),
        "decide an extension you requested",
    )?;
    let note = extension::check_decision(ext.status, target.open, &req.note)?;
    let approved = req.decision == Decision::Approve;
    let row = extensions::decide(c, extension_id, approved, p.account_id, &note)?
        .ok_or_else(|| ApiError::from(extension::decided_refusal()))?;
    let mut details = json!({"extension_id": extension_id, "decision": req.decision, "note": note});
    if approved {
        apply(c, row.new_deadline)?;
        details["deadline"] = json!({"before": target.deadline, "after": row.new_deadline});
    }
    let action = if approved {
        "extension_approved"
    } else {
        "extension_denied"
    };
    let actor = Actor::from(p);
    record(c, &actor, &target, action, &details)?;
    (target.announce)(
        c,
        &actor,
        target.subject.id,
        true,
        &ExtensionResponse::from(row.clone()),
    )?;
    Ok(row)
}

fn hazard_target(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<Target> {
    let hazard = visible_hazard(c, p, id)?;
    let status = hazard.status();
    Ok(Target {
        subject: Subject {
            kind: ExtensionSubject::Hazard,
            id,
        },
        deadline: hazard.rectification_deadline,
        closed_to_requests: lifecycle::takes_extension_requests(hazard.state()).err(),
        open: status.is_open(),
        timelines: vec![("hazard", id)],
        announce: announce_hazard,
    })
}

/// Request a deadline extension for a hazard
///
/// For a hazard under rectification (`rectifying`), whose deadline is locked: the enterprise's
/// own accounts and regulators in scope may ask; auditors get `403 forbidden`. A hazard in any
/// other state is `409 invalid_transition`, and only one request may be pending at a time
/// (`409 extension_pending`). `new_deadline` must be later than the current deadline and
/// `reason` 1–2000 characters (`422 validation_failed`).
///
/// The request starts `pending`; a regulator decides it at
/// `POST /api/v1/hazards/{id}/extensions/{extension_id}/decision`. It is recorded on the
/// hazard's timeline (`extension_requested`). `Idempotency-Key` makes a retry replay the first
/// `201`; a key is bound to this hazard.
#[utoipa::path(
    tag = "hazards", operation_id = "create_extension", request_body = ExtensionRequest,
    params(
        ("id" = i64, Path, description = "Hazard id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Requested; `Location` names the request", body = ExtensionResponse,
         headers(("Location" = String, description = "URL of the extension request"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), a bad path value (`invalid_path`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Auditors cannot request extensions (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hazard is not under rectification (`invalid_transition`, with `context.status`), or a request is already pending (`extension_pending`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); the new deadline is not later than the current one, or the reason is missing or too long (`validation_failed`); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/hazards/{id}/extensions")]
pub async fn create_extension(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    key: IdempotencyKey,
    body: ApiJson<ExtensionRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let req = body.body;
    idempotency::create(
        &state,
        p.account_id,
        key,
        format!("create_extension:{id}"),
        body.sha256,
        move |c| {
            let target = hazard_target(c, &p, id)?;
            policy::work_on_hazards(&p)?;
            request(c, &p, target, &req, |e| {
                format!("/api/v1/hazards/{id}/extensions/{e}")
            })
        },
    )
    .await
}

/// List a hazard's extension requests
///
/// Any signed-in account that can see the hazard (else `404`): its pending, approved and
/// denied requests with the old and new deadline, reason and decision, oldest first.
/// `updated_since` keeps the requests made or decided at or after an instant; paged with
/// `limit` and `cursor`.
#[utoipa::path(
    tag = "hazards", operation_id = "list_extensions",
    params(("id" = i64, Path, description = "Hazard id"), crate::http::page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the hazard's extension requests", body = page::Page<ExtensionResponse>))
)]
#[get("/hazards/{id}/extensions")]
pub async fn list_extensions(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: crate::http::page::Listing<crate::http::page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    list_page(&state, query.paging, move |c| {
        Ok(hazard_target(c, &p, id)?.subject)
    })
    .await
}

/// A page of a subject's requests (`subject` loads it within the caller's scope).
pub async fn list_page(
    state: &AppState,
    paging: crate::http::page::Paging,
    subject: impl FnOnce(&mut AnyConnection) -> ApiResult<Subject> + Send + 'static,
) -> ApiResult<HttpResponse> {
    let (after, since, fetch) = (paging.after()?, paging.updated_since, paging.fetch());
    let rows = state
        .run(move |c| {
            let s = subject(c)?;
            Ok(extensions::list(c, s, after, since, fetch)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.id, ExtensionResponse::from)))
}

/// One request of a subject.
pub async fn get_one(
    state: &AppState,
    extension_id: i64,
    subject: impl FnOnce(&mut AnyConnection) -> ApiResult<Subject> + Send + 'static,
) -> ApiResult<HttpResponse> {
    let row = state
        .run(move |c| {
            let s = subject(c)?;
            extensions::get(c, s, extension_id)?.ok_or_else(ApiError::not_found)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ExtensionResponse::from(row)))
}

/// Get an extension request of a hazard
///
/// Any signed-in account that can see the hazard. `404` when the hazard is outside your scope
/// or the request does not belong to this hazard.
#[utoipa::path(
    tag = "hazards", operation_id = "get_extension",
    params(("id" = i64, Path, description = "Hazard id"), ("extension_id" = i64, Path, description = "Extension request id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The extension request", body = ExtensionResponse))
)]
#[get("/hazards/{id}/extensions/{extension_id}")]
pub async fn get_extension(
    p: Principal,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, extension_id) = path.into_inner();
    get_one(&state, extension_id, move |c| {
        Ok(hazard_target(c, &p, id)?.subject)
    })
    .await
}

/// Decide a hazard's extension request
///
/// Regulators in scope only (`403 regulator_required` for enterprise accounts and auditors),
/// and never the account that asked (`403 separation_of_duties`). `decision` is `approve` or
/// `deny`, and the `note` (1–2000 characters) is required. A request already decided answers
/// `409 extension_decided`; once the hazard is closed or void the decision no longer matters
/// (`409 invalid_transition`).
///
/// Approval moves the hazard's `rectification_deadline` to `new_deadline` in the same
/// transaction, without a version guard (the decision never fails because someone edited the
/// hazard meanwhile), so the hazard's `ETag` changes. The decision is recorded on the hazard's
/// timeline (`extension_approved` or `extension_denied`).
#[utoipa::path(
    tag = "hazards", operation_id = "decide_extension", request_body = DecisionRequest,
    params(("id" = i64, Path, description = "Hazard id"), ("extension_id" = i64, Path, description = "Extension request id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decided request", body = ExtensionResponse),
        (status = 403, description = "Not a regulator (`regulator_required`), or your own request (`separation_of_duties`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`extension_decided`), or the hazard is closed or void (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`, e.g. a `decision` other than `approve`/`deny`); the `note` is missing or longer than 2000 characters (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/hazards/{id}/extensions/{extension_id}/decision")]
pub async fn decide_extension(
    p: Principal,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    body: ApiJson<DecisionRequest>,
) -> ApiResult<HttpResponse> {
    let (id, extension_id) = path.into_inner();
    let req = body.body;
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let target = hazard_target(c, &p, id)?;
                decide(
                    c,
                    &p,
                    target,
                    extension_id,
                    &req,
                    policy::decide_extension,
                    |c, d| {
                        hazards::move_deadline(c, id, d)?;
                        Ok(())
                    },
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(ExtensionResponse::from(row)))
}

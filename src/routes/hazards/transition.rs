//! The lifecycle transitions and the timeline.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::events;
use crate::db::hazards;
use crate::db::write_tx;
use crate::domain::event::EventType;
use crate::domain::hazard::lifecycle::{self, Outcome};
use crate::domain::hazard::{Action, AttachmentStage, HazardLevel};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::page;
use crate::http::{ApiJson, IfMatch};
use crate::routes::audit::AuditEvent;
use crate::routes::with_etag;
use crate::state::AppState;

use super::{evidence, visible_hazard, HazardResponse};

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
    /// Attachments you staged (`POST /api/v1/attachments`) to bind to the hazard first, in
    /// the same transaction: `submit_for_acceptance` can name its `after` photos here.
    #[serde(default)]
    pub attachment_ids: Vec<i64>,
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
                if !req.attachment_ids.is_empty() {
                    // Evidence joins an open hazard only, as an upload would.
                    lifecycle::takes_attachments(row.state())?;
                    evidence::bind_staged(c, &p, id, &req.attachment_ids)?;
                }
                if req.action == Action::Accept {
                    policy::close_rectification(
                        &p,
                        row.submitted_by,
                        "accept a rectification you submitted",
                    )?;
                }
                let facts = lifecycle::Facts {
                    actor_id: p.account_id,
                    has_after_attachment: req.action == Action::SubmitForAcceptance
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
                let response = HazardResponse::new(&updated, today);
                let data = events::with(&response, "action", &req.action)?;
                let place = events::Place::from(&updated);
                events::publish(c, &actor, EventType::HazardTransitioned, id, &place, &data)?;
                Ok(response)
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

//! Deadline extensions (延期): once rectification has started the deadline is locked; it moves
//! only when a regulator in scope approves an extension request.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::hazards::{self, ExtensionRow};
use crate::db::{page, to_utc, write_tx};
use crate::domain::hazard::{HazardStatus, NO_DEADLINE};
use crate::domain::validate::FieldError;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::{ApiJson, IdempotencyKey};
use crate::routes::hazards::{visible_hazard, PageQuery};
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
    "id": 3, "hazard_id": 7, "old_deadline": "2026-12-05", "new_deadline": "2026-12-20",
    "reason": "绝缘垫供货延迟", "status": "approved", "requested_by": 12,
    "requested_at": "2026-12-01T03:00:00Z", "decided_by": 4, "decided_at": "2026-12-02T01:00:00Z",
    "decision_note": "同意延期"
}))]
pub struct ExtensionResponse {
    pub id: i64,
    pub hazard_id: i64,
    pub old_deadline: Option<NaiveDate>,
    pub new_deadline: NaiveDate,
    pub reason: String,
    /// `pending`, `approved` or `denied`.
    pub status: String,
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
            hazard_id: r.hazard_id,
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

fn pending() -> ApiError {
    ApiError::conflict(
        "extension_pending",
        "An extension request for this hazard is already pending",
    )
}

fn text(value: &str, pointer: &str) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 2000 {
        return Err(ApiError::validation(vec![FieldError::new(
            pointer,
            "1–2000 characters required",
        )]));
    }
    Ok(v.to_string())
}

/// Asks to move the deadline of a hazard under rectification. One request may be pending at a
/// time. The enterprise and regulators in scope may ask.
#[utoipa::path(
    tag = "hazards", context_path = "/api/v1", operation_id = "create_extension", request_body = ExtensionRequest,
    params(
        ("id" = i64, Path, description = "Hazard id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Requested; `Location` names the request", body = ExtensionResponse,
         headers(("Location" = String, description = "URL of the extension request"))),
        (status = 403, description = "Auditors cannot request extensions", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hazard is not under rectification (`invalid_transition`) or a request is pending (`extension_pending`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The new deadline is not later than the current one, or no reason", body = Problem, content_type = "application/problem+json"),
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
    let actor = Actor::from(&p);
    idempotency::create(&state.db, p.account_id, key, format!("create_extension:{id}"), body.sha256, move |c| {
        let hazard = visible_hazard(c, &p, id)?;
        policy::work_on_hazards(&p)?;
        let status = hazard.status();
        if status != HazardStatus::Rectifying {
            return Err(ApiError::conflict(
                "invalid_transition",
                format!("A {status} hazard's deadline is not locked; extensions are for hazards under rectification"),
            )
            .with_context(json!({"status": status})));
        }
        if hazards::pending_extension_exists(c, id)? {
            return Err(pending());
        }
        let reason = text(&req.reason, "/reason")?;
        if hazard.rectification_deadline.is_some_and(|d| req.new_deadline <= d) || req.new_deadline >= NO_DEADLINE {
            return Err(ApiError::validation(vec![FieldError::new("/new_deadline", "must be later than the current deadline")]));
        }
        let row = hazards::insert_extension(c, id, hazard.rectification_deadline, req.new_deadline, &reason, p.account_id)
            .map_err(|e| crate::db::on_unique_violation(e, pending))?;
        audit::record(
            c,
            &actor,
            "extension_requested",
            "hazard",
            &id.to_string(),
            &json!({"extension_id": row.id, "new_deadline": row.new_deadline, "reason": reason}),
        )?;
        Created::new(format!("/api/v1/hazards/{id}/extensions/{}", row.id), &ExtensionResponse::from(row))
    })
    .await
}

/// The extension requests of a hazard, oldest first.
#[utoipa::path(
    tag = "hazards", context_path = "/api/v1", operation_id = "list_extensions",
    params(("id" = i64, Path, description = "Hazard id"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of extension requests", body = page::Page<ExtensionResponse>),
    )
)]
#[get("/hazards/{id}/extensions")]
pub async fn list_extensions(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let limit = page::limit(query.limit)?;
    let after = page::decode_id_cursor(query.cursor.as_deref())?;
    let since = crate::routes::parse_timestamp("updated_since", query.updated_since.as_deref())?;
    let rows = state
        .db
        .run(move |c| {
            visible_hazard(c, &p, id)?;
            Ok(hazards::extensions(c, id, after, since, limit)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page::finish(rows, limit, |r| r.id, ExtensionResponse::from)))
}

/// One extension request.
#[utoipa::path(
    tag = "hazards", context_path = "/api/v1", operation_id = "get_extension",
    params(("id" = i64, Path, description = "Hazard id"), ("extension_id" = i64, Path, description = "Extension request id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The extension request", body = ExtensionResponse),
    )
)]
#[get("/hazards/{id}/extensions/{extension_id}")]
pub async fn get_extension(
    p: Principal,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, extension_id) = path.into_inner();
    let row = state
        .db
        .run(move |c| {
            visible_hazard(c, &p, id)?;
            hazards::extension(c, id, extension_id)?.ok_or_else(ApiError::not_found)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ExtensionResponse::from(row)))
}

/// Decides an extension request: a regulator in scope, never the one who asked. Approval moves
/// the hazard's deadline in the same transaction.
#[utoipa::path(
    tag = "hazards", context_path = "/api/v1", operation_id = "decide_extension", request_body = DecisionRequest,
    params(("id" = i64, Path, description = "Hazard id"), ("extension_id" = i64, Path, description = "Extension request id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decided request", body = ExtensionResponse),
        (status = 403, description = "Not a regulator (`regulator_required`), or your own request (`separation_of_duties`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`extension_decided`), or the hazard is closed or void", body = Problem, content_type = "application/problem+json"),
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
    let actor = Actor::from(&p);
    let row = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let hazard = visible_hazard(c, &p, id)?;
                let ext =
                    hazards::extension(c, id, extension_id)?.ok_or_else(ApiError::not_found)?;
                policy::decide_extension(&p)?;
                policy::not_the_same_user(
                    &p,
                    Some(ext.requested_by),
                    "decide an extension you requested",
                )?;
                let decided = || {
                    ApiError::conflict("extension_decided", "This request has already been decided")
                };
                if ext.status != "pending" {
                    return Err(decided());
                }
                if !hazard.status().is_open() {
                    return Err(ApiError::conflict(
                        "invalid_transition",
                        format!(
                            "The hazard is {}; its deadline no longer matters",
                            hazard.status()
                        ),
                    ));
                }
                let note = text(&req.note, "/note")?;
                let approved = req.decision == Decision::Approve;
                let row =
                    hazards::decide_extension(c, extension_id, approved, p.account_id, &note)?
                        .ok_or_else(decided)?;
                let mut details =
                    json!({"extension_id": extension_id, "decision": req.decision, "note": note});
                if approved {
                    hazards::move_deadline(c, id, row.new_deadline)?;
                    details["rectification_deadline"] =
                        json!({"before": hazard.rectification_deadline, "after": row.new_deadline});
                }
                let action = if approved {
                    "extension_approved"
                } else {
                    "extension_denied"
                };
                audit::record(c, &actor, action, "hazard", &id.to_string(), &details)?;
                Ok(row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(ExtensionResponse::from(row)))
}

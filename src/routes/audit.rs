//! The audit log: every write, who made it, what changed, under which request.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, AuditFilter, AuditRow};
use crate::db::to_utc;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::page::{self, parse_timestamp, Listing, Paging};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 128, "at": "2026-11-29T02:10:00Z", "actor_id": 1, "action": "update",
    "entity_type": "enterprise", "entity_id": "42",
    "changes": {"employees": {"before": 120, "after": 150}},
    "request_id": "3f1c2a9e-6b1d-4a47-9e0e-1f2b3c4d5e6f"
}))]
pub struct AuditEvent {
    /// Position in the log; strictly increasing.
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The account that made the change; `null` for the system (first-start seeding).
    pub actor_id: Option<i64>,
    /// `create`, `update`, `login`, `login_failed`, `logout`, `seed`, …
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// `{field: {"before": …, "after": …}}`; passwords appear only as `[redacted]`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub request_id: Option<String>,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            seq: r.seq,
            at: to_utc(r.at),
            actor_id: r.actor_id,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            changes: r.changes.0,
            request_id: r.request_id,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `account`, `enterprise`, `reference_data`, …
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<i64>,
    /// RFC 3339; only events at or after this instant.
    #[param(format = DateTime)]
    pub since: Option<String>,
}

/// List audit events
///
/// For the `city_admin` and `auditor` roles only (等保 2.0 audit trail); every other role gets
/// `403 forbidden`. The log is append-only: every write appends its event in the same
/// transaction as the change (`create`, `update` with before/after, lifecycle actions by name,
/// `login`, `login_failed`, `logout`, …), carrying the actor and the `request_id` of the
/// request that wrote it; passwords appear only as `[redacted]`. Events touching a listing are
/// recorded on both the listing and its hazard. You read the events of your own city: those
/// of entities at or below your jurisdiction, and reference data (which belongs to no city);
/// another city on the same server is invisible. Oldest first (by `seq`), keyset-paginated.
///
/// Filters: `entity_type` (`account`, `enterprise`, `hazard`, `listing`, `problem_item`,
/// `measure_item`, `list_submission`, …), `entity_id`, `actor_id`, and `since` (or its alias
/// `updated_since`; when both are given the later one applies). Unknown parameters, a bad
/// timestamp or `limit` answer `400 invalid_query`; a foreign cursor `400 invalid_cursor`.
#[utoipa::path(
    tag = "audit", operation_id = "list_audit_events", params(AuditQuery, page::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of audit events, oldest first", body = page::Page<AuditEvent>),
        (status = 403, description = "Only the city administrator and auditors read the audit log (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<AuditQuery>,
) -> ApiResult<HttpResponse> {
    policy::read_audit(&p)?;
    let Listing { filters: q, paging } = query;
    let since = parse_timestamp("since", q.since.as_deref())?;
    let filter = AuditFilter {
        // The log is read within the reader's city: another city's events stay its own.
        within: Some(p.reach.clone().ok_or_else(ApiError::not_found)?),
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor_id: q.actor_id,
        since: since.max(paging.updated_since),
        after_seq: paging.after()?,
        fetch: paging.fetch(),
    };
    let rows = state.run(move |c| Ok(audit::list(c, &filter)?)).await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.seq, AuditEvent::from)))
}

/// The events of one entity, oldest first (a timeline or history), after `check` confirms the
/// caller may see the entity.
pub async fn entity_events(
    state: &AppState,
    entity_type: &'static str,
    id: i64,
    paging: Paging,
    check: impl FnOnce(&mut crate::db::AnyConnection) -> crate::error::ApiResult<()> + Send + 'static,
) -> ApiResult<HttpResponse> {
    let after_seq = paging.after()?;
    let since = paging.updated_since;
    let fetch = paging.fetch();
    let rows = state
        .run(move |c| {
            check(c)?;
            let filter = AuditFilter {
                entity_type: Some(entity_type.into()),
                entity_id: Some(id.to_string()),
                after_seq,
                since,
                fetch,
                ..Default::default()
            };
            Ok(audit::list(c, &filter)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.seq, AuditEvent::from)))
}

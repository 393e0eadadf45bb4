//! Deadline reminders and escalation (SPEC §9, `domain::reminder`): read them in scope and
//! acknowledge them. The scheduler raises them (`reminders::scan`).

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::events::{self, Outgoing, Place};
use crate::db::reminders::{self, ReminderFilter, ReminderRow};
use crate::db::{to_utc, write_tx};
use crate::domain::event::{Audience, EventType};
use crate::domain::reminder::{Addressee, ReminderKind, ReminderState, ReminderSubject};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::page::{self, Listing};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 12, "kind": "overdue", "addressee": "county", "subject_type": "hazard",
    "subject_id": 7, "subject_code": "431302-2026-00017", "deadline": "2026-12-05",
    "fire_on": "2026-12-06", "enterprise_id": 42, "jurisdiction_code": "431302",
    "state": "open", "acknowledged_by": null, "acknowledged_at": null,
    "created_at": "2026-12-06T00:05:00Z", "updated_at": "2026-12-06T00:05:00Z"
}))]
pub struct ReminderResponse {
    pub id: i64,
    pub kind: ReminderKind,
    /// Who it is for: the enterprise (`due_soon`), the county-level regulator (`overdue`) or
    /// the city (`escalated`).
    pub addressee: Addressee,
    pub subject_type: ReminderSubject,
    /// The hazard's or the listing's id.
    pub subject_id: i64,
    /// The hazard's code, or the listing's notice number (督办文号).
    pub subject_code: String,
    /// The deadline the reminder is about (an extension's new deadline raises new reminders).
    pub deadline: NaiveDate,
    /// The Shanghai date it was due to fire: the deadline plus the kind's offset.
    pub fire_on: NaiveDate,
    pub enterprise_id: i64,
    pub jurisdiction_code: String,
    pub state: ReminderState,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ReminderResponse {
    pub fn new(r: &ReminderRow) -> ReminderResponse {
        ReminderResponse {
            id: r.id,
            kind: r.kind,
            addressee: r.kind.addressee(),
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            subject_code: r.subject_code.clone(),
            deadline: r.deadline,
            fire_on: r.fire_on,
            enterprise_id: r.enterprise_id,
            jurisdiction_code: r.jurisdiction_code.clone(),
            state: if r.acknowledged_at.is_some() {
                ReminderState::Acknowledged
            } else {
                ReminderState::Open
            },
            acknowledged_by: r.acknowledged_by,
            acknowledged_at: r.acknowledged_at.map(to_utc),
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
        }
    }
}

/// A reminder's event: where it belongs, and who reads it (`due_soon` is the enterprise's to
/// read as well; the others only regulators').
fn event_of(event_type: EventType, r: &ReminderRow) -> diesel::QueryResult<Outgoing> {
    let place = Place::regulated(
        &r.city_code,
        &r.county_code,
        &r.jurisdiction_code,
        r.enterprise_id,
        &r.sector_code,
    );
    let audience = match r.kind {
        ReminderKind::DueSoon => Audience::Regulated,
        ReminderKind::Overdue | ReminderKind::Escalated => Audience::Lists,
    };
    Outgoing::new(event_type, r.id, place, audience, &ReminderResponse::new(r))
}

/// Publishes one event of a reminder.
pub fn publish(
    c: &mut crate::db::AnyConnection,
    actor: &Actor,
    event_type: EventType,
    r: &ReminderRow,
) -> diesel::QueryResult<()> {
    events::publish_all(c, actor, &[event_of(event_type, r)?])
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReminderQuery {
    pub kind: Option<ReminderKind>,
    /// `open` or `acknowledged`.
    pub state: Option<ReminderState>,
    pub subject_type: Option<ReminderSubject>,
}

/// List reminders
///
/// The deadline reminders raised for hazards and listings in your scope, oldest first: at
/// `HAZREG_REMINDER_DUE_SOON_DAYS` (3) before a deadline `due_soon`, addressed to the
/// enterprise; `HAZREG_REMINDER_OVERDUE_DAYS` (1) after it `overdue`, to the county-level
/// regulator; `HAZREG_REMINDER_ESCALATE_DAYS` (7) after it `escalated`, to the city. Dates are
/// Asia/Shanghai. Each fires once per subject, kind and deadline, raised by a scheduler in the
/// server (every `HAZREG_REMINDER_INTERVAL_SECS`), and also appears in the change feed and
/// webhooks as `reminder.raised`. Enterprise accounts read their enterprise's `due_soon`
/// reminders only; regulators and auditors every kind in their scope.
///
/// Filters: `kind`, `state`, `subject_type`, `updated_since`. Unknown parameters or values
/// answer `400 invalid_query`.
#[utoipa::path(
    tag = "reminders", operation_id = "list_reminders", params(ReminderQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the reminders in your scope", body = page::Page<ReminderResponse>))
)]
#[get("/reminders")]
pub async fn list_reminders(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<ReminderQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let mut kinds = policy::reminder_kinds(&p);
    if let Some(k) = q.kind {
        kinds = Some(match kinds {
            Some(allowed) => allowed.into_iter().filter(|a| *a == k).collect(),
            None => vec![k],
        });
    }
    let filter = ReminderFilter {
        kinds,
        subject_type: q.subject_type,
        acknowledged: q.state.map(|s| s == ReminderState::Acknowledged),
        updated_since: paging.updated_since,
        after_id: paging.after()?,
        fetch: paging.fetch(),
    };
    let rows = state
        .run(move |c| Ok(reminders::list_visible(c, &p.scope(), &filter)?))
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.id, |r| ReminderResponse::new(&r))))
}

/// The reminder, if the caller reads it (else 404).
fn visible(c: &mut crate::db::AnyConnection, p: &Principal, id: i64) -> ApiResult<ReminderRow> {
    let row = reminders::get_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)?;
    match policy::reminder_kinds(p) {
        Some(kinds) if !kinds.contains(&row.kind) => Err(ApiError::not_found()),
        _ => Ok(row),
    }
}

/// Get a reminder
///
/// A reminder you read (see the list); anything else is `404`.
#[utoipa::path(
    tag = "reminders", operation_id = "get_reminder",
    params(("id" = i64, Path, description = "Reminder id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The reminder", body = ReminderResponse))
)]
#[get("/reminders/{id}")]
pub async fn get_reminder(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state.run(move |c| visible(c, &p, id)).await?;
    Ok(HttpResponse::Ok().json(ReminderResponse::new(&row)))
}

/// Acknowledge a reminder
///
/// By those it is addressed to: a `due_soon` reminder by the enterprise's accounts or a
/// regulator in scope; `overdue` by a regulator in scope; `escalated` by a city-level
/// regulator. Auditors get `403`, as does a county-level regulator for an escalation. The
/// first acknowledgement is kept: acknowledging again answers the reminder unchanged. It is
/// audited and appears in the change feed as `reminder.acknowledged`.
#[utoipa::path(
    tag = "reminders", operation_id = "acknowledge_reminder",
    params(("id" = i64, Path, description = "Reminder id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reminder, acknowledged", body = ReminderResponse),
        (status = 403, description = "The reminder is not addressed to you (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reminders/{id}/acknowledge")]
pub async fn acknowledge_reminder(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let actor = Actor::from(&p);
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let before = visible(c, &p, id)?;
                policy::acknowledge_reminder(&p, before.kind)?;
                if before.acknowledged_at.is_some() {
                    return Ok(before);
                }
                let after = reminders::acknowledge(c, id, p.account_id)?;
                audit::record(
                    c,
                    &actor,
                    "acknowledge",
                    "reminder",
                    &id.to_string(),
                    &serde_json::json!({"kind": after.kind}),
                )?;
                publish(c, &actor, EventType::ReminderAcknowledged, &after)?;
                Ok(after)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(ReminderResponse::new(&row)))
}

/// One scan (the scheduler's, `background`): raises every reminder due on `today` (Shanghai),
/// kind by kind, for hazards and listings, in transactions of up to
/// [`reminders::RAISE_BATCH`], each reminder with its `reminder.raised` event. Safe with any
/// number of processes scanning at once (`reminders::raise`). Answers how many it raised.
pub fn scan(
    c: &mut crate::db::AnyConnection,
    offsets: &crate::domain::reminder::Offsets,
    today: NaiveDate,
) -> diesel::QueryResult<usize> {
    let mut raised = 0;
    for subject in ReminderSubject::ALL {
        for kind in ReminderKind::ALL {
            loop {
                let rows = write_tx(c, |c| {
                    let rows = reminders::raise(c, offsets, *kind, *subject, today)?;
                    let raised = rows
                        .iter()
                        .map(|r| event_of(EventType::ReminderRaised, r))
                        .collect::<diesel::QueryResult<Vec<_>>>()?;
                    events::publish_all(c, &Actor::system(), &raised)?;
                    Ok::<_, diesel::result::Error>(rows)
                })?;
                raised += rows.len();
                if (rows.len() as i64) < reminders::RAISE_BATCH {
                    break;
                }
            }
        }
    }
    Ok(raised)
}

//! The change feed (SPEC §8): every change the caller may see, oldest first, resumable by
//! cursor. Written by every write in its own transaction (`db::events`).

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::events::{self, Reader, StoredEvent};
use crate::db::to_utc;
use crate::domain::event::{EventType, Position, SubjectType};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::page::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::state::AppState;

/// Who made a change.
#[derive(Serialize, ToSchema)]
pub struct EventActor {
    pub id: i64,
    pub username: String,
}

/// What a change is about: `GET /api/v1/<type>s/{id}` (accounts, enterprises, hazards,
/// listings, problem-items, measure-items, list-submissions) reads it now.
#[derive(Serialize, ToSchema)]
pub struct EventSubject {
    #[serde(rename = "type")]
    pub subject_type: SubjectType,
    pub id: i64,
}

/// One change.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": "1207",
    "type": "hazard.transitioned",
    "occurred_at": "2026-12-07T03:15:00Z",
    "actor": {"id": 12, "username": "louxing-officer"},
    "subject": {"type": "hazard", "id": 4711},
    "data": {"action": "start_rectification", "id": 4711, "code": "431302-2026-00017",
             "status": "rectifying", "level": "general", "version": 3}
}))]
pub struct Event {
    /// Unique and stable: the `webhook-id` of its deliveries, for deduplication.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub occurred_at: DateTime<Utc>,
    /// `null` for changes the server made by itself.
    pub actor: Option<EventActor>,
    pub subject: EventSubject,
    /// The subject as its `GET` answered right after the change. `hazard.transitioned` adds
    /// `action`; extension events add `extension`, `hazard.attachment_added` adds
    /// `attachment`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<StoredEvent> for Event {
    fn from(e: StoredEvent) -> Event {
        Event {
            id: e.position.id.to_string(),
            event_type: e.event_type,
            occurred_at: to_utc(e.occurred_at),
            actor: e.actor.map(|(id, username)| EventActor { id, username }),
            subject: EventSubject {
                subject_type: e.subject_type,
                id: e.subject_id,
            },
            data: e.data,
        }
    }
}

/// A page of the feed.
#[derive(Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<Event>,
    /// Always present: where to continue. After the last event of this page, or, on an empty
    /// page, the cursor you sent. Poll with it later to get what happened since.
    pub next_cursor: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// `next_cursor` of the previous page; without it the feed starts at its oldest retained
    /// event.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Event types, comma-separated (`hazard.created,hazard.transitioned`); default all.
    #[param(value_type = Option<Vec<EventType>>, style = Form, explode = false, min_items = 1)]
    pub types: Option<String>,
}

impl EventQuery {
    fn parse(req: &HttpRequest) -> ApiResult<EventQuery> {
        serde_urlencoded::from_str(req.query_string())
            .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))
    }

    fn types(&self) -> ApiResult<Vec<EventType>> {
        let Some(raw) = self.types.as_deref() else {
            return Ok(Vec::new());
        };
        raw.split(',')
            .map(|t| {
                EventType::parse(t.trim()).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!(
                            "types: {:?} is not an event type",
                            t.chars().take(64).collect::<String>()
                        ),
                    )
                })
            })
            .collect()
    }

    fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::bad_request(
                "invalid_query",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    /// Where the client stands; `None` for a reader starting from the oldest retained event.
    fn position(&self) -> ApiResult<Option<Position>> {
        self.cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|raw| Position::from_cursor(raw).ok_or_else(crate::http::page::invalid_cursor))
            .transpose()
    }
}

/// The feed's answer for a cursor that retention has passed.
fn cursor_expired() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::GONE,
        "cursor_expired",
        "Events after this cursor are past the retention period: resynchronise from the \
         collections (with updated_since), then follow the feed from a fresh cursor",
    )
}

/// List changes (the change feed)
///
/// Every change the caller may see, oldest first, resumable by cursor: enterprises
/// (`enterprise.created|updated`), hazards (`hazard.created|updated|transitioned|
/// extension_requested|extension_decided|attachment_added`), listings
/// (`listing.created|delisted|cancelled|extension_requested|extension_decided`), the two lists
/// (`problem_item.created|updated`, `measure_item.created|updated`; their links are part of
/// the item), submissions (`list_submission.created|reviewed`) and, for administrators and
/// auditors, accounts (`account.created|updated`).
///
/// Each event is written in the same transaction as its change. `data` is the subject as its
/// `GET` answered after the change.
///
/// **Scope at read time**: you see the events of the subjects you may `GET` now: a county
/// its county, a department's officer its sectors, an enterprise its own records, an auditor
/// its reach. When your account is moved, the feed follows at once.
///
/// **Cursor**: `next_cursor` is always present; keep it and poll with it. No event is ever
/// skipped: an event appears only once no earlier-started change can still commit before it.
/// A cursor older than the retention (`HAZREG_EVENT_RETENTION_DAYS`) answers `410
/// cursor_expired`: resynchronise from the collections, then follow a fresh cursor.
#[utoipa::path(
    tag = "events", operation_id = "list_events", params(EventQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The next events, oldest first", body = EventPage,
         example = json!({"items": [{
            "id": "1207", "type": "hazard.created", "occurred_at": "2026-12-07T03:15:00Z",
            "actor": {"id": 12, "username": "louxing-officer"},
            "subject": {"type": "hazard", "id": 4711},
            "data": {"id": 4711, "code": "431302-2026-00017", "status": "reported", "level": "general", "version": 1}
         }], "next_cursor": "ZjE6MDoxMjA3"})),
        (status = 410, description = "The cursor is older than the feed's retention (`cursor_expired`): resynchronise from the collections", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events")]
pub async fn list_events(
    p: Principal,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = EventQuery::parse(&req)?;
    let (types, limit, from) = (query.types()?, query.limit()?, query.position()?);
    let reader = Reader {
        scope: p.scope(),
        audiences: policy::feed_audiences(&p),
    };
    let events = state
        .run(move |c| {
            let horizon = events::horizon(c)?;
            let from = match from {
                Some(at) if at < horizon => return Err(cursor_expired()),
                Some(at) => at,
                None => horizon,
            };
            Ok((from, events::page(c, &reader, from, &types, limit)?))
        })
        .await?;
    let (from, events) = events;
    let next = events.last().map(|e| e.position).unwrap_or(from);
    Ok(HttpResponse::Ok().json(EventPage {
        items: events.into_iter().map(Event::from).collect(),
        next_cursor: next.cursor(),
    }))
}

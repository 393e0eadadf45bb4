//! Webhook subscriptions, their deliveries and the attempt log (migration 000019).
//!
//! Deliveries are made by every server process (`crate::webhooks`), never twice at once: a
//! worker claims due deliveries by setting a lease (`lease_until`) in one statement, on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, so two processes take disjoint rows; a process
//! killed mid-delivery leaves a lease that expires, and the delivery is tried again.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use super::schema::{webhook_attempts as wa, webhook_deliveries as wd, webhooks as w};
use super::AnyConnection;
use crate::domain::event::Position;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = w)]
pub struct WebhookRow {
    pub id: i64,
    pub owner_id: i64,
    pub url: String,
    pub description: Option<String>,
    pub event_types: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub cursor_tx: i64,
    pub cursor_id: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl WebhookRow {
    /// The event types it wants (stored as a JSON array; empty: every type).
    pub fn event_types(&self) -> Vec<crate::domain::event::EventType> {
        serde_json::from_str::<Vec<String>>(&self.event_types)
            .unwrap_or_default()
            .iter()
            .filter_map(|t| crate::domain::event::EventType::parse(t))
            .collect()
    }

    pub fn cursor(&self) -> Position {
        Position {
            tx: self.cursor_tx,
            id: self.cursor_id,
        }
    }
}

pub struct NewWebhook<'a> {
    pub owner_id: i64,
    pub url: &'a str,
    pub description: Option<&'a str>,
    pub event_types: &'a str,
    pub secret: &'a str,
    pub from: Position,
}

pub fn insert(conn: &mut AnyConnection, n: &NewWebhook<'_>) -> QueryResult<WebhookRow> {
    let now = super::now();
    diesel::insert_into(w::table)
        .values((
            w::owner_id.eq(n.owner_id),
            w::url.eq(n.url),
            w::description.eq(n.description),
            w::event_types.eq(n.event_types),
            w::secret.eq(n.secret),
            w::enabled.eq(true),
            w::consecutive_failures.eq(0),
            w::cursor_tx.eq(n.from.tx),
            w::cursor_id.eq(n.from.id),
            w::created_at.eq(now),
            w::updated_at.eq(now),
            w::version.eq(1),
        ))
        .get_result(conn)
}

/// A subscription of its owner's; others' are not found.
pub fn get_owned(conn: &mut AnyConnection, owner: i64, id: i64) -> QueryResult<Option<WebhookRow>> {
    w::table
        .filter(w::id.eq(id))
        .filter(w::owner_id.eq(owner))
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_owned(
    conn: &mut AnyConnection,
    owner: i64,
    after_id: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<WebhookRow>> {
    w::table
        .filter(w::owner_id.eq(owner))
        .filter(w::id.gt(after_id.unwrap_or(0)))
        .order(w::id)
        .limit(fetch)
        .select(WebhookRow::as_select())
        .load(conn)
}

/// What a `PATCH` or a secret rotation changes.
#[derive(AsChangeset, Default)]
#[diesel(table_name = w)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub event_types: Option<String>,
    pub enabled: Option<bool>,
    pub disabled_reason: Option<Option<String>>,
    pub consecutive_failures: Option<i32>,
    pub secret: Option<String>,
    pub previous_secret: Option<Option<String>>,
    pub previous_secret_expires_at: Option<Option<NaiveDateTime>>,
}

/// Applies `changes` if the subscription is still at `version`.
pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    changes: &WebhookChanges,
) -> QueryResult<Option<WebhookRow>> {
    diesel::update(w::table.filter(w::id.eq(id)).filter(w::version.eq(version)))
        .set((
            changes,
            w::updated_at.eq(super::now()),
            w::version.eq(version + 1),
        ))
        .get_result(conn)
        .optional()
}

/// Removes a subscription with its deliveries and attempts.
pub fn delete(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(wa::table.filter(wa::webhook_id.eq(id))).execute(conn)?;
    diesel::delete(wd::table.filter(wd::webhook_id.eq(id))).execute(conn)?;
    diesel::delete(w::table.filter(w::id.eq(id))).execute(conn)
}

/// Enabled subscriptions after `after_id`, for the fan-out.
pub fn enabled(
    conn: &mut AnyConnection,
    after_id: i64,
    limit: i64,
) -> QueryResult<Vec<WebhookRow>> {
    w::table
        .filter(w::enabled.eq(true))
        .filter(w::id.gt(after_id))
        .order(w::id)
        .limit(limit)
        .select(WebhookRow::as_select())
        .load(conn)
}

/// One event to deliver to a subscription.
pub struct NewDelivery {
    pub event_id: i64,
    pub subject_key: String,
    pub payload: String,
}

/// Turns the events from the subscription's cursor up to `to` into deliveries, and moves its
/// cursor there, in one transaction: only if the cursor is still where this worker read it
/// (another process may have done the same meanwhile; then this one changes nothing).
pub fn fan_out(
    conn: &mut AnyConnection,
    hook: &WebhookRow,
    to: Position,
    deliveries: &[NewDelivery],
    now: NaiveDateTime,
) -> QueryResult<bool> {
    super::write_tx(conn, |c| {
        let moved = diesel::update(
            w::table
                .filter(w::id.eq(hook.id))
                .filter(w::cursor_tx.eq(hook.cursor_tx))
                .filter(w::cursor_id.eq(hook.cursor_id)),
        )
        .set((w::cursor_tx.eq(to.tx), w::cursor_id.eq(to.id)))
        .execute(c)?;
        if moved == 0 {
            return Ok(false);
        }
        for d in deliveries {
            diesel::insert_into(wd::table)
                .values((
                    wd::webhook_id.eq(hook.id),
                    wd::event_id.eq(d.event_id),
                    wd::subject_key.eq(&d.subject_key),
                    wd::payload.eq(&d.payload),
                    wd::state.eq("pending"),
                    wd::attempts.eq(0),
                    wd::next_attempt_at.eq(now),
                    wd::created_at.eq(now),
                    wd::updated_at.eq(now),
                ))
                .execute(c)?;
        }
        Ok(true)
    })
}

/// A delivery this process has claimed, with what sending it needs.
#[derive(QueryableByName, Debug, Clone)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub webhook_id: i64,
    #[diesel(sql_type = BigInt)]
    pub event_id: i64,
    #[diesel(sql_type = Text)]
    pub payload: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Claims up to `limit` due deliveries until `lease_until`: pending, due, not leased, of an
/// enabled subscription, and the oldest pending one of its subject for that subscription
/// (deliveries are ordered per subject). Each claim counts as an attempt.
pub fn claim_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    let lock = match conn {
        AnyConnection::Postgresql(_) => "FOR UPDATE OF d SKIP LOCKED",
        AnyConnection::Sqlite(_) => "",
    };
    let statement = format!(
        "UPDATE webhook_deliveries SET lease_until = $1, attempts = attempts + 1, updated_at = $2 \
         WHERE id IN (SELECT d.id FROM webhook_deliveries d \
             JOIN webhooks h ON h.id = d.webhook_id AND h.enabled \
             WHERE d.state = 'pending' AND d.next_attempt_at <= $2 \
               AND (d.lease_until IS NULL OR d.lease_until < $2) \
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                   WHERE e.webhook_id = d.webhook_id AND e.subject_key = d.subject_key \
                     AND e.state = 'pending' AND e.id < d.id) \
             ORDER BY d.next_attempt_at, d.id LIMIT $3 {lock}) \
         RETURNING id, webhook_id, event_id, payload, attempts"
    );
    super::write_tx(conn, |c| {
        diesel::sql_query(statement)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(c)
    })
}

/// How one attempt went.
pub struct Outcome {
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub delivered: bool,
    /// When to try again after a failure; `None` when this was the last attempt.
    pub retry_at: Option<NaiveDateTime>,
}

/// Records an attempt and its consequences in one transaction: the delivery is done, due
/// again, or failed for good; the subscription's run of failures is reset or extended, and
/// after `disable_after` failures in a row the subscription is disabled with the reason.
pub fn record_attempt(
    conn: &mut AnyConnection,
    claimed: &Claimed,
    outcome: &Outcome,
    disable_after: i32,
) -> QueryResult<()> {
    let now = super::now();
    super::write_tx(conn, |c| {
        diesel::insert_into(wa::table)
            .values((
                wa::webhook_id.eq(claimed.webhook_id),
                wa::delivery_id.eq(claimed.id),
                wa::event_id.eq(claimed.event_id),
                wa::attempt.eq(claimed.attempts),
                wa::status_code.eq(outcome.status_code),
                wa::duration_ms.eq(outcome.duration_ms),
                wa::error.eq(outcome.error.as_deref()),
                wa::response_excerpt.eq(outcome.response_excerpt.as_deref()),
                wa::at.eq(now),
            ))
            .execute(c)?;
        let (state, next) = match (outcome.delivered, outcome.retry_at) {
            (true, _) => ("delivered", None),
            (false, Some(at)) => ("pending", Some(at)),
            (false, None) => ("failed", None),
        };
        let delivery = wd::table.filter(wd::id.eq(claimed.id));
        diesel::update(delivery)
            .set((
                wd::state.eq(state),
                wd::lease_until.eq(None::<NaiveDateTime>),
                wd::updated_at.eq(now),
            ))
            .execute(c)?;
        if let Some(at) = next {
            diesel::update(delivery)
                .set(wd::next_attempt_at.eq(at))
                .execute(c)?;
        }
        let hook = w::table.filter(w::id.eq(claimed.webhook_id));
        if outcome.delivered {
            diesel::update(hook)
                .set(w::consecutive_failures.eq(0))
                .execute(c)?;
            return Ok(());
        }
        diesel::update(hook)
            .set(w::consecutive_failures.eq(w::consecutive_failures + 1))
            .execute(c)?;
        let reason = format!(
            "disabled after {disable_after} consecutive failed deliveries; the last: {}",
            outcome.error.as_deref().unwrap_or("no answer")
        );
        diesel::update(
            hook.filter(w::enabled.eq(true))
                .filter(w::consecutive_failures.ge(disable_after)),
        )
        .set((
            w::enabled.eq(false),
            w::disabled_reason.eq(reason),
            w::updated_at.eq(now),
            w::version.eq(w::version + 1),
        ))
        .execute(c)?;
        Ok(())
    })
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = wa)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub event_id: i64,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub at: NaiveDateTime,
}

/// The attempts made for a subscription, oldest first.
pub fn attempts(
    conn: &mut AnyConnection,
    webhook_id: i64,
    after_id: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<AttemptRow>> {
    wa::table
        .filter(wa::webhook_id.eq(webhook_id))
        .filter(wa::id.gt(after_id.unwrap_or(0)))
        .order(wa::id)
        .limit(fetch)
        .select(AttemptRow::as_select())
        .load(conn)
}

/// Queues a subscription's delivery again, due now, with a fresh run of attempts; `false`
/// when the subscription has no such delivery.
pub fn redeliver(conn: &mut AnyConnection, webhook_id: i64, delivery_id: i64) -> QueryResult<bool> {
    let now = super::now();
    diesel::update(
        wd::table
            .filter(wd::id.eq(delivery_id))
            .filter(wd::webhook_id.eq(webhook_id)),
    )
    .set((
        wd::state.eq("pending"),
        wd::attempts.eq(0),
        wd::next_attempt_at.eq(now),
        wd::lease_until.eq(None::<NaiveDateTime>),
        wd::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|n| n > 0)
}

/// Subscriptions by id (the ones a batch of claimed deliveries belongs to).
pub fn by_ids(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<WebhookRow>> {
    w::table
        .filter(w::id.eq_any(ids))
        .select(WebhookRow::as_select())
        .load(conn)
}

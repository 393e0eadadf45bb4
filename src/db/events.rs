//! The change feed's outbox. Every write that changes a subject a client can `GET` publishes
//! its event here, inside the write's own transaction: a change without its event, or an event
//! without its change, cannot commit.
//!
//! **No gaps.** Readers go in (tx, id) order. On SQLite one writer holds the lock from an
//! event's id to its commit (`write_tx`), so ids commit in order and tx is 0. On PostgreSQL ids
//! come from a sequence before commit, so a transaction holding id 7 may commit after one
//! holding id 8; a reader at 8 would pass 7 for good. So each event also carries its
//! transaction's id (`tx`, from `pg_current_xact_id()`), and a reader takes only events with
//! `tx` below the oldest transaction of this database still in progress in its snapshot
//! ([`SETTLED_BELOW`]): every transaction below that has ended, and a transaction that has not
//! yet written gets a larger id than any assigned so far. Those events are therefore final, and
//! nothing can later appear before a cursor. The price is latency, never loss: an event waits
//! until every older writing transaction has ended (request transactions are bounded by the
//! statement timeout).

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::audit::Actor;
use super::schema::{accounts, event_horizon, events};
use super::scope::{within, Backend, Scope};
use super::AnyConnection;
use crate::domain::event::{Audience, EventType, Position, SubjectType};

/// Where an event belongs: its readers' audience and the subject's place (jurisdiction with
/// its city and county-level unit, and for regulated records the enterprise and sector).
#[derive(Debug, Clone)]
pub struct Place {
    pub city: String,
    pub county: String,
    pub jurisdiction: String,
    pub enterprise_id: Option<i64>,
    pub sector: Option<String>,
}

impl From<&super::enterprises::EnterpriseRow> for Place {
    fn from(r: &super::enterprises::EnterpriseRow) -> Place {
        Place::regulated(
            &r.city_code,
            &r.county_code,
            &r.jurisdiction_code,
            r.id,
            &r.sector_code,
        )
    }
}

impl From<&super::hazards::HazardRow> for Place {
    fn from(r: &super::hazards::HazardRow) -> Place {
        Place::regulated(
            &r.city_code,
            &r.county_code,
            &r.jurisdiction_code,
            r.enterprise_id,
            &r.sector_code,
        )
    }
}

impl From<&super::listings::ListingRow> for Place {
    fn from(r: &super::listings::ListingRow) -> Place {
        Place::regulated(
            &r.city_code,
            &r.county_code,
            &r.jurisdiction_code,
            r.enterprise_id,
            &r.sector_code,
        )
    }
}

impl Place {
    /// A regulated record (enterprise, hazard, listing): its units, enterprise and sector.
    pub fn regulated(
        city: &str,
        county: &str,
        jurisdiction: &str,
        enterprise_id: i64,
        sector: &str,
    ) -> Place {
        Place {
            city: city.to_string(),
            county: county.to_string(),
            jurisdiction: jurisdiction.to_string(),
            enterprise_id: Some(enterprise_id),
            sector: Some(sector.to_string()),
        }
    }

    /// A record of the two lists, by its owner's units.
    pub fn list_owner(jurisdiction: &str, city: &str, county: &str) -> Place {
        Place {
            city: city.to_string(),
            county: county.to_string(),
            jurisdiction: jurisdiction.to_string(),
            enterprise_id: None,
            sector: None,
        }
    }
}

/// An event as stored, with its actor's username.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub position: Position,
    pub event_type: EventType,
    pub occurred_at: chrono::NaiveDateTime,
    pub actor: Option<(i64, String)>,
    pub subject_type: SubjectType,
    pub subject_id: i64,
    pub data: serde_json::Value,
}

/// Appends one event in the caller's transaction. `data` is the subject as its `GET` answers
/// after the change.
pub fn publish<T: serde::Serialize>(
    conn: &mut AnyConnection,
    actor: &Actor,
    event_type: EventType,
    subject_id: i64,
    place: &Place,
    data: &T,
) -> QueryResult<()> {
    let audience = event_type.subject().audience();
    publish_for(conn, actor, event_type, subject_id, place, audience, data)
}

/// [`publish`] to an audience other than its subject's: a reminder addressed to regulators
/// (`overdue`, `escalated`) is not the enterprise's to read.
pub fn publish_for<T: serde::Serialize>(
    conn: &mut AnyConnection,
    actor: &Actor,
    event_type: EventType,
    subject_id: i64,
    place: &Place,
    audience: crate::domain::event::Audience,
    data: &T,
) -> QueryResult<()> {
    let event = Outgoing::new(event_type, subject_id, place.clone(), audience, data)?;
    diesel::insert_into(events::table)
        .values(event.row(actor, super::now()))
        .execute(conn)?;
    Ok(())
}

/// An event to append with [`publish_all`]: its subject's representation already serialized.
#[derive(Debug, Clone)]
pub struct Outgoing {
    event_type: EventType,
    subject_id: i64,
    place: Place,
    audience: Audience,
    data: String,
}

/// One `events` row as `INSERT` writes it (every column bound, so the statement is cached).
type EventValues<'a> = (
    diesel::dsl::Eq<events::event_type, &'static str>,
    diesel::dsl::Eq<events::occurred_at, chrono::NaiveDateTime>,
    diesel::dsl::Eq<events::actor_id, Option<i64>>,
    diesel::dsl::Eq<events::subject_type, &'static str>,
    diesel::dsl::Eq<events::subject_id, i64>,
    diesel::dsl::Eq<events::audience, &'static str>,
    diesel::dsl::Eq<events::city_code, &'a str>,
    diesel::dsl::Eq<events::county_code, &'a str>,
    diesel::dsl::Eq<events::jurisdiction_code, &'a str>,
    diesel::dsl::Eq<events::enterprise_id, Option<i64>>,
    diesel::dsl::Eq<events::sector_code, Option<&'a str>>,
    diesel::dsl::Eq<events::data, &'a str>,
);

impl Outgoing {
    pub fn new<T: serde::Serialize>(
        event_type: EventType,
        subject_id: i64,
        place: Place,
        audience: Audience,
        data: &T,
    ) -> QueryResult<Outgoing> {
        let data = serde_json::to_string(data)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        Ok(Outgoing {
            event_type,
            subject_id,
            place,
            audience,
            data,
        })
    }

    fn row(&self, actor: &Actor, at: chrono::NaiveDateTime) -> EventValues<'_> {
        (
            events::event_type.eq(self.event_type.as_str()),
            events::occurred_at.eq(at),
            events::actor_id.eq(actor.account_id),
            events::subject_type.eq(self.event_type.subject().as_str()),
            events::subject_id.eq(self.subject_id),
            events::audience.eq(self.audience.as_str()),
            events::city_code.eq(self.place.city.as_str()),
            events::county_code.eq(self.place.county.as_str()),
            events::jurisdiction_code.eq(self.place.jurisdiction.as_str()),
            events::enterprise_id.eq(self.place.enterprise_id),
            events::sector_code.eq(self.place.sector.as_deref()),
            events::data.eq(self.data.as_str()),
        )
    }
}

/// Rows per `INSERT` of [`publish_all`]: 12 values each, well inside both databases' limits on
/// bound parameters.
const PUBLISH_BATCH: usize = 500;

/// Appends many events in the caller's transaction, in their order, with one multi-row
/// `INSERT` per [`PUBLISH_BATCH`] (a background job's batch, never one statement per event).
pub fn publish_all(conn: &mut AnyConnection, actor: &Actor, all: &[Outgoing]) -> QueryResult<()> {
    let at = super::now();
    for chunk in all.chunks(PUBLISH_BATCH) {
        let rows: Vec<_> = chunk.iter().map(|e| e.row(actor, at)).collect();
        let insert = diesel::insert_into(events::table).values(rows);
        // Each backend's own multi-row `INSERT` (the multi-backend connection has none).
        match conn {
            AnyConnection::Postgresql(c) => insert.execute(c)?,
            AnyConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// [`publish`] for an update, only when the subject's representation changed: a `PATCH` that
/// changes nothing records nothing, in the audit log and the feed alike.
pub fn publish_if_changed<T: serde::Serialize>(
    conn: &mut AnyConnection,
    actor: &Actor,
    event_type: EventType,
    subject_id: i64,
    place: &Place,
    before: &T,
    after: &T,
) -> QueryResult<()> {
    let json = |v: &T| {
        serde_json::to_value(v).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
    };
    if json(before)? == json(after)? {
        return Ok(());
    }
    publish(conn, actor, event_type, subject_id, place, after)
}

/// `data` with one more member (`action` of a transition, the `extension` an extension event
/// is about, the `attachment` added): the subject's representation stays at the top level.
pub fn with<T: serde::Serialize, U: serde::Serialize>(
    subject: &T,
    key: &str,
    value: &U,
) -> QueryResult<serde_json::Value> {
    let err = |e: serde_json::Error| diesel::result::Error::SerializationError(Box::new(e));
    let mut data = serde_json::to_value(subject).map_err(err)?;
    if let Some(map) = data.as_object_mut() {
        map.insert(key.to_string(), serde_json::to_value(value).map_err(err)?);
    }
    Ok(data)
}

/// Who reads: the reader's current scope, and whether its role reads the two lists and
/// accounts (`auth::policy::feed_audiences`).
#[derive(Debug, Clone)]
pub struct Reader {
    pub scope: Scope,
    pub audiences: Vec<Audience>,
}

type EventFilter = Box<dyn BoxableExpression<events::table, Backend, SqlType = Bool>>;

fn visible(reader: &Reader) -> EventFilter {
    let audience_in = |wanted: &[Audience]| -> Vec<&'static str> {
        wanted
            .iter()
            .filter(|a| reader.audiences.contains(a))
            .map(|a| a.as_str())
            .collect()
    };
    match &reader.scope {
        Scope::Enterprise(id) => Box::new(
            events::enterprise_id
                .assume_not_null()
                .eq(*id)
                .and(events::audience.eq_any(audience_in(&[Audience::Regulated]))),
        ),
        Scope::Subtree { reach, sectors, .. } => {
            let under = within!(
                reach,
                events::city_code,
                events::county_code,
                events::jurisdiction_code
            );
            let regulated: EventFilter = match sectors {
                None => Box::new(events::audience.eq_any(audience_in(&[Audience::Regulated]))),
                // A department's officer: regulated records of its sectors only.
                Some(s) => Box::new(
                    events::audience
                        .eq_any(audience_in(&[Audience::Regulated]))
                        .and(events::sector_code.assume_not_null().eq_any(s.clone())),
                ),
            };
            let others: EventFilter = Box::new(
                events::audience.eq_any(audience_in(&[Audience::Lists, Audience::Accounts])),
            );
            Box::new(under.and(regulated.or(others)))
        }
    }
}

/// `(tx, id) > (after.tx, after.id)`: a row comparison both databases serve from the
/// `(scope column, tx, id)` indexes.
fn after(position: Position) -> EventFilter {
    Box::new(
        sql::<Bool>("(events.tx, events.id) > (")
            .bind::<BigInt, _>(position.tx)
            .sql(", ")
            .bind::<BigInt, _>(position.id)
            .sql(")"),
    )
}

/// PostgreSQL: the oldest transaction that may still commit an event, as of this statement's
/// snapshot. That is the snapshot's oldest in-progress transaction id, passing over those
/// that `pg_stat_activity` shows working in *another* database of the cluster (transaction ids
/// are cluster-wide, and another database's long transaction must not hold this feed back); a
/// transaction that cannot be placed (it ended meanwhile, or the role may not see it) counts
/// as this database's. With nothing in progress, the snapshot's `xmax`: every transaction
/// below it has ended.
const SETTLED_BELOW: &str = "SELECT COALESCE(\
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x \
     WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a \
                       WHERE a.backend_xid IS NOT NULL \
                         AND a.backend_xid::text::bigint = (x::text::bigint & 4294967295) \
                         AND a.datname IS DISTINCT FROM current_database())), \
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint) AS bound";

#[derive(QueryableByName)]
struct Bound {
    #[diesel(sql_type = BigInt)]
    bound: i64,
}

/// Only events that can no longer be preceded by another (see the module comment). The bound
/// is read first, in a statement of its own: an earlier snapshot's bound is only lower (every
/// transaction below it had ended then), and as a value the planner can estimate it, where a
/// subquery's result made PostgreSQL walk the whole feed in position order instead of the
/// reader's scope index.
fn settled(conn: &mut AnyConnection) -> QueryResult<Option<EventFilter>> {
    match conn {
        AnyConnection::Postgresql(_) => {
            let below = diesel::sql_query(SETTLED_BELOW)
                .get_result::<Bound>(conn)?
                .bound;
            Ok(Some(Box::new(events::tx.lt(below))))
        }
        AnyConnection::Sqlite(_) => Ok(None),
    }
}

type Row = (
    i64,
    i64,
    String,
    chrono::NaiveDateTime,
    Option<i64>,
    String,
    i64,
    String,
);

type PageQuery = events::BoxedQuery<
    'static,
    Backend,
    (
        BigInt,
        BigInt,
        diesel::sql_types::Text,
        diesel::sql_types::Timestamp,
        diesel::sql_types::Nullable<BigInt>,
        diesel::sql_types::Text,
        BigInt,
        diesel::sql_types::Text,
    ),
>;

fn page_query(
    conn: &mut AnyConnection,
    reader: &Reader,
    from: Position,
    types: &[EventType],
    limit: i64,
) -> QueryResult<PageQuery> {
    let mut query = events::table
        .filter(visible(reader))
        .filter(after(from))
        .select((
            events::id,
            events::tx,
            events::event_type,
            events::occurred_at,
            events::actor_id,
            events::subject_type,
            events::subject_id,
            events::data,
        ))
        .order((events::tx, events::id))
        .limit(limit)
        .into_boxed::<Backend>();
    if let Some(settled) = settled(conn)? {
        query = query.filter(settled);
    }
    if !types.is_empty() {
        let names: Vec<&'static str> = types.iter().map(|t| t.as_str()).collect();
        query = query.filter(events::event_type.eq_any(names));
    }
    Ok(query)
}

/// The plan of a feed page (`tests/api/plans.rs` keeps every scope on its index).
pub fn page_plan(
    conn: &mut AnyConnection,
    reader: &Reader,
    from: Position,
    types: &[EventType],
    limit: i64,
) -> QueryResult<Vec<String>> {
    let query = page_query(conn, reader, from, types, limit)?;
    super::plan::explain(conn, query)
}

/// The reader's next events after `from`, oldest first; `types` empty means every type.
pub fn page(
    conn: &mut AnyConnection,
    reader: &Reader,
    from: Position,
    types: &[EventType],
    limit: i64,
) -> QueryResult<Vec<StoredEvent>> {
    let query = page_query(conn, reader, from, types, limit)?;
    let rows: Vec<Row> = query.load(conn)?;
    // The actors' usernames in one query for the page.
    let mut actor_ids: Vec<i64> = rows.iter().filter_map(|r| r.4).collect();
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let names: std::collections::HashMap<i64, String> = if actor_ids.is_empty() {
        Default::default()
    } else {
        accounts::table
            .filter(accounts::id.eq_any(&actor_ids))
            .select((accounts::id, accounts::username))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    rows.into_iter().map(|r| stored(r, &names)).collect()
}

fn stored(r: Row, names: &std::collections::HashMap<i64, String>) -> QueryResult<StoredEvent> {
    let (id, tx, event_type, occurred_at, actor_id, subject_type, subject_id, data) = r;
    Ok(StoredEvent {
        position: Position { tx, id },
        event_type: super::stored(EventType::from_stored(&event_type))?,
        occurred_at,
        actor: actor_id.map(|id| (id, names.get(&id).cloned().unwrap_or_default())),
        subject_type: super::stored(SubjectType::from_stored(&subject_type))?,
        subject_id,
        data: serde_json::from_str(&data)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?,
    })
}

/// Where retention has cut the feed: a cursor before this has missed events.
pub fn horizon(conn: &mut AnyConnection) -> QueryResult<Position> {
    let (tx, id) = event_horizon::table
        .select((event_horizon::tx, event_horizon::event_id))
        .first::<(i64, i64)>(conn)
        .optional()?
        .unwrap_or((0, 0));
    Ok(Position { tx, id })
}

/// The feed's current end for a new reader that wants only what comes next (a new webhook):
/// the last settled event, so anything still being written comes after it.
pub fn head(conn: &mut AnyConnection) -> QueryResult<Position> {
    let mut query = events::table
        .select((events::tx, events::id))
        .order((events::tx.desc(), events::id.desc()))
        .into_boxed::<Backend>();
    if let Some(settled) = settled(conn)? {
        query = query.filter(settled);
    }
    Ok(query
        .first::<(i64, i64)>(conn)
        .optional()?
        .map(|(tx, id)| Position { tx, id })
        .unwrap_or_default())
}

/// Removes the feed's oldest events, those that occurred before `cutoff`, as a prefix of the
/// feed in batches, and moves the horizon to the last one removed. Answers how many went.
pub fn purge(conn: &mut AnyConnection, cutoff: chrono::NaiveDateTime) -> QueryResult<usize> {
    let mut removed = 0;
    loop {
        let oldest: Vec<(i64, i64, chrono::NaiveDateTime)> = events::table
            .select((events::tx, events::id, events::occurred_at))
            .order((events::tx, events::id))
            .limit(1000)
            .load(conn)?;
        let expired: Vec<_> = oldest.iter().take_while(|r| r.2 < cutoff).collect();
        let Some(&&(tx, id, _)) = expired.last() else {
            return Ok(removed);
        };
        let last = Position { tx, id };
        let done = super::write_tx(conn, |c| {
            let n = diesel::delete(events::table)
                .filter(
                    sql::<Bool>("(events.tx, events.id) <= (")
                        .bind::<BigInt, _>(last.tx)
                        .sql(", ")
                        .bind::<BigInt, _>(last.id)
                        .sql(")"),
                )
                .execute(c)?;
            // The horizon only moves forward, even with two nodes purging at once.
            diesel::update(event_horizon::table)
                .filter(
                    sql::<Bool>("(event_horizon.tx, event_horizon.event_id) < (")
                        .bind::<BigInt, _>(last.tx)
                        .sql(", ")
                        .bind::<BigInt, _>(last.id)
                        .sql(")"),
                )
                .set((
                    event_horizon::tx.eq(last.tx),
                    event_horizon::event_id.eq(last.id),
                ))
                .execute(c)?;
            Ok::<_, diesel::result::Error>(n)
        })?;
        removed += done;
        if expired.len() < oldest.len() || oldest.len() < 1000 {
            return Ok(removed);
        }
    }
}

/// The place of a jurisdiction-bound subject that is not a regulated record: the two lists
/// (their owner) and accounts (their jurisdiction, or their enterprise's).
pub fn place_of_jurisdiction(conn: &mut AnyConnection, code: &str) -> QueryResult<Place> {
    let units = super::scope::units_of(conn, code)?;
    Ok(Place {
        city: units.city,
        county: units.county,
        jurisdiction: code.to_string(),
        enterprise_id: None,
        sector: None,
    })
}

/// Where an account's events belong: its jurisdiction, or its enterprise's.
pub fn place_of_account(
    conn: &mut AnyConnection,
    account: &super::accounts::AccountRow,
) -> QueryResult<Place> {
    use super::schema::enterprises as e;
    match (&account.jurisdiction_code, account.enterprise_id) {
        (Some(code), _) => place_of_jurisdiction(conn, code),
        (None, enterprise) => {
            let (jurisdiction, city, county, sector): (String, String, String, String) = e::table
                .filter(e::id.nullable().eq(enterprise))
                .select((
                    e::jurisdiction_code,
                    e::city_code,
                    e::county_code,
                    e::sector_code,
                ))
                .first(conn)?;
            // `enterprise` is the row just matched, so it is set.
            Ok(Place::regulated(
                &city,
                &county,
                &jurisdiction,
                enterprise.unwrap_or_default(),
                &sector,
            ))
        }
    }
}

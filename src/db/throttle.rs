//! Failed-login throttling, kept in the database so several nodes share it (see the
//! `login_throttle` migration). Two kinds of key:
//! - a username (`user:…`): consecutive failures lock it for a while; a success clears it;
//! - a client address (`addr:…`): failures in a one-minute window.
//!
//! Unknown usernames are counted exactly like known ones, so a lock says nothing about which
//! usernames exist.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::schema::login_throttle as lt;
use super::AnyConnection;

pub const ADDRESS_WINDOW_SECS: i64 = 60;

pub fn user_key(username: &str) -> String {
    format!("user:{username}")
}

pub fn address_key(ip: &std::net::IpAddr) -> String {
    format!("addr:{ip}")
}

#[derive(Queryable)]
struct Row {
    failures: i32,
    window_started_at: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
}

fn load(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<Row>> {
    lt::table
        .filter(lt::key.eq(key))
        .select((lt::failures, lt::window_started_at, lt::locked_until))
        .first(conn)
        .optional()
}

fn seconds_until(later: NaiveDateTime, now: NaiveDateTime) -> u64 {
    ((later - now).num_milliseconds() as f64 / 1000.0)
        .ceil()
        .max(1.0) as u64
}

/// Seconds left on a username's lock, if it is locked.
pub fn user_locked(
    conn: &mut AnyConnection,
    key: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<u64>> {
    Ok(load(conn, key)?
        .and_then(|r| r.locked_until)
        .filter(|until| *until > now)
        .map(|until| seconds_until(until, now)))
}

/// Seconds until an address may try again, if it has used up its failures for the window.
pub fn address_blocked(
    conn: &mut AnyConnection,
    key: &str,
    now: NaiveDateTime,
    max: i32,
) -> QueryResult<Option<u64>> {
    Ok(load(conn, key)?.and_then(|r| {
        let ends = r.window_started_at + Duration::seconds(ADDRESS_WINDOW_SECS);
        (r.failures >= max && ends > now).then(|| seconds_until(ends, now))
    }))
}

fn store(
    conn: &mut AnyConnection,
    key: &str,
    failures: i32,
    window: NaiveDateTime,
    locked: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let updated = diesel::update(lt::table.filter(lt::key.eq(key)))
        .set((
            lt::failures.eq(failures),
            lt::window_started_at.eq(window),
            lt::locked_until.eq(locked),
        ))
        .execute(conn)?;
    if updated > 0 {
        return Ok(());
    }
    // In a savepoint: when another node inserted the same key meanwhile, the insert fails
    // alone and the update (which now finds the row) is repeated.
    let inserted = conn.transaction(|c| {
        diesel::insert_into(lt::table)
            .values((
                lt::key.eq(key),
                lt::failures.eq(failures),
                lt::window_started_at.eq(window),
                lt::locked_until.eq(locked),
            ))
            .execute(c)
    });
    match inserted {
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => diesel::update(lt::table.filter(lt::key.eq(key)))
            .set((
                lt::failures.eq(failures),
                lt::window_started_at.eq(window),
                lt::locked_until.eq(locked),
            ))
            .execute(conn)
            .map(|_| ()),
        other => other.map(|_| ()),
    }
}

/// Counts a failure of a username: the `max`-th in a row locks it for `lockout`.
pub fn user_failed(
    conn: &mut AnyConnection,
    key: &str,
    now: NaiveDateTime,
    max: i32,
    lockout: Duration,
) -> QueryResult<()> {
    let failures = load(conn, key)?
        .filter(|r| r.locked_until.is_none_or(|u| u <= now))
        .map_or(0, |r| r.failures)
        + 1;
    if failures >= max {
        store(conn, key, 0, now, Some(now + lockout))
    } else {
        store(conn, key, failures, now, None)
    }
}

/// Counts a failure from an address within its one-minute window.
pub fn address_failed(conn: &mut AnyConnection, key: &str, now: NaiveDateTime) -> QueryResult<()> {
    match load(conn, key)? {
        Some(r) if now - r.window_started_at < Duration::seconds(ADDRESS_WINDOW_SECS) => {
            store(conn, key, r.failures + 1, r.window_started_at, None)
        }
        _ => store(conn, key, 1, now, None),
    }
}

/// Forgets a key (a successful login, a new password).
pub fn clear(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    diesel::delete(lt::table.filter(lt::key.eq(key))).execute(conn)?;
    Ok(())
}

//! Second-factor rows: an account's TOTP secret (pending until confirmed), its one-time
//! recovery codes, and the session flag saying its login passed the second factor.

use diesel::prelude::*;

use super::schema::{account_recovery_codes as rc, account_totp as t, accounts, sessions};
use super::AnyConnection;

/// `(secret, confirmed)` of the account's TOTP, if any.
pub fn get(c: &mut AnyConnection, account_id: i64) -> QueryResult<Option<(String, bool)>> {
    let row: Option<(String, Option<chrono::NaiveDateTime>)> = t::table
        .find(account_id)
        .select((t::secret, t::confirmed_at))
        .first(c)
        .optional()?;
    Ok(row.map(|(s, at)| (s, at.is_some())))
}

/// The active TOTP secret of the account named `username`, if it has one: read at sign-in
/// beside the account itself, for every username alike (known or not).
pub fn active_secret_of(c: &mut AnyConnection, username: &str) -> QueryResult<Option<String>> {
    t::table
        .inner_join(accounts::table)
        .filter(accounts::username.eq(username))
        .filter(t::confirmed_at.is_not_null())
        .select(t::secret)
        .first(c)
        .optional()
}

/// Starts (or restarts) an enrolment with `secret`; `false` if one is confirmed already.
pub fn start(c: &mut AnyConnection, account_id: i64, secret: &str) -> QueryResult<bool> {
    if get(c, account_id)?.is_some_and(|(_, confirmed)| confirmed) {
        return Ok(false);
    }
    diesel::delete(t::table.find(account_id)).execute(c)?;
    diesel::insert_into(t::table)
        .values((
            t::account_id.eq(account_id),
            t::secret.eq(secret),
            t::last_step.eq(0i64),
            t::created_at.eq(super::now()),
        ))
        .execute(c)?;
    Ok(true)
}

/// Accepts the code of `step` once: `false` when this step (or a later one) was used already.
pub fn accept_step(c: &mut AnyConnection, account_id: i64, step: i64) -> QueryResult<bool> {
    let n = diesel::update(
        t::table
            .filter(t::account_id.eq(account_id))
            .filter(t::last_step.lt(step)),
    )
    .set(t::last_step.eq(step))
    .execute(c)?;
    Ok(n == 1)
}

/// Confirms the pending enrolment and replaces the recovery codes with `code_hashes`.
pub fn confirm(c: &mut AnyConnection, account_id: i64, code_hashes: &[String]) -> QueryResult<()> {
    diesel::update(t::table.find(account_id))
        .set(t::confirmed_at.eq(super::now()))
        .execute(c)?;
    diesel::delete(rc::table.filter(rc::account_id.eq(account_id))).execute(c)?;
    // Ten rows, once per enrolment (a multi-row insert is not available on both backends).
    for h in code_hashes {
        diesel::insert_into(rc::table)
            .values((rc::account_id.eq(account_id), rc::code_hash.eq(h)))
            .execute(c)?;
    }
    Ok(())
}

/// Checks a second factor against `secret`: a TOTP `code` (its step accepted once), else a
/// recovery code (spent). `false` when neither is given or the one given is wrong or used.
pub fn pass(
    c: &mut AnyConnection,
    account_id: i64,
    secret: &str,
    code: Option<&str>,
    recovery_code: Option<&str>,
    unix_seconds: u64,
) -> QueryResult<bool> {
    match (code, recovery_code) {
        (Some(code), _) => match crate::domain::totp::matching_step(secret, code, unix_seconds) {
            Some(step) => accept_step(c, account_id, step as i64),
            None => Ok(false),
        },
        (None, Some(rc)) => {
            use_recovery_code(c, account_id, &crate::domain::totp::recovery_hash(rc))
        }
        (None, None) => Ok(false),
    }
}

/// Spends an unused recovery code; `false` if there is none with that hash.
pub fn use_recovery_code(c: &mut AnyConnection, account_id: i64, hash: &str) -> QueryResult<bool> {
    let n = diesel::update(
        rc::table
            .filter(rc::account_id.eq(account_id))
            .filter(rc::code_hash.eq(hash))
            .filter(rc::used_at.is_null()),
    )
    .set(rc::used_at.eq(super::now()))
    .execute(c)?;
    Ok(n == 1)
}

/// Recovery codes not used yet.
pub fn recovery_codes_left(c: &mut AnyConnection, account_id: i64) -> QueryResult<i64> {
    rc::table
        .filter(rc::account_id.eq(account_id))
        .filter(rc::used_at.is_null())
        .count()
        .get_result(c)
}

/// Removes the second factor and its recovery codes.
pub fn remove(c: &mut AnyConnection, account_id: i64) -> QueryResult<()> {
    diesel::delete(rc::table.filter(rc::account_id.eq(account_id))).execute(c)?;
    diesel::delete(t::table.find(account_id)).execute(c)?;
    Ok(())
}

/// Marks a session as having passed the second factor.
pub fn mark_session(c: &mut AnyConnection, session_id: &str) -> QueryResult<()> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::second_factor.eq(true))
        .execute(c)?;
    Ok(())
}

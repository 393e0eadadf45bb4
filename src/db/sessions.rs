//! Login sessions: each login starts a session; its refresh tokens rotate on every use and a
//! spent one presented again revokes the whole session (token-theft detection).

use diesel::prelude::*;

use super::schema::{accounts, department_sectors, jurisdictions, refresh_tokens as rt, sessions};
use super::AnyConnection;
use crate::auth::token::{hash_refresh_token, new_refresh_token};
use crate::auth::Principal;
use crate::domain::jurisdiction::{JurisdictionLevel, Reach};
use crate::domain::role::Role;

/// Starts a session and returns its id and first refresh token.
/// `second_factor`: the login passed the account's TOTP (or a recovery code).
pub fn start(
    conn: &mut AnyConnection,
    account_id: i64,
    ttl: chrono::Duration,
    second_factor: bool,
) -> QueryResult<(String, String)> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = super::now();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&id),
            sessions::account_id.eq(account_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(now + ttl),
            sessions::second_factor.eq(second_factor),
        ))
        .execute(conn)?;
    let refresh = issue_refresh(conn, &id, ttl)?;
    Ok((id, refresh))
}

fn issue_refresh(
    conn: &mut AnyConnection,
    session_id: &str,
    ttl: chrono::Duration,
) -> QueryResult<String> {
    let (plain, hash) = new_refresh_token();
    let now = super::now();
    diesel::insert_into(rt::table)
        .values((
            rt::token_hash.eq(hash),
            rt::session_id.eq(session_id),
            rt::issued_at.eq(now),
            rt::expires_at.eq(now + ttl),
        ))
        .execute(conn)?;
    Ok(plain)
}

pub enum Refreshed {
    Rotated {
        account_id: i64,
        session_id: String,
        refresh_token: String,
    },
    /// Unknown, expired, or belonging to an ended session or disabled account.
    Invalid,
    /// A spent token was presented again: the session has been revoked.
    Reused,
}

/// Spends a refresh token and issues its successor (call inside a write transaction).
pub fn rotate(
    conn: &mut AnyConnection,
    plain: &str,
    ttl: chrono::Duration,
) -> QueryResult<Refreshed> {
    let now = super::now();
    let hash = hash_refresh_token(plain);
    let found: Option<(String, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> = rt::table
        .filter(rt::token_hash.eq(&hash))
        .select((rt::session_id, rt::expires_at, rt::used_at))
        .first(conn)
        .optional()?;
    let Some((session_id, expires_at, used_at)) = found else {
        return Ok(Refreshed::Invalid);
    };
    if used_at.is_some() {
        revoke(conn, &session_id)?;
        return Ok(Refreshed::Reused);
    }
    let live: Option<i64> = sessions::table
        .inner_join(accounts::table)
        .filter(sessions::id.eq(&session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(accounts::disabled.eq(false))
        .select(accounts::id)
        .first(conn)
        .optional()?;
    let Some(account_id) = live.filter(|_| expires_at > now) else {
        return Ok(Refreshed::Invalid);
    };
    // Only one of two concurrent refreshes with the same token can spend it.
    let spent = diesel::update(
        rt::table
            .filter(rt::token_hash.eq(&hash))
            .filter(rt::used_at.is_null()),
    )
    .set(rt::used_at.eq(now))
    .execute(conn)?;
    if spent != 1 {
        revoke(conn, &session_id)?;
        return Ok(Refreshed::Reused);
    }
    diesel::update(sessions::table.filter(sessions::id.eq(&session_id)))
        .set(sessions::expires_at.eq(now + ttl))
        .execute(conn)?;
    let refresh_token = issue_refresh(conn, &session_id, ttl)?;
    Ok(Refreshed::Rotated {
        account_id,
        session_id,
        refresh_token,
    })
}

pub fn revoke(conn: &mut AnyConnection, session_id: &str) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(super::now()))
    .execute(conn)
}

pub fn revoke_all_of(conn: &mut AnyConnection, account_id: i64) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::account_id.eq(account_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(super::now()))
    .execute(conn)
}

/// The session id a refresh token belongs to, if it belongs to `account_id`.
pub fn session_of_refresh(
    conn: &mut AnyConnection,
    plain: &str,
    account_id: i64,
) -> QueryResult<Option<String>> {
    rt::table
        .inner_join(sessions::table)
        .filter(rt::token_hash.eq(hash_refresh_token(plain)))
        .filter(sessions::account_id.eq(account_id))
        .select(sessions::id)
        .first(conn)
        .optional()
}

/// The caller behind an access token: a live session of an enabled account.
pub fn load_principal(
    conn: &mut AnyConnection,
    account_id: i64,
    session_id: &str,
) -> QueryResult<Option<Principal>> {
    // One query: the account, its live session, its jurisdiction and its department's
    // sectors (one row per sector, or one row with none).
    let rows: Vec<PrincipalRow> = accounts::table
        .inner_join(sessions::table)
        .left_join(
            jurisdictions::table.on(accounts::jurisdiction_code.eq(jurisdictions::code.nullable())),
        )
        .left_join(
            department_sectors::table
                .on(accounts::department_id.eq(department_sectors::department_id.nullable())),
        )
        .filter(sessions::id.eq(session_id))
        .filter(accounts::id.eq(account_id))
        .filter(sessions::revoked_at.is_null())
        .filter(accounts::disabled.eq(false))
        .select((
            accounts::id,
            accounts::username,
            accounts::role,
            accounts::jurisdiction_code,
            accounts::department_id,
            accounts::enterprise_id,
            jurisdictions::path.nullable(),
            jurisdictions::level.nullable(),
            department_sectors::sector_code.nullable(),
            sessions::second_factor,
        ))
        .load(conn)?;
    principal_from(rows, session_id)
}

/// Account, session, jurisdiction and department sector, as the principal query reads them.
type PrincipalRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
);

/// The account behind a webhook, as the principal its own requests would have (without a
/// session): what its subscriptions may see now. `None` for a disabled or missing account.
pub fn account_principal(
    conn: &mut AnyConnection,
    account_id: i64,
) -> QueryResult<Option<Principal>> {
    let rows: Vec<PrincipalRow> = accounts::table
        .left_join(
            jurisdictions::table.on(accounts::jurisdiction_code.eq(jurisdictions::code.nullable())),
        )
        .left_join(
            department_sectors::table
                .on(accounts::department_id.eq(department_sectors::department_id.nullable())),
        )
        .filter(accounts::id.eq(account_id))
        .filter(accounts::disabled.eq(false))
        .select((
            accounts::id,
            accounts::username,
            accounts::role,
            accounts::jurisdiction_code,
            accounts::department_id,
            accounts::enterprise_id,
            jurisdictions::path.nullable(),
            jurisdictions::level.nullable(),
            department_sectors::sector_code.nullable(),
            diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0"),
        ))
        .load(conn)?;
    principal_from(rows, "")
}

/// The account's row (one per department sector) as a principal.
fn principal_from(rows: Vec<PrincipalRow>, session_id: &str) -> QueryResult<Option<Principal>> {
    let Some((
        id,
        username,
        role,
        jurisdiction_code,
        department_id,
        enterprise_id,
        path,
        level,
        _,
        second_factor,
    )) = rows.first().cloned()
    else {
        return Ok(None);
    };
    // An unknown stored role or level is a corrupt row (500), never "signed out".
    let role = super::stored(Role::from_stored(&role))?;
    let level = level
        .map(|l| super::stored(JurisdictionLevel::from_stored(&l)))
        .transpose()?;
    let department_sectors = match department_id {
        Some(_) if role.is_officer() => Some(rows.into_iter().filter_map(|r| r.8).collect()),
        _ => None,
    };
    let reach = match (&jurisdiction_code, level) {
        (Some(code), Some(level)) => Some(Reach::of(level, code)),
        _ => None,
    };
    Ok(Some(Principal {
        account_id: id,
        username,
        role,
        jurisdiction_code,
        jurisdiction_path: path,
        reach,
        department_id,
        department_sectors,
        enterprise_id,
        session_id: session_id.to_string(),
        request_id: String::new(),
        second_factor,
    }))
}

/// Removes sessions that ended more than a day ago, with their tokens.
pub fn purge_ended(conn: &mut AnyConnection) -> QueryResult<usize> {
    let cutoff = super::now() - chrono::Duration::days(1);
    let ended = sessions::table
        .filter(
            sessions::expires_at
                .lt(cutoff)
                .or(sessions::revoked_at.lt(cutoff)),
        )
        .select(sessions::id);
    diesel::delete(rt::table.filter(rt::session_id.eq_any(ended))).execute(conn)?;
    diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .lt(cutoff)
                .or(sessions::revoked_at.lt(cutoff)),
        ),
    )
    .execute(conn)
}

use diesel::prelude::*;

use super::schema::idempotency_keys as ik;
use super::AnyConnection;
/// The first answer to a create, kept with its key.
pub struct Stored {
    pub request_hash: String,
    pub location: String,
    pub body: serde_json::Value,
}

/// Keys are kept 24 hours: an older one is treated as absent.
pub fn find(conn: &mut AnyConnection, account_id: i64, key: &str) -> QueryResult<Option<Stored>> {
    let cutoff = super::now() - chrono::Duration::hours(24);
    let row: Option<(String, Option<String>, String)> = ik::table
        .filter(ik::account_id.eq(account_id))
        .filter(ik::key.eq(key))
        .filter(ik::created_at.gt(cutoff))
        .select((ik::request_hash, ik::location, ik::body))
        .first(conn)
        .optional()?;
    row.map(|(request_hash, location, body)| {
        Ok(Stored {
            request_hash,
            location: location.unwrap_or_default(),
            body: serde_json::from_str(&body)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?,
        })
    })
    .transpose()
}

pub fn insert(
    conn: &mut AnyConnection,
    account_id: i64,
    key: &str,
    request_hash: &str,
    location: &str,
    body: &serde_json::Value,
) -> QueryResult<()> {
    // An expired key may be reused; a live one makes the insert fail (and the caller replay).
    diesel::delete(
        ik::table
            .filter(ik::account_id.eq(account_id))
            .filter(ik::key.eq(key))
            .filter(ik::created_at.le(super::now() - chrono::Duration::hours(24))),
    )
    .execute(conn)?;
    diesel::insert_into(ik::table)
        .values((
            ik::account_id.eq(account_id),
            ik::key.eq(key),
            ik::request_hash.eq(request_hash),
            ik::status_code.eq(201),
            ik::location.eq(location),
            ik::body.eq(body.to_string()),
            ik::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Drops keys older than the retention window (called periodically by `serve`).
pub fn purge_expired(conn: &mut AnyConnection) -> QueryResult<usize> {
    let cutoff = super::now() - chrono::Duration::hours(48);
    diesel::delete(ik::table.filter(ik::created_at.lt(cutoff))).execute(conn)
}

/// Forgets the account's stored create whose answer named `location`: the resource is gone
/// (a deleted webhook), so a retry with that key creates anew instead of replaying an answer
/// that points at nothing.
pub fn forget_created(
    conn: &mut AnyConnection,
    account_id: i64,
    location: &str,
) -> QueryResult<usize> {
    use super::schema::idempotency_keys as ik;
    diesel::delete(
        ik::table
            .filter(ik::account_id.eq(account_id))
            .filter(ik::location.eq(location)),
    )
    .execute(conn)
}

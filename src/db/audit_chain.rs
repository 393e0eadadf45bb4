//! The tamper-evident audit log: a hash chain over the committed audit events.
//!
//! Writers append events as before (`audit::record`), with no lock on a chain head, so the
//! chain costs the write path nothing. The sealer ([`seal`], a background job on every node)
//! takes the events that have no chain position yet, in `seq` order, and gives each the next
//! position and `chain_hash = SHA-256(previous chain_hash ‖ the event's columns)`. One sealer
//! runs at a time (PostgreSQL: a transaction-level advisory lock; SQLite: the write lock), so
//! positions are dense: 1, 2, 3, …
//!
//! An event that commits after a later-numbered one was sealed simply gets a later position;
//! the chain is in sealing order, and every committed event ends up in it.
//!
//! [`verify`] recomputes the chain from position 1 and names the first broken link: an event
//! changed after it was sealed (its hash no longer matches), a position missing (an event
//! deleted), or a sealed event moved. The newest link's hash is logged at every seal, so a
//! copy kept outside the database (log shipping) also shows a chain cut short at its end.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::audit_events as ae;
use super::AnyConnection;
use crate::auth::token::hex;

/// The "previous hash" of position 1.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The columns a link covers, in the order they are hashed.
#[derive(Queryable, Selectable)]
#[diesel(table_name = ae)]
struct Link {
    seq: i64,
    at: chrono::NaiveDateTime,
    actor_id: Option<i64>,
    action: String,
    entity_type: String,
    entity_id: String,
    changes: String,
    request_id: Option<String>,
    jurisdiction_path: Option<String>,
    city_code: Option<String>,
    county_code: Option<String>,
    jurisdiction_code: Option<String>,
    chain_pos: Option<i64>,
    chain_hash: Option<String>,
}

/// `SHA-256(previous ‖ "\n" ‖ JSON of [position, the event's columns])`, as hex.
fn link_hash(previous: &str, position: i64, l: &Link) -> String {
    let body = serde_json::json!([
        position,
        l.seq,
        l.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        l.actor_id,
        l.action,
        l.entity_type,
        l.entity_id,
        l.changes,
        l.request_id,
        l.jurisdiction_path,
        l.city_code,
        l.county_code,
        l.jurisdiction_code,
    ]);
    let mut h = Sha256::new();
    h.update(previous.as_bytes());
    h.update(b"\n");
    h.update(body.to_string().as_bytes());
    hex(&h.finalize())
}

/// The newest link: `(position, hash)`, or `(0, GENESIS)` before the first seal.
fn head(conn: &mut AnyConnection) -> QueryResult<(i64, String)> {
    let last: Option<(Option<i64>, Option<String>)> = ae::table
        .filter(ae::chain_pos.is_not_null())
        .order(ae::chain_pos.desc())
        .select((ae::chain_pos, ae::chain_hash))
        .first(conn)
        .optional()?;
    Ok(match last {
        Some((Some(pos), Some(hash))) => (pos, hash),
        _ => (0, GENESIS.to_string()),
    })
}

/// Seals up to `batch` unsealed events in one transaction; answers how many (0 also when
/// another node's sealer holds the lock), and logs the new head.
pub fn seal(conn: &mut AnyConnection, batch: i64) -> QueryResult<usize> {
    let sealed = super::write_tx(conn, |c| {
        if matches!(c, AnyConnection::Postgresql(_)) {
            // One sealer at a time across nodes; the lock ends with the transaction. A sealer
            // that finds it taken leaves the work to the one holding it.
            let got: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "pg_try_advisory_xact_lock(4848531001)",
            ))
            .get_result(c)?;
            if !got {
                return Ok(None);
            }
        }
        let pending: Vec<Link> = ae::table
            .filter(ae::chain_pos.is_null())
            .order(ae::seq)
            .limit(batch)
            .select(Link::as_select())
            .load(c)?;
        if pending.is_empty() {
            return Ok::<_, diesel::result::Error>(None);
        }
        let (mut pos, mut hash) = head(c)?;
        let mut links = Vec::with_capacity(pending.len());
        for l in &pending {
            pos += 1;
            hash = link_hash(&hash, pos, l);
            links.push((l.seq, pos, hash.clone()));
        }
        for chunk in links.chunks(LINKS_PER_STATEMENT) {
            write_links(c, chunk)?;
        }
        Ok(Some((pending.len(), pos, hash)))
    })?;
    Ok(match sealed {
        Some((n, pos, hash)) => {
            tracing::info!(sealed = n, head.position = pos, head.hash = %hash, "audit chain sealed");
            n
        }
        None => 0,
    })
}

/// Links written by one `UPDATE` (three parameters each, well under either database's limit).
const LINKS_PER_STATEMENT: usize = 500;

/// Gives each event `(seq, position, hash)` its link, in one statement for the lot.
fn write_links(conn: &mut AnyConnection, links: &[(i64, i64, String)]) -> QueryResult<()> {
    use diesel::sql_types::{BigInt, Text};
    // Numbered parameters, as both databases read them (SQLite: in order of appearance).
    let rows = (0..links.len())
        .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE audit_events SET chain_pos = v.column2, chain_hash = v.column3 \
         FROM (VALUES {rows}) AS v WHERE audit_events.seq = v.column1"
    );
    let mut q = diesel::sql_query(sql).into_boxed();
    for (seq, pos, hash) in links {
        q = q
            .bind::<BigInt, _>(*seq)
            .bind::<BigInt, _>(*pos)
            .bind::<Text, _>(hash.clone());
    }
    let updated = q.execute(conn)?;
    if updated != links.len() {
        // Only the sealer (holding its lock) writes links, so every pending event is there.
        return Err(diesel::result::Error::RollbackTransaction);
    }
    Ok(())
}

/// What [`verify`] found.
#[derive(Debug)]
pub struct Verdict {
    /// Links checked, from position 1.
    pub checked: i64,
    /// The newest link's hash (compare it with a copy kept outside the database).
    pub head: String,
    /// Events not sealed yet (the sealer runs every `HAZREG_AUDIT_SEAL_INTERVAL_SECS`).
    pub unsealed: i64,
    /// The first broken link, if any.
    pub broken: Option<Broken>,
}

#[derive(Debug)]
pub struct Broken {
    pub position: i64,
    /// The event at that position (`None`: no event holds it; one was deleted).
    pub seq: Option<i64>,
    pub reason: String,
}

/// Recomputes the whole chain, in pages of `page` links.
pub fn verify(conn: &mut AnyConnection, page: i64) -> QueryResult<Verdict> {
    let mut previous = GENESIS.to_string();
    let mut expected = 1i64;
    let mut broken = None;
    'pages: loop {
        let links: Vec<Link> = ae::table
            .filter(ae::chain_pos.ge(expected))
            .order(ae::chain_pos)
            .limit(page)
            .select(Link::as_select())
            .load(conn)?;
        if links.is_empty() {
            break;
        }
        for l in &links {
            let pos = l.chain_pos.unwrap_or_default();
            if pos != expected {
                broken = Some(Broken {
                    position: expected,
                    seq: None,
                    reason: format!(
                        "position {expected} is missing (the next link is {pos}): an event was \
                         deleted"
                    ),
                });
                break 'pages;
            }
            let hash = link_hash(&previous, pos, l);
            if l.chain_hash.as_deref() != Some(hash.as_str()) {
                broken = Some(Broken {
                    position: pos,
                    seq: Some(l.seq),
                    reason: format!(
                        "event {} at position {pos} does not match its hash: it, or its place \
                         in the chain, was changed after it was sealed",
                        l.seq
                    ),
                });
                break 'pages;
            }
            previous = hash;
            expected += 1;
        }
    }
    let unsealed = ae::table
        .filter(ae::chain_pos.is_null())
        .count()
        .get_result(conn)?;
    Ok(Verdict {
        checked: expected - 1,
        head: previous,
        unsealed,
        broken,
    })
}

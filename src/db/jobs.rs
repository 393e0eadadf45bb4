//! Background jobs shared by several nodes: a job runs for a time slot only on the node that
//! claims that slot, in the same transaction as the work, so a slot is never run twice (the
//! primary key refuses the second claim) and a failed run frees its slot again.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::job_claims as jc;
use super::{write_tx, AnyConnection};

/// Runs `work` for `slot` of `job` if no node has claimed it yet; `Ok(true)` when this node
/// claimed and ran it. Claims older than `keep_after` are dropped on the way.
pub fn run_once(
    conn: &mut AnyConnection,
    job: &str,
    slot: i64,
    node: &str,
    keep_after: NaiveDateTime,
    work: impl FnOnce(&mut AnyConnection) -> QueryResult<()>,
) -> QueryResult<bool> {
    write_tx(conn, |c| {
        let claimed = diesel::insert_into(jc::table)
            .values((
                jc::job.eq(job),
                jc::slot.eq(slot),
                jc::node.eq(node),
                jc::claimed_at.eq(super::now()),
            ))
            .on_conflict_do_nothing();
        let inserted = match c {
            AnyConnection::Postgresql(pg) => claimed.execute(pg)?,
            AnyConnection::Sqlite(lite) => claimed.execute(lite)?,
        };
        if inserted == 0 {
            return Ok(false);
        }
        diesel::delete(
            jc::table
                .filter(jc::job.eq(job))
                .filter(jc::claimed_at.lt(keep_after)),
        )
        .execute(c)?;
        work(c)?;
        Ok(true)
    })
}

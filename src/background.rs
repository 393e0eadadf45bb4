//! Work the server does by itself, on a timer: the purge of expired idempotency keys and ended
//! sessions (one node per run, `db::jobs`), and the fold of PostgreSQL's statistics tally slots
//! (`db::stats::fold_tallies`), and the sealing of new audit events into the hash chain
//! (`db::audit_chain::seal`). Started with the server (`app::serve_shared`).

use actix_web::web;

use crate::state::AppState;

pub fn start(state: &web::Data<AppState>) {
    // Which node claimed which run is kept in `job_claims` (with this id) for a day.
    let node = uuid::Uuid::new_v4().simple().to_string();
    every(
        state,
        state.config.purge_interval,
        "purge",
        move |c, now, interval| {
            let slot = now.and_utc().timestamp() / interval.as_secs().max(1) as i64;
            crate::db::jobs::run_once(
                c,
                "purge",
                slot,
                &node,
                now - chrono::Duration::days(1),
                |c| {
                    crate::db::idempotency::purge_expired(c)?;
                    crate::db::sessions::purge_ended(c)?;
                    crate::db::hazards::purge_expired_staged(c)?;
                    Ok(())
                },
            )
        },
    );
    // Needs no claim: purges on several nodes remove the same prefix, and the horizon only
    // moves forward. "Now" is the server's clock, so tests can age the feed.
    let clock = state.clock.clone();
    let retention = chrono::Duration::from_std(state.config.event_retention)
        .unwrap_or(chrono::Duration::days(30));
    every(
        state,
        state.config.purge_interval,
        "event_purge",
        move |c, _, _| {
            let cutoff = clock.now().naive_utc() - retention;
            Ok(crate::db::events::purge(c, cutoff)? > 0)
        },
    );
    // Needs no claim: a reminder is raised once whoever scans (`db::reminders::raise`). "Today"
    // is the server's clock in Shanghai, so tests can move it.
    let clock = state.clock.clone();
    let offsets = state.config.reminder_offsets;
    every(
        state,
        state.config.reminder_interval,
        "reminders",
        move |c, _, _| Ok(crate::routes::reminders::scan(c, &offsets, clock.today())? > 0),
    );
    // Needs no claim: a slot is stored once whoever materialises it (`inspection_slots_once`).
    let clock = state.clock.clone();
    every(
        state,
        state.config.reminder_interval,
        "inspection_slots",
        move |c, _, _| {
            let local = clock.now().naive_utc() + chrono::Duration::hours(8);
            crate::db::inspections::materialise_all(c, local)?;
            Ok(false)
        },
    );
    // Needs no claim: folds on several nodes take disjoint rows (`db::stats::fold_tallies`).
    every(
        state,
        state.config.tally_fold_interval,
        "fold_tallies",
        |c, _, _| Ok(crate::db::stats::fold_tallies(c)? > 0),
    );
    // Needs no claim: sealers take turns on a lock, and each seals what the last one left.
    every(
        state,
        state.config.audit_seal_interval,
        "audit_seal",
        |c, _, _| {
            // Transactions of 1,000 events for about a second at most, well inside the
            // database bound of one run; a backlog (after an upgrade) takes several runs.
            let started = std::time::Instant::now();
            let mut sealed = 0;
            while started.elapsed() < std::time::Duration::from_secs(1) {
                match crate::db::audit_chain::seal(c, 1000)? {
                    0 => break,
                    n => sealed += n,
                }
            }
            Ok(sealed > 0)
        },
    );
}

/// Runs `work` every `interval` on the database, on this node, for as long as the server runs;
/// `work` answers whether it did anything (for the debug log). A failed run is logged and the
/// next one comes at the next tick.
fn every<F>(state: &AppState, interval: std::time::Duration, job: &'static str, work: F)
where
    F: Fn(
            &mut crate::db::AnyConnection,
            chrono::NaiveDateTime,
            std::time::Duration,
        ) -> diesel::QueryResult<bool>
        + Send
        + Sync
        + 'static,
{
    let db = state.db.clone();
    let metrics = state.metrics.clone();
    let work = std::sync::Arc::new(work);
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(interval);
        loop {
            tick.tick().await;
            let work = work.clone();
            let ran = db
                .run(move |c| {
                    work(c, crate::db::now(), interval).map_err(crate::error::ApiError::from)
                })
                .await;
            let outcome = match ran {
                Ok(true) => {
                    tracing::debug!(job, "ran");
                    "done"
                }
                Ok(false) => {
                    tracing::debug!(job, "nothing to do, or claimed by another node");
                    "idle"
                }
                Err(e) => {
                    tracing::warn!(job, error = %e, "background job failed");
                    "failed"
                }
            };
            metrics.job_runs.with_label_values(&[job, outcome]).inc();
            if outcome != "failed" {
                metrics
                    .job_last_success
                    .with_label_values(&[job])
                    .set(chrono::Utc::now().timestamp());
            }
        }
    });
}

//! The audit log's hash chain: the server seals every committed event (also those written by
//! concurrent clients while it seals), `hazard-registry audit-verify` finds the chain intact,
//! and it names the first broken link when an event is changed or deleted behind the server's
//! back.

use serde_json::json;

use crate::support::{both, uscc, TestApp};

/// Runs `audit-verify` on the test's database: (success, stdout + stderr).
fn verify(app: &TestApp) -> (bool, String) {
    crate::support::run_command(
        &["audit-verify"],
        &[("HAZREG_DATABASE_URL".into(), app.database_url.clone())],
    )
}

fn count(app: &TestApp, query: &str) -> i64 {
    app.sql_texts(query)[0].parse().expect("a count")
}

/// Waits (up to 20 s) until the sealer has sealed every event.
async fn all_sealed(app: &TestApp) {
    for _ in 0..80 {
        let unsealed = count(
            app,
            "SELECT CAST(COUNT(*) AS TEXT) AS t FROM audit_events WHERE chain_pos IS NULL",
        );
        if unsealed == 0 {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("events stayed unsealed");
}

both!(
    the_audit_chain_is_sealed_and_verified,
    env = [("HAZREG_AUDIT_SEAL_INTERVAL_SECS", "1")],
    |app| {
        let admin = app.admin().await;
        // Four clients write at once while the sealer runs every second.
        let write = |k: u32| {
            let admin = admin.clone();
            async move {
                for n in 0..5 {
                    let body = json!({
                        "uscc": uscc(200 + k * 10 + n), "name": format!("链企业{k}-{n}"),
                        "jurisdiction_code": "431302", "sector_code": "other",
                        "employees": 10, "annual_revenue_10k_yuan": 100.0
                    });
                    app.post(&admin, "/api/v1/enterprises", &body)
                        .await
                        .assert_status(201);
                }
            }
        };
        futures_util::future::join4(write(0), write(1), write(2), write(3)).await;
        all_sealed(app).await;
        let events = count(app, "SELECT CAST(COUNT(*) AS TEXT) AS t FROM audit_events");
        assert!(events >= 20, "{events} events");
        let (ok, out) = verify(app);
        assert!(ok, "{out}");
        assert!(
            out.contains(&format!("audit chain intact: {events} events checked")),
            "every event is in the chain: {out}"
        );
        assert_eq!(
            count(
                app,
                "SELECT CAST(COUNT(DISTINCT chain_pos) AS TEXT) AS t FROM audit_events"
            ),
            events,
            "one position per event"
        );

        // A backlog larger than one statement's links (and than one seal's batch) is sealed
        // in order and verifies.
        app.sql(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1200) \
             INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, changes) \
             SELECT CURRENT_TIMESTAMP, NULL, 'backlog', 'test', CAST(i AS TEXT), '{}' FROM s",
        );
        all_sealed(app).await;
        let events = count(app, "SELECT CAST(COUNT(*) AS TEXT) AS t FROM audit_events");
        assert!(events >= 1220, "{events} events");
        let (ok, out) = verify(app);
        assert!(ok, "{out}");
        assert!(
            out.contains(&format!("audit chain intact: {events} events checked")),
            "the backlog is in the chain: {out}"
        );

        // An event changed behind the server's back: its link is named.
        let seq = 5;
        let pos = count(
            app,
            &format!("SELECT CAST(chain_pos AS TEXT) AS t FROM audit_events WHERE seq = {seq}"),
        );
        let original = app.sql_texts(&format!(
            "SELECT changes AS t FROM audit_events WHERE seq = {seq}"
        ))[0]
            .clone();
        app.sql(&format!(
            "UPDATE audit_events SET changes = '{{}}' WHERE seq = {seq}"
        ));
        let (ok, out) = verify(app);
        assert!(!ok, "{out}");
        assert!(
            out.contains(&format!("BROKEN at position {pos} (event {seq})")),
            "{out}"
        );
        assert!(
            out.contains(&format!("({} links before it are intact)", pos - 1)),
            "{out}"
        );
        // Put back, intact again.
        app.sql(&format!(
            "UPDATE audit_events SET changes = '{}' WHERE seq = {seq}",
            original.replace('\'', "''")
        ));
        let (ok, out) = verify(app);
        assert!(ok, "{out}");

        // An event deleted: the gap is named.
        let gone = count(
            app,
            "SELECT CAST(chain_pos AS TEXT) AS t FROM audit_events WHERE seq = 9",
        );
        app.sql("DELETE FROM audit_events WHERE seq = 9");
        let (ok, out) = verify(app);
        assert!(!ok, "{out}");
        assert!(
            out.contains(&format!(
                "BROKEN at position {gone}: position {gone} is missing"
            )),
            "{out}"
        );
    }
);

//! Deadline reminders and escalation (SPEC §9): each kind fires once at its offset across a
//! pinned clock (Asia/Shanghai dates, midnight included), in scope, in the change feed; only
//! its addressees acknowledge it; two server processes never raise one twice.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

/// The reminders a caller reads, as (kind, subject_type, subject_id) in order.
async fn seen(app: &TestApp, token: &str, query: &str) -> Vec<(String, String, i64)> {
    let r = app
        .get(token, &format!("/api/v1/reminders?limit=200{query}"))
        .await;
    r.assert_status(200);
    r.items()
        .iter()
        .map(|x| {
            (
                x["kind"].as_str().unwrap().to_string(),
                x["subject_type"].as_str().unwrap().to_string(),
                x["subject_id"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Waits (up to 10 s) until the city admin reads `n` reminders, then two more scan periods,
/// and answers what it reads then.
async fn settle(app: &TestApp, admin: &str, n: usize) -> Vec<(String, String, i64)> {
    for _ in 0..200 {
        if seen(app, admin, "").await.len() >= n {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(2200)).await;
    seen(app, admin, "").await
}

/// Everyone signed in again (after the clock jumps past their tokens):
/// (admin, officer, county_admin, sibling, auditor, ent).
async fn people(app: &TestApp) -> (String, String, String, String, String, String) {
    (
        app.admin().await,
        app.login("lx.officer", PASSWORD).await,
        app.login("lx.admin", PASSWORD).await,
        app.login("sf.officer", PASSWORD).await,
        app.login("auditor", PASSWORD).await,
        app.login("ent.a", PASSWORD).await,
    )
}

fn reminder<'a>(items: &'a [Value], kind: &str, subject: (&str, i64)) -> &'a Value {
    items
        .iter()
        .find(|x| {
            x["kind"] == kind && x["subject_type"] == subject.0 && x["subject_id"] == subject.1
        })
        .unwrap_or_else(|| panic!("no {kind} reminder for {subject:?}"))
}

both!(
    reminders_fire_once_at_each_offset_and_go_to_their_addressees,
    env = [("HAZREG_REMINDER_INTERVAL_SECS", "1")],
    |app| {
        app.set_now("2026-11-25T08:00:00Z");
        let admin = app.admin().await;
        let enterprise = app
            .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
            .await;
        let (_, officer) = app
            .regulator(&admin, "lx.officer", "county_officer", "431302")
            .await;
        let (_, county_admin) = app
            .regulator(&admin, "lx.admin", "county_admin", "431302")
            .await;
        app.regulator(&admin, "sf.officer", "county_officer", "431321")
            .await;
        app.regulator(&admin, "auditor", "auditor", "431300").await;
        app.account(
            &admin,
            "ent.a",
            "enterprise",
            json!({"enterprise_id": enterprise}),
        )
        .await;
        // A: rectifying, deadline 2026-12-05. B: no deadline. C: major, listed until 12-10.
        let a = app
            .post(
                &officer,
                "/api/v1/hazards",
                &five_fixes(
                    hazard_body(Some(enterprise), "general", "2026-11-20"),
                    "2026-12-05",
                ),
            )
            .await;
        a.assert_status(201);
        let a = a.id();
        app.post(
            &officer,
            "/api/v1/hazards",
            &hazard_body(Some(enterprise), "general", "2026-11-20"),
        )
        .await
        .assert_status(201);
        let c = app
            .post(
                &officer,
                "/api/v1/hazards",
                &major_documents(five_fixes(
                    hazard_body(Some(enterprise), "major", "2026-11-20"),
                    "2026-12-31",
                )),
            )
            .await;
        c.assert_status(201);
        let c = c.id();
        let listing = app
            .post(
                &county_admin,
                "/api/v1/listings",
                &json!({
                    "hazard_id": c, "level": "county", "notice_no": "娄星安委办督〔2026〕9号",
                    "requirements": "限期整改", "responsible_unit": "华兴化工",
                    "deadline": "2026-12-10"
                }),
            )
            .await;
        listing.assert_status(201);
        let listing = listing.id();

        // 2026-12-01 23:59 in Shanghai: four days before A's deadline, nothing yet.
        app.set_now("2026-12-01T15:59:00Z");
        let admin = app.admin().await;
        assert!(settle(app, &admin, 1).await.is_empty());
        // One minute later it is 12-02 in Shanghai, three days before: due soon, once.
        app.set_now("2026-12-01T16:00:00Z");
        let (admin, ent) = (app.admin().await, app.login("ent.a", PASSWORD).await);
        let now = settle(app, &admin, 1).await;
        assert_eq!(now, vec![("due_soon".into(), "hazard".into(), a)]);
        let r = app.get(&ent, "/api/v1/reminders").await;
        let due_soon = r.items()[0].clone();
        assert_eq!(due_soon["addressee"], "enterprise");
        assert_eq!(due_soon["deadline"], "2026-12-05");
        assert_eq!(due_soon["fire_on"], "2026-12-02");
        assert_eq!(due_soon["state"], "open");
        assert_eq!(due_soon["subject_code"], "431302-2026-00001");

        // 12-07 in Shanghai: A is overdue (to the county); the listing is due soon (12-10).
        app.set_now("2026-12-06T16:30:00Z");
        let admin = app.admin().await;
        let now = settle(app, &admin, 3).await;
        assert_eq!(
            now,
            vec![
                ("due_soon".into(), "hazard".into(), a),
                ("overdue".into(), "hazard".into(), a),
                ("due_soon".into(), "listing".into(), listing),
            ]
        );
        // 12-12: A escalated to the city (D+7); the listing overdue (D+1), not yet escalated.
        app.set_now("2026-12-12T01:00:00Z");
        let (admin, officer, _, sibling, auditor, ent) = people(app).await;
        let now = settle(app, &admin, 5).await;
        assert_eq!(now.len(), 5, "{now:?}");
        assert!(now.contains(&("escalated".into(), "hazard".into(), a)));
        assert!(now.contains(&("overdue".into(), "listing".into(), listing)));
        let all = app.get(&admin, "/api/v1/reminders").await;
        let items = all.items().clone();
        assert_eq!(
            reminder(&items, "escalated", ("hazard", a))["addressee"],
            "city"
        );
        assert_eq!(
            reminder(&items, "escalated", ("hazard", a))["fire_on"],
            "2026-12-12"
        );
        assert_eq!(
            reminder(&items, "overdue", ("listing", listing))["subject_code"],
            "娄星安委办督〔2026〕9号"
        );

        // Scope and addressees: the enterprise reads only its due-soon reminders; another
        // county none; the auditor all.
        assert_eq!(
            seen(app, &ent, "").await,
            vec![
                ("due_soon".into(), "hazard".into(), a),
                ("due_soon".into(), "listing".into(), listing)
            ]
        );
        assert!(seen(app, &sibling, "").await.is_empty());
        assert_eq!(seen(app, &auditor, "").await.len(), 5);
        assert_eq!(seen(app, &officer, "&kind=overdue").await.len(), 2);
        assert_eq!(seen(app, &ent, "&kind=overdue").await.len(), 0);
        assert_eq!(
            seen(app, &officer, "&subject_type=listing&state=open")
                .await
                .len(),
            2
        );
        let overdue_a = reminder(&items, "overdue", ("hazard", a))["id"]
            .as_i64()
            .unwrap();
        app.get(&ent, &format!("/api/v1/reminders/{overdue_a}"))
            .await
            .assert_problem(404, "not_found");
        app.get(&sibling, &format!("/api/v1/reminders/{overdue_a}"))
            .await
            .assert_problem(404, "not_found");

        // The feed: every raise once; the enterprise reads its own kind only.
        let feed = app
            .get(&admin, "/api/v1/events?types=reminder.raised&limit=100")
            .await;
        feed.assert_status(200);
        assert_eq!(feed.items().len(), 5);
        let ent_feed = app
            .get(&ent, "/api/v1/events?types=reminder.raised&limit=100")
            .await;
        assert_eq!(ent_feed.items().len(), 2);

        // Acknowledging: only addressees.
        let ack = |token: &str, id: i64| {
            let (app, token) = (app, token.to_string());
            async move {
                app.post(
                    &token,
                    &format!("/api/v1/reminders/{id}/acknowledge"),
                    &json!({}),
                )
                .await
            }
        };
        let due_a = reminder(&items, "due_soon", ("hazard", a))["id"]
            .as_i64()
            .unwrap();
        let escalated_a = reminder(&items, "escalated", ("hazard", a))["id"]
            .as_i64()
            .unwrap();
        ack(&auditor, due_a).await.assert_problem(403, "forbidden");
        ack(&sibling, due_a).await.assert_problem(404, "not_found");
        ack(&ent, overdue_a).await.assert_problem(404, "not_found");
        ack(&officer, escalated_a)
            .await
            .assert_problem(403, "forbidden");
        let r = ack(&ent, due_a).await;
        r.assert_status(200);
        assert_eq!(r.body["state"], "acknowledged");
        let first_by = r.body["acknowledged_by"].clone();
        let r = ack(&officer, due_a).await;
        r.assert_status(200);
        assert_eq!(
            r.body["acknowledged_by"], first_by,
            "the first acknowledgement stays"
        );
        ack(&officer, overdue_a).await.assert_status(200);
        ack(&admin, escalated_a).await.assert_status(200);
        assert_eq!(seen(app, &admin, "&state=acknowledged").await.len(), 3);
        assert_eq!(seen(app, &admin, "&state=open").await.len(), 2);
        let acks = app
            .get(
                &admin,
                "/api/v1/events?types=reminder.acknowledged&limit=100",
            )
            .await;
        assert_eq!(acks.items().len(), 3, "one event per acknowledgement");

        // Bad input.
        for bad in [
            "kind=late",
            "state=done",
            "subject_type=enterprise",
            "colour=red",
        ] {
            app.get(&admin, &format!("/api/v1/reminders?{bad}"))
                .await
                .assert_problem(400, "invalid_query");
        }
        ack(&admin, 999_999).await.assert_problem(404, "not_found");
        // Months later: what was raised is not raised again; what came due since is (the
        // listing's escalation, and the major hazard's own deadline of 12-31 passed).
        app.set_now("2027-03-01T01:00:00Z");
        let admin = app.admin().await;
        let now = settle(app, &admin, 8).await;
        assert_eq!(now.len(), 8, "{now:?}");
        assert!(now.contains(&("escalated".into(), "listing".into(), listing)));
        assert!(now.contains(&("overdue".into(), "hazard".into(), c)));
        assert!(now.contains(&("escalated".into(), "hazard".into(), c)));
    }
);

both!(
    a_backlog_is_raised_in_batches_each_reminder_with_its_event,
    env = [("HAZREG_REMINDER_INTERVAL_SECS", "1")],
    |app| {
        // More hazards than one raising transaction takes (1,000) and than one multi-row
        // event INSERT writes (500): the scan works through them in batches.
        const N: usize = 1_050;
        app.set_now("2026-11-25T08:00:00Z");
        let admin = app.admin().await;
        let enterprise = app
            .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
            .await;
        let body = five_fixes(
            hazard_body(Some(enterprise), "general", "2026-11-20"),
            "2026-12-05",
        );
        let mut hazards = Vec::new();
        for chunk in (0..N).collect::<Vec<_>>().chunks(25) {
            let sent = chunk
                .iter()
                .map(|_| app.post(&admin, "/api/v1/hazards", &body));
            for r in futures_util::future::join_all(sent).await {
                r.assert_status(201);
                hazards.push(r.id());
            }
        }
        // 12-02 in Shanghai, three days before every deadline: N reminders come due at once.
        app.set_now("2026-12-01T16:00:00Z");
        let admin = app.admin().await;
        let mut reminders = Vec::new();
        for _ in 0..200 {
            reminders = collect(app, &admin, "/api/v1/reminders?kind=due_soon&limit=200").await;
            if reminders.len() >= N {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let mut subjects: Vec<i64> = reminders
            .iter()
            .map(|r| r["subject_id"].as_i64().unwrap())
            .collect();
        subjects.sort_unstable();
        hazards.sort_unstable();
        assert!(
            subjects == hazards,
            "one due_soon reminder per hazard: {} of {N}",
            subjects.len()
        );
        // Each reminder has exactly one event, carrying the reminder as its GET answers.
        let events = collect(
            app,
            &admin,
            "/api/v1/events?types=reminder.raised&limit=200",
        )
        .await;
        assert_eq!(events.len(), N);
        let mut by_event: Vec<(i64, String)> = events
            .iter()
            .map(|e| {
                assert_eq!(e["subject"]["type"], "reminder");
                assert!(e["actor"].is_null(), "raised by the server itself");
                assert_eq!(e["data"]["id"], e["subject"]["id"]);
                (
                    e["subject"]["id"].as_i64().unwrap(),
                    e["data"]["subject_code"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        by_event.sort_unstable();
        let mut by_reminder: Vec<(i64, String)> = reminders
            .iter()
            .map(|r| {
                (
                    r["id"].as_i64().unwrap(),
                    r["subject_code"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        by_reminder.sort_unstable();
        assert!(
            by_event == by_reminder,
            "each reminder's event carries that reminder"
        );
        // The enterprise reads its due_soon reminders' events too (audience `regulated`).
        let (_, ent) = app
            .account(
                &admin,
                "ent.a",
                "enterprise",
                json!({"enterprise_id": enterprise}),
            )
            .await;
        let seen = collect(app, &ent, "/api/v1/events?types=reminder.raised&limit=200").await;
        assert_eq!(seen.len(), N);
    }
);

/// Every item of a paged list (the change feed's end is an empty page with a cursor).
async fn collect(app: &TestApp, token: &str, first: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut next = first.to_string();
    loop {
        let r = app.get(token, &next).await;
        r.assert_status(200);
        all.extend(r.items().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(cur) if !r.items().is_empty() => next = format!("{first}&cursor={cur}"),
            _ => return all,
        }
    }
}

/// Two server processes on one PostgreSQL, both scanning every second with the real clock:
/// every reminder is raised once, with one feed event.
#[actix_web::test]
async fn two_processes_raise_each_reminder_once() {
    use crate::support::{becomes_ready, Backend, Node, ScratchDatabase, ADMIN_PASSWORD};
    let Some(db) = ScratchDatabase::create("hazreg_remind") else {
        return;
    };
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let dir = std::env::temp_dir().join(format!("hazreg-remind-{}", uuid::Uuid::new_v4().simple()));
    let env = [
        (
            "HAZREG_JWT_SECRET",
            "two-nodes-secret-two-nodes-secret-0123456789",
        ),
        ("HAZREG_REMINDER_INTERVAL_SECS", "1"),
    ];
    let (_node_a, a) = Node::start(&dir.join("a"), &url, &env);
    let (_node_b, b) = Node::start(&dir.join("b"), &url, &env);
    let app = TestApp::spawn(Backend::Sqlite).await.expect("checker");
    let client = reqwest::Client::new();
    assert!(becomes_ready(&app, &client, &a).await && becomes_ready(&app, &client, &b).await);
    let r = app
        .send(
            client
                .post(format!("{a}/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let r = app
        .send(
            client
                .post(format!("{a}/api/v1/enterprises"))
                .bearer_auth(&token)
                .json(&enterprise_body(&uscc(1), "431302", "other")),
        )
        .await;
    r.assert_status(201);
    let enterprise = r.id();
    // Deadlines from today in Shanghai: 40 hazards due in two days, 40 ten days overdue.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let mut bodies = Vec::new();
    for i in 0..80 {
        let deadline = if i < 40 {
            today + chrono::Duration::days(2)
        } else {
            today - chrono::Duration::days(10)
        };
        let discovered = (deadline - chrono::Duration::days(1)).min(today);
        bodies.push(five_fixes(
            hazard_body(Some(enterprise), "general", &discovered.to_string()),
            &deadline.to_string(),
        ));
    }
    for (i, body) in bodies.iter().enumerate() {
        let base = if i % 2 == 0 { &a } else { &b };
        app.send(
            client
                .post(format!("{base}/api/v1/hazards"))
                .bearer_auth(&token)
                .json(body),
        )
        .await
        .assert_status(201);
    }
    // 40 due soon + 40 overdue + 40 escalated.
    let count = |path: String| {
        let (app, client, token) = (&app, client.clone(), token.clone());
        async move {
            let mut n = 0;
            let mut next = format!("{path}&limit=200");
            loop {
                let r = app.send(client.get(&next).bearer_auth(&token)).await;
                r.assert_status(200);
                n += r.items().len();
                // (The change feed always answers a cursor: its end is an empty page.)
                match r.body["next_cursor"].as_str() {
                    Some(cur) if !r.items().is_empty() => {
                        next = format!("{path}&limit=200&cursor={cur}")
                    }
                    _ => return n,
                }
            }
        }
    };
    let mut got = 0;
    for _ in 0..200 {
        got = count(format!("{a}/api/v1/reminders?state=open")).await;
        if got >= 120 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got, 120);
    // Both processes keep scanning: nothing more comes.
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(count(format!("{b}/api/v1/reminders?state=open")).await, 120);
    for kind in ["due_soon", "overdue", "escalated"] {
        assert_eq!(
            count(format!("{a}/api/v1/reminders?kind={kind}")).await,
            40,
            "{kind}"
        );
    }
    assert_eq!(
        count(format!("{b}/api/v1/events?types=reminder.raised")).await,
        120,
        "one feed event per reminder"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! The change feed (`GET /api/v1/events`, SPEC §8): what it carries, scope at read time,
//! no gaps and no duplicates under concurrent writers, retention.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Value};

use crate::support::{both, five_fixes, hazard_body, png, uscc, Backend, TestApp};

/// Every event after `cursor` the token can see (following `next_cursor` to the end), and the
/// cursor to poll with next.
async fn drain(
    app: &TestApp,
    token: &str,
    cursor: Option<&str>,
    types: &str,
) -> (Vec<Value>, String) {
    let mut out = Vec::new();
    let mut cursor = cursor.map(str::to_string);
    loop {
        let mut path = format!("/api/v1/events?limit=7{types}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(token, &path).await;
        r.assert_status(200);
        let next = r.body["next_cursor"]
            .as_str()
            .expect("next_cursor is always a string")
            .to_string();
        let items = r.items().clone();
        if items.is_empty() {
            if let Some(c) = &cursor {
                assert_eq!(&next, c, "an empty page keeps the cursor");
            }
            return (out, next);
        }
        out.extend(items);
        cursor = Some(next);
    }
}

fn types_of(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn subjects(events: &[Value], kind: &str) -> BTreeSet<i64> {
    events
        .iter()
        .filter(|e| e["subject"]["type"] == kind)
        .filter_map(|e| e["subject"]["id"].as_i64())
        .collect()
}

both!(the_feed_carries_each_change_with_its_subject, |app| {
    let admin = app.admin().await;
    let (_, officer) = app
        .regulator(&admin, "ev.officer", "county_officer", "431302")
        .await;
    let (_, start) = drain(app, &admin, None, "").await;

    let enterprise = app
        .enterprise(&officer, &uscc(7001), "431302", "hazardous_chemicals")
        .await;
    let r = app
        .post(
            &officer,
            "/api/v1/hazards",
            &five_fixes(
                hazard_body(Some(enterprise), "general", "2026-11-20"),
                "2030-01-10",
            ),
        )
        .await;
    r.assert_status(201);
    let hazard = r.id();
    let etag = app
        .get(&officer, &format!("/api/v1/hazards/{hazard}"))
        .await
        .etag();
    let r = app
        .patch(
            &officer,
            &format!("/api/v1/hazards/{hazard}"),
            Some(&etag),
            &json!({"location": "二号配电室"}),
        )
        .await;
    r.assert_status(200);
    // A PATCH that changes nothing publishes nothing.
    let etag = r.etag();
    app.patch(
        &officer,
        &format!("/api/v1/hazards/{hazard}"),
        Some(&etag),
        &json!({"location": "二号配电室"}),
    )
    .await
    .assert_status(200);
    app.upload(&officer, hazard, "after", "after.png", png())
        .await
        .assert_status(201);
    let r = app
        .post(
            &officer,
            &format!("/api/v1/hazards/{hazard}/extensions"),
            &json!({"new_deadline": "2030-02-10", "reason": "设备到货延迟"}),
        )
        .await;
    r.assert_status(201);
    let extension = r.id();
    app.post(
        &admin,
        &format!("/api/v1/hazards/{hazard}/extensions/{extension}/decision"),
        &json!({"decision": "approve", "note": "同意"}),
    )
    .await
    .assert_status(200);
    app.act(
        &officer,
        hazard,
        json!({"action": "submit_for_acceptance", "note": "已整改"}),
    )
    .await
    .assert_status(200);
    let r = app
        .post(
            &admin,
            "/api/v1/problem-items",
            &json!({"owner_jurisdiction_code": "431302", "title": "配电室管理", "description": "多家企业未配绝缘垫",
                    "responsible_unit": "娄星区应急管理局", "deadline": "2030-03-01", "hazard_ids": [hazard]}),
        )
        .await;
    r.assert_status(201);
    let problem = r.id();

    let (events, end) = drain(app, &admin, Some(&start), "").await;
    assert_eq!(
        types_of(&events),
        [
            "enterprise.created",
            "hazard.created",
            "hazard.updated",
            "hazard.attachment_added",
            "hazard.extension_requested",
            "hazard.extension_decided",
            "hazard.transitioned",
            "problem_item.created",
        ],
        "{events:#?}"
    );
    // Ids are unique, the actor is named, and `data` is the subject as its GET answers it
    // (for the last change of each subject, equal to what GET answers now).
    let ids: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), events.len());
    assert_eq!(events[0]["actor"]["username"], "ev.officer");
    assert!(events[0]["occurred_at"]
        .as_str()
        .unwrap_or_default()
        .ends_with('Z'));
    assert_eq!(
        events[0]["subject"],
        json!({"type": "enterprise", "id": enterprise})
    );
    let got = app
        .get(&admin, &format!("/api/v1/enterprises/{enterprise}"))
        .await;
    assert_eq!(events[0]["data"], got.body);
    let transition = &events[6];
    assert_eq!(transition["data"]["action"], "submit_for_acceptance");
    assert_eq!(transition["data"]["status"], "pending_acceptance");
    let mut data = transition["data"].clone();
    data.as_object_mut().map(|o| o.remove("action"));
    let now = app.get(&admin, &format!("/api/v1/hazards/{hazard}")).await;
    assert_eq!(data, now.body);
    assert_eq!(events[2]["data"]["location"], "二号配电室");
    assert_eq!(events[3]["data"]["attachment"]["stage"], "after");
    assert_eq!(events[4]["data"]["extension"]["status"], "pending");
    assert_eq!(events[5]["data"]["extension"]["status"], "approved");
    assert_eq!(events[5]["data"]["rectification_deadline"], "2030-02-10");
    assert_eq!(events[7]["data"]["hazard_ids"], json!([hazard]));
    let item = app
        .get(&admin, &format!("/api/v1/problem-items/{problem}"))
        .await;
    assert_eq!(events[7]["data"], item.body);

    // Filters by type; the cursor resumes exactly after the last event read.
    let (only, _) = drain(
        app,
        &admin,
        Some(&start),
        "&types=hazard.created,hazard.transitioned",
    )
    .await;
    assert_eq!(types_of(&only), ["hazard.created", "hazard.transitioned"]);
    let (rest, _) = drain(app, &admin, Some(&end), "").await;
    assert!(rest.is_empty());

    // Bad input: 400 problem+json, never a 500.
    for types in ["hazard.exploded", "", "hazard.created,,hazard.updated"] {
        app.get(&admin, &format!("/api/v1/events?types={types}"))
            .await
            .assert_problem(400, "invalid_query");
    }
    app.get(&admin, "/api/v1/events?limit=0")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&admin, "/api/v1/events?limit=201")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&admin, "/api/v1/events?colour=red")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&admin, "/api/v1/events?cursor=not-a-cursor")
        .await
        .assert_problem(400, "invalid_cursor");
    app.get(&admin, "/api/v1/events?cursor=%00%01")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&admin, "/api/v1/events?types=%00")
        .await
        .assert_problem(400, "invalid_query");
    let long = "x".repeat(10_000);
    app.get(&admin, &format!("/api/v1/events?cursor={long}"))
        .await
        .assert_problem(400, "invalid_cursor");
    let r = app.send(app.client.get(app.url("/api/v1/events"))).await;
    r.assert_problem(401, "unauthorized");
});

both!(the_feed_follows_each_readers_scope, |app| {
    let admin = app.admin().await;
    let (_, louxing) = app
        .regulator(&admin, "ev.louxing", "county_officer", "431302")
        .await;
    let (louxing_admin_id, louxing_admin) = app
        .regulator(&admin, "ev.louxing.admin", "county_admin", "431302")
        .await;
    let (_, shuangfeng) = app
        .regulator(&admin, "ev.shuangfeng", "county_officer", "431321")
        .await;
    let (_, auditor) = app
        .regulator(&admin, "ev.auditor", "auditor", "431300")
        .await;
    let dept = app
        .department_id(&admin, "市住房和城乡建设局（市人防办）")
        .await;
    let (_, builder_officer) = app
        .account(
            &admin,
            "ev.construction",
            "city_officer",
            json!({"jurisdiction_code": "431300", "department_id": dept}),
        )
        .await;
    let foreign = app.foreign_admin().await;
    let (_, foreign_from) = drain(app, &foreign, None, "").await;

    let (_, from) = drain(app, &admin, None, "").await;
    let chem = app
        .enterprise(&admin, &uscc(7101), "431302", "hazardous_chemicals")
        .await;
    let site = app
        .enterprise(&admin, &uscc(7102), "431302", "construction")
        .await;
    let other = app
        .enterprise(&admin, &uscc(7103), "431321", "hazardous_chemicals")
        .await;
    let (_, chem_user) = app
        .account(
            &admin,
            "ev.chem",
            "enterprise",
            json!({"enterprise_id": chem}),
        )
        .await;
    let mut hazards = HashMap::new();
    for e in [chem, site, other] {
        let r = app
            .post(
                &admin,
                "/api/v1/hazards",
                &hazard_body(Some(e), "general", "2026-11-20"),
            )
            .await;
        r.assert_status(201);
        hazards.insert(e, r.id());
    }
    app.post(
        &admin,
        "/api/v1/problem-items",
        &json!({"owner_jurisdiction_code": "431302", "title": "清单", "description": "说明",
                "responsible_unit": "娄星区", "deadline": "2030-03-01"}),
    )
    .await
    .assert_status(201);

    let seen = |events: &[Value]| -> (BTreeSet<i64>, BTreeSet<i64>, usize, usize) {
        (
            subjects(events, "enterprise"),
            subjects(events, "hazard"),
            subjects(events, "problem_item").len(),
            subjects(events, "account").len(),
        )
    };
    // City admin: everything in the city.
    let (all, _) = drain(app, &admin, Some(&from), "").await;
    let (e, h, lists, accounts) = seen(&all);
    assert_eq!(e, BTreeSet::from([chem, site, other]));
    assert_eq!(h, hazards.values().copied().collect());
    assert_eq!((lists, accounts), (1, 1));
    // A county officer: its county's records and lists; no accounts.
    let (mine, _) = drain(app, &louxing, Some(&from), "").await;
    let (e, h, lists, accounts) = seen(&mine);
    assert_eq!(e, BTreeSet::from([chem, site]));
    assert_eq!(h, BTreeSet::from([hazards[&chem], hazards[&site]]));
    assert_eq!((lists, accounts), (1, 0));
    // Its county admin also reads the county's accounts.
    let (mine, _) = drain(app, &louxing_admin, Some(&from), "").await;
    assert_eq!(seen(&mine).3, 1);
    // The other county sees only its own.
    let (theirs, _) = drain(app, &shuangfeng, Some(&from), "").await;
    let (e, h, lists, accounts) = seen(&theirs);
    assert_eq!(e, BTreeSet::from([other]));
    assert_eq!(h, BTreeSet::from([hazards[&other]]));
    assert_eq!((lists, accounts), (0, 0));
    // A department's officer: its sectors only (construction), and the lists.
    let (dept_events, _) = drain(app, &builder_officer, Some(&from), "").await;
    let (e, h, lists, _) = seen(&dept_events);
    assert_eq!(e, BTreeSet::from([site]));
    assert_eq!(h, BTreeSet::from([hazards[&site]]));
    assert_eq!(lists, 1);
    // An enterprise: its own records, no lists, no accounts.
    let (own, _) = drain(app, &chem_user, Some(&from), "").await;
    let (e, h, lists, accounts) = seen(&own);
    assert_eq!(e, BTreeSet::from([chem]));
    assert_eq!(h, BTreeSet::from([hazards[&chem]]));
    assert_eq!((lists, accounts), (0, 0));
    // The auditor: everything in the city, accounts included.
    let (audited, _) = drain(app, &auditor, Some(&from), "").await;
    assert_eq!(audited.len(), all.len());
    // Another city: nothing of this one.
    let (elsewhere, _) = drain(app, &foreign, Some(&foreign_from), "").await;
    assert!(elsewhere.is_empty(), "{elsewhere:#?}");

    // Scope is the account's now: move the county admin to the other county, and its feed
    // (same token, same cursor) shows that county instead.
    let etag = app
        .get(&admin, &format!("/api/v1/accounts/{louxing_admin_id}"))
        .await
        .etag();
    app.patch(
        &admin,
        &format!("/api/v1/accounts/{louxing_admin_id}"),
        Some(&etag),
        &json!({"jurisdiction_code": "431321"}),
    )
    .await
    .assert_status(200);
    let (moved, _) = drain(app, &louxing_admin, Some(&from), "&types=hazard.created").await;
    assert_eq!(
        subjects(&moved, "hazard"),
        BTreeSet::from([hazards[&other]])
    );
});

both!(concurrent_writers_leave_no_gap_and_no_duplicate, |app| {
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(7201), "431302", "industry_trade")
        .await;
    let (_, start) = drain(app, &admin, None, "").await;
    let writers = 6;
    let per_writer = 12;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let write = |n: usize| {
        let admin = admin.clone();
        async move {
            let mut ids = Vec::new();
            for i in 0..per_writer {
                let mut body = hazard_body(Some(enterprise), "general", "2026-11-20");
                body["title"] = json!(format!("并发 {n}-{i}"));
                let r = app.post(&admin, "/api/v1/hazards", &body).await;
                r.assert_status(201);
                ids.push(r.id());
            }
            ids
        }
    };
    // One reader follows the feed while the writers write, as a client polling would.
    let reader = {
        let admin = admin.clone();
        let done = done.clone();
        let start = start.clone();
        async move {
            let mut seen = Vec::new();
            let mut cursor = start;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let (page, next) = drain(app, &admin, Some(&cursor), "&types=hazard.created").await;
                seen.extend(page);
                cursor = next;
                if finished {
                    return seen;
                }
                actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    let writes = async {
        let all = futures_util::future::join_all((0..writers).map(write)).await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        all
    };
    let (created, seen) = futures_util::future::join(writes, reader).await;
    let created: BTreeSet<i64> = created.into_iter().flatten().collect();
    assert_eq!(created.len(), writers * per_writer);
    let seen_ids: Vec<i64> = seen
        .iter()
        .filter_map(|e| e["subject"]["id"].as_i64())
        .collect();
    let unique: BTreeSet<i64> = seen_ids.iter().copied().collect();
    assert_eq!(seen_ids.len(), unique.len(), "an event was delivered twice");
    assert_eq!(unique, created, "the polling reader missed an event");

    if app.backend == Backend::Postgres {
        a_transaction_that_commits_late_is_not_passed(app, &admin, enterprise).await;
    }
});

/// The case a naive `id > cursor` reader gets wrong: an event whose id was taken before
/// others but which commits after them. A transaction outside the server takes an event id
/// and stays open while the API writes; the feed holds back what follows it, and once it
/// commits the reader gets it, then the rest, each once.
async fn a_transaction_that_commits_late_is_not_passed(
    app: &TestApp,
    admin: &str,
    enterprise: i64,
) {
    use diesel::{Connection, RunQueryDsl};
    let (_, start) = drain(app, admin, None, "").await;
    let mut late = diesel::PgConnection::establish(&app.database_url).expect("connect");
    diesel::sql_query("BEGIN").execute(&mut late).unwrap();
    diesel::sql_query(format!(
        "INSERT INTO events (type, occurred_at, subject_type, subject_id, audience, city_code, \
         county_code, jurisdiction_code, enterprise_id, sector_code, data) \
         VALUES ('enterprise.updated', now(), 'enterprise', {enterprise}, 'regulated', '431300', \
         '431302', '431302', {enterprise}, 'industry_trade', '{{\"late\": true}}')"
    ))
    .execute(&mut late)
    .unwrap();
    let mut created = Vec::new();
    for i in 0..3 {
        let mut body = hazard_body(Some(enterprise), "general", "2026-11-20");
        body["title"] = json!(format!("之后 {i}"));
        let r = app.post(admin, "/api/v1/hazards", &body).await;
        r.assert_status(201);
        created.push(r.id());
    }
    // The later events have committed, but the open transaction's earlier event has not:
    // the reader waits for it instead of passing it.
    let (held, cursor) = drain(app, admin, Some(&start), "").await;
    assert!(
        held.is_empty(),
        "the feed passed an uncommitted earlier event: {held:#?}"
    );
    assert_eq!(cursor, start);
    diesel::sql_query("COMMIT").execute(&mut late).unwrap();
    let (after, _) = drain(app, admin, Some(&cursor), "").await;
    assert_eq!(after.len(), 4, "{after:#?}");
    assert_eq!(after[0]["data"], json!({"late": true}));
    assert_eq!(
        after[1..]
            .iter()
            .filter_map(|e| e["subject"]["id"].as_i64())
            .collect::<Vec<_>>(),
        created
    );
}

both!(
    a_cursor_past_the_retention_answers_410,
    env = [
        ("HAZREG_EVENT_RETENTION_DAYS", "1"),
        ("HAZREG_PURGE_INTERVAL_SECS", "1"),
    ],
    |app| {
        let admin = app.admin().await;
        let (_, start) = drain(app, &admin, None, "").await;
        app.enterprise(&admin, &uscc(7301), "431302", "industry_trade")
            .await;
        let (old, stale) = drain(app, &admin, Some(&start), "").await;
        assert_eq!(old.len(), 1);
        // Two days later the purge removes the old events; a cursor before them is gone.
        app.advance(std::time::Duration::from_secs(2 * 86_400));
        let fresh = app
            .enterprise(&admin, &uscc(7302), "431302", "industry_trade")
            .await;
        let mut answer = None;
        for _ in 0..100 {
            let r = app
                .get(&admin, &format!("/api/v1/events?cursor={start}"))
                .await;
            if r.status == 410 {
                answer = Some(r);
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let r = answer.expect("the purge ran within 10 s");
        r.assert_problem(410, "cursor_expired");
        // A cursor at the newest purged event has missed nothing and goes on.
        let (next, _) = drain(app, &admin, Some(&stale), "").await;
        assert_eq!(subjects(&next, "enterprise"), BTreeSet::from([fresh]));
        // Without a cursor the feed starts at the oldest retained event.
        let (retained, _) = drain(app, &admin, None, "").await;
        assert_eq!(subjects(&retained, "enterprise"), BTreeSet::from([fresh]));
    }
);

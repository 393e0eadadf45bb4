//! Bad input gets a clear 4xx on both databases and changes nothing: NUL bytes, control and
//! bidi-override characters, lenient dates, duplicate JSON keys, dirty query strings.

use serde_json::{json, Value};

use crate::support::{both, five_fixes, hazard_body, uscc, TestApp};

/// Sends a raw JSON text (the suite's JSON helpers cannot write a duplicate key).
async fn post_raw(
    app: &TestApp,
    token: &str,
    path: &str,
    etag: Option<&str>,
    body: &str,
) -> crate::support::Resp {
    let mut req = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(e) = etag {
        req = req.header("if-match", e);
    }
    app.send(req).await
}

async fn hazard_count(app: &TestApp, admin: &str) -> usize {
    app.get(admin, "/api/v1/hazards?limit=200")
        .await
        .items()
        .len()
}

both!(
    control_characters_and_nul_are_refused_with_a_pointer,
    |app| {
        let admin = app.admin().await;
        let enterprise = app
            .enterprise(&admin, &uscc(1), "431302", "industry_trade")
            .await;
        let base = hazard_body(Some(enterprise), "general", "2026-11-20");
        let before = hazard_count(app, &admin).await;
        for (field, value, pointer) in [
            ("title", "a\u{0}b", "/title"),
            ("title", "\u{1b}[31m红色\u{1b}[0m", "/title"),
            ("title", "bell\u{7}", "/title"),
            ("title", "abc\u{202E}gpj.exe", "/title"),
            ("title", "two\nlines", "/title"),
            ("description", "nul\u{0}inside", "/description"),
            ("location", "\u{2066}isolate\u{2069}", "/location"),
        ] {
            let mut body = base.clone();
            body[field] = json!(value);
            let r = app.post(&admin, "/api/v1/hazards", &body).await;
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.body["errors"][0]["pointer"], pointer, "{value:?}");
        }
        // Nested and in arrays too.
        let mut body = base.clone();
        body["level"] = json!("major");
        body["major_report"] = json!({"situation_and_cause": "x\u{0}", "harm_and_difficulty": "y"});
        let r = app.post(&admin, "/api/v1/hazards", &body).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(
            r.body["errors"][0]["pointer"],
            "/major_report/situation_and_cause"
        );
        assert_eq!(
            hazard_count(app, &admin).await,
            before,
            "nothing was written"
        );

        // Long text keeps its line breaks and tabs.
        let mut body = base.clone();
        body["description"] = json!("第一行\n第二行\t缩进");
        let r = app.post(&admin, "/api/v1/hazards", &body).await;
        r.assert_status(201);
        assert_eq!(r.body["description"], "第一行\n第二行\t缩进");
        let id = r.id();

        // A PATCH is checked the same way, and the hazard is unchanged.
        let r = app
            .patch_fresh(
                &admin,
                &format!("/api/v1/hazards/{id}"),
                &json!({"title": "x\u{0}"}),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        let after = app.get(&admin, &format!("/api/v1/hazards/{id}")).await;
        assert_eq!(after.body["title"], base["title"]);

        // Other writes: enterprises, accounts, login.
        let mut e = crate::support::enterprise_body(&uscc(2), "431302", "industry_trade");
        e["name"] = json!("企业\u{0}");
        app.post(&admin, "/api/v1/enterprises", &e)
            .await
            .assert_problem(422, "validation_failed");
        app.post(
        &admin,
        "/api/v1/accounts",
        &json!({"username": "u\u{0}", "password": crate::support::PASSWORD, "display_name": "x", "role": "auditor", "jurisdiction_code": "431300"}),
    )
    .await
    .assert_problem(422, "validation_failed");
        app.login_raw("adm\u{0}in", "whatever")
            .await
            .assert_problem(422, "validation_failed");
    }
);

both!(dates_are_strict, |app| {
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(1), "431302", "industry_trade")
        .await;
    for bad in [
        "2026-1-1",
        "+002026-11-20",
        "2026-11-20T00:00:00Z",
        "20261120",
    ] {
        let body = hazard_body(Some(enterprise), "general", bad);
        let r = app.post(&admin, "/api/v1/hazards", &body).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["pointer"], "/discovered_on", "{bad}");
        let r = app
            .get(&admin, &format!("/api/v1/hazards?deadline_before={bad}"))
            .await;
        r.assert_problem(400, "invalid_query");
    }
    assert_eq!(hazard_count(app, &admin).await, 0);
    app.post(
        &admin,
        "/api/v1/hazards",
        &hazard_body(Some(enterprise), "general", "2026-11-20"),
    )
    .await
    .assert_status(201);
});

both!(a_duplicate_json_key_is_refused, |app| {
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(1), "431302", "industry_trade")
        .await;
    let body = five_fixes(
        hazard_body(Some(enterprise), "general", "2026-11-20"),
        "2026-12-20",
    );
    let id = app.post(&admin, "/api/v1/hazards", &body).await.id();
    let path = format!("/api/v1/hazards/{id}");
    // With the 五定 block a regulator's record starts rectifying.
    let current = app.get(&admin, &path).await;
    assert_eq!(current.body["status"], "rectifying");
    let etag2 = current.etag();
    // {"action": "submit_for_acceptance", …, "action": "accept"} must not act as accept.
    let r = post_raw(
        app,
        &admin,
        &format!("{path}/transitions"),
        Some(&etag2),
        r#"{"action": "submit_for_acceptance", "note": "done", "action": "accept"}"#,
    )
    .await;
    r.assert_problem(400, "duplicate_key");
    let h = app.get(&admin, &path).await;
    assert_eq!(h.body["status"], "rectifying");
    assert_eq!(h.etag(), etag2, "nothing changed");
    // Nested duplicates too.
    let r = post_raw(
        app,
        &admin,
        "/api/v1/hazards",
        None,
        &format!(
            r#"{{"title": "t", "description": "d", "level": "general", "discovered_on": "2026-11-20", "enterprise_id": {enterprise}, "major_report": {{"situation_and_cause": "a", "situation_and_cause": "b", "harm_and_difficulty": "c"}}}}"#
        ),
    )
    .await;
    r.assert_problem(400, "duplicate_key");
});

both!(dirty_query_strings_are_a_400, |app| {
    let admin = app.admin().await;
    for path in [
        "/api/v1/hazards?q=%00",
        "/api/v1/hazards?q=%1B%5B31m",
        "/api/v1/hazards?q=a%E2%80%AEb",
        "/api/v1/enterprises?q=%00",
        "/api/v1/accounts?q=%07",
        "/api/v1/audit-events?entity_id=%00",
        "/api/v1/jurisdictions?parent_code=%00",
        "/api/v1/stats/hazards?group_by=level&from=2026-1-1",
    ] {
        let r = app.get(&admin, path).await;
        r.assert_problem(400, "invalid_query");
    }
    // Clean Chinese text still searches.
    let r: Value = app
        .get(&admin, "/api/v1/hazards?q=%E9%85%8D%E7%94%B5")
        .await
        .body;
    assert!(r["items"].is_array());
});

both!(security_headers_on_every_answer, |app| {
    let admin = app.admin().await;
    // Authenticated JSON: nosniff and no-store.
    let me = app.get(&admin, "/api/v1/me").await;
    assert_eq!(
        me.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(me.header("cache-control").as_deref(), Some("no-store"));
    // Problems and public answers carry nosniff too; no HSTS unless configured.
    let anon = app.get("", "/api/v1/me").await;
    anon.assert_problem(401, "unauthorized");
    assert_eq!(
        anon.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let health = app.get("", "/healthz").await;
    assert_eq!(
        health.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(health.header("strict-transport-security").is_none());
});

both!(
    strict_transport_security_when_tls_is_in_front,
    env = [("HAZREG_HSTS", "true")],
    |app| {
        let r = app.get("", "/healthz").await;
        assert!(r
            .header("strict-transport-security")
            .is_some_and(|v| v.starts_with("max-age=")));
    }
);

both!(a_token_that_is_not_valid_yet_is_refused, |app| {
    use base64::Engine;
    let admin = app.admin().await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims_part = admin.split('.').nth(1).expect("JWT");
    let mut claims: Value = serde_json::from_slice(&b64.decode(claims_part).unwrap()).unwrap();
    let now = hazard_registry::clock::Clock::now(&*app.clock).timestamp();
    // The same claims, re-signed with the server's key: accepted without nbf, refused with a
    // future one.
    let sign = |claims: &Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(
                b"test-secret-test-secret-test-secret-0123456789",
            ),
        )
        .unwrap()
    };
    app.get(&sign(&claims), "/api/v1/me")
        .await
        .assert_status(200);
    claims["nbf"] = json!(now + 3600);
    app.get(&sign(&claims), "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
});

both!(a_corrupt_stored_value_is_an_error_never_a_guess, |app| {
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(1), "431302", "industry_trade")
        .await;
    let created = app
        .post(
            &admin,
            "/api/v1/hazards",
            &hazard_body(Some(enterprise), "general", "2026-11-20"),
        )
        .await;
    created.assert_status(201);
    let id = created.id();
    // A major report that no longer parses (a damaged row, a hand edit gone wrong): reading it
    // is a server error, and a PATCH cannot write it back as "no report".
    app.sql(&format!(
        "UPDATE hazards SET major_report = '{{not json' WHERE id = {id}"
    ));
    let path = format!("/api/v1/hazards/{id}");
    app.get(&admin, &path)
        .await
        .assert_problem(500, "internal_error");
    app.patch(&admin, &path, Some("\"1\""), &json!({"location": "罐区"}))
        .await
        .assert_problem(500, "internal_error");
    app.sql(&format!(
        "UPDATE hazards SET major_report = NULL WHERE id = {id}"
    ));
    let r = app.get(&admin, &path).await;
    r.assert_status(200);
    assert_eq!(r.body["location"], Value::Null, "the PATCH changed nothing");
    assert_eq!(r.body["version"], 1);
});

// Logins beyond the hashing slots and their queue are turned away at once (503 busy with
// Retry-After) instead of queueing without bound; the rest of the server keeps answering.
both!(
    logins_past_the_hashing_queue_answer_503_busy,
    env = [
        ("HAZREG_ARGON2_MEMORY_KIB", "32768"),
        ("HAZREG_PASSWORD_HASH_CONCURRENCY", "1"),
        ("HAZREG_PASSWORD_HASH_QUEUE", "1"),
    ],
    |app| {
        let admin = app.admin().await;
        let logins = (0..12).map(|_| app.login_raw("admin", crate::support::ADMIN_PASSWORD));
        let list = app.get(&admin, "/api/v1/hazards");
        let (answers, listed) =
            futures_util::future::join(futures_util::future::join_all(logins), list).await;
        listed.assert_status(200);
        let ok = answers.iter().filter(|r| r.status == 200).count();
        let busy: Vec<_> = answers.iter().filter(|r| r.status == 503).collect();
        assert!(ok >= 1, "{answers:?}");
        assert!(
            !busy.is_empty(),
            "12 logins at once on 1 slot + 1 queued: none was refused"
        );
        assert_eq!(ok + busy.len(), 12, "{answers:?}");
        for r in busy {
            r.assert_problem(503, "busy");
            assert_eq!(r.header("retry-after").as_deref(), Some("1"));
        }
        // Once the queue drains, logins succeed again.
        app.login("admin", crate::support::ADMIN_PASSWORD).await;
    }
);

// Connections are not pinged on checkout; one the database dropped is found out by the work
// that fails on it (503, never 500), leaves the pool, and the next requests succeed.
#[actix_web::test]
async fn a_dropped_connection_leaves_the_pool_after_one_failure() {
    let Some(app) = TestApp::spawn_with(
        crate::support::Backend::Postgres,
        &[("HAZREG_DATABASE_POOL_SIZE", "2")],
    )
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    for _ in 0..4 {
        app.get(&admin, "/api/v1/hazards").await.assert_status(200);
    }
    app.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    let mut failed = 0;
    for _ in 0..3 {
        let r = app.get(&admin, "/api/v1/hazards").await;
        match r.status {
            200 => break,
            _ => {
                r.assert_problem(503, "database_unavailable");
                failed += 1;
            }
        }
    }
    assert!(failed <= 2, "more failures than dead connections");
    for _ in 0..5 {
        app.get(&admin, "/api/v1/hazards").await.assert_status(200);
    }
    app.stop().await;
}

/// The server's connections to a PostgreSQL on the loopback skip TLS (`db::pg_url_with_timeouts`),
/// where libpq's own default would encrypt them; a client that names no `sslmode` still gets it.
#[actix_web::test]
async fn connections_to_a_loopback_database_skip_tls() {
    let Some(app) = TestApp::spawn(crate::support::Backend::Postgres).await else {
        return;
    };
    if !app.database_url.contains("@127.0.0.1:") || std::env::var_os("PGSSLMODE").is_some() {
        eprintln!("not a loopback database URL left to the server's choice: nothing to check");
        app.stop().await;
        return;
    }
    let admin = app.admin().await;
    app.get(&admin, "/api/v1/hazards").await.assert_status(200);
    let offered = app.sql_texts("SELECT CAST(current_setting('ssl') AS TEXT) AS t");
    if offered != ["on"] {
        eprintln!("this PostgreSQL offers no TLS: nothing to tell apart");
        app.stop().await;
        return;
    }
    // This harness connection names no sslmode: libpq's default encrypts it.
    assert_eq!(
        app.sql_texts(
            "SELECT CAST(ssl AS TEXT) AS t FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ),
        ["true"]
    );
    let server = app.sql_texts(
        "SELECT CAST(s.ssl AS TEXT) AS t FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.datname = current_database() AND a.application_name = 'hazard-registry'",
    );
    assert!(!server.is_empty(), "no server connection found");
    assert!(server.iter().all(|t| t == "false"), "{server:?}");
    app.stop().await;
}

/// A statement the server ends for running past the statement timeout (an overloaded or
/// locked database) answers 503 with Retry-After, never 500, and writes nothing.
#[actix_web::test]
async fn a_statement_past_the_timeout_answers_503() {
    let Some(app) = TestApp::spawn(crate::support::Backend::Postgres).await else {
        return;
    };
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
        .await;
    // Every hazard insert now takes longer than the statement timeout (1.5 s of the tests' 2 s).
    app.sql(
        "CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep(1.8); RETURN NEW; END $$",
    );
    app.sql(
        "CREATE TRIGGER slow_insert BEFORE INSERT ON hazards \
         FOR EACH ROW EXECUTE FUNCTION slow_insert()",
    );
    let r = app
        .post(
            &admin,
            "/api/v1/hazards",
            &hazard_body(Some(enterprise), "general", "2026-11-20"),
        )
        .await;
    r.assert_problem(503, "database_unavailable");
    assert!(r.header("retry-after").is_some());
    assert_eq!(
        app.sql_texts("SELECT CAST(COUNT(*) AS TEXT) AS t FROM hazards"),
        ["0"]
    );
    app.sql("DROP TRIGGER slow_insert ON hazards");
    app.post(
        &admin,
        "/api/v1/hazards",
        &hazard_body(Some(enterprise), "general", "2026-11-20"),
    )
    .await
    .assert_status(201);
}

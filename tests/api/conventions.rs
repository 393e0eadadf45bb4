//! SPEC §4 conventions: problem+json for every rejection, ETag/If-Match, idempotency,
//! 201 + Location, X-Request-Id.

use serde_json::json;

use crate::support::{both, uscc};

async fn enterprise_count(app: &crate::support::TestApp, token: &str) -> usize {
    app.get(token, "/api/v1/enterprises?limit=200")
        .await
        .items()
        .len()
}

both!(malformed_json_is_400_and_changes_nothing, |app| {
    let admin = app.admin().await;
    let req = app
        .client
        .post(app.url("/api/v1/enterprises"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"uscc\": ");
    app.send(req).await.assert_problem(400, "malformed_json");
    assert_eq!(enterprise_count(app, &admin).await, 0);
});

both!(wrong_shapes_are_422_with_pointers, |app| {
    let admin = app.admin().await;
    let mut body = enterprise_body(&uscc(1), "431302", "other");
    body["bogus"] = json!(1);
    let r = app.post(&admin, "/api/v1/enterprises", &body).await;
    r.assert_problem(422, "invalid_body");
    assert_eq!(r.body["errors"][0]["pointer"], "/bogus");

    let mut body = enterprise_body(&uscc(1), "431302", "other");
    body["employees"] = json!("many");
    let r = app.post(&admin, "/api/v1/enterprises", &body).await;
    r.assert_problem(422, "invalid_body");
    assert_eq!(r.body["errors"][0]["pointer"], "/employees");

    let mut body = enterprise_body(&uscc(1), "431302", "other");
    body["safety_director"] = json!({"name": "王", "age": 3});
    let r = app.post(&admin, "/api/v1/enterprises", &body).await;
    r.assert_problem(422, "invalid_body");
    assert_eq!(r.body["errors"][0]["pointer"], "/safety_director/age");

    let body = json!({"uscc": uscc(1)});
    app.post(&admin, "/api/v1/enterprises", &body)
        .await
        .assert_problem(422, "invalid_body");
    assert_eq!(enterprise_count(app, &admin).await, 0);
});

both!(bad_query_path_route_and_method_are_problems, |app| {
    let admin = app.admin().await;
    app.get(&admin, "/api/v1/enterprises?limit=abc")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&admin, "/api/v1/enterprises?limit=500")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&admin, "/api/v1/enterprises?colour=red")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&admin, "/api/v1/enterprises?status=open")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&admin, "/api/v1/enterprises?cursor=%%%")
        .await
        .assert_problem(400, "invalid_cursor");
    app.get(&admin, "/api/v1/enterprises?cursor=bm9wZQ")
        .await
        .assert_problem(400, "invalid_cursor");
    app.get(&admin, "/api/v1/enterprises?updated_since=yesterday")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&admin, "/api/v1/enterprises/abc")
        .await
        .assert_problem(400, "invalid_path");
    app.get(&admin, "/api/v1/nothing-here")
        .await
        .assert_problem(404, "no_route");
    app.get("", "/nothing-here")
        .await
        .assert_problem(404, "no_route");

    let r = app
        .send(
            app.client
                .delete(app.url("/api/v1/enterprises/1"))
                .bearer_auth(&admin),
        )
        .await;
    r.assert_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, PATCH"));
    let r = app
        .send(
            app.client
                .put(app.url("/api/v1/enterprises"))
                .bearer_auth(&admin),
        )
        .await;
    r.assert_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
});

both!(oversized_and_non_json_bodies_are_refused, |app| {
    let admin = app.admin().await;
    let mut body = enterprise_body(&uscc(1), "431302", "other");
    body["address"] = json!("x".repeat(1024 * 1024 + 10));
    app.post(&admin, "/api/v1/enterprises", &body)
        .await
        .assert_problem(413, "payload_too_large");
    let req = app
        .client
        .post(app.url("/api/v1/enterprises"))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body(enterprise_body(&uscc(1), "431302", "other").to_string());
    app.send(req)
        .await
        .assert_problem(415, "unsupported_media_type");
    assert_eq!(enterprise_count(app, &admin).await, 0);
});

both!(unauthenticated_is_401_with_www_authenticate, |app| {
    let r = app.get("", "/api/v1/enterprises").await;
    r.assert_problem(401, "unauthorized");
    assert!(r
        .header("www-authenticate")
        .unwrap_or_default()
        .starts_with("Bearer"));
    app.get("not-a-jwt", "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
    // 401 comes before body parsing.
    let req = app
        .client
        .post(app.url("/api/v1/enterprises"))
        .header("content-type", "application/json")
        .body("{");
    app.send(req).await.assert_problem(401, "unauthorized");
});

both!(request_ids_are_echoed_or_generated, |app| {
    let r = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-123"));
    let r = app.send(app.client.get(app.url("/api/v1/me"))).await;
    assert_eq!(r.status, 401);
    let generated = r.header("x-request-id").expect("generated id");
    assert_eq!(generated.len(), 36);
    // An unsafe id is replaced, not echoed.
    let r = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "a b<script>"),
        )
        .await;
    assert_ne!(r.header("x-request-id").as_deref(), Some("a b<script>"));
});

both!(create_answers_201_with_location_and_etag, |app| {
    let admin = app.admin().await;
    let r = app
        .post(
            &admin,
            "/api/v1/enterprises",
            &enterprise_body(&uscc(1), "431302", "other"),
        )
        .await;
    r.assert_status(201);
    let location = r.header("location").expect("location");
    assert_eq!(location, format!("/api/v1/enterprises/{}", r.id()));
    assert_eq!(r.etag(), "\"1\"");
    let again = app.get(&admin, &location).await;
    again.assert_status(200);
    assert_eq!(again.body, r.body);
    assert_eq!(again.etag(), r.etag());
});

both!(if_match_is_required_and_checked, |app| {
    let admin = app.admin().await;
    let id = app.enterprise(&admin, &uscc(1), "431302", "other").await;
    let path = format!("/api/v1/enterprises/{id}");
    let change = json!({"address": "新地址"});
    app.patch(&admin, &path, None, &change)
        .await
        .assert_problem(428, "if_match_required");
    app.patch(&admin, &path, Some("\"7\""), &change)
        .await
        .assert_problem(412, "stale_etag");
    let unchanged = app.get(&admin, &path).await;
    assert!(unchanged.body["address"].is_null());
    assert_eq!(unchanged.etag(), "\"1\"");

    let r = app.patch(&admin, &path, Some("\"1\""), &change).await;
    r.assert_status(200);
    assert_eq!(r.body["address"], "新地址");
    assert_eq!(r.etag(), "\"2\"");
    // The old tag is now stale: no lost update.
    app.patch(&admin, &path, Some("\"1\""), &json!({"address": "旧"}))
        .await
        .assert_problem(412, "stale_etag");
    // Weak form of the current tag is accepted.
    app.patch(&admin, &path, Some("W/\"2\""), &json!({"address": "再改"}))
        .await
        .assert_status(200);
});

both!(concurrent_patches_with_one_etag_have_one_winner, |app| {
    let admin = app.admin().await;
    let id = app.enterprise(&admin, &uscc(1), "431302", "other").await;
    let path = format!("/api/v1/enterprises/{id}");
    let etag = app.get(&admin, &path).await.etag();
    let bodies: Vec<serde_json::Value> = (0..6).map(|i| json!({"employees": 100 + i})).collect();
    let results = futures_util::future::join_all(
        bodies
            .iter()
            .map(|b| app.patch(&admin, &path, Some(&etag), b)),
    )
    .await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let stale = results.iter().filter(|r| r.status == 412).count();
    assert_eq!(
        (ok, stale),
        (1, 5),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let winner = results
        .iter()
        .find(|r| r.status == 200)
        .map(|r| r.body["employees"].clone());
    let now = app.get(&admin, &path).await;
    assert_eq!(Some(now.body["employees"].clone()), winner);
    assert_eq!(now.etag(), "\"2\"");
});

both!(idempotency_keys_replay_and_refuse_other_bodies, |app| {
    let admin = app.admin().await;
    let body = enterprise_body(&uscc(1), "431302", "other");
    let send = |b: serde_json::Value, key: &'static str, token: String| {
        let req = app
            .client
            .post(app.url("/api/v1/enterprises"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&b);
        app.send(req)
    };
    let first = send(body.clone(), "k-1", admin.clone()).await;
    first.assert_status(201);
    let replay = send(body.clone(), "k-1", admin.clone()).await;
    replay.assert_status(201);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(enterprise_count(app, &admin).await, 1);

    let other = enterprise_body(&uscc(2), "431302", "other");
    send(other.clone(), "k-1", admin.clone())
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert_eq!(enterprise_count(app, &admin).await, 1);

    // Keys belong to the account: another account's same key is a new request.
    let (_, officer) = app
        .regulator(&admin, "city.officer", "city_officer", "431300")
        .await;
    send(other, "k-1", officer).await.assert_status(201);
    assert_eq!(enterprise_count(app, &admin).await, 2);

    // Without a key, a retried create is a duplicate (409), not a second row.
    app.post(&admin, "/api/v1/enterprises", &body)
        .await
        .assert_problem(409, "duplicate_uscc");
});

both!(concurrent_creates_with_one_key_make_one_row, |app| {
    let admin = app.admin().await;
    let body = enterprise_body(&uscc(9), "431302", "other");
    let mut futures = Vec::new();
    for _ in 0..5 {
        let req = app
            .client
            .post(app.url("/api/v1/enterprises"))
            .bearer_auth(&admin)
            .header("idempotency-key", "same")
            .json(&body);
        futures.push(app.send(req));
    }
    let results = futures_util::future::join_all(futures).await;
    let ids: Vec<i64> = results
        .iter()
        .map(|r| {
            r.assert_status(201);
            r.id()
        })
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert_eq!(enterprise_count(app, &admin).await, 1);
});

both!(
    cursors_hold_only_for_their_collection_sort_and_filters,
    |app| {
        let admin = app.admin().await;
        for i in 1..=3 {
            app.enterprise(&admin, &uscc(i), "431302", "other").await;
        }
        let first = app.get(&admin, "/api/v1/enterprises?limit=1").await;
        first.assert_status(200);
        let cursor = first.body["next_cursor"]
            .as_str()
            .expect("a next page")
            .to_string();
        // The same collection and filters: the next page.
        let next = app
            .get(
                &admin,
                &format!("/api/v1/enterprises?limit=1&cursor={cursor}"),
            )
            .await;
        next.assert_status(200);
        assert_ne!(next.items()[0]["id"], first.items()[0]["id"]);
        // An empty filter (`q=`) selects as its absence does, so the cursor holds.
        app.get(
            &admin,
            &format!("/api/v1/enterprises?limit=1&q=&cursor={cursor}"),
        )
        .await
        .assert_status(200);
        // `limit` may change between pages; filters, sort and collection may not.
        app.get(
            &admin,
            &format!("/api/v1/enterprises?limit=2&cursor={cursor}"),
        )
        .await
        .assert_status(200);
        for path in [
            format!("/api/v1/enterprises?limit=1&sector_code=other&cursor={cursor}"),
            format!(
                "/api/v1/enterprises?limit=1&updated_since=2020-01-01T00:00:00Z&cursor={cursor}"
            ),
            format!("/api/v1/accounts?limit=1&cursor={cursor}"),
            format!("/api/v1/hazards?limit=1&cursor={cursor}"),
        ] {
            app.get(&admin, &path)
                .await
                .assert_problem(400, "invalid_cursor");
        }
        // A cursor that was altered, or made up, is refused too.
        let (payload, signature) = cursor.split_once('.').expect("payload.signature");
        let forged_payload = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"3")
        };
        let mut flipped = signature.to_string();
        let last = flipped.pop().unwrap();
        flipped.push(if last == 'A' { 'B' } else { 'A' });
        for bad in [
            format!("{forged_payload}.{signature}"),
            format!("{payload}.{flipped}"),
            payload.to_string(),
            "bm90IGEgY3Vyc29y".to_string(),
        ] {
            app.get(&admin, &format!("/api/v1/enterprises?limit=1&cursor={bad}"))
                .await
                .assert_problem(400, "invalid_cursor");
        }
        // A hazard cursor is bound to its sort.
        let e = first.items()[0]["id"].as_i64().unwrap();
        for _ in 0..2 {
            app.post(
                &admin,
                "/api/v1/hazards",
                &crate::support::hazard_body(Some(e), "general", "2026-11-20"),
            )
            .await
            .assert_status(201);
        }
        let by_update = app
            .get(&admin, "/api/v1/hazards?limit=1&sort=updated_at")
            .await;
        let c = by_update.body["next_cursor"].as_str().expect("next page");
        app.get(
            &admin,
            &format!("/api/v1/hazards?limit=1&sort=updated_at&cursor={c}"),
        )
        .await
        .assert_status(200);
        app.get(
            &admin,
            &format!("/api/v1/hazards?limit=1&sort=rectification_deadline&cursor={c}"),
        )
        .await
        .assert_problem(400, "invalid_cursor");
    }
);

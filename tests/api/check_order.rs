//! The documented order of checks on writes (docs/API-CONVENTIONS.md, "Order of checks"):
//! 401 → 400 (malformed JSON) → 404 → 403 → 428/412 → 409 → 422, and for hazard transitions
//! 404 → 403 (role) → 428/412 → 409 `invalid_transition` → 403 `separation_of_duties` → 409
//! `hazard_listed` → 422. Each step sends a request that is wrong in every later way too, so
//! the answer shows which check runs first; then the cause is removed and the next one shows.

use serde_json::{json, Value};

use crate::support::{both, five_fixes, hazard_body, png, uscc, TestApp};

/// A PATCH with an explicit `If-Match` (or none) and a raw body.
async fn patch_raw(app: &TestApp, token: &str, path: &str, etag: Option<&str>, body: &str) -> u16 {
    let mut req = app
        .client
        .patch(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(e) = etag {
        req = req.header("if-match", e);
    }
    app.send(req).await.status
}

async fn transition(
    app: &TestApp,
    token: &str,
    id: i64,
    etag: Option<&str>,
    body: &Value,
) -> crate::support::Resp {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/hazards/{id}/transitions")))
        .bearer_auth(token)
        .json(body);
    if let Some(e) = etag {
        req = req.header("if-match", e);
    }
    app.send(req).await
}

both!(a_hazard_patch_checks_in_the_documented_order, |app| {
    let admin = app.admin().await;
    let e = app
        .enterprise(&admin, &uscc(1), "431302", "industry_trade")
        .await;
    let (_, other_county) = app
        .regulator(&admin, "sf.officer", "county_officer", "431321")
        .await;
    let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
    let created = app
        .post(
            &admin,
            "/api/v1/hazards",
            &five_fixes(hazard_body(Some(e), "general", "2026-11-20"), "2026-12-20"),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["status"], "rectifying");
    let id = created.id();
    let path = format!("/api/v1/hazards/{id}");
    let etag = created.etag();
    // Wrong in every way: a locked deadline moved and a blank title.
    let bad = r#"{"rectification_deadline": "2030-01-01", "title": ""}"#;

    assert_eq!(
        patch_raw(app, "not-a-token", &path, None, "{not json").await,
        401
    );
    assert_eq!(
        patch_raw(app, &other_county, &path, None, "{not json").await,
        400
    );
    app.patch(
        &other_county,
        &path,
        None,
        &serde_json::from_str(bad).unwrap(),
    )
    .await
    .assert_problem(404, "not_found");
    app.patch(&auditor, &path, None, &serde_json::from_str(bad).unwrap())
        .await
        .assert_problem(403, "forbidden");
    app.patch(&admin, &path, None, &serde_json::from_str(bad).unwrap())
        .await
        .assert_problem(428, "if_match_required");
    app.patch(
        &admin,
        &path,
        Some("\"99\""),
        &serde_json::from_str(bad).unwrap(),
    )
    .await
    .assert_problem(412, "stale_etag");
    app.patch(
        &admin,
        &path,
        Some(&etag),
        &serde_json::from_str(bad).unwrap(),
    )
    .await
    .assert_problem(409, "deadline_locked");
    let r = app
        .patch(&admin, &path, Some(&etag), &json!({"title": ""}))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/title");
    // Nothing changed on the way.
    assert_eq!(app.get(&admin, &path).await.body["version"], 1);
});

both!(a_transition_checks_in_the_documented_order, |app| {
    let admin = app.admin().await;
    let e = app
        .enterprise(&admin, &uscc(1), "431302", "industry_trade")
        .await;
    let (_, other_county) = app
        .regulator(&admin, "sf.officer", "county_officer", "431321")
        .await;
    let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
    let (_, owner) = app
        .account(
            &admin,
            "ent.user",
            "enterprise",
            json!({"enterprise_id": e}),
        )
        .await;
    let id = app
        .post(
            &owner,
            "/api/v1/hazards",
            &five_fixes(hazard_body(None, "general", "2026-11-20"), "2026-12-20"),
        )
        .await
        .id();
    app.upload(&owner, id, "after", "after.png", png())
        .await
        .assert_status(201);
    app.act(
        &owner,
        id,
        json!({"action": "submit_for_acceptance", "note": "已整改"}),
    )
    .await
    .assert_status(200);
    let accept = json!({"action": "accept"});
    let etag = app
        .get(&admin, &format!("/api/v1/hazards/{id}"))
        .await
        .etag();

    transition(app, &other_county, id, None, &accept)
        .await
        .assert_problem(404, "not_found");
    transition(app, &auditor, id, None, &accept)
        .await
        .assert_problem(403, "forbidden");
    // The submitter may not accept, but If-Match is checked first.
    transition(app, &owner, id, None, &accept)
        .await
        .assert_problem(428, "if_match_required");
    transition(app, &owner, id, Some("\"99\""), &accept)
        .await
        .assert_problem(412, "stale_etag");
    transition(app, &owner, id, Some(&etag), &accept)
        .await
        .assert_problem(403, "separation_of_duties");
    // A regulator accepts; the submitter's second try meets the state first (409, not 403).
    transition(app, &admin, id, Some(&etag), &accept)
        .await
        .assert_status(200);
    let etag = app
        .get(&admin, &format!("/api/v1/hazards/{id}"))
        .await
        .etag();
    let r = transition(app, &owner, id, Some(&etag), &accept).await;
    r.assert_problem(409, "invalid_transition");
    assert_eq!(r.body["context"]["status"], "closed");
    // From a state that allows the action, the 422s come last.
    transition(app, &admin, id, Some(&etag), &json!({"action": "reopen"}))
        .await
        .assert_problem(422, "validation_failed");
});

both!(a_list_item_patch_asks_the_role_before_the_owner, |app| {
    let admin = app.admin().await;
    let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
    let item = app
        .post(
            &admin,
            "/api/v1/problem-items",
            &json!({
                "owner_jurisdiction_code": "431302", "title": "加油站油气回收装置失修",
                "description": "5 座失效", "responsible_unit": "娄星区应急管理局",
                "deadline": "2026-12-31"
            }),
        )
        .await;
    item.assert_status(201);
    let path = format!("/api/v1/problem-items/{}", item.id());
    // An auditor moving the owner: the role answers (403), not the owner rule (422).
    app.patch(
        &auditor,
        &path,
        Some(&item.etag()),
        &json!({"owner_jurisdiction_code": "431321"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        &admin,
        &path,
        None,
        &json!({"owner_jurisdiction_code": "431321"}),
    )
    .await
    .assert_problem(428, "if_match_required");
    app.patch(
        &admin,
        &path,
        Some(&item.etag()),
        &json!({"owner_jurisdiction_code": "431321"}),
    )
    .await
    .assert_problem(422, "validation_failed");
});

both!(
    a_list_patch_rechecks_only_the_links_it_adds_and_a_no_op_keeps_the_version,
    |app| {
        let admin = app.admin().await;
        let chemicals = app
            .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
            .await;
        let building = app
            .enterprise(&admin, &uscc(2), "431302", "construction")
            .await;
        let hazard_of = |e: i64| hazard_body(Some(e), "general", "2026-11-20");
        let chem_hazard = app
            .post(&admin, "/api/v1/hazards", &hazard_of(chemicals))
            .await
            .id();
        let site_hazard = app
            .post(&admin, "/api/v1/hazards", &hazard_of(building))
            .await
            .id();
        let other_site = app
            .post(&admin, "/api/v1/hazards", &hazard_of(building))
            .await
            .id();
        // A construction officer of the city sees only construction and gas hazards.
        let dept = app
            .department_id(&admin, "市住房和城乡建设局（市人防办）")
            .await;
        let (_, zj) = app
            .account(
                &admin,
                "zj.officer",
                "city_officer",
                json!({"jurisdiction_code": "431300", "department_id": dept}),
            )
            .await;
        let item = app
            .post(
                &admin,
                "/api/v1/problem-items",
                &json!({
                    "owner_jurisdiction_code": "431302", "title": "城区隐患",
                    "description": "化工与工地", "responsible_unit": "娄星区应急管理局",
                    "deadline": "2026-12-31", "hazard_ids": [chem_hazard, site_hazard]
                }),
            )
            .await;
        item.assert_status(201);
        let path = format!("/api/v1/problem-items/{}", item.id());
        // The officer edits the title: the chemical hazard it cannot see was linked by someone
        // who could, and stays.
        let r = app
            .patch_fresh(&zj, &path, &json!({"title": "城区隐患（住建）"}))
            .await;
        r.assert_status(200);
        assert_eq!(r.body["hazard_ids"], json!([chem_hazard, site_hazard]));
        // What it adds is checked against its reach: a construction hazard yes…
        let r = app
            .patch_fresh(
                &zj,
                &path,
                &json!({"hazard_ids": [chem_hazard, site_hazard, other_site]}),
            )
            .await;
        r.assert_status(200);
        // …and re-adding a hazard it cannot see, once removed, no.
        app.patch_fresh(&admin, &path, &json!({"hazard_ids": [site_hazard]}))
            .await
            .assert_status(200);
        let r = app
            .patch_fresh(
                &zj,
                &path,
                &json!({"hazard_ids": [site_hazard, chem_hazard]}),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["pointer"], "/hazard_ids/1");
        // A PATCH that changes nothing keeps the version and writes no history.
        let before = app.get(&admin, &path).await;
        let history = app
            .get(&admin, &format!("{path}/history"))
            .await
            .items()
            .len();
        let r = app
            .patch(
                &admin,
                &path,
                Some(&before.etag()),
                &json!({"title": before.body["title"]}),
            )
            .await;
        r.assert_status(200);
        assert_eq!(r.body["version"], before.body["version"]);
        assert_eq!(
            app.get(&admin, &format!("{path}/history"))
                .await
                .items()
                .len(),
            history
        );
    }
);

both!(a_patch_that_changes_nothing_keeps_the_version, |app| {
    let admin = app.admin().await;
    let e = app
        .enterprise(&admin, &uscc(1), "431302", "industry_trade")
        .await;
    let h = app
        .post(
            &admin,
            "/api/v1/hazards",
            &hazard_body(Some(e), "general", "2026-11-20"),
        )
        .await;
    h.assert_status(201);
    for (path, body) in [
        (
            format!("/api/v1/hazards/{}", h.id()),
            json!({"title": h.body["title"]}),
        ),
        (format!("/api/v1/enterprises/{e}"), json!({"employees": 10})),
    ] {
        let before = app.get(&admin, &path).await;
        let r = app.patch(&admin, &path, Some(&before.etag()), &body).await;
        r.assert_status(200);
        assert_eq!(r.body["version"], before.body["version"], "{path}");
        assert_eq!(r.etag(), before.etag(), "{path}");
    }
});

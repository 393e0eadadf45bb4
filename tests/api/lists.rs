//! The two lists: items with links and history, scope, and period submissions.

use serde_json::{json, Value};

use crate::support::{both, hazard_body, uscc, TestApp};

fn problem(owner: &str, hazards: Vec<i64>) -> Value {
    json!({
        "owner_jurisdiction_code": owner, "sector_code": "hazardous_chemicals",
        "title": "加油站油气回收装置失修", "description": "5 座加油站装置失效",
        "responsible_unit": "区应急管理局", "deadline": "2026-12-31", "hazard_ids": hazards
    })
}

fn measure(owner: &str, problems: Vec<i64>) -> Value {
    json!({
        "owner_jurisdiction_code": owner, "title": "油气回收装置定期检测制度", "kind": "normative_document",
        "lead_unit": "区应急管理局", "target_date": "2026-12-31", "problem_ids": problems
    })
}

struct Cast {
    admin: String,
    lx_admin: String,
    lx_officer: String,
    sf_officer: String,
    city_officer: String,
    auditor: String,
    ent: String,
    lx_hazard: i64,
    sf_hazard: i64,
}

async fn cast(app: &TestApp) -> Cast {
    let admin = app.admin().await;
    let e1 = app
        .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
        .await;
    let e2 = app.enterprise(&admin, &uscc(2), "431321", "other").await;
    let (_, lx_admin) = app
        .regulator(&admin, "lx.admin", "county_admin", "431302")
        .await;
    let (_, lx_officer) = app
        .regulator(&admin, "lx.officer", "county_officer", "431302")
        .await;
    let (_, sf_officer) = app
        .regulator(&admin, "sf.officer", "county_officer", "431321")
        .await;
    let (_, city_officer) = app
        .regulator(&admin, "city.officer", "city_officer", "431300")
        .await;
    let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
    let (_, ent) = app
        .account(
            &admin,
            "ent.user",
            "enterprise",
            json!({"enterprise_id": e1}),
        )
        .await;
    let lx_hazard = app
        .post(
            &admin,
            "/api/v1/hazards",
            &hazard_body(Some(e1), "general", "2026-11-20"),
        )
        .await
        .id();
    let sf_hazard = app
        .post(
            &admin,
            "/api/v1/hazards",
            &hazard_body(Some(e2), "general", "2026-11-20"),
        )
        .await
        .id();
    Cast {
        admin,
        lx_admin,
        lx_officer,
        sf_officer,
        city_officer,
        auditor,
        ent,
        lx_hazard,
        sf_hazard,
    }
}

both!(items_links_history_and_scope, |app| {
    let c = cast(app).await;
    let r = app
        .post(
            &c.lx_officer,
            "/api/v1/problem-items",
            &problem("431302", vec![c.lx_hazard]),
        )
        .await;
    r.assert_status(201);
    let pid = r.id();
    assert_eq!(r.body["hazard_ids"], json!([c.lx_hazard]));
    assert_eq!(r.body["status"], "open");
    // A link outside the owner's jurisdiction is refused with a pointer to it.
    let r = app
        .post(
            &c.lx_officer,
            "/api/v1/problem-items",
            &problem("431302", vec![c.lx_hazard, c.sf_hazard]),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/hazard_ids/1");
    let sf_problem = app
        .post(
            &c.sf_officer,
            "/api/v1/problem-items",
            &problem("431321", vec![c.sf_hazard]),
        )
        .await
        .id();
    let r = app
        .post(
            &c.lx_officer,
            "/api/v1/measure-items",
            &measure("431302", vec![pid, sf_problem]),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/problem_ids/1");
    let r = app
        .post(
            &c.lx_officer,
            "/api/v1/measure-items",
            &measure("431302", vec![pid]),
        )
        .await;
    r.assert_status(201);
    let mid = r.id();

    // Who may: other counties, enterprises and auditors.
    app.post(
        &c.sf_officer,
        "/api/v1/problem-items",
        &problem("431302", vec![]),
    )
    .await
    .assert_problem(403, "out_of_jurisdiction");
    app.get(&c.sf_officer, &format!("/api/v1/problem-items/{pid}"))
        .await
        .assert_problem(404, "not_found");
    app.get(&c.ent, &format!("/api/v1/problem-items/{pid}"))
        .await
        .assert_problem(404, "not_found");
    app.get(&c.ent, "/api/v1/measure-items")
        .await
        .assert_problem(404, "not_found");
    app.post(&c.ent, "/api/v1/problem-items", &problem("431302", vec![]))
        .await
        .assert_problem(404, "not_found");
    app.get(&c.auditor, &format!("/api/v1/measure-items/{mid}"))
        .await
        .assert_status(200);
    app.post(
        &c.auditor,
        "/api/v1/problem-items",
        &problem("431302", vec![]),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch_fresh(
        &c.auditor,
        &format!("/api/v1/problem-items/{pid}"),
        &json!({"status": "done"}),
    )
    .await
    .assert_problem(403, "forbidden");

    // Changes keep their history; the city edits county lists too.
    let path = format!("/api/v1/problem-items/{pid}");
    app.patch(&c.lx_admin, &path, None, &json!({"status": "in_progress"}))
        .await
        .assert_problem(428, "if_match_required");
    let r = app
        .patch_fresh(&c.lx_admin, &path, &json!({"status": "in_progress"}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["version"], 2);
    app.patch_fresh(&c.city_officer, &path, &json!({"hazard_ids": []}))
        .await
        .assert_status(200);
    let h = app.get(&c.admin, &format!("{path}/history")).await;
    let actions: Vec<&str> = h
        .items()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "update"]);
    assert_eq!(
        h.items()[1]["changes"]["status"],
        json!({"before": "open", "after": "in_progress"})
    );
    assert_eq!(
        h.items()[2]["changes"]["hazard_ids"],
        json!({"before": [c.lx_hazard], "after": []})
    );
    assert!(h
        .items()
        .iter()
        .all(|e| e["actor_id"].is_number() && e["at"].is_string()));
    let mh = app
        .get(&c.admin, &format!("/api/v1/measure-items/{mid}/history"))
        .await;
    assert_eq!(mh.items().len(), 1);
    app.get(&c.sf_officer, &format!("{path}/history"))
        .await
        .assert_problem(404, "not_found");

    // A PATCH that adds an out-of-scope link, or a date out of range, changes nothing.
    let r = app
        .patch_fresh(&c.lx_officer, &path, &json!({"hazard_ids": [c.sf_hazard]}))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/hazard_ids/0");
    app.patch_fresh(&c.lx_officer, &path, &json!({"deadline": "+20000-01-01"}))
        .await
        .assert_status_in(&[422]);
    assert_eq!(app.get(&c.admin, &path).await.body["version"], 3);

    // An item stays with its owner.
    let r = app
        .patch_fresh(
            &c.admin,
            &path,
            &json!({"owner_jurisdiction_code": "431321"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/owner_jurisdiction_code");

    // Filters.
    let ids = |r: crate::support::Resp| -> Vec<i64> {
        r.items()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(app
            .get(
                &c.admin,
                "/api/v1/problem-items?owner_jurisdiction_code=431302"
            )
            .await),
        vec![pid]
    );
    assert_eq!(
        ids(app
            .get(&c.admin, "/api/v1/problem-items?status=in_progress")
            .await),
        vec![pid]
    );
    assert_eq!(
        ids(app
            .get(
                &c.admin,
                "/api/v1/problem-items?sector_code=hazardous_chemicals"
            )
            .await),
        vec![pid, sf_problem]
    );
    assert!(ids(app
        .get(&c.admin, "/api/v1/problem-items?deadline_before=2026-12-31")
        .await)
    .is_empty());
    assert_eq!(
        ids(app.get(&c.lx_officer, "/api/v1/problem-items").await),
        vec![pid]
    );
    assert_eq!(
        ids(app
            .get(&c.admin, "/api/v1/measure-items?status=planned")
            .await),
        vec![mid]
    );
    app.get(&c.admin, "/api/v1/problem-items?status=bogus")
        .await
        .assert_problem(400, "invalid_query");
});

both!(submissions_freeze_the_lists, |app| {
    let c = cast(app).await;
    app.set_now("2026-11-29T04:00:00Z");
    let pid = app
        .post(
            &c.lx_officer,
            "/api/v1/problem-items",
            &problem("431302", vec![c.lx_hazard]),
        )
        .await
        .id();
    let body = json!({"owner_jurisdiction_code": "431302", "period": "2026-B6"});
    let r = app
        .post(&c.lx_officer, "/api/v1/list-submissions", &body)
        .await;
    r.assert_status(201);
    let sid = r.id();
    let hash = r.body["content_sha256"].as_str().unwrap().to_string();
    // The hash is over the canonical JSON (sorted keys, no spaces) of exactly the returned items.
    let canonical = serde_json::to_string(&r.body["items"]).unwrap();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(canonical.as_bytes());
    assert_eq!(
        hash,
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert_eq!(r.body["items"]["problem_items"][0]["id"], pid);
    let frozen = r.body["items"].clone();
    app.post(&c.lx_admin, "/api/v1/list-submissions", &body)
        .await
        .assert_problem(409, "already_submitted");
    for (period, pointer) in [
        ("2027-01", "/period"),
        ("2026-B7", "/period"),
        ("2026-13", "/period"),
    ] {
        let r = app
            .post(
                &c.lx_officer,
                "/api/v1/list-submissions",
                &json!({"owner_jurisdiction_code": "431302", "period": period}),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["pointer"], pointer);
    }
    // Only the owner's own regulators submit.
    app.post(
        &c.city_officer,
        "/api/v1/list-submissions",
        &json!({"owner_jurisdiction_code": "431302", "period": "2026-11"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(
        &c.sf_officer,
        "/api/v1/list-submissions",
        &json!({"owner_jurisdiction_code": "431302", "period": "2026-11"}),
    )
    .await
    .assert_problem(403, "out_of_jurisdiction");
    app.post(&c.ent, "/api/v1/list-submissions", &body)
        .await
        .assert_problem(404, "not_found");

    // Later edits do not touch what was submitted.
    app.patch_fresh(
        &c.lx_officer,
        &format!("/api/v1/problem-items/{pid}"),
        &json!({"title": "改后的标题", "status": "done"}),
    )
    .await
    .assert_status(200);
    let again = app
        .get(&c.city_officer, &format!("/api/v1/list-submissions/{sid}"))
        .await;
    assert_eq!(again.body["content_sha256"], hash);
    assert_eq!(again.body["items"], frozen);

    // The city reviews; a returned period may be submitted again.
    let review = format!("/api/v1/list-submissions/{sid}/review");
    app.post(
        &c.lx_admin,
        &review,
        &json!({"decision": "accepted", "opinion": "ok"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let r = app
        .post(
            &c.city_officer,
            &review,
            &json!({"decision": "returned", "opinion": "请补充制度措施"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "returned");
    app.post(
        &c.admin,
        &review,
        &json!({"decision": "accepted", "opinion": "x"}),
    )
    .await
    .assert_problem(409, "already_reviewed");
    let r = app
        .post(&c.lx_officer, "/api/v1/list-submissions", &body)
        .await;
    r.assert_status(201);
    assert_ne!(r.body["content_sha256"], json!(hash));
    assert_eq!(r.body["items"]["problem_items"][0]["title"], "改后的标题");
    let list = app
        .get(
            &c.admin,
            "/api/v1/list-submissions?owner_jurisdiction_code=431302",
        )
        .await;
    assert_eq!(list.items().len(), 2);
    app.get(&c.sf_officer, &format!("/api/v1/list-submissions/{sid}"))
        .await
        .assert_problem(404, "not_found");
    // An owner with empty lists may submit.
    let r = app
        .post(
            &c.sf_officer,
            "/api/v1/list-submissions",
            &json!({"owner_jurisdiction_code": "431321", "period": "2026-11"}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(
        r.body["items"],
        json!({"problem_items": [], "measure_items": []})
    );
});

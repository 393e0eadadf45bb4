//! Listed supervision (挂牌督办): authority rules, the listing lifecycle at county and city
//! level, delisting that closes listing and hazard in one transaction, extensions, filters.

use serde_json::{json, Value};

use crate::support::{both, five_fixes, hazard_body, major_documents, png, uscc, Backend, TestApp};

struct Cast {
    city_admin: String,
    lx_admin: String,
    sf_admin: String,
    lx_officer: String,
    ent: String,
    enterprise: i64,
}

async fn cast(app: &TestApp) -> Cast {
    let city_admin = app.admin().await;
    let enterprise = app
        .enterprise(&city_admin, &uscc(1), "431302", "hazardous_chemicals")
        .await;
    let (_, lx_admin) = app
        .regulator(&city_admin, "lx.admin", "county_admin", "431302")
        .await;
    let (_, sf_admin) = app
        .regulator(&city_admin, "sf.admin", "county_admin", "431321")
        .await;
    let (_, lx_officer) = app
        .regulator(&city_admin, "lx.officer", "county_officer", "431302")
        .await;
    let (_, ent) = app
        .account(
            &city_admin,
            "ent.user",
            "enterprise",
            json!({"enterprise_id": enterprise}),
        )
        .await;
    Cast {
        city_admin,
        lx_admin,
        sf_admin,
        lx_officer,
        ent,
        enterprise,
    }
}

async fn major(app: &TestApp, c: &Cast) -> i64 {
    let body = major_documents(five_fixes(
        hazard_body(Some(c.enterprise), "major", "2026-11-20"),
        "2026-12-20",
    ));
    let r = app.post(&c.lx_officer, "/api/v1/hazards", &body).await;
    r.assert_status(201);
    r.id()
}

fn listing(hazard: i64, level: &str) -> Value {
    json!({
        "hazard_id": hazard, "level": level, "notice_no": "娄星安委办督〔2026〕3号",
        "requirements": "限期整改，每周报送进展", "responsible_unit": "华兴化工", "deadline": "2026-12-31"
    })
}

async fn submit(app: &TestApp, c: &Cast, hazard: i64) {
    app.upload(&c.ent, hazard, "after", "after.png", png())
        .await
        .assert_status(201);
    app.act(
        &c.ent,
        hazard,
        json!({"action": "submit_for_acceptance", "note": "整改完成"}),
    )
    .await
    .assert_status(200);
}

fn events(r: &crate::support::Resp) -> Vec<String> {
    r.items()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

both!(county_listing_lifecycle, |app| {
    let c = cast(app).await;
    let h = major(app, &c).await;
    let r = app
        .post(&c.lx_admin, "/api/v1/listings", &listing(h, "county"))
        .await;
    r.assert_status(201);
    let id = r.id();
    assert_eq!(
        (r.body["authority_code"].as_str(), r.body["status"].as_str()),
        (Some("431302"), Some("listed"))
    );
    let hazard = format!("/api/v1/hazards/{h}");
    assert_eq!(app.get(&c.ent, &hazard).await.body["listed"], true);
    app.post(&c.city_admin, "/api/v1/listings", &listing(h, "city"))
        .await
        .assert_problem(409, "already_listed");

    // While listed, accept is refused; delisting needs the hazard pending acceptance.
    let path = format!("/api/v1/listings/{id}");
    app.post(
        &c.lx_admin,
        &format!("{path}/delist"),
        &json!({"note": "x"}),
    )
    .await
    .assert_problem(409, "invalid_transition");
    submit(app, &c, h).await;
    app.act(&c.lx_officer, h, json!({"action": "accept"}))
        .await
        .assert_problem(409, "hazard_listed");
    app.post(
        &c.lx_officer,
        &format!("{path}/delist"),
        &json!({"note": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(
        &c.lx_admin,
        &format!("{path}/delist"),
        &json!({"note": " "}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let r = app
        .post(
            &c.lx_admin,
            &format!("{path}/delist"),
            &json!({"note": "专家核查合格，同意销号"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "delisted");
    assert_eq!(r.body["delisting_note"], "专家核查合格，同意销号");
    let closed = app.get(&c.ent, &hazard).await;
    assert_eq!(
        (
            closed.body["status"].as_str(),
            closed.body["listed"].as_bool()
        ),
        (Some("closed"), Some(false))
    );
    app.post(
        &c.lx_admin,
        &format!("{path}/delist"),
        &json!({"note": "again"}),
    )
    .await
    .assert_problem(409, "invalid_transition");

    let ht = app.get(&c.city_admin, &format!("{hazard}/timeline")).await;
    let actions = events(&ht);
    assert!(
        actions.contains(&"listed".to_string()) && actions.last() == Some(&"delisted".to_string()),
        "{actions:?}"
    );
    let lt = app.get(&c.city_admin, &format!("{path}/timeline")).await;
    assert_eq!(events(&lt), ["create", "delisted"]);
});

both!(authority_rules, |app| {
    let c = cast(app).await;
    let h = major(app, &c).await;
    // Officers never list; a sibling county cannot see the hazard; a county cannot list at city level.
    app.post(&c.lx_officer, "/api/v1/listings", &listing(h, "county"))
        .await
        .assert_problem(403, "forbidden");
    app.post(&c.sf_admin, "/api/v1/listings", &listing(h, "county"))
        .await
        .assert_problem(404, "not_found");
    app.post(&c.lx_admin, "/api/v1/listings", &listing(h, "city"))
        .await
        .assert_problem(403, "out_of_jurisdiction");
    app.post(&c.lx_admin, "/api/v1/listings", &listing(h, "province"))
        .await
        .assert_problem(403, "forbidden");
    app.post(&c.ent, "/api/v1/listings", &listing(h, "county"))
        .await
        .assert_problem(403, "forbidden");
    // Only a major hazard is listed.
    let general = app
        .post(
            &c.lx_officer,
            "/api/v1/hazards",
            &hazard_body(Some(c.enterprise), "general", "2026-11-20"),
        )
        .await
        .id();
    let r = app
        .post(&c.lx_admin, "/api/v1/listings", &listing(general, "county"))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/hazard_id");
    assert!(app
        .get(&c.city_admin, "/api/v1/listings")
        .await
        .items()
        .is_empty());

    // The city lists at city level; a county admin cannot delist or cancel it; the city can.
    let r = app
        .post(&c.city_admin, "/api/v1/listings", &listing(h, "city"))
        .await;
    r.assert_status(201);
    assert_eq!(r.body["authority_code"], "431300");
    let path = format!("/api/v1/listings/{}", r.id());
    app.get(&c.lx_admin, &path).await.assert_status(200);
    app.post(
        &c.lx_admin,
        &format!("{path}/cancel"),
        &json!({"reason": "x"}),
    )
    .await
    .assert_problem(403, "out_of_jurisdiction");
    submit(app, &c, h).await;
    app.post(
        &c.lx_admin,
        &format!("{path}/delist"),
        &json!({"note": "x"}),
    )
    .await
    .assert_problem(403, "out_of_jurisdiction");
    app.get(&c.sf_admin, &path)
        .await
        .assert_problem(404, "not_found");
    // A stale If-Match is refused when sent.
    let req = app
        .client
        .post(app.url(&format!("{path}/cancel")))
        .bearer_auth(&c.city_admin)
        .header("if-match", "\"9\"")
        .json(&json!({"reason": "x"}));
    app.send(req).await.assert_problem(412, "stale_etag");
    let r = app
        .post(
            &c.city_admin,
            &format!("{path}/cancel"),
            &json!({"reason": "经复核不属于重大隐患"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "cancelled");
    let hz = app.get(&c.ent, &format!("/api/v1/hazards/{h}")).await;
    assert_eq!(
        (hz.body["listed"].as_bool(), hz.body["status"].as_str()),
        (Some(false), Some("pending_acceptance"))
    );
    // A province listing is recorded by the city admin, with the city as authority.
    let r = app
        .post(&c.city_admin, "/api/v1/listings", &listing(h, "province"))
        .await;
    r.assert_status(201);
    assert_eq!(
        (r.body["level"].as_str(), r.body["authority_code"].as_str()),
        (Some("province"), Some("431300"))
    );
});

both!(delisting_changes_both_or_neither, |app| {
    let c = cast(app).await;
    let h = major(app, &c).await;
    let id = app
        .post(&c.lx_admin, "/api/v1/listings", &listing(h, "county"))
        .await
        .id();
    submit(app, &c, h).await;
    // Make the hazard half of the transaction fail after the listing half has been written.
    match app.backend {
        Backend::Sqlite => app.sql(
            "CREATE TRIGGER refuse_close BEFORE UPDATE OF status ON hazards WHEN NEW.status = 'closed' \
             BEGIN SELECT RAISE(ABORT, 'refused by test'); END",
        ),
        Backend::Postgres => {
            app.sql("CREATE FUNCTION refuse_close() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$ LANGUAGE plpgsql");
            app.sql("CREATE TRIGGER refuse_close BEFORE UPDATE ON hazards FOR EACH ROW WHEN (NEW.status = 'closed') EXECUTE FUNCTION refuse_close()");
        }
    }
    let r = app
        .post(
            &c.lx_admin,
            &format!("/api/v1/listings/{id}/delist"),
            &json!({"note": "销号"}),
        )
        .await;
    r.assert_problem(500, "internal_error");
    assert!(
        !r.body.to_string().contains("refused by test"),
        "internals leaked"
    );
    let l = app
        .get(&c.lx_admin, &format!("/api/v1/listings/{id}"))
        .await;
    assert_eq!(
        (l.body["status"].as_str(), l.body["version"].as_i64()),
        (Some("listed"), Some(1))
    );
    let hz = app.get(&c.lx_admin, &format!("/api/v1/hazards/{h}")).await;
    assert_eq!(
        (hz.body["status"].as_str(), hz.body["listed"].as_bool()),
        (Some("pending_acceptance"), Some(true))
    );
    let t = app
        .get(&c.city_admin, &format!("/api/v1/listings/{id}/timeline"))
        .await;
    assert_eq!(events(&t), ["create"]);
    match app.backend {
        Backend::Sqlite => app.sql("DROP TRIGGER refuse_close"),
        Backend::Postgres => app.sql("DROP TRIGGER refuse_close ON hazards"),
    }
    app.post(
        &c.lx_admin,
        &format!("/api/v1/listings/{id}/delist"),
        &json!({"note": "销号"}),
    )
    .await
    .assert_status(200);
});

both!(listing_extensions_and_filters, |app| {
    let c = cast(app).await;
    let h1 = major(app, &c).await;
    let h2 = major(app, &c).await;
    let l1 = app
        .post(&c.lx_admin, "/api/v1/listings", &listing(h1, "county"))
        .await
        .id();
    let l2 = app
        .post(&c.city_admin, "/api/v1/listings", &listing(h2, "city"))
        .await
        .id();
    let ext = format!("/api/v1/listings/{l1}/extensions");
    let r = app
        .post(
            &c.ent,
            &ext,
            &json!({"new_deadline": "2027-01-31", "reason": "设备到货延迟"}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["subject_type"], "listing");
    let decision = format!("{ext}/{}/decision", r.id());
    app.post(
        &c.lx_officer,
        &decision,
        &json!({"decision": "approve", "note": "ok"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(
        &c.sf_admin,
        &decision,
        &json!({"decision": "approve", "note": "ok"}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &c.lx_admin,
        &decision,
        &json!({"decision": "approve", "note": "同意"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.get(&c.ent, &format!("/api/v1/listings/{l1}"))
            .await
            .body["deadline"],
        "2027-01-31"
    );
    let ht = app
        .get(&c.city_admin, &format!("/api/v1/hazards/{h1}/timeline"))
        .await;
    assert!(events(&ht).contains(&"extension_approved".to_string()));

    let ids = |r: crate::support::Resp| -> Vec<i64> {
        r.items()
            .iter()
            .map(|l| l["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(app
            .get(&c.city_admin, "/api/v1/listings?level=county")
            .await),
        vec![l1]
    );
    assert_eq!(
        ids(app.get(&c.city_admin, "/api/v1/listings?level=city").await),
        vec![l2]
    );
    assert_eq!(
        ids(app
            .get(&c.city_admin, "/api/v1/listings?status=listed")
            .await),
        vec![l1, l2]
    );
    assert_eq!(
        ids(app
            .get(&c.city_admin, "/api/v1/listings?jurisdiction_code=431302")
            .await),
        vec![l1, l2]
    );
    assert!(ids(app
        .get(&c.city_admin, "/api/v1/listings?jurisdiction_code=431321")
        .await)
    .is_empty());
    assert_eq!(
        ids(app
            .get(
                &c.ent,
                &format!("/api/v1/listings?enterprise_id={}", c.enterprise)
            )
            .await),
        vec![l1, l2]
    );
    app.set_now("2027-01-05T02:00:00Z");
    assert_eq!(
        ids(app
            .get(&c.city_admin, "/api/v1/listings?overdue=true")
            .await),
        vec![l2]
    );
    assert_eq!(
        ids(app
            .get(&c.city_admin, "/api/v1/listings?overdue=false")
            .await),
        vec![l1]
    );
    assert_eq!(
        app.get(&c.city_admin, &format!("/api/v1/listings/{l2}"))
            .await
            .body["overdue"],
        true
    );
    assert!(ids(app.get(&c.sf_admin, "/api/v1/listings").await).is_empty());
});

both!(ancestors_delist_and_submitters_do_not, |app| {
    let c = cast(app).await;
    let h = major(app, &c).await;
    let id = app
        .post(&c.lx_admin, "/api/v1/listings", &listing(h, "county"))
        .await
        .id();
    // The county admin submits the rectification itself: it may not also delist it.
    app.upload(&c.ent, h, "after", "a.png", png())
        .await
        .assert_status(201);
    app.act(
        &c.lx_admin,
        h,
        json!({"action": "submit_for_acceptance", "note": "整改完成"}),
    )
    .await
    .assert_status(200);
    app.post(
        &c.lx_admin,
        &format!("/api/v1/listings/{id}/delist"),
        &json!({"note": "x"}),
    )
    .await
    .assert_problem(403, "separation_of_duties");
    // The city admin, an ancestor of the county authority, may.
    let r = app
        .post(
            &c.city_admin,
            &format!("/api/v1/listings/{id}/delist"),
            &json!({"note": "市级复核合格"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        r.body["delisted_by"],
        app.get(&c.city_admin, "/api/v1/me").await.body["id"]
    );
    // A closed hazard cannot be listed again.
    app.post(&c.lx_admin, "/api/v1/listings", &listing(h, "county"))
        .await
        .assert_problem(409, "invalid_transition");
});

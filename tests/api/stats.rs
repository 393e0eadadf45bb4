//! Statistics checked against hand-computed figures: hazards over two counties, two sectors and
//! several months, with overdue, closed, void, listed/delisted and extended ones.

use serde_json::{json, Value};

use crate::support::{both, five_fixes, hazard_body, major_documents, png, uscc, TestApp};

/// Builds the fixture and returns (city admin, 娄星区 admin, enterprise account) tokens.
///
/// | hazard | county | sector              | discovered | level   | end state                          |
/// |--------|--------|---------------------|------------|---------|------------------------------------|
/// | A      | 431302 | hazardous_chemicals | 2026-03-10 | general | rectifying, overdue, 1 extension   |
/// | B      | 431302 | hazardous_chemicals | 2026-03-15 | major   | listed (county) then delisted      |
/// | C      | 431302 | construction        | 2026-05-01 | general | closed by acceptance               |
/// | D      | 431321 | construction        | 2026-05-20 | general | reported, no deadline              |
/// | E      | 431321 | construction        | 2026-05-21 | general | void (never counted)               |
/// | F      | 431321 | construction        | 2025-12-01 | major   | outside the default year           |
async fn fixture(app: &TestApp) -> (String, String, String) {
    app.set_now("2026-11-29T04:00:00Z");
    let admin = app.admin().await;
    let e1 = app
        .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
        .await;
    let e2 = app
        .enterprise(&admin, &uscc(2), "431302", "construction")
        .await;
    let e3 = app
        .enterprise(&admin, &uscc(3), "431321", "construction")
        .await;
    let (_, lx_admin) = app
        .regulator(&admin, "lx.admin", "county_admin", "431302")
        .await;
    let (_, ent1) = app
        .account(&admin, "ent1", "enterprise", json!({"enterprise_id": e1}))
        .await;
    let (_, ent2) = app
        .account(&admin, "ent2", "enterprise", json!({"enterprise_id": e2}))
        .await;
    let create = |body: Value| {
        let (app, admin) = (app, admin.clone());
        async move {
            let r = app.post(&admin, "/api/v1/hazards", &body).await;
            r.assert_status(201);
            r.id()
        }
    };
    let a = create(five_fixes(
        hazard_body(Some(e1), "general", "2026-03-10"),
        "2026-04-10",
    ))
    .await;
    let b = create(major_documents(five_fixes(
        hazard_body(Some(e1), "major", "2026-03-15"),
        "2026-12-31",
    )))
    .await;
    let c = create(five_fixes(
        hazard_body(Some(e2), "general", "2026-05-01"),
        "2026-06-01",
    ))
    .await;
    create(hazard_body(Some(e3), "general", "2026-05-20")).await;
    let e = create(five_fixes(
        hazard_body(Some(e3), "general", "2026-05-21"),
        "2026-06-30",
    ))
    .await;
    create(hazard_body(Some(e3), "major", "2025-12-01")).await;

    // A: one approved extension, still overdue.
    let r = app
        .post(
            &ent1,
            &format!("/api/v1/hazards/{a}/extensions"),
            &json!({"new_deadline": "2026-05-10", "reason": "延期"}),
        )
        .await;
    app.post(
        &admin,
        &format!("/api/v1/hazards/{a}/extensions/{}/decision", r.id()),
        &json!({"decision": "approve", "note": "同意"}),
    )
    .await
    .assert_status(200);
    // B: listed by the county, rectified, delisted.
    let l = app
        .post(&lx_admin, "/api/v1/listings", &json!({"hazard_id": b, "level": "county", "notice_no": "督〔2026〕1号", "requirements": "整改", "responsible_unit": "企业", "deadline": "2026-12-31"}))
        .await;
    l.assert_status(201);
    app.upload(&ent1, b, "after", "b.png", png())
        .await
        .assert_status(201);
    app.act(
        &ent1,
        b,
        json!({"action": "submit_for_acceptance", "note": "完成"}),
    )
    .await
    .assert_status(200);
    app.post(
        &lx_admin,
        &format!("/api/v1/listings/{}/delist", l.id()),
        &json!({"note": "销号"}),
    )
    .await
    .assert_status(200);
    // C: closed by acceptance.
    app.upload(&ent2, c, "after", "c.png", png())
        .await
        .assert_status(201);
    app.act(
        &ent2,
        c,
        json!({"action": "submit_for_acceptance", "note": "完成"}),
    )
    .await
    .assert_status(200);
    app.act(&admin, c, json!({"action": "accept"}))
        .await
        .assert_status(200);
    // E: void.
    app.act(&admin, e, json!({"action": "void", "reason": "重复"}))
        .await
        .assert_status(200);
    (admin, lx_admin, ent1)
}

#[allow(clippy::too_many_arguments)]
fn figures(
    found: i64,
    closed: i64,
    overdue: i64,
    rate: f64,
    major: i64,
    listed: i64,
    delisted: i64,
    ext: i64,
) -> Value {
    json!({
        "found": found, "closed": closed, "open": found - closed, "overdue": overdue,
        "rectification_rate": rate, "major_found": major, "major_listed": listed,
        "major_delisted": delisted, "extensions_granted": ext
    })
}

fn row(key: &str, label: &str, f: Value) -> Value {
    let mut r = json!({"key": key, "label": label});
    r.as_object_mut()
        .unwrap()
        .extend(f.as_object().unwrap().clone());
    r
}

both!(hazard_statistics_match_hand_computed_figures, |app| {
    let (city, county, ent) = fixture(app).await;
    let lx = figures(3, 2, 1, 0.6667, 1, 1, 1, 1);
    let sf = figures(1, 0, 0, 0.0, 0, 0, 0, 0);
    let r = app
        .get(&city, "/api/v1/stats/hazards?group_by=jurisdiction")
        .await;
    r.assert_status(200);
    // Shown with `cargo test stats -- --nocapture`: a sample answer.
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&r.body).unwrap_or_default()
    );
    assert_eq!(r.body["from"], "2026-01-01");
    assert_eq!(r.body["to"], "2026-12-31");
    assert_eq!(
        r.body["rows"],
        json!([
            row("431302", "娄星区", lx.clone()),
            row("431321", "双峰县", sf)
        ])
    );
    assert_eq!(r.body["totals"], figures(4, 2, 1, 0.5, 1, 1, 1, 1));

    let r = app
        .get(&city, "/api/v1/stats/hazards?group_by=sector")
        .await;
    assert_eq!(
        r.body["rows"],
        json!([
            row(
                "construction",
                "建筑施工",
                figures(2, 1, 0, 0.5, 0, 0, 0, 0)
            ),
            row(
                "hazardous_chemicals",
                "危险化学品",
                figures(2, 1, 1, 0.5, 1, 1, 1, 1)
            ),
        ])
    );
    let r = app.get(&city, "/api/v1/stats/hazards?group_by=month").await;
    assert_eq!(
        r.body["rows"],
        json!([
            row("2026-03", "2026-03", figures(2, 1, 1, 0.5, 1, 1, 1, 1)),
            row("2026-05", "2026-05", figures(2, 1, 0, 0.5, 0, 0, 0, 0)),
        ])
    );
    let r = app.get(&city, "/api/v1/stats/hazards?group_by=level").await;
    assert_eq!(
        r.body["rows"],
        json!([
            row("general", "一般隐患", figures(3, 1, 1, 0.3333, 0, 0, 0, 1)),
            row("major", "重大隐患", figures(1, 1, 0, 1.0, 1, 1, 1, 0)),
        ])
    );
    let r = app
        .get(&city, "/api/v1/stats/hazards?group_by=source")
        .await;
    assert_eq!(
        r.body["rows"],
        json!([row(
            "regulator_inspection",
            "监管检查",
            figures(4, 2, 1, 0.5, 1, 1, 1, 1)
        )])
    );

    // The county sees its own county only.
    let r = app
        .get(&county, "/api/v1/stats/hazards?group_by=jurisdiction")
        .await;
    assert_eq!(r.body["rows"], json!([row("431302", "娄星区", lx.clone())]));
    assert_eq!(r.body["totals"], lx);
    // Another period.
    let r = app
        .get(
            &city,
            "/api/v1/stats/hazards?group_by=jurisdiction&from=2025-12-01&to=2025-12-31",
        )
        .await;
    assert_eq!(
        r.body["rows"],
        json!([row("431321", "双峰县", figures(1, 0, 0, 0.0, 1, 0, 0, 0))])
    );
    let r = app
        .get(
            &city,
            "/api/v1/stats/hazards?group_by=jurisdiction&from=2027-01-01&to=2027-12-31",
        )
        .await;
    assert_eq!(r.body["rows"], json!([]));
    assert_eq!(r.body["totals"], figures(0, 0, 0, 0.0, 0, 0, 0, 0));

    app.get(&ent, "/api/v1/stats/hazards?group_by=level")
        .await
        .assert_problem(403, "forbidden");
    app.get(&city, "/api/v1/stats/hazards?group_by=colour")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&city, "/api/v1/stats/hazards")
        .await
        .assert_problem(400, "invalid_query");
    app.get(
        &city,
        "/api/v1/stats/hazards?group_by=level&from=2026-12-01&to=2026-01-01",
    )
    .await
    .assert_problem(422, "validation_failed");
    let r = app
        .get(
            &city,
            "/api/v1/stats/listings?group_by=level&from=1850-01-01&to=2026-01-01",
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/from");

    let r = app
        .get(&city, "/api/v1/stats/listings?group_by=level")
        .await;
    r.assert_status(200);
    assert_eq!(
        r.body["rows"],
        json!([{"key": "county", "label": "县级挂牌", "total": 1, "listed": 0, "delisted": 1, "cancelled": 0, "overdue": 0}])
    );
    let r = app
        .get(&county, "/api/v1/stats/listings?group_by=jurisdiction")
        .await;
    assert_eq!(r.body["rows"][0]["key"], "431302");
    assert_eq!(r.body["totals"]["total"], 1);
});

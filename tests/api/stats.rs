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

/// One hazard as the statistics see it, read straight from the rows.
struct Counted {
    city: String,
    county: String,
    sector: String,
    level: String,
    source: String,
    discovered: String,
    status: String,
    deadline: String,
    listed: bool,
    delisted: bool,
    granted: i64,
}

fn rows_of(app: &TestApp) -> Vec<Counted> {
    app.sql_texts(
        "SELECT h.city_code || '|' || h.county_code || '|' || h.sector_code || '|' || h.level || '|' \
         || h.source || '|' || CAST(h.discovered_on AS TEXT) || '|' || h.status || '|' \
         || CAST(h.deadline_key AS TEXT) || '|' \
         || CASE WHEN EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = h.id) THEN '1' ELSE '0' END || '|' \
         || CASE WHEN EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = h.id AND l.status = 'delisted') THEN '1' ELSE '0' END || '|' \
         || CAST((SELECT COUNT(*) FROM deadline_extensions x WHERE x.subject_type = 'hazard' \
                  AND x.subject_id = h.id AND x.status = 'approved') AS TEXT) AS t \
         FROM hazards h",
    )
    .into_iter()
    .map(|t| {
        let f: Vec<&str> = t.split('|').collect();
        Counted {
            city: f[0].into(),
            county: f[1].into(),
            sector: f[2].into(),
            level: f[3].into(),
            source: f[4].into(),
            discovered: f[5].into(),
            status: f[6].into(),
            deadline: f[7].into(),
            listed: f[8] == "1",
            delisted: f[9] == "1",
            granted: f[10].parse().unwrap(),
        }
    })
    .collect()
}

/// The statistics recounted from the rows, in Rust: key → [found, closed, overdue, major,
/// listed, delisted, granted].
fn recount(
    rows: &[Counted],
    within: impl Fn(&Counted) -> bool,
    group_by: &str,
    from: &str,
    to: &str,
    today: &str,
) -> std::collections::BTreeMap<String, [i64; 7]> {
    let mut out = std::collections::BTreeMap::new();
    for h in rows.iter().filter(|h| {
        within(h)
            && h.status != "void"
            && h.discovered.as_str() >= from
            && h.discovered.as_str() <= to
    }) {
        let key = match group_by {
            "jurisdiction" => h.county.clone(),
            "sector" => h.sector.clone(),
            "level" => h.level.clone(),
            "source" => h.source.clone(),
            _ => h.discovered[..7].to_string(),
        };
        let f: &mut [i64; 7] = out.entry(key).or_insert([0; 7]);
        let overdue =
            matches!(h.status.as_str(), "reported" | "rectifying") && h.deadline.as_str() < today;
        for (i, yes) in [
            true,
            h.status == "closed",
            overdue,
            h.level == "major",
            h.listed,
            h.delisted,
        ]
        .into_iter()
        .enumerate()
        {
            f[i] += yes as i64;
        }
        f[6] += h.granted;
    }
    out
}

fn answered(body: &Value) -> std::collections::BTreeMap<String, [i64; 7]> {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap();
            (
                r["key"].as_str().unwrap().to_string(),
                [
                    n("found"),
                    n("closed"),
                    n("overdue"),
                    n("major_found"),
                    n("major_listed"),
                    n("major_delisted"),
                    n("extensions_granted"),
                ],
            )
        })
        .collect()
}

// The statistics are read from tallies kept by triggers (whole months) plus rows (the other
// days, and overdue). Whatever writes the hazards — the API, concurrent clients, plain SQL —
// every answer equals a recount from the rows, for every grouping, scope and period.
// The server's own fold must not run in the middle (it would fold the slots early).
both!(
    tallies_agree_with_a_recount_from_the_rows,
    env = [("HAZREG_TALLY_FOLD_INTERVAL_SECS", "86400")],
    |app| {
        let (city, county, _) = fixture(app).await;
        let ent: i64 = app.sql_texts("SELECT CAST(MIN(id) AS TEXT) AS t FROM enterprises")[0]
            .parse()
            .unwrap();
        // Through the API: concurrent creates into one tally, a regrade, a cancelled listing.
        let creates = (0..8).map(|i| {
            let body = major_documents(five_fixes(
                hazard_body(Some(ent), "general", &format!("2026-07-{:02}", 10 + i)),
                "2026-08-01",
            ));
            let city = city.clone();
            async move { app.post(&city, "/api/v1/hazards", &body).await }
        });
        let made: Vec<i64> = futures_util::future::join_all(creates)
            .await
            .into_iter()
            .map(|r| {
                r.assert_status(201);
                r.id()
            })
            .collect();
        app.act(
            &city,
            made[0],
            json!({"action": "regrade", "level": "major", "reason": "复核为重大"}),
        )
        .await
        .assert_status(200);
        let l = app
        .post(&city, "/api/v1/listings", &json!({"hazard_id": made[0], "level": "city", "notice_no": "督〔2026〕9号", "requirements": "整改", "responsible_unit": "企业", "deadline": "2026-12-31"}))
        .await;
        l.assert_status(201);
        app.post(
            &city,
            &format!("/api/v1/listings/{}/cancel", l.id()),
            &json!({"reason": "误挂"}),
        )
        .await
        .assert_status(200);
        app.act(&city, made[1], json!({"action": "void", "reason": "重复"}))
            .await
            .assert_status(200);
        // Plain SQL, as a bulk load or a repair would write: a copy of every hazard in another
        // month, moved, regraded, closed and deleted rows, an approved extension.
        app.sql(
            "INSERT INTO hazards (code, enterprise_id, jurisdiction_code, county_code, city_code, \
         sector_code, title, description, level, source, discovered_on, deadline_key, status, \
         listed, reported_by, created_at, updated_at, version) \
         SELECT code || '-copy', enterprise_id, jurisdiction_code, county_code, city_code, \
         sector_code, title, description, level, source, '2026-09-14', deadline_key, status, \
         listed, reported_by, created_at, updated_at, version FROM hazards",
        );
        // Rows discovered after today (11-29), as only SQL can write them: a period that reaches
        // today reads November whole from its tally and takes them off again.
        app.sql(
            "INSERT INTO hazards (code, enterprise_id, jurisdiction_code, county_code, city_code, \
         sector_code, title, description, level, source, discovered_on, deadline_key, status, \
         listed, reported_by, created_at, updated_at, version) \
         SELECT code || '-late', enterprise_id, jurisdiction_code, county_code, city_code, \
         sector_code, title, description, level, source, '2026-11-30', deadline_key, status, \
         listed, reported_by, created_at, updated_at, version FROM hazards \
         WHERE code NOT LIKE '%-copy'",
        );
        // Some of them closed, listed and delisted, and extended, so every figure has
        // something to take off.
        app.sql("UPDATE hazards SET status = 'closed' WHERE code LIKE '%-late' AND id % 2 = 0");
        app.sql(
            "INSERT INTO listings (hazard_id, level, authority_code, notice_no, requirements, \
         responsible_unit, deadline, status, enterprise_id, jurisdiction_code, sector_code, \
         listed_by, listed_at, delisted_by, delisted_at, delisting_note, created_at, updated_at, \
         version) SELECT id, 'city', '431300', code, 'x', 'x', '2026-12-31', 'delisted', \
         enterprise_id, jurisdiction_code, sector_code, reported_by, created_at, reported_by, \
         created_at, 'x', created_at, updated_at, 1 FROM hazards WHERE code LIKE '%-late' \
         AND id % 3 = 0",
        );
        app.sql(
            "INSERT INTO deadline_extensions (subject_type, subject_id, old_deadline, new_deadline, \
         reason, status, requested_by, requested_at) SELECT 'hazard', id, '2026-12-01', \
         '2026-12-20', 'x', 'approved', reported_by, created_at FROM hazards \
         WHERE code LIKE '%-late' AND id % 3 <> 1",
        );
        app.sql(&format!(
        "UPDATE hazards SET discovered_on = '2026-10-02', sector_code = 'construction' WHERE id = {}",
        made[2]
    ));
        app.sql(&format!(
            "UPDATE hazards SET status = 'closed' WHERE id = {}",
            made[3]
        ));
        app.sql(&format!(
            "UPDATE hazards SET level = 'major' WHERE id = {}",
            made[4]
        ));
        app.sql("DELETE FROM hazards WHERE code LIKE '%-copy' AND status = 'void'");
        app.sql(&format!(
        "INSERT INTO deadline_extensions (subject_type, subject_id, old_deadline, new_deadline, \
         reason, status, requested_by, requested_at) SELECT 'hazard', id, '2026-08-01', '2026-12-01', \
         'x', 'approved', reported_by, created_at FROM hazards WHERE id = {}",
        made[5]
    ));

        let rows = rows_of(app);
        assert!(rows.len() > 20, "{}", rows.len());
        let today = "2026-11-29";
        let periods = [
            (None, "2026-01-01", "2026-12-31"),
            (
                Some(("2025-01-01", "2026-12-31")),
                "2025-01-01",
                "2026-12-31",
            ),
            (
                Some(("2026-03-15", "2026-11-20")),
                "2026-03-15",
                "2026-11-20",
            ),
            (
                Some(("2026-07-12", "2026-07-14")),
                "2026-07-12",
                "2026-07-14",
            ),
            (
                Some(("2025-12-01", "2026-09-30")),
                "2025-12-01",
                "2026-09-30",
            ),
            // Reaching today (2026-11-29), with rows on 11-30.
            (
                Some(("2026-09-01", "2026-11-29")),
                "2026-09-01",
                "2026-11-29",
            ),
            (
                Some(("2026-11-01", "2026-11-29")),
                "2026-11-01",
                "2026-11-29",
            ),
            (
                Some(("2026-11-03", "2026-11-29")),
                "2026-11-03",
                "2026-11-29",
            ),
            (
                Some(("2026-10-20", "2026-11-30")),
                "2026-10-20",
                "2026-11-30",
            ),
        ];
        // On PostgreSQL each session adds to its own slot of a tally, and the server folds the
        // slots into one row now and then: the answers are the same before and after a fold.
        let mut compared = 0;
        for pass in ["as written", "folded"] {
            if pass == "folded" && app.backend == Backend::Postgres {
                let slots = |app: &TestApp| {
                    app.sql_texts(
                        "SELECT CAST(COUNT(*) AS TEXT) AS t FROM hazard_tallies WHERE slot <> 0",
                    )[0]
                    .clone()
                };
                assert_ne!(
                    slots(app),
                    "0",
                    "the writes above left no slot rows to fold"
                );
                app.sql("SELECT hazard_tally_fold()");
                assert_eq!(slots(app), "0");
            }
            for (token, within) in [
                (
                    &city,
                    Box::new(|_: &Counted| true) as Box<dyn Fn(&Counted) -> bool>,
                ),
                (&county, Box::new(|h: &Counted| h.county == "431302")),
            ] {
                for group_by in ["jurisdiction", "sector", "level", "source", "month"] {
                    for (query, from, to) in periods {
                        let range = query
                            .map(|(a, b)| format!("&from={a}&to={b}"))
                            .unwrap_or_default();
                        let r = app
                            .get(
                                token,
                                &format!("/api/v1/stats/hazards?group_by={group_by}{range}"),
                            )
                            .await;
                        r.assert_status(200);
                        let expected = recount(&rows, &within, group_by, from, to, today);
                        assert_eq!(
                            answered(&r.body),
                            expected,
                            "group_by={group_by} {from}..{to}"
                        );
                        compared += expected.len();
                    }
                }
                assert!(rows.iter().all(|h| !h.city.is_empty()));
            }
        }
        assert!(compared > 200, "{compared}");
    }
);

// The server folds PostgreSQL's tally slots by itself (HAZREG_TALLY_FOLD_INTERVAL_SECS), while
// clients write, and the figures stay exact.
both!(
    the_server_folds_tally_slots_while_clients_write,
    env = [("HAZREG_TALLY_FOLD_INTERVAL_SECS", "1")],
    |app| {
        let (city, _, _) = fixture(app).await;
        let ent: i64 = app.sql_texts("SELECT CAST(MIN(id) AS TEXT) AS t FROM enterprises")[0]
            .parse()
            .unwrap();
        let found = |r: &crate::support::Resp| -> i64 {
            r.body["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["found"].as_i64().unwrap())
                .sum()
        };
        let stats = "/api/v1/stats/hazards?group_by=level&from=2026-01-01&to=2026-10-31";
        let before = app.get(&city, stats).await;
        before.assert_status(200);
        let creates = (0..12).map(|i| {
            let body = hazard_body(Some(ent), "general", &format!("2026-06-{:02}", 1 + i % 3));
            let city = city.clone();
            async move { app.post(&city, "/api/v1/hazards", &body).await }
        });
        for r in futures_util::future::join_all(creates).await {
            r.assert_status(201);
        }
        let after = app.get(&city, stats).await;
        after.assert_status(200);
        assert_eq!(found(&after), found(&before) + 12);
        if app.backend == Backend::Postgres {
            let slots = || {
                app.sql_texts(
                    "SELECT CAST(COUNT(*) AS TEXT) AS t FROM hazard_tallies WHERE slot <> 0",
                )[0]
                .clone()
            };
            let mut waited = 0;
            while slots() != "0" {
                assert!(waited < 100, "the slots were not folded within 10 s");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                waited += 1;
            }
            let folded = app.get(&city, stats).await;
            folded.assert_status(200);
            assert_eq!(folded.body["rows"], after.body["rows"]);
        }
    }
);

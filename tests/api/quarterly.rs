//! Quarterly hazard statistics reports (16号令, SPEC §9): the figures match a hand count, the
//! frozen report and its hash never change after later edits, one report per quarter, who
//! may report, scope, the regulators' compliance view (on time, late, missing, pending) and
//! the ledger export.

use serde_json::{json, Value};

use crate::exports::csv_rows;
use crate::support::*;

fn sha256_hex(text: &str) -> String {
    <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn hazard(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post(token, "/api/v1/hazards", &body).await;
    r.assert_status(201);
    r.id()
}

/// Rectified and accepted: the enterprise submits, the admin accepts.
async fn close(app: &TestApp, ent: &str, admin: &str, id: i64) {
    app.upload(ent, id, "after", "a.png", png())
        .await
        .assert_status(201);
    app.act(
        ent,
        id,
        json!({"action": "submit_for_acceptance", "note": "完成"}),
    )
    .await
    .assert_status(200);
    app.act(admin, id, json!({"action": "accept"}))
        .await
        .assert_status(200);
}

fn standing(body: &Value) -> Vec<(i64, String)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["enterprise_id"].as_i64().unwrap(),
                x["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

both!(
    quarterly_reports_freeze_hand_counted_figures_and_show_who_reported,
    |app| {
        // Q3 2026 runs 07-01..09-30; its report is due 2026-10-15 (Shanghai).
        app.set_now("2026-10-08T02:00:00Z");
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
        let (_, lx) = app
            .regulator(&admin, "lx.officer", "county_officer", "431302")
            .await;
        let (_, sf) = app
            .regulator(&admin, "sf.officer", "county_officer", "431321")
            .await;
        let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
        let (_, ent1) = app
            .account(&admin, "ent1", "enterprise", json!({"enterprise_id": e1}))
            .await;
        app.account(&admin, "ent2", "enterprise", json!({"enterprise_id": e2}))
            .await;

        // E1's hazards, by hand:
        // h1 Q3 general, deadline 08-10 passed, open          → found, open, overdue
        // h2 Q3 major, closed                                  → found, major, rectified (major)
        // h3 Q3 general, deadline 12-31, open                  → found, open
        // h4 Q2 general, open                                  → earlier_open
        // h5 Q2 general, closed                                → nothing
        // h6 Q3 general, void                                  → nothing
        // h7 Q4 general                                        → nothing
        // e2's hazard in Q3                                    → not e1's
        let h1 = hazard(
            app,
            &admin,
            five_fixes(hazard_body(Some(e1), "general", "2026-07-10"), "2026-08-10"),
        )
        .await;
        let h2 = hazard(
            app,
            &admin,
            major_documents(five_fixes(
                hazard_body(Some(e1), "major", "2026-08-01"),
                "2026-12-31",
            )),
        )
        .await;
        let h3 = hazard(
            app,
            &admin,
            five_fixes(hazard_body(Some(e1), "general", "2026-09-30"), "2026-12-31"),
        )
        .await;
        hazard(app, &admin, hazard_body(Some(e1), "general", "2026-06-30")).await;
        let h5 = hazard(
            app,
            &admin,
            five_fixes(hazard_body(Some(e1), "general", "2026-05-01"), "2026-06-01"),
        )
        .await;
        let h6 = hazard(app, &admin, hazard_body(Some(e1), "general", "2026-07-20")).await;
        hazard(app, &admin, hazard_body(Some(e1), "general", "2026-10-01")).await;
        hazard(
            app,
            &admin,
            five_fixes(hazard_body(Some(e2), "general", "2026-07-15"), "2026-07-20"),
        )
        .await;
        close(app, &ent1, &admin, h2).await;
        close(app, &ent1, &admin, h5).await;
        app.act(&admin, h6, json!({"action": "void", "reason": "重复"}))
            .await
            .assert_status(200);
        let _ = h1;

        // Who may not, and bad input: nothing is recorded.
        let body = json!({"year": 2026, "quarter": 3, "signed_by": "王建国"});
        app.post(
            &auditor,
            "/api/v1/quarterly-reports",
            &json!({"enterprise_id": e1, "year": 2026, "quarter": 3, "signed_by": "王"}),
        )
        .await
        .assert_problem(403, "forbidden");
        app.post(
            &ent1,
            "/api/v1/quarterly-reports",
            &json!({"enterprise_id": e2, "year": 2026, "quarter": 3, "signed_by": "王"}),
        )
        .await
        .assert_problem(404, "not_found");
        app.post(
            &sf,
            "/api/v1/quarterly-reports",
            &json!({"enterprise_id": e1, "year": 2026, "quarter": 3, "signed_by": "王"}),
        )
        .await
        .assert_problem(404, "not_found");
        app.post(&lx, "/api/v1/quarterly-reports", &body)
            .await
            .assert_problem(422, "validation_failed");
        for bad in [
            json!({"year": 2026, "quarter": 4, "signed_by": "王建国"}),
            json!({"year": 2026, "quarter": 5, "signed_by": "王建国"}),
            json!({"year": 1999, "quarter": 1, "signed_by": "王建国"}),
            json!({"year": 2026, "quarter": 3, "signed_by": "  "}),
            json!({"year": 2026, "quarter": 3, "signed_by": "王".repeat(101)}),
        ] {
            app.post(&ent1, "/api/v1/quarterly-reports", &bad)
                .await
                .assert_problem(422, "validation_failed");
        }
        app.post(
            &ent1,
            "/api/v1/quarterly-reports",
            &json!({"year": 2026, "quarter": 3, "signed_by": "王建国", "figures": {}}),
        )
        .await
        .assert_status_in(&[400, 422]);
        app.post(
            &ent1,
            "/api/v1/quarterly-reports",
            &json!({"year": 2026, "quarter": 3, "signed_by": "王\u{0}建国"}),
        )
        .await
        .assert_status_in(&[400, 422]);
        let r = app.get(&admin, "/api/v1/quarterly-reports").await;
        r.assert_status(200);
        assert!(r.items().is_empty(), "nothing recorded by refused requests");

        // The enterprise reports; the figures are the hand count.
        let r = app.post(&ent1, "/api/v1/quarterly-reports", &body).await;
        r.assert_status(201);
        let report = r.id();
        assert_eq!(
            r.header("location").as_deref(),
            Some(format!("/api/v1/quarterly-reports/{report}").as_str())
        );
        assert_eq!(
            r.body["figures"],
            json!({"found": 3, "found_major": 1, "rectified": 1, "rectified_major": 1, "open": 2,
               "overdue": 1, "rectification_rate": 0.3333, "funds_10k_yuan": 4.5, "earlier_open": 1})
        );
        assert_eq!(r.body["state"], "on_time");
        assert_eq!(r.body["due_on"], "2026-10-15");
        assert_eq!(r.body["signed_by"], "王建国");
        assert_eq!(r.body["document"]["as_of"], "2026-10-08");
        assert_eq!(r.body["document"]["period_from"], "2026-07-01");
        assert_eq!(r.body["document"]["period_to"], "2026-09-30");
        assert_eq!(r.body["document"]["enterprise"]["uscc"], uscc(1));
        let frozen = r.body["document"].clone();
        let hash = r.body["content_sha256"].as_str().unwrap().to_string();
        assert_eq!(hash, sha256_hex(&serde_json::to_string(&frozen).unwrap()));
        // Once per quarter.
        app.post(&ent1, "/api/v1/quarterly-reports", &body)
            .await
            .assert_problem(409, "already_reported");
        app.post(
            &admin,
            "/api/v1/quarterly-reports",
            &json!({"enterprise_id": e1, "year": 2026, "quarter": 3, "signed_by": "李"}),
        )
        .await
        .assert_problem(409, "already_reported");

        // Later edits change nothing in the report.
        close(app, &ent1, &admin, h3).await;
        hazard(
            app,
            &admin,
            five_fixes(hazard_body(Some(e1), "general", "2026-09-02"), "2026-12-31"),
        )
        .await;
        let r = app
            .get(&ent1, &format!("/api/v1/quarterly-reports/{report}"))
            .await;
        r.assert_status(200);
        assert_eq!(r.body["document"], frozen);
        assert_eq!(r.body["content_sha256"], hash.as_str());
        assert_eq!(r.body["figures"]["found"], 3);
        assert!(r.header("etag").is_some());

        // After the due date a regulator files e2's paper report: late.
        app.set_now("2026-10-16T02:00:00Z");
        let lx = app.login("lx.officer", PASSWORD).await;
        let admin = app.admin().await;
        let ent1 = app.login("ent1", PASSWORD).await;
        let ent2 = app.login("ent2", PASSWORD).await;
        let sf = app.login("sf.officer", PASSWORD).await;
        let auditor = app.login("auditor", PASSWORD).await;
        let r = app
            .post(
                &lx,
                "/api/v1/quarterly-reports",
                &json!({"enterprise_id": e2, "year": 2026, "quarter": 3, "signed_by": "赵六"}),
            )
            .await;
        r.assert_status(201);
        assert_eq!(r.body["state"], "late");
        assert_eq!(r.body["figures"]["found"], 1);
        assert_eq!(r.body["figures"]["overdue"], 1);
        let late_report = r.id();

        // Scope: each enterprise its own; the other county nothing; auditors everything.
        let ids = |r: &Resp| {
            r.items()
                .iter()
                .map(|x| x["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(&app.get(&ent1, "/api/v1/quarterly-reports").await),
            vec![report]
        );
        assert_eq!(
            ids(&app.get(&ent2, "/api/v1/quarterly-reports").await),
            vec![late_report]
        );
        assert!(ids(&app.get(&sf, "/api/v1/quarterly-reports").await).is_empty());
        assert_eq!(
            ids(&app
                .get(&auditor, "/api/v1/quarterly-reports?year=2026&quarter=3")
                .await),
            vec![report, late_report]
        );
        assert_eq!(
            ids(&app
                .get(
                    &lx,
                    &format!("/api/v1/quarterly-reports?enterprise_id={e2}")
                )
                .await),
            vec![late_report]
        );
        assert!(ids(&app.get(&lx, "/api/v1/quarterly-reports?quarter=2").await).is_empty());
        app.get(&ent2, &format!("/api/v1/quarterly-reports/{report}"))
            .await
            .assert_problem(404, "not_found");
        app.get(&sf, &format!("/api/v1/quarterly-reports/{report}"))
            .await
            .assert_problem(404, "not_found");
        app.get(&lx, "/api/v1/quarterly-reports?quarter=7")
            .await
            .assert_problem(400, "invalid_query");

        // Compliance, as of 10-16 (after the due date): e1 on time, e2 late, e3 missing.
        let r = app
            .get(
                &admin,
                "/api/v1/quarterly-reports/compliance?year=2026&quarter=3",
            )
            .await;
        r.assert_status(200);
        assert_eq!(r.body["due_on"], "2026-10-15");
        assert_eq!(
            r.body["counties"],
            json!([
                {"county_code": "431302", "name": "娄星区", "enterprises": 2, "on_time": 1, "late": 1, "not_reported": 0},
                {"county_code": "431321", "name": "双峰县", "enterprises": 1, "on_time": 0, "late": 0, "not_reported": 1}
            ])
        );
        assert_eq!(r.body["totals"]["not_reported"], 1);
        assert_eq!(
            standing(&r.body),
            vec![
                (e1, "on_time".into()),
                (e2, "late".into()),
                (e3, "missing".into())
            ]
        );
        assert_eq!(r.body["items"][0]["report_id"], report);
        let r = app
            .get(
                &lx,
                "/api/v1/quarterly-reports/compliance?year=2026&quarter=3",
            )
            .await;
        assert_eq!(
            r.body["counties"].as_array().unwrap().len(),
            1,
            "the county sees itself"
        );
        assert_eq!(
            standing(&r.body),
            vec![(e1, "on_time".into()), (e2, "late".into())]
        );
        let r = app
            .get(
                &auditor,
                "/api/v1/quarterly-reports/compliance?year=2026&quarter=3&state=missing",
            )
            .await;
        assert_eq!(standing(&r.body), vec![(e3, "missing".into())]);
        let r = app
            .get(
                &admin,
                "/api/v1/quarterly-reports/compliance?year=2026&quarter=3&county_code=431321",
            )
            .await;
        assert_eq!(standing(&r.body), vec![(e3, "missing".into())]);
        assert_eq!(r.body["counties"].as_array().unwrap().len(), 1);
        // Paging through the enterprises.
        let r = app
            .get(
                &admin,
                "/api/v1/quarterly-reports/compliance?year=2026&quarter=3&limit=2",
            )
            .await;
        assert_eq!(standing(&r.body).len(), 2);
        let cursor = r.body["next_cursor"].as_str().unwrap().to_string();
        let r = app
        .get(&admin, &format!("/api/v1/quarterly-reports/compliance?year=2026&quarter=3&limit=2&cursor={cursor}"))
        .await;
        assert_eq!(standing(&r.body), vec![(e3, "missing".into())]);
        // The next quarter: nobody has reported, and there is still time.
        let r = app
            .get(
                &admin,
                "/api/v1/quarterly-reports/compliance?year=2026&quarter=4&state=pending",
            )
            .await;
        assert_eq!(r.body["due_on"], "2027-01-15");
        assert_eq!(standing(&r.body).len(), 3);
        let r = app
            .get(
                &admin,
                "/api/v1/quarterly-reports/compliance?year=2026&quarter=4&state=missing",
            )
            .await;
        assert!(standing(&r.body).is_empty());
        // Who may not, and bad queries.
        app.get(
            &ent1,
            "/api/v1/quarterly-reports/compliance?year=2026&quarter=3",
        )
        .await
        .assert_problem(403, "forbidden");
        for bad in [
            "year=2026",
            "year=2026&quarter=0",
            "year=abc&quarter=1",
            "year=2026&quarter=3&state=late_ish",
            "year=2026&quarter=3&updated_since=2026-01-01T00:00:00Z",
            "year=2026&quarter=3&foo=1",
        ] {
            app.get(
                &admin,
                &format!("/api/v1/quarterly-reports/compliance?{bad}"),
            )
            .await
            .assert_problem(400, "invalid_query");
        }
        app.get(
            &admin,
            "/api/v1/quarterly-reports/compliance?year=2026&quarter=3&county_code=999999",
        )
        .await
        .assert_problem(422, "validation_failed");

        // The ledger export: the list's rows, in scope.
        let r = app
            .get(
                &admin,
                "/api/v1/quarterly-reports/export?format=csv&year=2026&quarter=3",
            )
            .await;
        r.assert_status(200);
        let rows = csv_rows(&r);
        assert_eq!(rows[0][0], "序号");
        assert_eq!(rows[0][6], "排查隐患数");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1][2], uscc(1));
        assert_eq!((rows[1][6].as_str(), rows[1][12].as_str()), ("3", "33.33%"));
        assert_eq!(rows[1][15], "王建国");
        assert_eq!(rows[2][15], "赵六");
        let r = app
            .get(&ent2, "/api/v1/quarterly-reports/export?format=csv")
            .await;
        r.assert_status(200);
        let rows = csv_rows(&r);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][2], uscc(2));
        app.get(&admin, "/api/v1/quarterly-reports/export?format=pdf")
            .await
            .assert_problem(400, "invalid_query");
    }
);

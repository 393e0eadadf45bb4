//! The risk register (issue 11, SPEC §9): units with their 包保责任人, events graded by LS and
//! LEC (the tables' boundaries are unit tests of `domain::risk`), every assessment kept, the
//! unit's and the enterprise's computed levels, control measures; only the enterprise writes,
//! scope holds for reads, bad input changes nothing.

use serde_json::{json, Value};

use crate::support::*;

fn unit(name: &str, major: bool, persons: &[&str]) -> Value {
    let mut b = json!({"name": name, "location": "厂区东北角", "department": "生产部", "major_hazard_source": major});
    for (field, person) in ["principal_person", "technical_person", "operating_person"]
        .iter()
        .zip(persons)
    {
        b[field] = json!(person);
    }
    b
}

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post(token, path, &body).await;
    r.assert_status(201);
    r.body
}

/// Assesses an event again with its current ETag.
async fn assess(app: &TestApp, token: &str, id: i64, body: Value) -> Resp {
    let etag = app
        .get(token, &format!("/api/v1/risk-events/{id}"))
        .await
        .etag();
    app.send(
        app.client
            .post(app.url(&format!("/api/v1/risk-events/{id}/assessments")))
            .bearer_auth(token)
            .header("if-match", etag)
            .json(&body),
    )
    .await
}

fn ids(r: &Resp) -> Vec<i64> {
    r.items()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect()
}

both!(
    the_risk_register_grades_and_rolls_up_levels_in_scope,
    |app| {
        let admin = app.admin().await;
        let e1 = app
            .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
            .await;
        let e2 = app
            .enterprise(&admin, &uscc(2), "431321", "construction")
            .await;
        let (_, lx) = app
            .regulator(&admin, "lx.officer", "county_officer", "431302")
            .await;
        let (_, sf) = app
            .regulator(&admin, "sf.officer", "county_officer", "431321")
            .await;
        let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
        let (ent1_id, ent1) = app
            .account(&admin, "ent1", "enterprise", json!({"enterprise_id": e1}))
            .await;
        let (ent2_id, ent2) = app
            .account(&admin, "ent2", "enterprise", json!({"enterprise_id": e2}))
            .await;

        // Units, and who may not record them; bad input records nothing.
        for token in [&admin, &lx, &auditor] {
            app.post(token, "/api/v1/risk-units", &unit("x", false, &[]))
                .await
                .assert_problem(403, "forbidden");
        }
        let mut bad = vec![unit("", false, &[]), unit("x", false, &[])];
        bad[1]["longitude"] = json!(200.0);
        bad[1]["latitude"] = json!(27.0);
        let mut half = unit("x", false, &[]);
        half["latitude"] = json!(27.0);
        bad.push(half);
        for body in bad {
            app.post(&ent1, "/api/v1/risk-units", &body)
                .await
                .assert_problem(422, "validation_failed");
        }
        // Control characters are refused alike on both databases, in bodies and in queries.
        for name in ["a\u{0}b", "a\u{1b}[31mb", "a\nb"] {
            app.post(&ent1, "/api/v1/risk-units", &unit(name, false, &[]))
                .await
                .assert_problem(422, "validation_failed");
        }
        app.get(&admin, "/api/v1/quarterly-reports?county_code=%00")
            .await
            .assert_problem(400, "invalid_query");
        app.get(&admin, "/api/v1/public-reports?jurisdiction_code=a%1Bb")
            .await
            .assert_problem(400, "invalid_query");
        let mut unknown = unit("x", false, &[]);
        unknown["risk_level"] = json!("blue");
        app.post(&ent1, "/api/v1/risk-units", &unknown)
            .await
            .assert_problem(422, "invalid_body");
        assert!(app
            .get(&admin, "/api/v1/risk-units")
            .await
            .items()
            .is_empty());

        let u1 = created(
            app,
            &ent1,
            "/api/v1/risk-units",
            unit("液氯储罐区", true, &["王建国", "李工", "张班长"]),
        )
        .await;
        assert_eq!(u1["accountability_complete"], true);
        assert_eq!(u1["risk_level"], Value::Null);
        assert_eq!(u1["enterprise_id"], e1);
        assert_eq!(u1["uuid"].as_str().unwrap().len(), 36);
        let u2 = created(
            app,
            &ent1,
            "/api/v1/risk-units",
            unit("氢气充装站", true, &["王建国"]),
        )
        .await;
        assert_eq!(u2["accountability_complete"], false, "包保 incomplete");
        let u3 = created(app, &ent1, "/api/v1/risk-units", unit("机修间", false, &[])).await;
        assert_eq!(u3["accountability_complete"], Value::Null);
        let (u1, u3) = (u1["id"].as_i64().unwrap(), u3["id"].as_i64().unwrap());
        created(
            app,
            &ent2,
            "/api/v1/risk-units",
            unit("塔吊作业区", false, &[]),
        )
        .await;

        // Events graded by LEC and LS; bad factors point at themselves.
        let event = |unit: i64, name: &str, assessment: Value| json!({"unit_id": unit, "name": name, "assessment": assessment});
        for (assessment, pointer) in [
            (json!({"method": "ls", "l": 3, "s": 6}), "/assessment/s"),
            (json!({"method": "ls", "l": 3}), "/assessment/s"),
            (
                json!({"method": "ls", "l": 3, "s": 2, "e": 1}),
                "/assessment/e",
            ),
            (
                json!({"method": "lec", "l": 2, "e": 6, "c": 15}),
                "/assessment/l",
            ),
            (
                json!({"method": "lec", "l": 3, "e": 6, "c": 16}),
                "/assessment/c",
            ),
        ] {
            let r = app
                .post(&ent1, "/api/v1/risk-events", &event(u1, "泄漏", assessment))
                .await;
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.body["errors"][0]["pointer"], pointer);
        }
        app.post(
            &ent1,
            "/api/v1/risk-events",
            &event(u1, "泄漏", json!({"method": "abc", "l": 1})),
        )
        .await
        .assert_problem(422, "invalid_body");
        app.post(
            &lx,
            "/api/v1/risk-events",
            &event(u1, "泄漏", json!({"method": "ls", "l": 1, "s": 1})),
        )
        .await
        .assert_problem(403, "forbidden");
        app.post(
            &ent2,
            "/api/v1/risk-events",
            &event(u1, "泄漏", json!({"method": "ls", "l": 1, "s": 1})),
        )
        .await
        .assert_problem(404, "not_found");
        assert!(app
            .get(&admin, "/api/v1/risk-events")
            .await
            .items()
            .is_empty());

        let leak = created(
            app,
            &ent1,
            "/api/v1/risk-events",
            event(
                u1,
                "液氯泄漏中毒",
                json!({"method": "lec", "l": 3, "e": 6, "c": 15}),
            ),
        )
        .await;
        assert_eq!(
            (
                leak["assessment"]["score"].as_f64(),
                leak["assessment"]["level"].as_str()
            ),
            (Some(270.0), Some("orange"))
        );
        let fire = created(
            app,
            &ent1,
            "/api/v1/risk-events",
            event(u1, "火灾爆炸", json!({"method": "ls", "l": 4, "s": 5})),
        )
        .await;
        assert_eq!(
            (
                fire["assessment"]["score"].as_f64(),
                fire["assessment"]["level"].as_str()
            ),
            (Some(20.0), Some("red"))
        );
        let cut = created(
            app,
            &ent1,
            "/api/v1/risk-events",
            event(u3, "机械伤害", json!({"method": "ls", "l": 2, "s": 2})),
        )
        .await;
        assert_eq!(cut["assessment"]["level"], "blue");
        let unit_level = |id: i64| {
            let (app, admin) = (app, admin.clone());
            async move {
                app.get(&admin, &format!("/api/v1/risk-units/{id}"))
                    .await
                    .body["risk_level"]
                    .clone()
            }
        };
        let enterprise_level = || {
            let (app, admin) = (app, admin.clone());
            async move {
                app.get(&admin, &format!("/api/v1/enterprises/{e1}"))
                    .await
                    .body["computed_risk_level"]
                    .clone()
            }
        };
        assert_eq!(unit_level(u1).await, "red", "a unit is its worst event");
        assert_eq!(unit_level(u3).await, "blue");
        assert_eq!(
            enterprise_level().await,
            "red",
            "an enterprise is its worst unit"
        );

        // The regulators' views: units by colour, enterprises with red units and their 包保.
        let r = app
            .get(&admin, "/api/v1/stats/risk-units?group_by=jurisdiction")
            .await;
        r.assert_status(200);
        assert_eq!(
            r.body["rows"],
            json!([
                {"key": "431302", "label": "娄星区", "red": 1, "orange": 0, "yellow": 0, "blue": 1, "unassessed": 1, "total": 3},
                {"key": "431321", "label": "双峰县", "red": 0, "orange": 0, "yellow": 0, "blue": 0, "unassessed": 1, "total": 1}
            ])
        );
        assert_eq!(r.body["totals"]["total"], 4);
        let r = app
            .get(&lx, "/api/v1/stats/risk-units?group_by=sector")
            .await;
        assert_eq!(
            r.body["rows"].as_array().unwrap().len(),
            1,
            "the county sees its own"
        );
        assert_eq!(r.body["rows"][0]["key"], "hazardous_chemicals");
        let r = app
            .get(
                &admin,
                "/api/v1/stats/risk-units?group_by=jurisdiction_sector",
            )
            .await;
        r.assert_status(200);
        let keys: Vec<(&str, i64, i64)> = r.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["key"].as_str().unwrap(),
                    x["red"].as_i64().unwrap(),
                    x["total"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                ("431302:hazardous_chemicals", 1, 3),
                ("431321:construction", 0, 1)
            ]
        );
        assert_eq!(r.body["rows"][0]["label"], "娄星区 · 危险化学品");
        let r = app.get(&lx, "/api/v1/stats/red-risk-enterprises").await;
        r.assert_status(200);
        assert_eq!(
            r.items().clone(),
            vec![
                json!({"enterprise_id": e1, "name": format!("测试企业 {}", uscc(1)), "county_code": "431302",
                    "red_units": 1, "major_hazard_sources": 2, "incomplete_sources": 1, "accountability_complete": false})
            ]
        );
        assert!(app
            .get(&sf, "/api/v1/stats/red-risk-enterprises")
            .await
            .items()
            .is_empty());
        for path in [
            "/api/v1/stats/risk-units?group_by=sector",
            "/api/v1/stats/red-risk-enterprises",
        ] {
            app.get(&ent1, path).await.assert_problem(403, "forbidden");
        }
        app.get(&admin, "/api/v1/stats/risk-units?group_by=colour")
            .await
            .assert_problem(400, "invalid_query");

        // Assessed again: kept, and the levels follow.
        let fire_id = fire["id"].as_i64().unwrap();
        app.post(
            &ent1,
            &format!("/api/v1/risk-events/{fire_id}/assessments"),
            &json!({"method": "ls", "l": 1, "s": 1}),
        )
        .await
        .assert_problem(428, "if_match_required");
        assess(app, &lx, fire_id, json!({"method": "ls", "l": 1, "s": 1}))
            .await
            .assert_problem(403, "forbidden");
        assess(app, &ent1, fire_id, json!({"method": "ls", "l": 1, "s": 9}))
            .await
            .assert_problem(422, "validation_failed");
        let r = assess(app, &ent1, fire_id, json!({"method": "ls", "l": 1, "s": 2})).await;
        r.assert_status(200);
        assert_eq!(
            (
                r.body["assessment"]["score"].as_f64(),
                r.body["assessment"]["level"].as_str()
            ),
            (Some(2.0), Some("blue"))
        );
        assert_eq!(unit_level(u1).await, "orange");
        assert_eq!(enterprise_level().await, "orange");
        let r = app
            .get(
                &auditor,
                &format!("/api/v1/risk-events/{fire_id}/assessments"),
            )
            .await;
        r.assert_status(200);
        let levels: Vec<&str> = r
            .items()
            .iter()
            .map(|a| a["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, vec!["red", "blue"], "every assessment is kept");

        // Control measures.
        let leak_id = leak["id"].as_i64().unwrap();
        let measure = |account: Option<i64>| {
            let mut b = json!({"event_id": leak_id, "description": "有毒气体检测报警与紧急切断阀联锁", "classification": "engineering", "tier": "workshop"});
            if let Some(a) = account {
                b["responsible_account_id"] = json!(a);
            }
            b
        };
        app.post(&ent1, "/api/v1/control-measures", &measure(Some(ent2_id)))
            .await
            .assert_problem(422, "validation_failed");
        app.post(&auditor, "/api/v1/control-measures", &measure(None))
            .await
            .assert_problem(403, "forbidden");
        let mut wrong = measure(None);
        wrong["tier"] = json!("department");
        app.post(&ent1, "/api/v1/control-measures", &wrong)
            .await
            .assert_problem(422, "invalid_body");
        let m = created(
            app,
            &ent1,
            "/api/v1/control-measures",
            measure(Some(ent1_id)),
        )
        .await;
        assert_eq!(
            (m["unit_id"].as_i64(), m["responsible_account_id"].as_i64()),
            (Some(u1), Some(ent1_id))
        );
        let r = app
            .get(&lx, &format!("/api/v1/control-measures?event_id={leak_id}"))
            .await;
        assert_eq!(ids(&r), vec![m["id"].as_i64().unwrap()]);

        // Scope: the other county and the other enterprise see none of it.
        assert_eq!(ids(&app.get(&lx, "/api/v1/risk-units").await).len(), 3);
        assert_eq!(
            ids(&app
                .get(&auditor, &format!("/api/v1/risk-units?enterprise_id={e1}"))
                .await)
            .len(),
            3
        );
        assert_eq!(
            ids(&app
                .get(&admin, "/api/v1/risk-units?risk_level=orange")
                .await),
            vec![u1]
        );
        assert_eq!(
            ids(&app
                .get(&admin, "/api/v1/risk-units?major_hazard_source=true")
                .await)
            .len(),
            2
        );
        assert_eq!(ids(&app.get(&sf, "/api/v1/risk-units").await).len(), 1);
        assert!(app
            .get(&ent2, "/api/v1/risk-events")
            .await
            .items()
            .is_empty());
        for path in [
            format!("/api/v1/risk-units/{u1}"),
            format!("/api/v1/risk-events/{leak_id}"),
            format!("/api/v1/risk-events/{leak_id}/assessments"),
            format!("/api/v1/control-measures/{}", m["id"]),
        ] {
            app.get(&sf, &path).await.assert_problem(404, "not_found");
            app.get(&ent2, &path).await.assert_problem(404, "not_found");
            app.get(&lx, &path).await.assert_status(200);
        }

        // Changing a unit: If-Match, the enterprise only.
        let r = app
            .get(&ent1, &format!("/api/v1/risk-units/{}", u2["id"]))
            .await;
        let etag = r.etag();
        let path = format!("/api/v1/risk-units/{}", u2["id"]);
        app.patch(
            &lx,
            &path,
            Some(&etag),
            &json!({"technical_person": "李工"}),
        )
        .await
        .assert_problem(403, "forbidden");
        app.patch(
            &ent2,
            &path,
            Some(&etag),
            &json!({"technical_person": "李工"}),
        )
        .await
        .assert_problem(404, "not_found");
        app.patch(&ent1, &path, None, &json!({"technical_person": "李工"}))
            .await
            .assert_problem(428, "if_match_required");
        app.patch(&ent1, &path, Some(&etag), &json!({"name": ""}))
            .await
            .assert_problem(422, "validation_failed");
        let r = app
            .patch(
                &ent1,
                &path,
                Some(&etag),
                &json!({"technical_person": "李工", "operating_person": "赵班长"}),
            )
            .await;
        r.assert_status(200);
        assert_eq!(r.body["accountability_complete"], true);
        app.patch(&ent1, &path, Some(&etag), &json!({"location": "二号库"}))
            .await
            .assert_problem(412, "stale_etag");
    }
);

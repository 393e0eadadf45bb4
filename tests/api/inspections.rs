//! Inspection tasks, slots and check records (issue 11): a 30-day daily task with two missed
//! slots counted by hand; a monthly task across month ends; a failed check raising a hazard
//! that names its origin, the measure failing and the unit out of control until the hazard
//! is closed; who may not; bad input changes nothing. (Slot arithmetic across leap days and
//! Shanghai midnight is `domain::inspection`'s unit tests.)

use serde_json::{json, Value};

use crate::support::*;

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post(token, path, &body).await;
    r.assert_status(201);
    r.body
}

async fn slots(app: &TestApp, token: &str, task: i64) -> Vec<Value> {
    let r = app
        .get(
            token,
            &format!("/api/v1/inspection-tasks/{task}/slots?limit=200"),
        )
        .await;
    r.assert_status(200);
    r.items().clone()
}

fn all_ok(measures: &[i64], slot: i64) -> Value {
    json!({"slot_id": slot, "results": measures.iter().map(|m| json!({"measure_id": m, "ok": true})).collect::<Vec<_>>()})
}

both!(inspection_slots_records_and_the_hazards_they_raise, |app| {
    // 2026-12-01 08:30 in Shanghai.
    app.set_now("2026-12-01T00:30:00Z");
    let admin = app.admin().await;
    let e1 = app
        .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
        .await;
    let e2 = app
        .enterprise(&admin, &uscc(2), "431321", "construction")
        .await;
    app.regulator(&admin, "lx.officer", "county_officer", "431302")
        .await;
    app.regulator(&admin, "sf.officer", "county_officer", "431321")
        .await;
    app.regulator(&admin, "auditor", "auditor", "431300").await;
    let (_, ent1) = app
        .account(&admin, "ent1", "enterprise", json!({"enterprise_id": e1}))
        .await;
    let (_, ent2) = app
        .account(&admin, "ent2", "enterprise", json!({"enterprise_id": e2}))
        .await;
    let lx = app.login("lx.officer", PASSWORD).await;
    let auditor = app.login("auditor", PASSWORD).await;

    let unit = created(
        app,
        &ent1,
        "/api/v1/risk-units",
        json!({"name": "液氯储罐区", "major_hazard_source": false, "location": "东北角"}),
    )
    .await;
    let unit = unit["id"].as_i64().unwrap();
    let event = created(app, &ent1, "/api/v1/risk-events", json!({"unit_id": unit, "name": "液氯泄漏", "assessment": {"method": "ls", "l": 3, "s": 4}})).await;
    let event = event["id"].as_i64().unwrap();
    let mut measures = Vec::new();
    for d in ["有毒气体报警器完好", "紧急切断阀可用"] {
        let m = created(app, &ent1, "/api/v1/control-measures", json!({"event_id": event, "description": d, "classification": "engineering", "tier": "team"})).await;
        measures.push(m["id"].as_i64().unwrap());
    }
    let other_unit = created(app, &ent2, "/api/v1/risk-units", json!({"name": "塔吊"})).await["id"]
        .as_i64()
        .unwrap();
    let other_event = created(app, &ent2, "/api/v1/risk-events", json!({"unit_id": other_unit, "name": "倾覆", "assessment": {"method": "ls", "l": 1, "s": 1}})).await["id"].as_i64().unwrap();
    let foreign = created(app, &ent2, "/api/v1/control-measures", json!({"event_id": other_event, "description": "限位", "classification": "engineering", "tier": "post"})).await["id"].as_i64().unwrap();

    // Tasks: who may not, and bad input.
    let task_body = |ids: &[i64], unit: &str, every: i64, starts: &str| json!({"name": "罐区巡检", "measure_ids": ids, "assignee_post": "巡检员", "cycle_unit": unit, "cycle_every": every, "starts_on": starts});
    for token in [&admin, &lx, &auditor] {
        app.post(
            token,
            "/api/v1/inspection-tasks",
            &task_body(&measures, "day", 1, "2026-12-01"),
        )
        .await
        .assert_problem(403, "forbidden");
    }
    for body in [
        task_body(&[measures[0], foreign], "day", 1, "2026-12-01"),
        task_body(&[measures[0], measures[0]], "day", 1, "2026-12-01"),
        task_body(&[], "day", 1, "2026-12-01"),
        task_body(&measures, "day", 0, "2026-12-01"),
    ] {
        app.post(&ent1, "/api/v1/inspection-tasks", &body)
            .await
            .assert_problem(422, "validation_failed");
    }
    app.post(
        &ent1,
        "/api/v1/inspection-tasks",
        &task_body(&measures, "fortnight", 1, "2026-12-01"),
    )
    .await
    .assert_problem(422, "invalid_body");
    assert!(app
        .get(&admin, "/api/v1/inspection-tasks")
        .await
        .items()
        .is_empty());

    let daily = created(
        app,
        &ent1,
        "/api/v1/inspection-tasks",
        task_body(&measures, "day", 1, "2026-12-01"),
    )
    .await;
    let daily = daily["id"].as_i64().unwrap();
    let monthly = created(
        app,
        &ent1,
        "/api/v1/inspection-tasks",
        task_body(&measures, "month", 1, "2026-10-31"),
    )
    .await;
    let monthly = monthly["id"].as_i64().unwrap();
    let first = slots(app, &ent1, daily).await;
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0]["seq"].as_i64(), first[0]["state"].as_str()),
        (Some(0), Some("open"))
    );
    assert_eq!(
        first[0]["starts_at"], "2026-11-30T16:00:00Z",
        "Shanghai midnight"
    );
    assert_eq!(first[0]["ends_at"], "2026-12-01T16:00:00Z");

    // Recording: who may not, and bad input.
    let slot0 = first[0]["id"].as_i64().unwrap();
    app.post(&lx, "/api/v1/check-records", &all_ok(&measures, slot0))
        .await
        .assert_problem(403, "forbidden");
    app.post(&ent2, "/api/v1/check-records", &all_ok(&measures, slot0))
        .await
        .assert_problem(404, "not_found");
    for body in [
        all_ok(&measures[..1], slot0),
        json!({"slot_id": slot0, "results": [{"measure_id": measures[0], "ok": true}, {"measure_id": measures[1], "ok": false}]}),
        json!({"slot_id": slot0, "results": [{"measure_id": measures[0], "ok": true}, {"measure_id": measures[0], "ok": true}, {"measure_id": measures[1], "ok": true}]}),
        json!({"slot_id": slot0, "results": [{"measure_id": measures[0], "ok": true}, {"measure_id": foreign, "ok": true}]}),
    ] {
        app.post(&ent1, "/api/v1/check-records", &body)
            .await
            .assert_problem(422, "validation_failed");
    }
    assert!(app
        .get(&admin, "/api/v1/check-records")
        .await
        .items()
        .is_empty());

    // Thirty days, checked every day at 10:00 but on days 4 and 17.
    for day in 0..30 {
        app.set_now(&format!("2026-12-{:02}T02:00:00Z", day + 1));
        let ent1 = app.login("ent1", PASSWORD).await;
        let s = slots(app, &ent1, daily).await;
        assert_eq!(s.len(), day + 1);
        if day == 4 || day == 17 {
            continue;
        }
        let r = app
            .post(
                &ent1,
                "/api/v1/check-records",
                &all_ok(&measures, s[day]["id"].as_i64().unwrap()),
            )
            .await;
        r.assert_status(201);
        if day == 0 {
            app.post(
                &ent1,
                "/api/v1/check-records",
                &all_ok(&measures, s[0]["id"].as_i64().unwrap()),
            )
            .await
            .assert_problem(409, "already_checked");
        }
        if day == 5 {
            // Yesterday's slot has ended unchecked: missed, and closed to checks.
            assert_eq!(s[4]["state"], "missed");
            app.post(
                &ent1,
                "/api/v1/check-records",
                &all_ok(&measures, s[4]["id"].as_i64().unwrap()),
            )
            .await
            .assert_problem(409, "slot_closed");
        }
    }
    app.set_now("2026-12-31T02:00:00Z");
    let admin = app.admin().await;
    let ent1 = app.login("ent1", PASSWORD).await;
    let lx = app.login("lx.officer", PASSWORD).await;
    let sf = app.login("sf.officer", PASSWORD).await;
    let r = app
        .get(&lx, &format!("/api/v1/inspection-tasks/{daily}"))
        .await;
    r.assert_status(200);
    assert_eq!(
        (
            r.body["done"].as_i64(),
            r.body["missed"].as_i64(),
            r.body["completion_rate"].as_f64()
        ),
        (Some(28), Some(2), Some(0.9333)),
        "28 of 30 by hand"
    );
    let listed = app
        .get(&lx, &format!("/api/v1/inspection-tasks?enterprise_id={e1}"))
        .await;
    let row = listed
        .items()
        .iter()
        .find(|t| t["id"] == daily)
        .expect("listed");
    assert_eq!(
        (
            row["done"].as_i64(),
            row["missed"].as_i64(),
            row["measure_ids"].as_array().map(Vec::len)
        ),
        (Some(28), Some(2), Some(2))
    );
    let s = slots(app, &lx, daily).await;
    let states: Vec<&str> = s.iter().map(|x| x["state"].as_str().unwrap()).collect();
    assert_eq!(states.len(), 31);
    assert_eq!(states.iter().filter(|x| **x == "missed").count(), 2);
    assert_eq!(
        (states[4], states[17], states[30]),
        ("missed", "missed", "open")
    );
    // Monthly from Oct 31: Oct 31, Nov 30, Dec 31.
    let m = slots(app, &lx, monthly).await;
    let starts: Vec<&str> = m.iter().map(|x| x["starts_at"].as_str().unwrap()).collect();
    assert_eq!(
        starts,
        [
            "2026-10-30T16:00:00Z",
            "2026-11-29T16:00:00Z",
            "2026-12-30T16:00:00Z"
        ]
    );
    // The regulators' view of the same: 30 due, 28 done, 2 missed.
    let r = app
        .get(
            &lx,
            "/api/v1/stats/inspections?from=2026-12-01&to=2026-12-30",
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.items().len(), 1);
    let row = &r.items()[0];
    assert_eq!(
        (
            row["enterprise_id"].as_i64(),
            row["due"].as_i64(),
            row["done"].as_i64(),
            row["missed"].as_i64(),
            row["open"].as_i64(),
            row["completion_rate"].as_f64()
        ),
        (Some(e1), Some(30), Some(28), Some(2), Some(0), Some(0.9333))
    );
    assert!(app
        .get(&sf, "/api/v1/stats/inspections")
        .await
        .items()
        .is_empty());
    app.get(&ent1, "/api/v1/stats/inspections")
        .await
        .assert_problem(403, "forbidden");
    app.get(
        &lx,
        "/api/v1/stats/inspections?from=2026-12-31&to=2026-12-01",
    )
    .await
    .assert_problem(422, "validation_failed");
    app.get(&sf, &format!("/api/v1/inspection-tasks/{daily}"))
        .await
        .assert_problem(404, "not_found");
    app.get(&sf, &format!("/api/v1/inspection-tasks/{daily}/slots"))
        .await
        .assert_problem(404, "not_found");

    // A failed check raises a hazard naming its origin; the measure fails, the unit is out of
    // control until the hazard is closed.
    let today = s[30]["id"].as_i64().unwrap();
    let r = app
        .post(
            &ent1,
            "/api/v1/check-records",
            &json!({"slot_id": today, "results": [
                {"measure_id": measures[0], "ok": true},
                {"measure_id": measures[1], "ok": false, "note": "切断阀卡涩无法关闭"}
            ]}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["failed"], 1);
    let record = r.body["id"].as_i64().unwrap();
    let hazard = r.body["results"][1]["hazard_id"].as_i64().unwrap();
    assert_eq!(r.body["results"][0]["hazard_id"], Value::Null);
    let h = app.get(&ent1, &format!("/api/v1/hazards/{hazard}")).await;
    assert_eq!(
        (
            h.body["check_record_id"].as_i64(),
            h.body["control_measure_id"].as_i64(),
            h.body["risk_unit_id"].as_i64()
        ),
        (Some(record), Some(measures[1]), Some(unit))
    );
    assert_eq!(h.body["source"], "self_inspection");
    assert_eq!(h.body["description"], "切断阀卡涩无法关闭");
    let failing = |token: String, id: i64| async move {
        app.get(&token, &format!("/api/v1/control-measures/{id}"))
            .await
            .body["failing"]
            .clone()
    };
    assert_eq!(failing(lx.clone(), measures[1]).await, true);
    assert_eq!(failing(lx.clone(), measures[0]).await, false);
    let controlled = || async {
        app.get(&lx, &format!("/api/v1/risk-units/{unit}"))
            .await
            .body["controlled"]
            .clone()
    };
    assert_eq!(controlled().await, false);
    let listed = app
        .get(&lx, &format!("/api/v1/risk-units?enterprise_id={e1}"))
        .await;
    assert_eq!(listed.items()[0]["controlled"], false);
    let origins = |token: String| async move {
        app.get(
            &token,
            "/api/v1/stats/hazard-origins?from=2026-12-01&to=2026-12-31",
        )
        .await
        .body["rows"]
            .clone()
    };
    assert_eq!(
        origins(lx.clone()).await,
        json!([{"origin": "inspection", "label": "排查发现", "found": 1, "open": 1}])
    );
    assert_eq!(origins(sf.clone()).await, json!([]));
    let r = app
        .get(
            &lx,
            &format!("/api/v1/check-records?task_id={daily}&limit=200"),
        )
        .await;
    assert_eq!(r.items().len(), 29);
    app.get(&sf, &format!("/api/v1/check-records/{record}"))
        .await
        .assert_problem(404, "not_found");

    // Rectified and accepted: the unit is under control again.
    app.patch_fresh(
        &ent1,
        &format!("/api/v1/hazards/{hazard}"),
        &five_fixes(json!({}), "2027-01-10"),
    )
    .await
    .assert_status(200);
    let h = app.get(&ent1, &format!("/api/v1/hazards/{hazard}")).await;
    if h.body["status"] == "reported" {
        app.act(&ent1, hazard, json!({"action": "start_rectification"}))
            .await
            .assert_status(200);
    }
    app.upload(&ent1, hazard, "after", "a.png", png())
        .await
        .assert_status(201);
    app.act(
        &ent1,
        hazard,
        json!({"action": "submit_for_acceptance", "note": "已更换切断阀"}),
    )
    .await
    .assert_status(200);
    app.act(&admin, hazard, json!({"action": "accept"}))
        .await
        .assert_status(200);
    assert_eq!(controlled().await, true);
    assert_eq!(failing(lx.clone(), measures[1]).await, false);
    assert_eq!(
        origins(lx.clone()).await,
        json!([{"origin": "inspection", "label": "排查发现", "found": 1, "open": 0}])
    );

    // The national model exchange: the same rows in its layout, linked by stable UUIDs.
    let ex = |token: String, table: &'static str| async move {
        let r = app
            .get(
                &token,
                &format!("/api/v1/exchange/dual-prevention/{table}?limit=200"),
            )
            .await;
        r.assert_status(200);
        r.items().clone()
    };
    let units = ex(lx.clone(), "risk-units").await;
    let unit_uuid = app
        .get(&lx, &format!("/api/v1/risk-units/{unit}"))
        .await
        .body["uuid"]
        .clone();
    let row = units
        .iter()
        .find(|u| u["id"] == unit_uuid)
        .expect("the unit");
    assert_eq!(
        (row["companyCode"].as_str(), row["riskLevel"].as_i64()),
        (Some(uscc(1).as_str()), Some(3))
    );
    let events = ex(lx.clone(), "risk-events").await;
    assert!(events.iter().any(|e| e["riskUnitId"] == unit_uuid
        && e["evaluationMethod"] == "LS"
        && e["riskValue"] == 12.0));
    let measure_uuid = app
        .get(&lx, &format!("/api/v1/control-measures/{}", measures[1]))
        .await
        .body["uuid"]
        .clone();
    let cms = ex(lx.clone(), "control-measures").await;
    let cm = cms
        .iter()
        .find(|m| m["id"] == measure_uuid)
        .expect("the measure");
    assert_eq!(
        (cm["classify1"].as_i64(), cm["controlLevel"].as_i64()),
        (Some(1), Some(3))
    );
    let tasks = ex(lx.clone(), "check-tasks").await;
    assert_eq!(tasks.len(), 4, "two tasks of two measures each");
    let ids: std::collections::HashSet<_> =
        tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4);
    assert!(tasks
        .iter()
        .any(|t| t["checkCycleUnit"] == "月" && t["workStartTime"] == "2026-10-31"));
    let records = ex(lx.clone(), "check-records").await;
    assert_eq!(records.len(), 58, "29 records of two measures");
    let failed: Vec<&Value> = records.iter().filter(|r| r["checkStatus"] == 1).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["riskMeasureId"], measure_uuid);
    assert!(
        tasks.iter().any(|t| t["id"] == failed[0]["checkTaskId"]),
        "a record names its task row"
    );
    let hazards = ex(ent1.clone(), "hazards").await;
    let h = hazards
        .iter()
        .find(|h| h["hazardCode"].as_str().is_some())
        .expect("the hazard");
    assert_eq!(h["riskMeasureId"], measure_uuid);
    assert_eq!(h["checkRecordId"], failed[0]["id"]);
    assert_eq!(
        (
            h["dangerLevel"].as_i64(),
            h["dangerState"].as_i64(),
            h["dangerSrc"].as_i64(),
            h["hazardDangerType"].as_i64(),
            h["deleted"].as_i64()
        ),
        (Some(0), Some(9), Some(1), Some(9), Some(0))
    );
    assert!(h["checkAcceptPerson"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert!(h["checkAcceptTime"].as_str().is_some_and(|s| s.len() == 19));
    assert_eq!(h["id"].as_str().unwrap().len(), 36);
    // Incremental, and in scope.
    let later = app
        .get(
            &lx,
            "/api/v1/exchange/dual-prevention/hazards?updated_since=2027-06-01T00:00:00Z",
        )
        .await;
    later.assert_status(200);
    assert!(later.items().is_empty());
    // The other county sees its own enterprise's register only, and none of these tasks,
    // records or hazards.
    let theirs = ex(sf.clone(), "risk-units").await;
    assert!(!theirs.is_empty() && theirs.iter().all(|u| u["companyCode"] == uscc(2).as_str()));
    assert!(!ex(sf.clone(), "risk-events")
        .await
        .iter()
        .any(|e| e["riskUnitId"] == unit_uuid));
    assert!(!ex(sf.clone(), "control-measures")
        .await
        .iter()
        .any(|m| m["id"] == measure_uuid));
    for table in ["check-tasks", "check-records", "hazards"] {
        assert!(
            ex(sf.clone(), table).await.is_empty(),
            "{table} out of scope"
        );
    }
});

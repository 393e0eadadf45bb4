//! Hazards: recording, the general and major lifecycles, the state machine, who may act,
//! separation of duties, deadlines and extensions, overdue, attachments, listing, concurrency.

use serde_json::{json, Value};

use crate::support::{
    both, five_fixes, hazard_body, major_documents, png, query_value, uscc, Backend, TestApp,
    PASSWORD,
};

struct Cast {
    admin: String,
    officer: String,
    auditor: String,
    sibling_officer: String,
    ent_a: String,
    ent_b: String,
    enterprise: i64,
}

/// An enterprise in 娄星区 with two of its own accounts, a 娄星区 officer, a 双峰县 officer.
async fn cast(app: &TestApp) -> Cast {
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
        .await;
    let (_, officer) = app
        .regulator(&admin, "lx.officer", "county_officer", "431302")
        .await;
    let (_, sibling_officer) = app
        .regulator(&admin, "sf.officer", "county_officer", "431321")
        .await;
    let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
    let (_, ent_a) = app
        .account(
            &admin,
            "ent.a",
            "enterprise",
            json!({"enterprise_id": enterprise}),
        )
        .await;
    let (_, ent_b) = app
        .account(
            &admin,
            "ent.b",
            "enterprise",
            json!({"enterprise_id": enterprise}),
        )
        .await;
    Cast {
        admin,
        officer,
        auditor,
        sibling_officer,
        ent_a,
        ent_b,
        enterprise,
    }
}

async fn report(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post(token, "/api/v1/hazards", &body).await;
    r.assert_status(201);
    r.id()
}

fn events(r: &crate::support::Resp) -> Vec<String> {
    r.items()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

both!(general_lifecycle_with_separation_of_duties, |app| {
    // Before the deadline below, whatever day the suite runs (and a code of that year).
    app.set_now("2026-11-25T08:00:00Z");
    let c = cast(app).await;
    // The enterprise is implied for its own accounts.
    let body = five_fixes(hazard_body(None, "general", "2026-11-20"), "2026-12-05");
    let r = app.post(&c.ent_a, "/api/v1/hazards", &body).await;
    r.assert_status(201);
    let id = r.id();
    assert_eq!(
        r.body["status"], "rectifying",
        "complete 五定 starts in rectifying"
    );
    assert_eq!(r.body["code"], "431302-2026-00001");
    assert_eq!(r.body["enterprise_id"], c.enterprise);
    assert_eq!(r.body["source"], "self_inspection");
    assert_eq!(r.body["jurisdiction_code"], "431302");
    assert_eq!(r.body["sector_code"], "hazardous_chemicals");
    assert_eq!(
        (r.body["overdue"].as_bool(), r.body["listed"].as_bool()),
        (Some(false), Some(false))
    );

    // Submitting needs a note and an `after` photo.
    let r = app
        .act(
            &c.ent_a,
            id,
            json!({"action": "submit_for_acceptance", "note": "已整改"}),
        )
        .await;
    r.assert_problem(422, "prerequisites_missing");
    assert_eq!(r.body["errors"][0]["pointer"], "/attachments");
    app.upload(&c.ent_a, id, "before", "before.png", png())
        .await
        .assert_status(201);
    let r = app
        .act(
            &c.ent_a,
            id,
            json!({"action": "submit_for_acceptance", "note": "已整改"}),
        )
        .await;
    r.assert_problem(422, "prerequisites_missing");
    app.upload(&c.ent_a, id, "after", "after.png", png())
        .await
        .assert_status(201);
    let r = app
        .act(&c.ent_a, id, json!({"action": "submit_for_acceptance"}))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/note");
    let r = app
        .act(
            &c.ent_a,
            id,
            json!({"action": "submit_for_acceptance", "note": "已铺设绝缘垫"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "pending_acceptance");
    assert_eq!(r.body["rectification_note"], "已铺设绝缘垫");
    assert!(r.header("etag").is_some());

    // Never accepted by the one who submitted it; another user of the enterprise may (general).
    app.act(&c.ent_a, id, json!({"action": "accept"}))
        .await
        .assert_problem(403, "separation_of_duties");
    let r = app
        .act(
            &c.ent_b,
            id,
            json!({"action": "accept", "note": "复核合格"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "closed");
    assert!(r.body["closed_at"].is_string());

    // Reopened by a regulator only, with a reason.
    app.act(&c.ent_b, id, json!({"action": "reopen", "reason": "反弹"}))
        .await
        .assert_problem(403, "regulator_required");
    app.act(&c.officer, id, json!({"action": "reopen"}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .act(
            &c.officer,
            id,
            json!({"action": "reopen", "reason": "复查发现问题反弹"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "rectifying");
    assert!(r.body["closed_at"].is_null());

    let t = app
        .get(&c.officer, &format!("/api/v1/hazards/{id}/timeline"))
        .await;
    assert_eq!(
        events(&t),
        [
            "create",
            "attachment_added",
            "attachment_added",
            "submit_for_acceptance",
            "accept",
            "reopen"
        ]
    );
    let submit = &t.items()[3];
    assert_eq!(submit["changes"]["note"], "已铺设绝缘垫");
    assert_eq!(
        submit["changes"]["status"],
        json!({"before": "rectifying", "after": "pending_acceptance"})
    );
    assert_eq!(t.items()[5]["changes"]["reason"], "复查发现问题反弹");
    assert!(t.items().iter().all(|e| e["actor_id"].is_number()));
});

both!(major_lifecycle, |app| {
    let c = cast(app).await;
    let body = five_fixes(
        hazard_body(Some(c.enterprise), "major", "2026-11-20"),
        "2026-12-20",
    );
    let r = app.post(&c.officer, "/api/v1/hazards", &body).await;
    r.assert_status(201);
    let id = r.id();
    assert_eq!(
        r.body["status"], "reported",
        "a major hazard without report and plan waits"
    );
    assert_eq!(r.body["source"], "regulator_inspection");
    let r = app
        .act(&c.ent_a, id, json!({"action": "start_rectification"}))
        .await;
    r.assert_problem(422, "prerequisites_missing");
    let pointers: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/major_report", "/governance_plan"]);

    let docs = major_documents(json!({}));
    app.patch_fresh(&c.ent_a, &format!("/api/v1/hazards/{id}"), &docs)
        .await
        .assert_status(200);
    let r = app
        .act(&c.ent_a, id, json!({"action": "start_rectification"}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "rectifying");
    // Once rectifying, the plan cannot be taken away.
    let r = app
        .patch_fresh(
            &c.ent_a,
            &format!("/api/v1/hazards/{id}"),
            &json!({"governance_plan": null}),
        )
        .await;
    r.assert_problem(422, "validation_failed");

    app.upload(&c.ent_a, id, "after", "after.png", png())
        .await
        .assert_status(201);
    app.act(
        &c.ent_a,
        id,
        json!({"action": "submit_for_acceptance", "note": "更换报警仪 6 台"}),
    )
    .await
    .assert_status(200);
    // Only a regulator in scope accepts a major hazard.
    app.act(&c.ent_b, id, json!({"action": "accept"}))
        .await
        .assert_problem(403, "regulator_required");
    app.act(&c.sibling_officer, id, json!({"action": "accept"}))
        .await
        .assert_problem(404, "not_found");
    let r = app
        .act(
            &c.officer,
            id,
            json!({"action": "accept", "note": "专家验收合格"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "closed");
    let t = app
        .get(&c.admin, &format!("/api/v1/hazards/{id}/timeline"))
        .await;
    assert_eq!(
        events(&t),
        [
            "create",
            "update",
            "start_rectification",
            "attachment_added",
            "submit_for_acceptance",
            "accept"
        ]
    );
    assert!(t.items()[1]["changes"]["governance_plan"]["after"].is_object());
});

/// Drives a hazard (created by the admin, with the 五定 block) into `state`.
async fn hazard_in(app: &TestApp, c: &Cast, state: &str) -> i64 {
    let body = five_fixes(
        hazard_body(Some(c.enterprise), "general", "2026-11-20"),
        "2026-12-20",
    );
    let id = report(app, &c.admin, body).await;
    if state == "reported" {
        // Without the deadline the hazard stays reported.
        let id2 = report(
            app,
            &c.admin,
            hazard_body(Some(c.enterprise), "general", "2026-11-20"),
        )
        .await;
        return id2;
    }
    if state == "void" {
        app.act(&c.admin, id, json!({"action": "void", "reason": "重复"}))
            .await
            .assert_status(200);
        return id;
    }
    if state == "rectifying" {
        return id;
    }
    app.upload(&c.ent_a, id, "after", "a.png", png())
        .await
        .assert_status(201);
    app.act(
        &c.ent_a,
        id,
        json!({"action": "submit_for_acceptance", "note": "done"}),
    )
    .await
    .assert_status(200);
    if state == "closed" {
        app.act(&c.admin, id, json!({"action": "accept"}))
            .await
            .assert_status(200);
    }
    id
}

both!(
    every_action_refused_from_states_that_do_not_allow_it,
    |app| {
        let c = cast(app).await;
        let allowed: [(&str, &[&str]); 5] = [
            ("reported", &["start_rectification", "void", "regrade"]),
            ("rectifying", &["submit_for_acceptance", "void", "regrade"]),
            (
                "pending_acceptance",
                &["accept", "reject", "void", "regrade"],
            ),
            ("closed", &["reopen"]),
            ("void", &[]),
        ];
        let actions = [
            "start_rectification",
            "submit_for_acceptance",
            "accept",
            "reject",
            "void",
            "reopen",
            "regrade",
        ];
        for (state, ok) in allowed {
            let id = hazard_in(app, &c, state).await;
            let before = app.get(&c.admin, &format!("/api/v1/hazards/{id}")).await;
            assert_eq!(before.body["status"], state);
            for action in actions.iter().filter(|a| !ok.contains(a)) {
                let body = json!({"action": action, "reason": "r", "note": "n", "level": "major"});
                let r = app.act(&c.admin, id, body).await;
                r.assert_problem(409, "invalid_transition");
                assert_eq!(r.body["context"]["status"], state, "{action} from {state}");
                assert_eq!(
                    r.body["context"]["allowed_actions"],
                    json!(ok),
                    "{action} from {state}"
                );
            }
            let after = app.get(&c.admin, &format!("/api/v1/hazards/{id}")).await;
            assert_eq!(
                after.etag(),
                before.etag(),
                "refused actions changed {state}"
            );
        }
    }
);

both!(roles_that_must_not_act, |app| {
    let c = cast(app).await;
    let pending = hazard_in(app, &c, "pending_acceptance").await;
    let rectifying = hazard_in(app, &c, "rectifying").await;
    let reported = hazard_in(app, &c, "reported").await;
    for (id, body) in [
        (reported, json!({"action": "start_rectification"})),
        (rectifying, json!({"action": "void", "reason": "x"})),
        (pending, json!({"action": "accept"})),
        (pending, json!({"action": "reject", "reason": "x"})),
        (
            rectifying,
            json!({"action": "regrade", "level": "major", "reason": "x"}),
        ),
    ] {
        app.act(&c.auditor, id, body.clone())
            .await
            .assert_problem(403, "forbidden");
        app.act(&c.sibling_officer, id, body)
            .await
            .assert_problem(404, "not_found");
    }
    app.act(
        &c.ent_a,
        rectifying,
        json!({"action": "void", "reason": "x"}),
    )
    .await
    .assert_problem(403, "regulator_required");
    // An enterprise may raise a hazard to major, never lower one.
    let major = report(
        app,
        &c.admin,
        major_documents(five_fixes(
            hazard_body(Some(c.enterprise), "major", "2026-11-20"),
            "2026-12-20",
        )),
    )
    .await;
    app.act(
        &c.ent_a,
        major,
        json!({"action": "regrade", "level": "general", "reason": "x"}),
    )
    .await
    .assert_problem(403, "regulator_required");
    let r = app
        .act(
            &c.officer,
            major,
            json!({"action": "regrade", "level": "general", "reason": "经复核为一般隐患"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["level"], "general");
    // Raising a rectifying hazard to major needs its report and plan.
    let r = app
        .act(
            &c.ent_a,
            rectifying,
            json!({"action": "regrade", "level": "major", "reason": "扩大"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    app.act(
        &c.ent_a,
        rectifying,
        json!({"action": "regrade", "level": "general", "reason": "同级"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    // Writes of an auditor and out-of-scope reads.
    app.patch_fresh(
        &c.auditor,
        &format!("/api/v1/hazards/{reported}"),
        &json!({"title": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.upload(&c.auditor, reported, "before", "a.png", png())
        .await
        .assert_problem(403, "forbidden");
    app.get(&c.sibling_officer, &format!("/api/v1/hazards/{reported}"))
        .await
        .assert_problem(404, "not_found");
    app.get(
        &c.sibling_officer,
        &format!("/api/v1/hazards/{reported}/timeline"),
    )
    .await
    .assert_problem(404, "not_found");
    app.get(
        &c.sibling_officer,
        &format!("/api/v1/hazards/{reported}/attachments"),
    )
    .await
    .assert_problem(404, "not_found");
    let r = app
        .post(
            &c.auditor,
            "/api/v1/hazards",
            &hazard_body(Some(c.enterprise), "general", "2026-11-20"),
        )
        .await;
    r.assert_problem(403, "forbidden");
    // Transitions need If-Match.
    let req = app
        .client
        .post(app.url(&format!("/api/v1/hazards/{reported}/transitions")))
        .bearer_auth(&c.admin)
        .json(&json!({"action": "void", "reason": "x"}));
    app.send(req).await.assert_problem(428, "if_match_required");
});

both!(a_listed_hazard_is_closed_only_by_delisting, |app| {
    let c = cast(app).await;
    let id = hazard_in(app, &c, "pending_acceptance").await;
    // Fixture until listings exist: mark the hazard as under listed supervision.
    app.sql(&format!("UPDATE hazards SET listed = TRUE WHERE id = {id}"));
    let r = app.get(&c.admin, &format!("/api/v1/hazards/{id}")).await;
    assert_eq!(r.body["listed"], true);
    app.act(&c.officer, id, json!({"action": "accept"}))
        .await
        .assert_problem(409, "hazard_listed");
    assert_eq!(
        app.get(&c.admin, &format!("/api/v1/hazards/{id}"))
            .await
            .body["status"],
        "pending_acceptance"
    );
    let listed = app.get(&c.admin, "/api/v1/hazards?listed=true").await;
    assert_eq!(
        listed
            .items()
            .iter()
            .map(|h| h["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![id]
    );
});

both!(deadlines_lock_and_move_only_by_extension, |app| {
    let c = cast(app).await;
    let id = report(app, &c.ent_a, hazard_body(None, "general", "2026-11-20")).await;
    let path = format!("/api/v1/hazards/{id}");
    // Editable while reported.
    let r = app
        .patch_fresh(&c.ent_a, &path, &five_fixes(json!({}), "2026-12-01"))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "reported");
    app.patch_fresh(
        &c.ent_a,
        &path,
        &json!({"rectification_deadline": "2026-12-05"}),
    )
    .await
    .assert_status(200);
    app.act(&c.ent_a, id, json!({"action": "start_rectification"}))
        .await
        .assert_status(200);
    // Locked from rectifying on.
    let r = app
        .patch_fresh(
            &c.officer,
            &path,
            &json!({"rectification_deadline": "2026-12-31"}),
        )
        .await;
    r.assert_problem(409, "deadline_locked");
    assert_eq!(
        app.get(&c.admin, &path).await.body["rectification_deadline"],
        "2026-12-05"
    );
    // Other fields still change.
    app.patch_fresh(&c.ent_a, &path, &json!({"location": "1# 配电室"}))
        .await
        .assert_status(200);
    app.patch_fresh(&c.ent_a, &path, &json!({"level": "major"}))
        .await
        .assert_problem(422, "validation_failed");

    let ext = |token: &str, body: Value| {
        let (app, token, path) = (app, token.to_string(), format!("{path}/extensions"));
        async move { app.post(&token, &path, &body).await }
    };
    ext(
        &c.ent_a,
        json!({"new_deadline": "2026-12-01", "reason": "x"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    ext(&c.ent_a, json!({"new_deadline": "2026-12-20"}))
        .await
        .assert_problem(422, "invalid_body");
    let r = ext(
        &c.ent_a,
        json!({"new_deadline": "2026-12-20", "reason": "供货延迟"}),
    )
    .await;
    r.assert_status(201);
    let ext_id = r.id();
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["old_deadline"], "2026-12-05");
    app.get(&c.admin, &r.header("location").unwrap())
        .await
        .assert_status(200);
    ext(
        &c.officer,
        json!({"new_deadline": "2026-12-25", "reason": "再延"}),
    )
    .await
    .assert_problem(409, "extension_pending");
    ext(
        &c.auditor,
        json!({"new_deadline": "2026-12-25", "reason": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");

    let decision = format!("{path}/extensions/{ext_id}/decision");
    app.post(
        &c.ent_b,
        &decision,
        &json!({"decision": "approve", "note": "ok"}),
    )
    .await
    .assert_problem(403, "regulator_required");
    app.post(
        &c.sibling_officer,
        &decision,
        &json!({"decision": "approve", "note": "ok"}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &c.officer,
        &decision,
        &json!({"decision": "maybe", "note": "ok"}),
    )
    .await
    .assert_problem(422, "invalid_body");
    let r = app
        .post(
            &c.officer,
            &decision,
            &json!({"decision": "approve", "note": "供货证明属实"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(
        app.get(&c.admin, &path).await.body["rectification_deadline"],
        "2026-12-20"
    );
    app.post(
        &c.admin,
        &decision,
        &json!({"decision": "deny", "note": "no"}),
    )
    .await
    .assert_problem(409, "extension_decided");

    // A regulator never decides its own request; a denial leaves the deadline.
    let r = ext(
        &c.officer,
        json!({"new_deadline": "2026-12-31", "reason": "企业停产检修"}),
    )
    .await;
    let own = format!("{path}/extensions/{}/decision", r.id());
    app.post(
        &c.officer,
        &own,
        &json!({"decision": "approve", "note": "ok"}),
    )
    .await
    .assert_problem(403, "separation_of_duties");
    app.post(
        &c.admin,
        &own,
        &json!({"decision": "deny", "note": "理由不足"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.get(&c.admin, &path).await.body["rectification_deadline"],
        "2026-12-20"
    );

    let list = app.get(&c.ent_a, &format!("{path}/extensions")).await;
    assert_eq!(
        list.items()
            .iter()
            .map(|e| e["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["approved", "denied"]
    );
    let t = app.get(&c.admin, &format!("{path}/timeline")).await;
    let actions = events(&t);
    assert!(
        actions.ends_with(&[
            "extension_requested".to_string(),
            "extension_approved".to_string(),
            "extension_requested".to_string(),
            "extension_denied".to_string()
        ]),
        "{actions:?}"
    );
    let approved = t
        .items()
        .iter()
        .find(|e| e["action"] == "extension_approved")
        .unwrap();
    assert_eq!(
        approved["changes"]["deadline"],
        json!({"before": "2026-12-05", "after": "2026-12-20"})
    );
});

both!(overdue_turns_at_midnight_in_shanghai, |app| {
    let c = cast(app).await;
    app.set_now("2026-12-01T02:00:00Z");
    let id = report(
        app,
        &c.ent_a,
        five_fixes(hazard_body(None, "general", "2026-11-20"), "2026-12-05"),
    )
    .await;
    let path = format!("/api/v1/hazards/{id}");
    // 23:59:59 on the deadline day in Shanghai (15:59:59 UTC): not overdue.
    app.set_now("2026-12-05T15:59:59Z");
    let r = app.get(&c.admin, &path).await;
    assert_eq!(
        (r.body["overdue"].as_bool(), r.body["overdue_days"].as_i64()),
        (Some(false), Some(0))
    );
    assert!(app
        .get(&c.admin, "/api/v1/hazards?overdue=true")
        .await
        .items()
        .is_empty());
    // Midnight in Shanghai (16:00 UTC): one day overdue.
    app.set_now("2026-12-05T16:00:00Z");
    let r = app.get(&c.admin, &path).await;
    assert_eq!(
        (r.body["overdue"].as_bool(), r.body["overdue_days"].as_i64()),
        (Some(true), Some(1))
    );
    assert_eq!(
        app.get(&c.admin, "/api/v1/hazards?overdue=true")
            .await
            .items()
            .len(),
        1
    );
    assert!(app
        .get(&c.admin, "/api/v1/hazards?overdue=false")
        .await
        .items()
        .is_empty());
    app.set_now("2026-12-15T16:00:00Z");
    assert_eq!(app.get(&c.admin, &path).await.body["overdue_days"], 11);
    // Submitted for acceptance, it is no longer counted as overdue.
    app.upload(&c.ent_a, id, "after", "a.png", png())
        .await
        .assert_status(201);
    let r = app
        .act(
            &c.ent_a,
            id,
            json!({"action": "submit_for_acceptance", "note": "done"}),
        )
        .await;
    assert_eq!(
        (r.body["overdue"].as_bool(), r.body["overdue_days"].as_i64()),
        (Some(false), Some(0))
    );
    // The code's year is the year of creation in Shanghai: 2027 starts at 16:00 UTC on 31 Dec.
    app.set_now("2026-12-31T16:00:01Z");
    let r = app
        .post(
            &c.ent_a,
            "/api/v1/hazards",
            &hazard_body(None, "general", "2026-12-31"),
        )
        .await;
    assert_eq!(r.body["code"], "431302-2027-00001");
});

both!(concurrent_accepts_have_one_winner, |app| {
    let c = cast(app).await;
    let id = hazard_in(app, &c, "pending_acceptance").await;
    let (_, officer2) = app
        .regulator(&c.admin, "lx.officer2", "county_officer", "431302")
        .await;
    let etag = app
        .get(&c.admin, &format!("/api/v1/hazards/{id}"))
        .await
        .etag();
    let url = app.url(&format!("/api/v1/hazards/{id}/transitions"));
    let send = |token: &str| {
        let req = app
            .client
            .post(&url)
            .bearer_auth(token)
            .header("if-match", &etag)
            .json(&json!({"action": "accept"}));
        app.send(req)
    };
    let (a, b) = futures_util::future::join(send(&c.officer), send(&officer2)).await;
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert!(
        statuses == [200, 409] || statuses == [200, 412],
        "{statuses:?}"
    );
    let t = app
        .get(&c.admin, &format!("/api/v1/hazards/{id}/timeline"))
        .await;
    assert_eq!(events(&t).iter().filter(|a| *a == "accept").count(), 1);
});

both!(fifty_concurrent_creations_get_fifty_codes, |app| {
    let c = cast(app).await;
    let body = hazard_body(Some(c.enterprise), "general", "2026-11-20");
    let results = futures_util::future::join_all(
        (0..50).map(|_| app.post(&c.officer, "/api/v1/hazards", &body)),
    )
    .await;
    let mut codes: Vec<String> = results
        .iter()
        .map(|r| {
            r.assert_status(201);
            r.body["code"].as_str().unwrap().to_string()
        })
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 50);
    assert_eq!(codes.first().map(String::as_str), Some("431302-2026-00001"));
    assert_eq!(codes.last().map(String::as_str), Some("431302-2026-00050"));
    // Codes of other counties have their own sequence; a city-level enterprise uses the city.
    let sf = app.enterprise(&c.admin, &uscc(2), "431321", "other").await;
    let city = app.enterprise(&c.admin, &uscc(3), "431300", "other").await;
    let zone = app
        .enterprise(&c.admin, &uscc(4), "431300-JKQ", "other")
        .await;
    for (e, code) in [
        (sf, "431321-2026-00001"),
        (city, "431300-2026-00001"),
        (zone, "431300-JKQ-2026-00001"),
    ] {
        let r = app
            .post(
                &c.admin,
                "/api/v1/hazards",
                &hazard_body(Some(e), "general", "2026-11-20"),
            )
            .await;
        assert_eq!(r.body["code"], code);
    }
});

// A server from before the code sequences (migration 000012), still running during a rolling
// upgrade, bumps the county's counter row by one; it gets the sequence's next number, so old
// and new servers never hand out one code twice. A load that moves the counter up moves the
// numbering past it.
both!(
    codes_stay_unique_beside_a_server_that_bumps_the_counter,
    |app| {
        let c = cast(app).await;
        let body = hazard_body(Some(c.enterprise), "general", "2026-11-20");
        let create = || async {
            let r = app.post(&c.officer, "/api/v1/hazards", &body).await;
            r.assert_status(201);
            r.body["code"].as_str().unwrap().to_string()
        };
        assert_eq!(create().await, "431302-2026-00001");
        let old_server = || {
            app.sql_texts(
                "UPDATE hazard_code_counters SET last_value = last_value + 1 \
             WHERE prefix = '431302-2026' RETURNING CAST(last_value AS TEXT) AS t",
            )[0]
            .clone()
        };
        assert_eq!(old_server(), "2");
        assert_eq!(create().await, "431302-2026-00003");
        assert_eq!(old_server(), "4");
        // A load that wrote codes up to 00500 moves the counter there.
        app.sql("UPDATE hazard_code_counters SET last_value = 500 WHERE prefix = '431302-2026'");
        assert_eq!(create().await, "431302-2026-00501");
    }
);

both!(attachments_are_typed_by_content_and_scoped, |app| {
    let c = cast(app).await;
    let id = hazard_in(app, &c, "rectifying").await;
    let r = app.upload(&c.ent_a, id, "after", "整改后.png", png()).await;
    r.assert_status(201);
    assert_eq!(r.body["content_type"], "image/png");
    assert_eq!(r.body["size"], png().len());
    assert_eq!(r.body["stage"], "after");
    assert_eq!(r.body["file_name"], "整改后.png");
    let location = r.header("location").unwrap();
    let file = app
        .send(app.client.get(app.url(&location)).bearer_auth(&c.officer))
        .await;
    assert_eq!(file.status, 200);
    assert_eq!(file.headers["content-type"], "image/png");
    assert_eq!(file.raw, png());
    // Ranges, conditional reads and an unsatisfiable range, each as documented.
    let get_with = |name: &'static str, value: String| {
        app.send(
            app.client
                .get(app.url(&location))
                .bearer_auth(&c.officer)
                .header(name, value),
        )
    };
    let octets = get_with("accept", "application/octet-stream".into()).await;
    assert_eq!(octets.status, 200);
    assert_eq!(octets.headers["content-type"], "application/octet-stream");
    assert_eq!(octets.raw, png());
    let part = get_with("range", "bytes=0-3".into()).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.raw, png()[..4].to_vec());
    let tag = file.header("etag").expect("file ETag");
    let same = get_with("if-none-match", tag).await;
    assert_eq!(same.status, 304);
    assert!(same.raw.is_empty());
    let beyond = get_with("range", "bytes=100000-".into()).await;
    beyond.assert_problem(416, "range_not_satisfiable");
    assert!(beyond.header("content-range").is_some());
    app.get(&c.sibling_officer, &location)
        .await
        .assert_problem(404, "not_found");
    // Same bytes again are stored once but listed twice.
    app.upload(&c.ent_a, id, "after", "again.png", png())
        .await
        .assert_status(201);

    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    exe.extend_from_slice(&[0u8; 200]);
    app.upload(&c.ent_a, id, "after", "photo.jpg", exe)
        .await
        .assert_problem(415, "unsupported_media_type");
    app.upload(&c.ent_a, id, "sideways", "a.png", png())
        .await
        .assert_problem(422, "validation_failed");
    let list = app
        .get(&c.ent_a, &format!("/api/v1/hazards/{id}/attachments"))
        .await;
    assert_eq!(list.items().len(), 2);
    let json_body = app
        .post(
            &c.ent_a,
            &format!("/api/v1/hazards/{id}/attachments"),
            &json!({"file": "x"}),
        )
        .await;
    json_body.assert_problem(415, "unsupported_media_type");
    let t = app
        .get(&c.admin, &format!("/api/v1/hazards/{id}/timeline"))
        .await;
    assert_eq!(
        events(&t)
            .iter()
            .filter(|a| *a == "attachment_added")
            .count(),
        2
    );
});

both!(
    oversized_uploads_are_refused,
    env = [("HAZREG_UPLOAD_MAX_BYTES", "4096")],
    |app| {
        let c = cast(app).await;
        let id = hazard_in(app, &c, "rectifying").await;
        let mut big = png();
        big.resize(5000, 0);
        app.upload(&c.ent_a, id, "after", "big.png", big)
            .await
            .assert_problem(413, "payload_too_large");
        let mut huge = png();
        huge.resize(200_000, 0);
        app.upload(&c.ent_a, id, "after", "huge.png", huge)
            .await
            .assert_problem(413, "payload_too_large");
        assert!(app
            .get(&c.ent_a, &format!("/api/v1/hazards/{id}/attachments"))
            .await
            .items()
            .is_empty());
        let mut fits = png();
        fits.resize(4000, 0);
        app.upload(&c.ent_a, id, "after", "fits.png", fits)
            .await
            .assert_status(201);
    }
);

both!(bad_input_changes_nothing, |app| {
    let c = cast(app).await;
    let other = app.enterprise(&c.admin, &uscc(2), "431302", "other").await;
    let post = |token: &str, body: Value| {
        let (app, token) = (app, token.to_string());
        async move { app.post(&token, "/api/v1/hazards", &body).await }
    };
    // An enterprise names another enterprise: not found, never a write.
    post(&c.ent_a, hazard_body(Some(other), "general", "2026-11-20"))
        .await
        .assert_problem(404, "not_found");
    post(
        &c.sibling_officer,
        hazard_body(Some(c.enterprise), "general", "2026-11-20"),
    )
    .await
    .assert_problem(404, "not_found");
    let r = post(&c.officer, hazard_body(None, "general", "2026-11-20")).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/enterprise_id");
    let mut b = hazard_body(None, "general", "2026-11-20");
    b["source"] = json!("regulator_inspection");
    post(&c.ent_a, b)
        .await
        .assert_problem(422, "validation_failed");
    let r = post(
        &c.ent_a,
        five_fixes(hazard_body(None, "general", "2026-11-20"), "2026-11-19"),
    )
    .await;
    assert_eq!(r.body["errors"][0]["pointer"], "/rectification_deadline");
    let r = post(&c.ent_a, hazard_body(None, "general", "2099-01-01")).await;
    assert_eq!(r.body["errors"][0]["pointer"], "/discovered_on");
    let mut b = hazard_body(None, "major", "2026-11-20");
    b.as_object_mut().unwrap().remove("standard_ref");
    let r = post(&c.ent_a, b).await;
    assert_eq!(r.body["errors"][0]["pointer"], "/standard_ref");
    let mut b = hazard_body(None, "severe", "2026-11-20");
    b["status"] = json!("closed");
    post(&c.ent_a, b).await.assert_problem(422, "invalid_body");
    // A past deadline is fine as long as it is not before discovery.
    post(
        &c.ent_a,
        five_fixes(hazard_body(None, "general", "2026-11-01"), "2026-11-02"),
    )
    .await
    .assert_status(201);
    assert_eq!(app.get(&c.admin, "/api/v1/hazards").await.items().len(), 1);
    // Status is never written directly; closed hazards are not edited.
    let id = hazard_in(app, &c, "closed").await;
    app.patch_fresh(
        &c.admin,
        &format!("/api/v1/hazards/{id}"),
        &json!({"status": "rectifying"}),
    )
    .await
    .assert_problem(422, "invalid_body");
    app.patch_fresh(
        &c.admin,
        &format!("/api/v1/hazards/{id}"),
        &json!({"title": "新标题"}),
    )
    .await
    .assert_problem(409, "not_editable");
    let _ = PASSWORD;
});

both!(listing_filters_sorts_and_pages, |app| {
    let c = cast(app).await;
    let sf = app
        .enterprise(&c.admin, &uscc(2), "431321", "construction")
        .await;
    let mut ids = Vec::new();
    for (e, level, deadline, title) in [
        (
            c.enterprise,
            "general",
            Some("2026-12-10"),
            "储罐区报警仪失效",
        ),
        (
            c.enterprise,
            "major",
            Some("2026-12-01"),
            "装卸区静电接地缺失",
        ),
        (sf, "general", None, "脚手架连墙件缺失"),
        (sf, "general", Some("2026-12-10"), "临边防护缺失"),
        (c.enterprise, "general", Some("2026-12-20"), "消防通道堵塞"),
    ] {
        let mut body = hazard_body(Some(e), level, "2026-11-20");
        body["title"] = json!(title);
        if let Some(d) = deadline {
            body = five_fixes(body, d);
        }
        if level == "major" {
            body = major_documents(body);
        }
        ids.push(report(app, &c.admin, body).await);
    }
    let get = |q: &str| {
        let (app, admin, q) = (app, c.admin.clone(), q.to_string());
        async move {
            let r = app.get(&admin, &format!("/api/v1/hazards?{q}")).await;
            r.assert_status(200);
            r.items()
                .iter()
                .map(|h| h["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(get("").await, ids);
    assert_eq!(get("jurisdiction_code=431321").await, vec![ids[2], ids[3]]);
    assert_eq!(
        get(&format!("enterprise_id={}", c.enterprise)).await,
        vec![ids[0], ids[1], ids[4]]
    );
    assert_eq!(get("level=major").await, vec![ids[1]]);
    assert_eq!(get("status=reported").await, vec![ids[2]]);
    assert_eq!(get("status=reported,rectifying").await, ids);
    assert_eq!(get("sector_code=construction").await, vec![ids[2], ids[3]]);
    assert_eq!(get("source=regulator_inspection").await, ids);
    assert_eq!(get("deadline_before=2026-12-10").await, vec![ids[1]]);
    assert_eq!(get("deadline_after=2026-12-10").await, vec![ids[4]]);
    assert_eq!(get("q=缺失").await, vec![ids[1], ids[2], ids[3]]);
    assert_eq!(get("q=431321-2026").await, vec![ids[2], ids[3]]);
    // Deadline order; no deadline sorts last; ties broken by id.
    let by_deadline = vec![ids[1], ids[0], ids[3], ids[4], ids[2]];
    assert_eq!(get("sort=rectification_deadline").await, by_deadline);
    let mut reversed = by_deadline.clone();
    reversed.reverse();
    assert_eq!(get("sort=-rectification_deadline").await, reversed);
    // Every sort pages without skipping or repeating.
    for sort in [
        "rectification_deadline",
        "-rectification_deadline",
        "updated_at",
        "-updated_at",
        "",
    ] {
        let full = get(&format!("sort={sort}&limit=200")).await;
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(cur) => format!("/api/v1/hazards?sort={sort}&limit=2&cursor={cur}"),
                None => format!("/api/v1/hazards?sort={sort}&limit=2"),
            };
            let r = app.get(&c.admin, &q).await;
            paged.extend(r.items().iter().map(|h| h["id"].as_i64().unwrap()));
            match r.body["next_cursor"].as_str() {
                Some(n) => cursor = Some(n.to_string()),
                None => break,
            }
        }
        assert_eq!(paged, full, "sort={sort}");
    }
    // Touch one: it moves to the end of updated_at order, and sync clients see only it.
    let since = app.advance(std::time::Duration::from_millis(20));
    app.patch_fresh(
        &c.admin,
        &format!("/api/v1/hazards/{}", ids[0]),
        &json!({"location": "罐区"}),
    )
    .await
    .assert_status(200);
    assert_eq!(get(&format!("updated_since={since}")).await, vec![ids[0]]);
    // No delete: regulated records stay.
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/hazards/{}", ids[0])))
                .bearer_auth(&c.admin),
        )
        .await;
    r.assert_problem(405, "method_not_allowed");
    assert_eq!(get("sort=updated_at").await.last(), Some(&ids[0]));
    assert_eq!(get("sort=-updated_at").await.first(), Some(&ids[0]));
    let first = app
        .get(&c.admin, "/api/v1/hazards?sort=updated_at&limit=1")
        .await;
    let cur = first.body["next_cursor"].as_str().unwrap().to_string();
    app.get(
        &c.admin,
        &format!("/api/v1/hazards?sort=rectification_deadline&cursor={cur}"),
    )
    .await
    .assert_problem(400, "invalid_cursor");
    app.get(&c.admin, "/api/v1/hazards?sort=title")
        .await
        .assert_problem(400, "invalid_query");
    app.get(&c.admin, "/api/v1/hazards?status=open")
        .await
        .assert_problem(400, "invalid_query");
    // Scope: the 双峰县 officer sees only 双峰县.
    let r = app.get(&c.sibling_officer, "/api/v1/hazards").await;
    assert_eq!(
        r.items()
            .iter()
            .map(|h| h["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![ids[2], ids[3]]
    );
    let r = app.get(&c.ent_a, "/api/v1/hazards").await;
    assert_eq!(r.items().len(), 3);
});

both!(stale_etags_are_refused_and_change_nothing, |app| {
    let c = cast(app).await;
    let id = hazard_in(app, &c, "rectifying").await;
    let path = format!("/api/v1/hazards/{id}");
    let old = app.get(&c.admin, &path).await.etag();
    app.patch(&c.admin, &path, Some(&old), &json!({"location": "A"}))
        .await
        .assert_status(200);
    app.patch(&c.admin, &path, Some(&old), &json!({"location": "B"}))
        .await
        .assert_problem(412, "stale_etag");
    let req = app
        .client
        .post(app.url(&format!("{path}/transitions")))
        .bearer_auth(&c.admin)
        .header("if-match", &old)
        .json(&json!({"action": "void", "reason": "x"}));
    app.send(req).await.assert_problem(412, "stale_etag");
    let now = app.get(&c.admin, &path).await;
    assert_eq!(
        (now.body["location"].as_str(), now.body["status"].as_str()),
        (Some("A"), Some("rectifying"))
    );
});

both!(
    department_officers_see_hazards_of_their_sectors_only,
    |app| {
        let c = cast(app).await;
        let building = app
            .enterprise(&c.admin, &uscc(2), "431302", "construction")
            .await;
        let dept = app
            .department_id(&c.admin, "市住房和城乡建设局（市人防办）")
            .await;
        let (_, zj) = app
            .account(
                &c.admin,
                "zj.officer",
                "city_officer",
                json!({"jurisdiction_code": "431300", "department_id": dept}),
            )
            .await;
        let chem = report(
            app,
            &c.admin,
            hazard_body(Some(c.enterprise), "general", "2026-11-20"),
        )
        .await;
        let site = report(
            app,
            &zj,
            hazard_body(Some(building), "general", "2026-11-20"),
        )
        .await;
        let listed: Vec<i64> = app
            .get(&zj, "/api/v1/hazards")
            .await
            .items()
            .iter()
            .map(|h| h["id"].as_i64().unwrap())
            .collect();
        assert_eq!(listed, vec![site]);
        app.get(&zj, &format!("/api/v1/hazards/{chem}"))
            .await
            .assert_problem(404, "not_found");
        app.post(
            &zj,
            "/api/v1/hazards",
            &hazard_body(Some(c.enterprise), "general", "2026-11-20"),
        )
        .await
        .assert_problem(404, "not_found");
        // The city filter includes every county below it.
        let all: Vec<i64> = app
            .get(&c.admin, "/api/v1/hazards?jurisdiction_code=431300")
            .await
            .items()
            .iter()
            .map(|h| h["id"].as_i64().unwrap())
            .collect();
        assert_eq!(all, vec![chem, site]);
    }
);

both!(idempotent_creates_spend_nothing_twice, |app| {
    let c = cast(app).await;
    let body = hazard_body(Some(c.enterprise), "general", "2026-11-20");
    let send = |key: &str| {
        let req = app
            .client
            .post(app.url("/api/v1/hazards"))
            .bearer_auth(&c.officer)
            .header("idempotency-key", key)
            .json(&body);
        app.send(req)
    };
    let first = send("h-1").await;
    first.assert_status(201);
    let replay = send("h-1").await;
    assert_eq!(replay.body, first.body);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    let next = send("h-2").await;
    assert_eq!(
        next.body["code"], "431302-2026-00002",
        "a replay must not use up a code"
    );
    // A key belongs to one request: reused on another hazard it is refused, never replayed
    // with the first hazard's answer.
    let upload = |hazard: i64| {
        let form = reqwest::multipart::Form::new()
            .text("stage", "before")
            .part(
                "file",
                reqwest::multipart::Part::bytes(png()).file_name("p.png"),
            );
        let req = app
            .client
            .post(app.url(&format!("/api/v1/hazards/{hazard}/attachments")))
            .bearer_auth(&c.officer)
            .header("idempotency-key", "photo-1")
            .multipart(form);
        app.send(req)
    };
    let a = upload(first.id()).await;
    a.assert_status(201);
    upload(next.id())
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert!(app
        .get(
            &c.admin,
            &format!("/api/v1/hazards/{}/attachments", next.id())
        )
        .await
        .items()
        .is_empty());
    assert_eq!(upload(first.id()).await.id(), a.id());
});

both!(concurrent_extension_requests_leave_one_pending, |app| {
    let c = cast(app).await;
    let id = hazard_in(app, &c, "rectifying").await;
    let path = format!("/api/v1/hazards/{id}/extensions");
    let b1 = json!({"new_deadline": "2026-12-25", "reason": "a"});
    let b2 = json!({"new_deadline": "2026-12-31", "reason": "b"});
    let (x, y) = futures_util::future::join(
        app.post(&c.ent_a, &path, &b1),
        app.post(&c.officer, &path, &b2),
    )
    .await;
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let conflict = if x.status == 409 { &x } else { &y };
    assert_eq!(conflict.code(), "extension_pending");
    assert_eq!(app.get(&c.admin, &path).await.items().len(), 1);
});

both!(
    every_accepted_type_uploads_and_a_chunked_flood_is_cut,
    env = [("HAZREG_UPLOAD_MAX_BYTES", "65536")],
    |app| {
        let c = cast(app).await;
        let id = hazard_in(app, &c, "rectifying").await;
        let mut webp = b"RIFF\x24\x00\x00\x00WEBPVP8 ".to_vec();
        webp.extend_from_slice(&[0u8; 32]);
        for (name, bytes, ct) in [
            (
                "a.jpg",
                b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec(),
                "image/jpeg",
            ),
            ("b.webp", webp, "image/webp"),
            (
                "c.pdf",
                b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
                "application/pdf",
            ),
            // The declared name does not matter; the bytes do.
            ("scan.pdf", png(), "image/png"),
        ] {
            let r = app.upload(&c.ent_a, id, "plan", name, bytes.clone()).await;
            r.assert_status(201);
            assert_eq!(r.body["content_type"], ct, "{name}");
            let file = app
                .send(
                    app.client
                        .get(app.url(&r.header("location").unwrap()))
                        .bearer_auth(&c.ent_a),
                )
                .await;
            assert_eq!(file.headers["content-type"], ct);
            assert_eq!(file.headers["x-content-type-options"], "nosniff");
            assert_eq!(file.raw, bytes);
        }
        // A chunked body (no Content-Length) that goes on past the limit is cut off with 413.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = app.base.trim_start_matches("http://").to_string();
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
        "POST /api/v1/hazards/{id}/attachments HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        c.ent_a
    );
        s.write_all(head.as_bytes()).await.unwrap();
        let mut part = b"--XYZ\r\nContent-Disposition: form-data; name=\"stage\"\r\n\r\nafter\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
        part.extend_from_slice(&png());
        let chunk = |data: &[u8]| {
            let mut v = format!("{:x}\r\n", data.len()).into_bytes();
            v.extend_from_slice(data);
            v.extend_from_slice(b"\r\n");
            v
        };
        let _ = s.write_all(&chunk(&part)).await;
        let filler = vec![0u8; 8192];
        for _ in 0..20 {
            if s.write_all(&chunk(&filler)).await.is_err() {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n").await;
        let mut response = Vec::new();
        let _ = s.read_to_end(&mut response).await;
        let text = String::from_utf8_lossy(&response);
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
        assert!(text.contains("payload_too_large"), "{text}");
        assert_eq!(
            app.get(&c.ent_a, &format!("/api/v1/hazards/{id}/attachments"))
                .await
                .items()
                .len(),
            4
        );
    }
);

both!(
    enterprises_fill_in_rectification_but_keep_regulator_findings,
    |app| {
        let c = cast(app).await;
        let found = report(
            app,
            &c.officer,
            hazard_body(Some(c.enterprise), "general", "2026-11-20"),
        )
        .await;
        let path = format!("/api/v1/hazards/{found}");
        for change in [
            json!({"title": "改写"}),
            json!({"source": "other"}),
            json!({"discovered_on": "2026-11-21"}),
        ] {
            app.patch_fresh(&c.ent_a, &path, &change)
                .await
                .assert_problem(403, "field_not_allowed");
        }
        let r = app
            .patch_fresh(&c.ent_a, &path, &five_fixes(json!({}), "2026-12-10"))
            .await;
        r.assert_status(200);
        assert_eq!(r.body["title"], "配电室未配置绝缘垫");
        // Its own report it may reword.
        let own = report(app, &c.ent_a, hazard_body(None, "general", "2026-11-20")).await;
        app.patch_fresh(
            &c.ent_a,
            &format!("/api/v1/hazards/{own}"),
            &json!({"title": "更准确的标题"}),
        )
        .await
        .assert_status(200);
    }
);

both!(listed_hazards_are_not_voided_or_downgraded, |app| {
    let c = cast(app).await;
    let id = report(
        app,
        &c.admin,
        major_documents(five_fixes(
            hazard_body(Some(c.enterprise), "major", "2026-11-20"),
            "2026-12-20",
        )),
    )
    .await;
    app.sql(&format!("UPDATE hazards SET listed = TRUE WHERE id = {id}"));
    app.act(&c.admin, id, json!({"action": "void", "reason": "x"}))
        .await
        .assert_problem(409, "hazard_listed");
    app.act(
        &c.admin,
        id,
        json!({"action": "regrade", "level": "general", "reason": "x"}),
    )
    .await
    .assert_problem(409, "hazard_listed");
    assert_eq!(
        app.get(&c.admin, &format!("/api/v1/hazards/{id}"))
            .await
            .body["status"],
        "rectifying"
    );
});

both!(dates_stay_in_range_and_sub_collections_sync, |app| {
    let c = cast(app).await;
    let r = app
        .post(
            &c.ent_a,
            "/api/v1/hazards",
            &five_fixes(hazard_body(None, "general", "2026-11-20"), "9999-12-31"),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/rectification_deadline");
    app.post(
        &c.ent_a,
        "/api/v1/hazards",
        &hazard_body(None, "general", "1899-12-31"),
    )
    .await
    .assert_problem(422, "validation_failed");
    let id = hazard_in(app, &c, "rectifying").await;
    let since = app.advance(std::time::Duration::from_millis(20));
    app.upload(&c.ent_a, id, "after", "a.png", png())
        .await
        .assert_status(201);
    let t = app
        .get(
            &c.admin,
            &format!("/api/v1/hazards/{id}/timeline?updated_since={since}"),
        )
        .await;
    assert_eq!(events(&t), ["attachment_added"]);
    let a = app
        .get(
            &c.admin,
            &format!("/api/v1/hazards/{id}/attachments?updated_since={since}"),
        )
        .await;
    assert_eq!(a.items().len(), 1);
    app.get(
        &c.admin,
        &format!("/api/v1/hazards/{id}/extensions?updated_since={since}"),
    )
    .await
    .assert_status(200);
});

// Search goes through the text index (PostgreSQL: bigrams; SQLite: FTS5 trigrams) and the exact
// per-field match decides: two-character Chinese terms, longer ones, one character, ASCII in
// any case, quotes and wildcards taken literally, nothing matched across two fields, and the
// index following edits.
both!(search_finds_substrings_through_the_text_index, |app| {
    let c = cast(app).await;
    let mut ids = Vec::new();
    for (title, description) in [
        ("可燃气体报警器失效", "储罐区 ABC-7 报警仪不响"),
        ("甲乙", "丙丁"),
        ("消防通道堵塞", "百分之50%的通道被\"占用\""),
    ] {
        let mut body = hazard_body(Some(c.enterprise), "general", "2026-11-20");
        body["title"] = json!(title);
        body["description"] = json!(description);
        ids.push(report(app, &c.admin, body).await);
    }
    let found = |q: &str| {
        let (app, officer, q) = (app, c.officer.clone(), q.to_string());
        async move {
            let r = app
                .get(&officer, &format!("/api/v1/hazards?q={}", query_value(&q)))
                .await;
            r.assert_status(200);
            r.items()
                .iter()
                .map(|h| h["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("报警").await, vec![ids[0]]);
    assert_eq!(found("气体报警器").await, vec![ids[0]]);
    assert_eq!(found("报").await, vec![ids[0]]);
    assert_eq!(found("abc-7").await, vec![ids[0]]);
    assert_eq!(found("ABC-7 报警").await, vec![ids[0]]);
    // Across the end of the title and the start of the description: no field holds it.
    assert_eq!(found("乙 丙").await, Vec::<i64>::new());
    assert_eq!(found("乙丙").await, Vec::<i64>::new());
    assert_eq!(found("50%").await, vec![ids[2]]);
    assert_eq!(found("0%的").await, vec![ids[2]]);
    // `%` is a character, not a wildcard.
    assert_eq!(found("5%道").await, Vec::<i64>::new());
    assert_eq!(found("\"占用\"").await, vec![ids[2]]);
    assert_eq!(found("\"").await, vec![ids[2]]);
    // The code is searched too.
    let code = app
        .get(&c.officer, &format!("/api/v1/hazards/{}", ids[1]))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(found(&code).await, vec![ids[1]]);
    // Edits reach the index.
    app.patch_fresh(
        &c.admin,
        &format!("/api/v1/hazards/{}", ids[1]),
        &json!({"title": "配电柜接地线松动"}),
    )
    .await
    .assert_status(200);
    assert_eq!(found("甲乙").await, Vec::<i64>::new());
    assert_eq!(found("接地线").await, vec![ids[1]]);
    // Scope still applies: another county's officer finds none of them.
    let r = app
        .get(
            &c.sibling_officer,
            &format!("/api/v1/hazards?q={}", query_value("报警")),
        )
        .await;
    r.assert_status(200);
    assert!(r.items().is_empty());
});

// Codes are searched by any part: a prefix (answered on PostgreSQL by a range on the code, as a
// code can contain a county-level unit's digits only at its start), a part further in, a whole
// code, letters in any case, a code written in a description; and when some unit does hold the
// digits further in, the range is not used, so that code is still found. Every answer equals a
// plain scan's, on both databases.
both!(code_search_finds_prefixes_parts_and_whole_codes, |app| {
    let c = cast(app).await;
    let zone = app
        .enterprise(&c.admin, &uscc(8), "431300-JKQ", "construction")
        .await;
    for enterprise in [c.enterprise, c.enterprise, zone] {
        report(
            app,
            &c.admin,
            hazard_body(Some(enterprise), "general", "2026-11-20"),
        )
        .await;
    }
    let mut body = hazard_body(Some(c.enterprise), "general", "2026-11-20");
    body["description"] = json!("见整改单 431302-2026-99999 号");
    report(app, &c.admin, body).await;
    // Another county's hazard that names a 431302 code in its text, then more 431302 codes.
    let sibling = app
        .enterprise(&c.admin, &uscc(9), "431321", "construction")
        .await;
    let mut body = hazard_body(Some(sibling), "general", "2026-11-20");
    body["title"] = json!("复查 431302-2026-00001 整改");
    report(app, &c.admin, body).await;
    for _ in 0..2 {
        report(
            app,
            &c.admin,
            hazard_body(Some(c.enterprise), "general", "2026-11-20"),
        )
        .await;
    }
    let check = |q: &'static str| {
        let (app, admin) = (app, c.admin.clone());
        async move {
            let like = q.to_lowercase();
            let expected: Vec<i64> = app
                .sql_texts(&format!(
                    "SELECT CAST(id AS TEXT) AS t FROM hazards WHERE lower(code) LIKE '%{like}%' \
                     OR lower(title) LIKE '%{like}%' OR lower(description) LIKE '%{like}%' \
                     ORDER BY id"
                ))
                .iter()
                .map(|t| t.parse().unwrap())
                .collect();
            // Pages of two, so the code and text parts of a page meet at page ends.
            let mut got: Vec<i64> = Vec::new();
            let base = format!("/api/v1/hazards?q={}&limit=2", query_value(q));
            let mut path = base.clone();
            loop {
                let r = app.get(&admin, &path).await;
                r.assert_status(200);
                got.extend(r.items().iter().map(|h| h["id"].as_i64().unwrap()));
                match r.body["next_cursor"].as_str() {
                    Some(next) => path = format!("{base}&cursor={next}"),
                    None => break,
                }
            }
            assert_eq!(got, expected, "q={q}");
            got.len()
        }
    };
    assert_eq!(check("431302-2026").await, 6);
    assert_eq!(check("431302-2026-00002").await, 1);
    assert_eq!(check("431302-2026-99999").await, 1);
    assert_eq!(check("431302-2026-00001").await, 2);
    assert_eq!(check("2026-00001").await, 3);
    assert_eq!(check("1302-2026-0000").await, 6);
    assert_eq!(check("431300-jkq-2026").await, 1);
    assert_eq!(check("431300-JKQ").await, 1);
    assert_eq!(check("431302-2025").await, 0);
    // A unit whose code holds 431302 further in: its code must still be found.
    app.sql("INSERT INTO hazard_code_counters (prefix, last_value) VALUES ('X431302-2026', 77)");
    app.sql(&format!(
        "INSERT INTO hazards (code, enterprise_id, jurisdiction_code, county_code, city_code, \
         sector_code, title, description, level, source, discovered_on, deadline_key, status, \
         listed, reported_by, created_at, updated_at, version) \
         VALUES ('X431302-2026-00077', {}, '431302', '431302', '431300', 'hazardous_chemicals', \
         '标题', '说明', 'general', 'self_inspection', '2026-11-01', '9999-12-31', 'reported', \
         false, (SELECT MIN(id) FROM accounts), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
        c.enterprise
    ));
    assert_eq!(check("431302-2026-00077").await, 1);
    assert_eq!(check("431302-2026").await, 7);
});

// A township is reached through its county (the county's scope holds it) and through the
// `jurisdiction_code` filter (only itself); other units never see it.
both!(
    township_hazards_are_in_their_county_and_found_by_their_code,
    |app| {
        let c = cast(app).await;
        let township = app
            .enterprise(&c.admin, &uscc(7), "431302001", "construction")
            .await;
        let in_township = report(
            app,
            &c.admin,
            hazard_body(Some(township), "general", "2026-11-20"),
        )
        .await;
        let in_county = report(
            app,
            &c.admin,
            hazard_body(Some(c.enterprise), "general", "2026-11-20"),
        )
        .await;
        let (_, zone) = app
            .regulator(&c.admin, "jkq.officer", "county_officer", "431300-JKQ")
            .await;
        let ids = |token: String, query: &'static str| async move {
            let r = app.get(&token, &format!("/api/v1/hazards?{query}")).await;
            r.assert_status(200);
            r.items()
                .iter()
                .map(|h| h["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(c.officer.clone(), "").await,
            vec![in_township, in_county]
        );
        assert_eq!(
            ids(c.officer.clone(), "jurisdiction_code=431302001").await,
            vec![in_township]
        );
        assert_eq!(
            ids(c.admin.clone(), "jurisdiction_code=431302").await,
            vec![in_township, in_county]
        );
        assert_eq!(
            ids(c.admin.clone(), "jurisdiction_code=431300").await.len(),
            2
        );
        assert!(ids(zone.clone(), "").await.is_empty());
        assert!(ids(c.sibling_officer.clone(), "").await.is_empty());
        assert!(
            ids(c.sibling_officer.clone(), "jurisdiction_code=431302001")
                .await
                .is_empty()
        );
        // The hazard carries its county-level unit in its code, and the enterprise list follows.
        let h = app
            .get(&c.officer, &format!("/api/v1/hazards/{in_township}"))
            .await;
        assert!(h.body["code"].as_str().unwrap().starts_with("431302-"));
        let e = app
            .get(
                &c.officer,
                "/api/v1/enterprises?jurisdiction_code=431302001",
            )
            .await;
        e.assert_status(200);
        assert_eq!(e.items().len(), 1);
        assert_eq!(e.items()[0]["id"], township);
        app.get(&zone, &format!("/api/v1/hazards/{in_township}"))
            .await
            .assert_status(404);
    }
);

// A search page on PostgreSQL first walks a window of the scope in id order, then the text
// index past it (`db::hazards::search_in_window`). Paging through common, rare and in-window
// terms, over thousands of rows and two counties, gives exactly the rows a plain scan finds,
// in order, on both databases.
both!(
    search_pages_agree_with_a_plain_scan_across_the_window,
    |app| {
        let c = cast(app).await;
        let series = match app.backend {
            Backend::Postgres => "FROM generate_series(1, 6000) AS i".to_string(),
            Backend::Sqlite => {
                "FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s \
                            WHERE i < 6000) SELECT i FROM s)"
                    .to_string()
            }
        };
        app.sql(&format!(
            "INSERT INTO hazards (code, enterprise_id, jurisdiction_code, county_code, city_code, \
         sector_code, title, description, level, source, discovered_on, deadline_key, status, \
         listed, reported_by, created_at, updated_at, version) \
         SELECT 'WIN-' || i, {}, \
         CASE WHEN i % 2 = 0 THEN '431302' ELSE '431321' END, \
         CASE WHEN i % 2 = 0 THEN '431302' ELSE '431321' END, '431300', 'hazardous_chemicals', \
         CASE WHEN i % 5 = 0 THEN '常见报警故障' WHEN i IN (4500, 5900, 5901) THEN '罕见泄漏' \
              WHEN i IN (10, 1500) THEN '窗内积水' ELSE '普通' END, \
         CASE WHEN i = 3000 THEN '说明：罕见泄漏' ELSE '无' END, \
         'general', 'self_inspection', '2026-11-01', '9999-12-31', 'reported', false, \
         (SELECT MIN(id) FROM accounts), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 {series}",
            c.enterprise
        ));
        for term in ["常见报警", "罕见泄漏", "窗内积水", "不存在的词"] {
            let expected: Vec<i64> = app
                .sql_texts(&format!(
                    "SELECT CAST(id AS TEXT) AS t FROM hazards WHERE county_code = '431302' \
                 AND (title LIKE '%{term}%' OR description LIKE '%{term}%') ORDER BY id"
                ))
                .iter()
                .map(|t| t.parse().unwrap())
                .collect();
            let mut got = Vec::new();
            let mut path = format!("/api/v1/hazards?q={}&limit=100", query_value(term));
            loop {
                let r = app.get(&c.officer, &path).await;
                r.assert_status(200);
                got.extend(r.items().iter().map(|h| h["id"].as_i64().unwrap()));
                match r.body["next_cursor"].as_str() {
                    Some(next) => {
                        path = format!(
                            "/api/v1/hazards?q={}&limit=100&cursor={next}",
                            query_value(term)
                        )
                    }
                    None => break,
                }
            }
            assert_eq!(got, expected, "{term}");
        }
        // The common term fills many pages; the rare one lies past the window.
        assert!(
            app.sql_texts(
                "SELECT CAST(COUNT(*) AS TEXT) AS t FROM hazards WHERE title LIKE '%常见报警%'"
            )[0] == "1200"
        );
    }
);

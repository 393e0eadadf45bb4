//! Photo-first capture (SPEC §8): attachments staged before their hazard exists, bound by a
//! create or a transition, visible to their uploader only, expiring.

use serde_json::{json, Value};

use crate::support::{both, five_fixes, hazard_body, png, uscc, TestApp};

async fn stage(app: &TestApp, token: &str, stage: &str, bytes: Vec<u8>) -> crate::support::Resp {
    let form = reqwest::multipart::Form::new()
        .text("stage", stage.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("现场.png"),
        );
    app.send(
        app.client
            .post(app.url("/api/v1/attachments"))
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

async fn hazard_count(app: &TestApp, token: &str) -> usize {
    app.get(token, "/api/v1/hazards?limit=200")
        .await
        .items()
        .len()
}

both!(
    staged_photos_are_bound_by_a_create_or_a_transition,
    env = [("HAZREG_STAGED_ATTACHMENT_TTL_SECS", "3600")],
    |app| {
        let admin = app.admin().await;
        let enterprise = app
            .enterprise(&admin, &uscc(9001), "431302", "industry_trade")
            .await;
        let other = app
            .enterprise(&admin, &uscc(9002), "431302", "industry_trade")
            .await;
        let (_, worker) = app
            .account(
                &admin,
                "st.worker",
                "enterprise",
                json!({"enterprise_id": enterprise}),
            )
            .await;
        let (_, stranger) = app
            .account(
                &admin,
                "st.stranger",
                "enterprise",
                json!({"enterprise_id": other}),
            )
            .await;
        let (_, officer) = app
            .regulator(&admin, "st.officer", "county_officer", "431302")
            .await;
        let (_, auditor) = app
            .regulator(&admin, "st.auditor", "auditor", "431300")
            .await;

        // Staged: no hazard, an expiry, visible to its uploader only.
        let r = stage(app, &worker, "before", png()).await;
        r.assert_status(201);
        let photo = r.id();
        assert!(r.body["hazard_id"].is_null());
        assert!(r.body["expires_at"].is_string());
        assert_eq!(
            r.header("location").as_deref(),
            Some(format!("/api/v1/attachments/{photo}").as_str())
        );
        let mine = app
            .send(
                app.client
                    .get(app.url(&format!("/api/v1/attachments/{photo}")))
                    .bearer_auth(&worker),
            )
            .await;
        assert_eq!(mine.status, 200);
        assert_eq!(mine.raw, png());
        for token in [&stranger, &officer, &admin] {
            app.get(token, &format!("/api/v1/attachments/{photo}"))
                .await
                .assert_problem(404, "not_found");
        }

        // Forbidden and bad input change nothing.
        stage(app, &auditor, "before", png())
            .await
            .assert_problem(403, "forbidden");
        stage(app, &worker, "sideways", png())
            .await
            .assert_problem(422, "validation_failed");
        stage(app, &worker, "before", b"just text".to_vec())
            .await
            .assert_problem(415, "unsupported_media_type");
        let before = hazard_count(app, &admin).await;
        for (ids, code) in [
            (json!([-1]), "validation_failed"),
            (json!([photo, photo]), "validation_failed"),
            (json!(["x"]), "invalid_body"),
            (json!(5), "invalid_body"),
        ] {
            let mut body = hazard_body(None, "general", "2026-11-20");
            body["attachment_ids"] = ids;
            app.post(&worker, "/api/v1/hazards", &body)
                .await
                .assert_problem(422, code);
        }
        // Someone else's staged photo is not found, and the create writes nothing.
        let theirs = stage(app, &stranger, "before", png()).await.id();
        let mut body = hazard_body(None, "general", "2026-11-20");
        body["attachment_ids"] = json!([photo, theirs]);
        let r = app.post(&worker, "/api/v1/hazards", &body).await;
        r.assert_problem(404, "not_found");
        assert!(r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("attachment_ids/1"));
        assert_eq!(hazard_count(app, &admin).await, before);
        assert!(
            app.get(&worker, &format!("/api/v1/attachments/{photo}"))
                .await
                .status
                == 200
        );

        // A create binds it: the hazard lists it, its timeline and the feed record it.
        let mut body = hazard_body(None, "general", "2026-11-20");
        body["attachment_ids"] = json!([photo]);
        let r = app.post(&worker, "/api/v1/hazards", &body).await;
        r.assert_status(201);
        let hazard = r.id();
        let list = app
            .get(&officer, &format!("/api/v1/hazards/{hazard}/attachments"))
            .await;
        let listed = list.items();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], photo);
        assert_eq!(listed[0]["hazard_id"], hazard);
        assert!(listed[0]["expires_at"].is_null());
        // Now whoever sees the hazard sees the photo.
        let seen = app
            .send(
                app.client
                    .get(app.url(&format!("/api/v1/attachments/{photo}")))
                    .bearer_auth(&officer),
            )
            .await;
        assert_eq!(seen.status, 200);
        let timeline = app
            .get(&admin, &format!("/api/v1/hazards/{hazard}/timeline"))
            .await;
        let actions: Vec<&str> = timeline
            .items()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(actions, ["create", "attachment_added"]);
        let feed = app
            .get(&admin, "/api/v1/events?types=hazard.attachment_added")
            .await;
        assert_eq!(feed.items().len(), 1);
        assert_eq!(feed.items()[0]["data"]["attachment"]["id"], photo);
        // Bound once only.
        let mut body = hazard_body(None, "general", "2026-11-20");
        body["attachment_ids"] = json!([photo]);
        app.post(&worker, "/api/v1/hazards", &body)
            .await
            .assert_problem(404, "not_found");

        // A transition binds the `after` photo that submit_for_acceptance needs.
        let r = app
            .post(
                &officer,
                "/api/v1/hazards",
                &five_fixes(
                    hazard_body(Some(enterprise), "general", "2026-11-20"),
                    "2030-01-01",
                ),
            )
            .await;
        r.assert_status(201);
        let rectifying = r.id();
        let after = stage(app, &worker, "after", png()).await.id();
        app.act(
            &worker,
            rectifying,
            json!({"action": "submit_for_acceptance", "note": "已整改"}),
        )
        .await
        .assert_problem(422, "prerequisites_missing");
        let r = app
            .act(&worker, rectifying, json!({"action": "submit_for_acceptance", "note": "已整改", "attachment_ids": [after]}))
            .await;
        r.assert_status(200);
        assert_eq!(r.body["status"], "pending_acceptance");
        let list = app
            .get(
                &worker,
                &format!("/api/v1/hazards/{rectifying}/attachments"),
            )
            .await;
        assert_eq!(list.items()[0]["id"], after);

        // Expired: after the TTL a staged photo can no longer be bound or read.
        let late = stage(app, &worker, "before", png()).await.id();
        app.advance(std::time::Duration::from_secs(3601));
        app.get(&worker, &format!("/api/v1/attachments/{late}"))
            .await
            .assert_problem(404, "not_found");
        let mut body = hazard_body(None, "general", "2026-11-20");
        body["attachment_ids"] = json!([late]);
        app.post(&worker, "/api/v1/hazards", &body)
            .await
            .assert_problem(404, "not_found");
    }
);

both!(two_creates_binding_one_staged_photo_bind_it_once, |app| {
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(9101), "431302", "industry_trade")
        .await;
    let (_, worker) = app
        .account(
            &admin,
            "st.racer",
            "enterprise",
            json!({"enterprise_id": enterprise}),
        )
        .await;
    let photo = stage(app, &worker, "before", png()).await.id();
    let create = || {
        let worker = worker.clone();
        async move {
            let mut body = hazard_body(None, "general", "2026-11-20");
            body["attachment_ids"] = json!([photo]);
            app.post(&worker, "/api/v1/hazards", &body).await
        }
    };
    let (a, b) = futures_util::future::join(create(), create()).await;
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [201, 404], "{:?} / {:?}", a.body, b.body);
    let winner: &Value = if a.status == 201 { &a.body } else { &b.body };
    assert_eq!(hazard_count(app, &admin).await, 1);
    let list = app
        .get(
            &worker,
            &format!("/api/v1/hazards/{}/attachments", winner["id"]),
        )
        .await;
    assert_eq!(list.items().len(), 1);
});

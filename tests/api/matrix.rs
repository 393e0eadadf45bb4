//! The authorization matrix: role × relation (own / child / sibling / foreign) × action.
//! Out of scope answers 404; in scope but not allowed answers 403.

use serde_json::json;

use crate::support::{both, enterprise_body, uscc, TestApp};

struct World {
    tokens: Vec<(&'static str, String)>,
    /// Enterprises at 431300 (city level), 431302 (娄星区), 431321 (双峰县), 431202 (another city).
    city: i64,
    lx: i64,
    sf: i64,
    foreign: i64,
    lx_officer_id: i64,
    city_officer_id: i64,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin().await;
    let city = app.enterprise(&admin, &uscc(1), "431300", "other").await;
    let lx = app.enterprise(&admin, &uscc(2), "431302", "other").await;
    let sf = app.enterprise(&admin, &uscc(3), "431321", "other").await;
    let foreign_admin = app.foreign_admin().await;
    let foreign = app
        .enterprise(&foreign_admin, &uscc(4), "431202", "other")
        .await;
    let (city_officer_id, city_officer) = app
        .regulator(&admin, "city.officer", "city_officer", "431300")
        .await;
    let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
    let (_, county_admin) = app
        .regulator(&admin, "lx.admin", "county_admin", "431302")
        .await;
    let (lx_officer_id, county_officer) = app
        .regulator(&county_admin, "lx.officer", "county_officer", "431302")
        .await;
    let (_, enterprise) = app
        .account(
            &county_admin,
            "lx.ent",
            "enterprise",
            json!({"enterprise_id": lx}),
        )
        .await;
    World {
        tokens: vec![
            ("city_admin", admin),
            ("city_officer", city_officer),
            ("auditor", auditor),
            ("county_admin", county_admin),
            ("county_officer", county_officer),
            ("enterprise", enterprise),
        ],
        city,
        lx,
        sf,
        foreign,
        lx_officer_id,
        city_officer_id,
    }
}

impl World {
    fn token(&self, role: &str) -> &str {
        &self
            .tokens
            .iter()
            .find(|(r, _)| *r == role)
            .expect("role")
            .1
    }
}

both!(enterprise_read_and_update, |app| {
    let w = world(app).await;
    // (role, [(target, read, update)])
    let expected: [(&str, [u16; 4], [u16; 4]); 6] = [
        ("city_admin", [200, 200, 200, 404], [200, 200, 200, 404]),
        ("city_officer", [200, 200, 200, 404], [200, 200, 200, 404]),
        ("auditor", [200, 200, 200, 404], [403, 403, 403, 404]),
        ("county_admin", [404, 200, 404, 404], [404, 200, 404, 404]),
        ("county_officer", [404, 200, 404, 404], [404, 200, 404, 404]),
        ("enterprise", [404, 200, 404, 404], [404, 403, 404, 404]),
    ];
    let targets = [w.city, w.lx, w.sf, w.foreign];
    let admin = w.token("city_admin").to_string();
    for (role, reads, updates) in expected {
        let token = w.token(role);
        for (i, target) in targets.iter().enumerate() {
            let path = format!("/api/v1/enterprises/{target}");
            let r = app.get(token, &path).await;
            assert_eq!(r.status, reads[i], "{role} reads target #{i}: {:?}", r.body);
            // Update with the current ETag (read by whoever can), so only authorization decides.
            let etag = app
                .get(&admin, &path)
                .await
                .header("etag")
                .unwrap_or_else(|| "\"1\"".into());
            let before = app.get(&admin, &path).await.body;
            let r = app
                .patch(
                    token,
                    &path,
                    Some(&etag),
                    &json!({"address": format!("{role} was here")}),
                )
                .await;
            assert_eq!(
                r.status, updates[i],
                "{role} updates target #{i}: {:?}",
                r.body
            );
            if r.status != 200 {
                assert_eq!(
                    app.get(&admin, &path).await.body,
                    before,
                    "{role} changed target #{i} despite {}",
                    r.status
                );
            }
        }
        let listed: Vec<i64> = app
            .get(token, "/api/v1/enterprises")
            .await
            .items()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect();
        let visible: Vec<i64> = targets
            .iter()
            .zip(reads)
            .filter(|(_, s)| s == &200)
            .map(|(t, _)| *t)
            .collect();
        let listed_known: Vec<i64> = listed
            .iter()
            .copied()
            .filter(|id| targets.contains(id))
            .collect();
        assert_eq!(listed_known, visible, "{role} lists");
    }
});

both!(enterprise_create, |app| {
    let w = world(app).await;
    let expected: [(&str, [u16; 4]); 6] = [
        ("city_admin", [201, 201, 201, 403]),
        ("city_officer", [201, 201, 201, 403]),
        ("auditor", [403, 403, 403, 403]),
        ("county_admin", [403, 201, 403, 403]),
        ("county_officer", [403, 201, 403, 403]),
        ("enterprise", [403, 403, 403, 403]),
    ];
    let mut n = 100;
    for (role, statuses) in expected {
        for (i, j) in ["431300", "431302", "431321", "431202"].iter().enumerate() {
            n += 1;
            let r = app
                .post(
                    w.token(role),
                    "/api/v1/enterprises",
                    &enterprise_body(&uscc(n), j, "other"),
                )
                .await;
            assert_eq!(r.status, statuses[i], "{role} creates at {j}: {:?}", r.body);
            if statuses[i] == 403 {
                let code = r.code();
                assert!(
                    code == "forbidden" || code == "out_of_jurisdiction",
                    "{code}"
                );
                let found = app
                    .get(
                        w.token("city_admin"),
                        &format!("/api/v1/enterprises?q={}", uscc(n)),
                    )
                    .await;
                assert!(found.items().is_empty());
            }
        }
    }
});

both!(account_management, |app| {
    let w = world(app).await;
    let body = |username: &str, role: &str, binding: serde_json::Value| {
        let username = format!("made.{username}");
        let mut b = json!({"username": username, "password": crate::support::PASSWORD, "display_name": username, "role": role});
        b.as_object_mut()
            .unwrap()
            .extend(binding.as_object().unwrap().clone());
        b
    };
    let cases: Vec<(&str, serde_json::Value, u16)> = vec![
        (
            "city_admin",
            body("a1", "county_admin", json!({"jurisdiction_code": "431321"})),
            201,
        ),
        (
            "city_admin",
            body("a2", "auditor", json!({"jurisdiction_code": "431300"})),
            201,
        ),
        (
            "city_admin",
            body("a3", "city_admin", json!({"jurisdiction_code": "431300"})),
            201,
        ),
        (
            "city_admin",
            body(
                "a4",
                "county_officer",
                json!({"jurisdiction_code": "431202"}),
            ),
            403,
        ),
        (
            "county_admin",
            body(
                "b1",
                "county_officer",
                json!({"jurisdiction_code": "431302"}),
            ),
            201,
        ),
        (
            "county_admin",
            body("b2", "enterprise", json!({"enterprise_id": w.lx})),
            201,
        ),
        (
            "county_admin",
            body("b3", "county_admin", json!({"jurisdiction_code": "431302"})),
            403,
        ),
        (
            "county_admin",
            body(
                "b4",
                "county_officer",
                json!({"jurisdiction_code": "431321"}),
            ),
            403,
        ),
        (
            "county_admin",
            body("b5", "city_officer", json!({"jurisdiction_code": "431300"})),
            403,
        ),
        (
            "county_admin",
            body("b6", "enterprise", json!({"enterprise_id": w.sf})),
            422,
        ),
        (
            "city_officer",
            body(
                "c1",
                "county_officer",
                json!({"jurisdiction_code": "431302"}),
            ),
            403,
        ),
        (
            "county_officer",
            body(
                "c2",
                "county_officer",
                json!({"jurisdiction_code": "431302"}),
            ),
            403,
        ),
        (
            "auditor",
            body(
                "c3",
                "county_officer",
                json!({"jurisdiction_code": "431302"}),
            ),
            403,
        ),
        (
            "enterprise",
            body("c4", "enterprise", json!({"enterprise_id": w.lx})),
            403,
        ),
    ];
    for (actor, b, status) in cases {
        let r = app.post(w.token(actor), "/api/v1/accounts", &b).await;
        assert_eq!(
            r.status, status,
            "{actor} creates {}: {:?}",
            b["username"], r.body
        );
        if status != 201 {
            app.login_raw(b["username"].as_str().unwrap(), crate::support::PASSWORD)
                .await
                .assert_status(401);
        }
    }

    let lx_officer = format!("/api/v1/accounts/{}", w.lx_officer_id);
    let city_officer = format!("/api/v1/accounts/{}", w.city_officer_id);
    for (actor, path, status) in [
        ("city_admin", &lx_officer, 200),
        ("auditor", &lx_officer, 200),
        ("county_admin", &lx_officer, 200),
        ("county_admin", &city_officer, 404),
        ("city_officer", &lx_officer, 403),
        ("county_officer", &lx_officer, 403),
        ("enterprise", &lx_officer, 404),
    ] {
        assert_eq!(
            app.get(w.token(actor), path).await.status,
            status,
            "{actor} reads {path}"
        );
    }
    for (actor, status) in [
        ("city_officer", 403),
        ("county_officer", 403),
        ("enterprise", 403),
        ("auditor", 200),
        ("county_admin", 200),
    ] {
        assert_eq!(
            app.get(w.token(actor), "/api/v1/accounts").await.status,
            status,
            "{actor} lists accounts"
        );
    }
    // A county admin sees only its county's accounts.
    let listed = app
        .get(w.token("county_admin"), "/api/v1/accounts?limit=200")
        .await;
    assert!(
        listed
            .items()
            .iter()
            .all(|a| a["jurisdiction_code"] == "431302" || a["enterprise_id"] == w.lx),
        "{:?}",
        listed.body
    );

    let ca = w.token("county_admin");
    let etag = app.get(ca, &lx_officer).await.etag();
    app.patch(
        ca,
        &lx_officer,
        Some(&etag),
        &json!({"display_name": "改名"}),
    )
    .await
    .assert_status(200);
    let r = app
        .patch_fresh(ca, &lx_officer, &json!({"role": "county_admin"}))
        .await;
    r.assert_problem(403, "forbidden");
    let r = app
        .patch_fresh(ca, &lx_officer, &json!({"jurisdiction_code": "431321"}))
        .await;
    r.assert_problem(403, "out_of_jurisdiction");
    let r = app
        .patch(
            ca,
            &city_officer,
            Some("\"1\""),
            &json!({"display_name": "x"}),
        )
        .await;
    r.assert_problem(404, "not_found");
    let me = app.get(ca, "/api/v1/me").await.body["id"].as_i64().unwrap();
    let r = app
        .patch_fresh(
            ca,
            &format!("/api/v1/accounts/{me}"),
            &json!({"display_name": "x"}),
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = app
        .patch_fresh(
            w.token("auditor"),
            &lx_officer,
            &json!({"display_name": "x"}),
        )
        .await;
    r.assert_problem(403, "forbidden");
    assert_eq!(
        app.get(w.token("city_admin"), &lx_officer).await.body["display_name"],
        "改名"
    );
});

both!(audit_log_readers, |app| {
    let w = world(app).await;
    for (role, status) in [
        ("city_admin", 200),
        ("auditor", 200),
        ("city_officer", 403),
        ("county_admin", 403),
        ("county_officer", 403),
        ("enterprise", 403),
    ] {
        assert_eq!(
            app.get(w.token(role), "/api/v1/audit-events").await.status,
            status,
            "{role}"
        );
    }
});

//! Accounts: creation, validation, binding rules, updates, listing.

use serde_json::json;

use crate::support::{both, uscc, PASSWORD};

both!(create_get_list_and_update, |app| {
    let admin = app.admin().await;
    let r = app
        .post(
            &admin,
            "/api/v1/accounts",
            &json!({
                "username": "LX.Admin", "password": PASSWORD, "display_name": "娄星区安委办",
                "role": "county_admin", "jurisdiction_code": "431302"
            }),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["username"], "lx.admin");
    assert!(r.body.get("password").is_none() && r.body.get("password_hash").is_none());
    let location = r.header("location").unwrap();
    let got = app.get(&admin, &location).await;
    got.assert_status(200);
    assert_eq!(got.body["role"], "county_admin");

    let list = app.get(&admin, "/api/v1/accounts?role=county_admin").await;
    assert_eq!(list.items().len(), 1);
    let list = app.get(&admin, "/api/v1/accounts?q=ADMIN").await;
    assert_eq!(list.items().len(), 2);

    let r = app
        .patch_fresh(
            &admin,
            &location,
            &json!({"display_name": "娄星区安委办主任"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["display_name"], "娄星区安委办主任");
    assert_eq!(r.body["version"], 2);
    // username is not writable; unknown fields are refused.
    app.patch_fresh(&admin, &location, &json!({"username": "x"}))
        .await
        .assert_problem(422, "invalid_body");
});

both!(password_policy_and_duplicates, |app| {
    let admin = app.admin().await;
    let base = json!({"username": "weak.one", "display_name": "W", "role": "city_officer", "jurisdiction_code": "431300"});
    for bad in ["short-1A", "alllowercaseletters", "Weak.One-Password-1"] {
        let mut body = base.clone();
        body["password"] = json!(bad);
        let r = app.post(&admin, "/api/v1/accounts", &body).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["pointer"], "/password", "{bad}");
    }
    assert_eq!(app.get(&admin, "/api/v1/accounts").await.items().len(), 1);
    let mut body = base.clone();
    body["password"] = json!(PASSWORD);
    app.post(&admin, "/api/v1/accounts", &body)
        .await
        .assert_status(201);
    body["username"] = json!("WEAK.ONE");
    app.post(&admin, "/api/v1/accounts", &body)
        .await
        .assert_problem(409, "duplicate_username");
    body["username"] = json!("bad name!");
    let r = app.post(&admin, "/api/v1/accounts", &body).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/username");
    // A weak new password on update is refused too, and changes nothing.
    let id = app.get(&admin, "/api/v1/accounts?q=weak.one").await.items()[0]["id"]
        .as_i64()
        .unwrap();
    let r = app
        .patch_fresh(
            &admin,
            &format!("/api/v1/accounts/{id}"),
            &json!({"password": "short"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    app.login("weak.one", PASSWORD).await;
});

both!(bindings_must_fit_the_role, |app| {
    let admin = app.admin().await;
    let post = |body: serde_json::Value| {
        let (app, admin) = (app, admin.clone());
        async move { app.post(&admin, "/api/v1/accounts", &body).await }
    };
    let base = |role: &str| json!({"username": "user1", "password": PASSWORD, "display_name": "U", "role": role});
    let with = |role: &str, extra: serde_json::Value| {
        let mut b = base(role);
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    let pointer = |r: &crate::support::Resp| {
        r.body["errors"][0]["pointer"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };

    let r = post(with(
        "county_officer",
        json!({"jurisdiction_code": "431300"}),
    ))
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(pointer(&r), "/jurisdiction_code");
    let r = post(with("city_officer", json!({"jurisdiction_code": "431302"}))).await;
    r.assert_problem(422, "validation_failed");
    let r = post(base("county_officer")).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(pointer(&r), "/jurisdiction_code");
    let r = post(with(
        "county_officer",
        json!({"jurisdiction_code": "999999"}),
    ))
    .await;
    r.assert_problem(422, "validation_failed");
    let r = post(base("enterprise")).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(pointer(&r), "/enterprise_id");
    let r = post(with("enterprise", json!({"enterprise_id": 99999}))).await;
    r.assert_problem(422, "validation_failed");
    let dept = app.department_id(&admin, "市应急管理局").await;
    // Departments are for officers, in their own jurisdiction.
    let r = post(with(
        "city_admin",
        json!({"jurisdiction_code": "431300", "department_id": dept}),
    ))
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(pointer(&r), "/department_id");
    let r = post(with(
        "county_officer",
        json!({"jurisdiction_code": "431302", "department_id": dept}),
    ))
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(pointer(&r), "/department_id");
    let r = post(with(
        "county_admin",
        json!({"jurisdiction_code": "431302", "enterprise_id": 1}),
    ))
    .await;
    r.assert_problem(422, "validation_failed");
    let r = post(with("fairy", json!({"jurisdiction_code": "431302"}))).await;
    r.assert_problem(422, "invalid_body");
    assert_eq!(pointer(&r), "/role");
    assert_eq!(app.get(&admin, "/api/v1/accounts").await.items().len(), 1);

    post(with(
        "city_officer",
        json!({"jurisdiction_code": "431300", "department_id": dept}),
    ))
    .await
    .assert_status(201);
    let eid = app.enterprise(&admin, &uscc(1), "431302", "other").await;
    let r = app
        .post(&admin, "/api/v1/accounts", &json!({"username": "ent.user", "password": PASSWORD, "display_name": "E", "role": "enterprise", "enterprise_id": eid}))
        .await;
    r.assert_status(201);
    assert!(r.body["jurisdiction_code"].is_null());
    let me = app
        .get(&app.login("ent.user", PASSWORD).await, "/api/v1/me")
        .await;
    assert_eq!(me.body["enterprise"]["id"], eid);
});

both!(an_admin_cannot_disable_itself, |app| {
    let admin = app.admin().await;
    let r = app
        .patch_fresh(&admin, "/api/v1/accounts/1", &json!({"disabled": true}))
        .await;
    r.assert_problem(422, "cannot_disable_self");
    app.get(&admin, "/api/v1/me").await.assert_status(200);
});

both!(a_new_password_ends_sessions, |app| {
    let admin = app.admin().await;
    let (id, officer) = app
        .regulator(&admin, "c.officer", "city_officer", "431300")
        .await;
    let r = app
        .patch_fresh(
            &admin,
            &format!("/api/v1/accounts/{id}"),
            &json!({"password": "Brand-New-Pass-2026"}),
        )
        .await;
    r.assert_status(200);
    app.get(&officer, "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
    app.login_raw("c.officer", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    app.login("c.officer", "Brand-New-Pass-2026").await;
    // The audit trail records that the password changed, never the hash.
    let events = app
        .get(
            &admin,
            &format!("/api/v1/audit-events?entity_type=account&entity_id={id}"),
        )
        .await;
    let update = events
        .items()
        .iter()
        .find(|e| e["action"] == "update")
        .expect("update event");
    assert_eq!(update["changes"]["password"]["after"], "[redacted]");
    assert!(!events.body.to_string().contains("$argon2"));
});

both!(department_officers_see_only_their_sectors, |app| {
    let admin = app.admin().await;
    let dept = app
        .department_id(&admin, "市住房和城乡建设局（市人防办）")
        .await;
    let (_, officer) = app
        .account(
            &admin,
            "zj.officer",
            "city_officer",
            json!({"jurisdiction_code": "431300", "department_id": dept}),
        )
        .await;
    let building = app
        .enterprise(&admin, &uscc(1), "431302", "construction")
        .await;
    let chemicals = app
        .enterprise(&admin, &uscc(2), "431321", "hazardous_chemicals")
        .await;
    let list = app.get(&officer, "/api/v1/enterprises").await;
    let ids: Vec<i64> = list
        .items()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![building]);
    app.get(&officer, &format!("/api/v1/enterprises/{chemicals}"))
        .await
        .assert_problem(404, "not_found");
    let r = app
        .post(
            &officer,
            "/api/v1/enterprises",
            &enterprise_body(&uscc(3), "431302", "hazardous_chemicals"),
        )
        .await;
    r.assert_problem(403, "out_of_sector");
    app.post(
        &officer,
        "/api/v1/enterprises",
        &enterprise_body(&uscc(3), "431302", "gas"),
    )
    .await
    .assert_status(201);
    // Moving an enterprise out of the department's sectors is refused.
    let r = app
        .patch_fresh(
            &officer,
            &format!("/api/v1/enterprises/{building}"),
            &json!({"sector_code": "other"}),
        )
        .await;
    r.assert_problem(403, "out_of_sector");
});

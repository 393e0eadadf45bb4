//! The administrators' second factor (TOTP with recovery codes): enrolment, sign-in with a
//! code (each code once) or a recovery code (each once), turning it off, who may, and
//! `HAZREG_ADMIN_TOTP=required` gating an administrator's session until it passes one.

use serde_json::{json, Value};

use crate::support::{both, TestApp, ADMIN_PASSWORD};

fn now(app: &TestApp) -> u64 {
    use hazard_registry::clock::Clock;
    app.clock.now().timestamp() as u64
}

fn code(secret: &str, at: u64) -> String {
    hazard_registry::domain::totp::code_at(secret, at).expect("a code")
}

/// A 6-digit code that is not valid now (nor one step either side).
fn wrong_code(secret: &str, at: u64) -> String {
    let valid: Vec<String> = [at - 30, at, at + 30]
        .iter()
        .map(|t| code(secret, *t))
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !valid.contains(c))
        .unwrap()
}

async fn login(app: &TestApp, extra: Value) -> crate::support::Resp {
    let mut body = json!({"username": "admin", "password": ADMIN_PASSWORD});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    app.send(app.client.post(app.url("/api/v1/auth/login")).json(&body))
        .await
}

/// Enrols the admin behind `token`: answers (secret, recovery codes).
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let r = app.post(token, "/api/v1/me/totp", &json!({})).await;
    r.assert_status(200);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    assert!(r.body["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let r = app
        .post(
            token,
            "/api/v1/me/totp/confirm",
            &json!({"code": code(&secret, now(app))}),
        )
        .await;
    r.assert_status(200);
    let codes: Vec<String> = r.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

both!(administrators_sign_in_with_a_second_factor, |app| {
    let admin = app.admin().await;
    // Only administrators.
    let (_, officer) = app
        .regulator(&admin, "officer-2fa", "county_officer", "431302")
        .await;
    app.post(&officer, "/api/v1/me/totp", &json!({}))
        .await
        .assert_problem(403, "forbidden");
    // Confirming without a pending enrolment, or with a wrong code, changes nothing.
    app.post(
        &admin,
        "/api/v1/me/totp/confirm",
        &json!({"code": "123456"}),
    )
    .await
    .assert_problem(409, "totp_not_started");
    let r = app.post(&admin, "/api/v1/me/totp", &json!({})).await;
    r.assert_status(200);
    let pending = r.body["secret"].as_str().unwrap().to_string();
    app.post(
        &admin,
        "/api/v1/me/totp/confirm",
        &json!({"code": wrong_code(&pending, now(app))}),
    )
    .await
    .assert_problem(422, "invalid_totp_code");
    // NUL and control characters are refused before anything is checked, on both databases.
    app.post(
        &admin,
        "/api/v1/me/totp/confirm",
        &json!({"code": "12\u{0}456"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    login(app, json!({"totp_code": "1\u{1b}[31m"}))
        .await
        .assert_problem(422, "validation_failed");
    login(app, json!({})).await.assert_status(200);

    let (secret, recovery) = enrol(app, &admin).await;
    app.post(&admin, "/api/v1/me/totp", &json!({}))
        .await
        .assert_problem(409, "totp_already_enabled");

    // The password alone is not enough; the code used to confirm cannot be used again.
    login(app, json!({}))
        .await
        .assert_problem(401, "totp_required");
    login(app, json!({"totp_code": code(&secret, now(app))}))
        .await
        .assert_problem(401, "invalid_totp_code");
    login(app, json!({"totp_code": wrong_code(&secret, now(app))}))
        .await
        .assert_problem(401, "invalid_totp_code");
    // A wrong password with a right code is still the one answer for wrong credentials.
    app.advance(std::time::Duration::from_secs(60));
    let body = json!({"username": "admin", "password": "Wrong-Password-1", "totp_code": code(&secret, now(app))});
    app.send(app.client.post(app.url("/api/v1/auth/login")).json(&body))
        .await
        .assert_problem(401, "invalid_credentials");
    // The next step's code signs in, once.
    let fresh = code(&secret, now(app));
    login(app, json!({"totp_code": fresh}))
        .await
        .assert_status(200);
    login(app, json!({"totp_code": fresh}))
        .await
        .assert_problem(401, "invalid_totp_code");
    // A recovery code signs in, once (case and dashes do not matter).
    login(app, json!({"recovery_code": recovery[0].to_uppercase()}))
        .await
        .assert_status(200);
    login(app, json!({"recovery_code": recovery[0]}))
        .await
        .assert_problem(401, "invalid_totp_code");
    // Failed second factors count as failed logins: with the reused code above, four more
    // make the five that lock the account (a success clears the count).
    for _ in 0..4 {
        login(app, json!({"recovery_code": "not-a-code"}))
            .await
            .assert_problem(401, "invalid_totp_code");
    }
    login(app, json!({"recovery_code": recovery[1]}))
        .await
        .assert_problem(429, "too_many_requests");
    app.advance(std::time::Duration::from_secs(301));

    // Turning it off takes a valid code; afterwards the password alone signs in.
    let token = login(app, json!({"recovery_code": recovery[1]})).await;
    token.assert_status(200);
    let token = token.body["access_token"].as_str().unwrap().to_string();
    app.post(&token, "/api/v1/me/totp/disable", &json!({}))
        .await
        .assert_problem(422, "invalid_totp_code");
    app.post(
        &token,
        "/api/v1/me/totp/disable",
        &json!({"recovery_code": recovery[2]}),
    )
    .await
    .assert_status(204);
    app.post(
        &token,
        "/api/v1/me/totp/disable",
        &json!({"recovery_code": recovery[3]}),
    )
    .await
    .assert_problem(409, "totp_not_enabled");
    login(app, json!({})).await.assert_status(200);
    // Enabling and disabling are in the audit log.
    let events = app
        .get(&token, "/api/v1/audit-events?entity_type=account&limit=200")
        .await;
    events.assert_status(200);
    let actions: Vec<&str> = events
        .items()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"totp_enabled") && actions.contains(&"totp_disabled"));
});

both!(
    a_required_second_factor_gates_administrators,
    env = [("HAZREG_ADMIN_TOTP", "required")],
    |app| {
        let admin = app.admin().await;
        // Not enrolled: only /me, enrolment and sign-out.
        app.get(&admin, "/api/v1/enterprises")
            .await
            .assert_problem(403, "second_factor_required");
        app.get(&admin, "/api/v1/me").await.assert_status(200);
        let (secret, _) = enrol(app, &admin).await;
        // Confirming in this session passed the second factor: it is no longer gated.
        app.get(&admin, "/api/v1/enterprises")
            .await
            .assert_status(200);
        // A new session signs in with a code and is not gated either.
        app.advance(std::time::Duration::from_secs(60));
        let r = login(app, json!({"totp_code": code(&secret, now(app))})).await;
        r.assert_status(200);
        let token = r.body["access_token"].as_str().unwrap();
        app.get(token, "/api/v1/enterprises")
            .await
            .assert_status(200);
        // Two clients with the same code at once: one signs in, the other is refused.
        app.advance(std::time::Duration::from_secs(60));
        let same = code(&secret, now(app));
        let (a, b) = futures_util::future::join(
            login(app, json!({"totp_code": same})),
            login(app, json!({"totp_code": same})),
        )
        .await;
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 401],
            "a code works once, even at the same moment"
        );
        // Other roles are never gated.
        let (_, officer) = app
            .regulator(token, "officer-gate", "county_officer", "431302")
            .await;
        app.get(&officer, "/api/v1/hazards")
            .await
            .assert_status(200);
        // Another administrator who has not enrolled is gated.
        let (_, county_admin) = app
            .regulator(token, "county-admin-gate", "county_admin", "431302")
            .await;
        app.get(&county_admin, "/api/v1/hazards")
            .await
            .assert_problem(403, "second_factor_required");
    }
);

both!(
    an_administrator_resets_another_accounts_second_factor,
    |app| {
        let admin = app.admin().await;
        let (county_id, county) = app
            .regulator(&admin, "county-admin-reset", "county_admin", "431302")
            .await;
        let (_, officer) = app
            .regulator(&admin, "officer-reset", "county_officer", "431302")
            .await;
        let path = format!("/api/v1/accounts/{county_id}/totp/reset");
        app.post(&admin, &path, &json!({}))
            .await
            .assert_problem(409, "totp_not_enabled");
        enrol(app, &county).await;
        // Not by an officer, not on one's own account.
        app.post(&officer, &path, &json!({}))
            .await
            .assert_problem(403, "forbidden");
        let (admin_id, _) = (
            app.get(&admin, "/api/v1/me").await.body["id"]
                .as_i64()
                .unwrap(),
            (),
        );
        app.post(
            &admin,
            &format!("/api/v1/accounts/{admin_id}/totp/reset"),
            &json!({}),
        )
        .await
        .assert_problem(422, "validation_failed");
        app.post(&admin, &path, &json!({})).await.assert_status(204);
        // Its sessions ended; the password alone signs it in again.
        app.get(&county, "/api/v1/me")
            .await
            .assert_problem(401, "unauthorized");
        let r = app
            .send(app.client.post(app.url("/api/v1/auth/login")).json(
                &json!({"username": "county-admin-reset", "password": crate::support::PASSWORD}),
            ))
            .await;
        r.assert_status(200);
    }
);

//! Login, refresh rotation and reuse detection, logout, disabled accounts, throttling, JWT checks.

use serde_json::json;

use crate::support::{both, ADMIN_PASSWORD, PASSWORD};

both!(
    login_and_me,
    env = [("HAZREG_ACCESS_TOKEN_TTL_SECS", "900")],
    |app| {
        let r = app.login_raw("admin", ADMIN_PASSWORD).await;
        r.assert_status(200);
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["expires_in"], 900);
        assert!(r.body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 40));
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        let token = r.body["access_token"].as_str().unwrap().to_string();
        let me = app.get(&token, "/api/v1/me").await;
        me.assert_status(200);
        assert_eq!(me.body["username"], "admin");
        assert_eq!(me.body["role"], "city_admin");
        assert_eq!(me.body["jurisdiction"]["code"], "431300");
        assert_eq!(me.body["jurisdiction"]["name"], "娄底市");
        assert!(me.body.get("password_hash").is_none() && me.body.get("password").is_none());
        // Usernames are case-insensitive.
        app.login_raw("ADMIN", ADMIN_PASSWORD)
            .await
            .assert_status(200);
    }
);

both!(wrong_password_and_unknown_user_look_the_same, |app| {
    let a = app.login_raw("admin", "Wrong-Password-1").await;
    a.assert_problem(401, "invalid_credentials");
    let b = app.login_raw("nobody", "Wrong-Password-1").await;
    b.assert_problem(401, "invalid_credentials");
    assert_eq!(a.body["detail"], b.body["detail"]);
    app.post("", "/api/v1/auth/login", &json!({"username": "admin"}))
        .await
        .assert_problem(422, "invalid_body");
});

both!(refresh_rotates_and_reuse_revokes_the_session, |app| {
    let first = app.login_raw("admin", ADMIN_PASSWORD).await;
    let r1 = first.body["refresh_token"].as_str().unwrap().to_string();
    let second = app
        .post("", "/api/v1/auth/refresh", &json!({"refresh_token": r1}))
        .await;
    second.assert_status(200);
    let r2 = second.body["refresh_token"].as_str().unwrap().to_string();
    let access2 = second.body["access_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    app.get(&access2, "/api/v1/me").await.assert_status(200);

    // Reusing the spent token: 401, and the whole session ends.
    app.post("", "/api/v1/auth/refresh", &json!({"refresh_token": r1}))
        .await
        .assert_problem(401, "unauthorized");
    app.post("", "/api/v1/auth/refresh", &json!({"refresh_token": r2}))
        .await
        .assert_problem(401, "unauthorized");
    app.get(&access2, "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
    // Other sessions of the account are untouched.
    app.admin().await;
    app.post(
        "",
        "/api/v1/auth/refresh",
        &json!({"refresh_token": "made-up"}),
    )
    .await
    .assert_problem(401, "unauthorized");
});

both!(
    concurrent_refresh_with_one_token_has_at_most_one_winner,
    |app| {
        let first = app.login_raw("admin", ADMIN_PASSWORD).await;
        let r1 = first.body["refresh_token"].as_str().unwrap().to_string();
        let body = json!({"refresh_token": r1});
        let results = futures_util::future::join_all(
            (0..4).map(|_| app.post("", "/api/v1/auth/refresh", &body)),
        )
        .await;
        let ok = results.iter().filter(|r| r.status == 200).count();
        assert!(
            ok <= 1,
            "{:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert!(results.iter().all(|r| r.status == 200 || r.status == 401));
    }
);

both!(logout_ends_access_and_refresh_at_once, |app| {
    let login = app.login_raw("admin", ADMIN_PASSWORD).await;
    let access = login.body["access_token"].as_str().unwrap().to_string();
    let refresh = login.body["refresh_token"].as_str().unwrap().to_string();
    let other = app.login_raw("admin", ADMIN_PASSWORD).await;
    let other_refresh = other.body["refresh_token"].as_str().unwrap().to_string();
    let other_access = other.body["access_token"].as_str().unwrap().to_string();

    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/logout"))
                .bearer_auth(&access),
        )
        .await;
    assert_eq!(r.status, 204);
    app.get(&access, "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
    app.post(
        "",
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401, "unauthorized");
    // The other session lives on; logout with its refresh token in the body ends it too.
    app.get(&other_access, "/api/v1/me")
        .await
        .assert_status(200);
    let third = app.admin().await;
    app.post(
        &third,
        "/api/v1/auth/logout",
        &json!({"refresh_token": other_refresh}),
    )
    .await;
    app.get(&other_access, "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
    app.get(&third, "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
    app.post(&third, "/api/v1/auth/logout", &json!({"bogus": 1}))
        .await
        .assert_problem(401, "unauthorized");
});

both!(disabled_accounts_stop_at_once, |app| {
    let admin = app.admin().await;
    let (id, officer) = app
        .regulator(&admin, "lx.officer", "county_officer", "431302")
        .await;
    let login = app.login_raw("lx.officer", PASSWORD).await;
    let refresh = login.body["refresh_token"].as_str().unwrap().to_string();
    app.get(&officer, "/api/v1/me").await.assert_status(200);

    let r = app
        .patch_fresh(
            &admin,
            &format!("/api/v1/accounts/{id}"),
            &json!({"disabled": true}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["disabled"], true);
    app.get(&officer, "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
    app.post(
        "",
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401, "unauthorized");
    let denied = app.login_raw("lx.officer", PASSWORD).await;
    denied.assert_problem(401, "invalid_credentials");

    app.patch_fresh(
        &admin,
        &format!("/api/v1/accounts/{id}"),
        &json!({"disabled": false}),
    )
    .await
    .assert_status(200);
    app.login("lx.officer", PASSWORD).await;
});

both!(
    account_locks_after_five_failures,
    env = [("HAZREG_LOGIN_LOCKOUT_SECS", "2")],
    |app| {
        for _ in 0..5 {
            app.login_raw("admin", "Wrong-Password-1")
                .await
                .assert_problem(401, "invalid_credentials");
        }
        let locked = app.login_raw("admin", ADMIN_PASSWORD).await;
        locked.assert_problem(429, "too_many_requests");
        let retry: u64 = locked
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry), "{retry}");
        // Another account is not affected.
        app.login_raw("nobody", "Wrong-Password-1")
            .await
            .assert_problem(401, "invalid_credentials");
        // The lock ends with the server's clock (no real waiting).
        let later = chrono::Utc::now() + chrono::Duration::seconds(3);
        app.set_now(&later.to_rfc3339());
        app.login_raw("admin", ADMIN_PASSWORD)
            .await
            .assert_status(200);
        // A success resets the count: four more failures do not lock.
        for _ in 0..4 {
            app.login_raw("admin", "Wrong-Password-1")
                .await
                .assert_status(401);
        }
        app.login_raw("admin", ADMIN_PASSWORD)
            .await
            .assert_status(200);
    }
);

both!(
    client_address_is_throttled,
    env = [("HAZREG_LOGIN_ADDRESS_MAX_FAILURES_PER_MINUTE", "4")],
    |app| {
        for i in 0..4 {
            app.login_raw(&format!("user{i}"), "Wrong-Password-1")
                .await
                .assert_problem(401, "invalid_credentials");
        }
        let r = app.login_raw("admin", ADMIN_PASSWORD).await;
        r.assert_problem(429, "too_many_requests");
        let retry: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry));
    }
);

both!(tokens_are_checked_strictly, |app| {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let good = app.admin().await;
    let mut parts = good.split('.');
    let (_h, payload, _s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    let secret = EncodingKey::from_secret(b"test-secret-test-secret-test-secret-0123456789");
    let sign = |c: &serde_json::Value, alg: Algorithm, key: &EncodingKey| {
        encode(&Header::new(alg), c, key).unwrap()
    };
    // The genuine claims re-signed with the genuine key work (the harness is right) ...
    app.get(&sign(&claims, Algorithm::HS256, &secret), "/api/v1/me")
        .await
        .assert_status(200);
    // ... but another key, another algorithm, wrong audience/issuer, or expiry do not.
    let other = EncodingKey::from_secret(b"another-secret-another-secret-0123456789");
    app.get(&sign(&claims, Algorithm::HS256, &other), "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
    app.get(&sign(&claims, Algorithm::HS384, &secret), "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
    for (k, v) in [
        ("aud", json!("someone-else")),
        ("iss", json!("evil")),
        ("exp", json!(1_000_000_000)),
    ] {
        let mut c = claims.clone();
        c[k] = v;
        app.get(&sign(&c, Algorithm::HS256, &secret), "/api/v1/me")
            .await
            .assert_problem(401, "unauthorized");
    }
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    app.get(&unsigned, "/api/v1/me")
        .await
        .assert_problem(401, "unauthorized");
});

// A lock says nothing about which usernames exist: an unknown one locks after the same number
// of failures, with the same answers, and a lock set through one node holds on another.
both!(
    unknown_usernames_lock_like_known_ones,
    env = [("HAZREG_LOGIN_LOCKOUT_SECS", "60")],
    |app| {
        let answers = |username: &'static str| async move {
            let mut out = Vec::new();
            for _ in 0..6 {
                let r = app.login_raw(username, "Wrong-Password-1").await;
                out.push((
                    r.status,
                    r.code().to_string(),
                    r.header("retry-after").is_some(),
                ));
            }
            out
        };
        let known = answers("admin").await;
        let unknown = answers("no-such-user").await;
        assert_eq!(known, unknown);
        assert_eq!(known[4], (401, "invalid_credentials".to_string(), false));
        assert_eq!(known[5], (429, "too_many_requests".to_string(), true));
        // Shared through the database: a second server on the same database sees the lock.
        let other = app.start_again(&[]).await;
        let r = app
            .send(
                app.client
                    .post(format!("{other}/api/v1/auth/login"))
                    .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD})),
            )
            .await;
        r.assert_problem(429, "too_many_requests");
    }
);

both!(
    access_tokens_expire_on_the_servers_clock,
    env = [("HAZREG_ACCESS_TOKEN_TTL_SECS", "900")],
    |app| {
        let admin = app.admin().await;
        app.get(&admin, "/api/v1/me").await.assert_status(200);
        // The default lifetime is 15 minutes (plus 5 s of leeway): just inside it still works,
        // past it the same token is refused, with no real time passing.
        app.advance(std::time::Duration::from_secs(15 * 60));
        app.get(&admin, "/api/v1/me").await.assert_status(200);
        app.advance(std::time::Duration::from_secs(10));
        app.get(&admin, "/api/v1/me")
            .await
            .assert_problem(401, "unauthorized");
    }
);

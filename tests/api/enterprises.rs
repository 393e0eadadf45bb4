//! Enterprises (一企一档): fields, USCC rules, computed safety-director status, filters,
//! pagination, self-service by the enterprise account.

use serde_json::json;

use crate::support::{both, uscc, PASSWORD};

both!(full_record_round_trips_with_computed_fields, |app| {
    let admin = app.admin().await;
    let body = json!({
        "uscc": " ９１４３１３０２ｐｍｙｃｊ７ｇ４２０ ",
        "name": "娄底市华达建材有限公司",
        "jurisdiction_code": "431302",
        "sector_code": "construction",
        "address": "娄星区长青街道 88 号",
        "legal_representative": "李华",
        "principal_name": "李华",
        "principal_phone": "0738-8321234",
        "employees": 120,
        "annual_revenue_10k_yuan": 1500.5,
        "risk_level": "orange",
        "standardization_grade": "三级"
    });
    let r = app.post(&admin, "/api/v1/enterprises", &body).await;
    r.assert_status(201);
    assert_eq!(r.body["uscc"], "91431302PMYCJ7G420");
    assert_eq!(r.body["status"], "operating");
    assert_eq!(r.body["above_scale"], true);
    assert_eq!(r.body["safety_director_required"], true);
    assert_eq!(r.body["safety_director_status"], "missing");
    assert_eq!(r.body["risk_level"], "orange");
    assert_eq!(r.body["annual_revenue_10k_yuan"], 1500.5);
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
    let path = r.header("location").unwrap();

    let director = json!({"name": "王建国", "phone": "13807381234", "appointed_on": "2026-03-01"});
    let r = app
        .patch_fresh(&admin, &path, &json!({"safety_director": director}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["safety_director"], director);
    assert_eq!(r.body["safety_director_status"], "appointed");
    // Merge-patch semantics: a partial nested object changes only that part; null clears.
    let r = app
        .patch_fresh(
            &admin,
            &path,
            &json!({"safety_director": {"phone": "13900000000"}, "risk_level": null}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["safety_director"]["name"], "王建国");
    assert_eq!(r.body["safety_director"]["phone"], "13900000000");
    assert!(r.body["risk_level"].is_null());
    // No delete: closing is a status.
    let r = app
        .patch_fresh(&admin, &path, &json!({"status": "closed"}))
        .await;
    assert_eq!(r.body["status"], "closed");
    let r = app
        .send(app.client.delete(app.url(&path)).bearer_auth(&admin))
        .await;
    r.assert_problem(405, "method_not_allowed");
});

both!(safety_director_rule_at_the_thresholds, |app| {
    let admin = app.admin().await;
    let cases = [
        (1, "construction", 99, 1999.99, false, false, "not_required"),
        (2, "construction", 100, 0.0, true, true, "missing"),
        (3, "construction", 0, 2000.0, true, true, "missing"),
        (
            4,
            "industry_trade",
            500,
            9000.0,
            true,
            false,
            "not_required",
        ),
        (5, "hazardous_chemicals", 10, 2500.0, true, true, "missing"),
    ];
    for (n, sector, employees, revenue, above, required, status) in cases {
        let mut body = enterprise_body(&uscc(n), "431302", sector);
        body["employees"] = json!(employees);
        body["annual_revenue_10k_yuan"] = json!(revenue);
        let r = app.post(&admin, "/api/v1/enterprises", &body).await;
        r.assert_status(201);
        assert_eq!(r.body["above_scale"], above, "case {n}");
        assert_eq!(r.body["safety_director_required"], required, "case {n}");
        assert_eq!(r.body["safety_director_status"], status, "case {n}");
    }
    let mut body = enterprise_body(&uscc(6), "431302", "construction");
    body["employees"] = json!(300);
    body["safety_director"] = json!({"name": "赵六"});
    app.post(&admin, "/api/v1/enterprises", &body)
        .await
        .assert_status(201);
    let ids = |r: crate::support::Resp| -> Vec<String> {
        r.items()
            .iter()
            .map(|e| e["uscc"].as_str().unwrap().to_string())
            .collect()
    };
    let missing = ids(app
        .get(&admin, "/api/v1/enterprises?safety_director_status=missing")
        .await);
    assert_eq!(missing, vec![uscc(2), uscc(3), uscc(5)]);
    let not_required = ids(app
        .get(
            &admin,
            "/api/v1/enterprises?safety_director_status=not_required",
        )
        .await);
    assert_eq!(not_required, vec![uscc(1), uscc(4)]);
    let appointed = ids(app
        .get(
            &admin,
            "/api/v1/enterprises?safety_director_status=appointed",
        )
        .await);
    assert_eq!(appointed, vec![uscc(6)]);
});

both!(uscc_vectors_and_duplicates, |app| {
    let admin = app.admin().await;
    for (i, valid) in [
        "914313009B2YGXAG2A",
        "91431302PMYCJ7G420",
        "12440300MB2C92173E",
    ]
    .iter()
    .enumerate()
    {
        let r = app
            .post(
                &admin,
                "/api/v1/enterprises",
                &enterprise_body(valid, "431302", "other"),
            )
            .await;
        assert_eq!(r.status, 201, "{valid} (#{i}): {:?}", r.body);
    }
    for invalid in [
        "914313009B2YGXAG20",
        "O14313009B2YGXAG2A",
        "12440300MB2C92173A",
        "91431302PMYCJ7G42",
        "",
    ] {
        let r = app
            .post(
                &admin,
                "/api/v1/enterprises",
                &enterprise_body(invalid, "431302", "other"),
            )
            .await;
        r.assert_problem(422, "invalid_uscc");
        assert_eq!(r.body["errors"][0]["pointer"], "/uscc", "{invalid}");
    }
    let r = app
        .post(
            &admin,
            "/api/v1/enterprises",
            &enterprise_body("914313009b2ygxag2a", "431321", "other"),
        )
        .await;
    r.assert_problem(409, "duplicate_uscc");
    assert_eq!(
        app.get(&admin, "/api/v1/enterprises").await.items().len(),
        3
    );
    // Changing a USCC to one already registered is a conflict too.
    let id = app.get(&admin, "/api/v1/enterprises").await.items()[0]["id"]
        .as_i64()
        .unwrap();
    let r = app
        .patch_fresh(
            &admin,
            &format!("/api/v1/enterprises/{id}"),
            &json!({"uscc": "12440300MB2C92173E"}),
        )
        .await;
    r.assert_problem(409, "duplicate_uscc");
});

both!(all_field_errors_come_at_once, |app| {
    let admin = app.admin().await;
    let body = json!({
        "uscc": uscc(1), "name": "  ", "jurisdiction_code": "431302", "sector_code": "nope",
        "employees": -1, "annual_revenue_10k_yuan": -5.0, "principal_phone": "call me"
    });
    let r = app.post(&admin, "/api/v1/enterprises", &body).await;
    r.assert_problem(422, "validation_failed");
    let mut pointers: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        vec![
            "/annual_revenue_10k_yuan",
            "/employees",
            "/name",
            "/principal_phone",
            "/sector_code"
        ]
    );
    let r = app
        .post(
            &admin,
            "/api/v1/enterprises",
            &enterprise_body(&uscc(1), "000000", "other"),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/jurisdiction_code");
    assert!(app
        .get(&admin, "/api/v1/enterprises")
        .await
        .items()
        .is_empty());
});

both!(filters, |app| {
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for (n, j, sector, risk, status, name) in [
        (1, "431300", "gas", "red", "operating", "市燃气集团"),
        (2, "431302", "construction", "blue", "operating", "娄星建工"),
        (3, "431302", "gas", "red", "suspended", "娄星燃气站"),
        (4, "431321", "other", "yellow", "closed", "双峰百货"),
    ] {
        let mut body = enterprise_body(&uscc(n), j, sector);
        body["risk_level"] = json!(risk);
        body["status"] = json!(status);
        body["name"] = json!(name);
        ids.push(app.post(&admin, "/api/v1/enterprises", &body).await.id());
    }
    let found = |q: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app.get(&admin, &format!("/api/v1/enterprises?{q}")).await;
            r.assert_status(200);
            r.items()
                .iter()
                .map(|e| e["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("jurisdiction_code=431300").await, ids.clone());
    assert_eq!(
        found("jurisdiction_code=431302").await,
        vec![ids[1], ids[2]]
    );
    assert_eq!(found("sector_code=gas").await, vec![ids[0], ids[2]]);
    assert_eq!(found("risk_level=red").await, vec![ids[0], ids[2]]);
    assert_eq!(found("status=closed").await, vec![ids[3]]);
    assert_eq!(found("q=燃气").await, vec![ids[0], ids[2]]);
    let code_part = uscc(3)[13..].to_lowercase();
    let q = format!("q={code_part}");
    let r = app.get(&admin, &format!("/api/v1/enterprises?{q}")).await;
    assert_eq!(
        r.items()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![ids[2]]
    );
    assert_eq!(found("q=%25").await, Vec::<i64>::new());
    assert_eq!(
        found("jurisdiction_code=431302&sector_code=gas&risk_level=red").await,
        vec![ids[2]]
    );
    let r = app
        .get(&admin, "/api/v1/enterprises?jurisdiction_code=999")
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/jurisdiction_code");

    let before = app.advance(std::time::Duration::from_millis(20));
    app.patch_fresh(
        &admin,
        &format!("/api/v1/enterprises/{}", ids[3]),
        &json!({"employees": 11}),
    )
    .await
    .assert_status(200);
    let r = app
        .get(
            &admin,
            &format!(
                "/api/v1/enterprises?updated_since={}",
                before.replace('+', "%2B")
            ),
        )
        .await;
    assert_eq!(
        r.items()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![ids[3]]
    );
});

both!(
    pagination_neither_skips_nor_repeats_while_rows_are_added,
    |app| {
        let admin = app.admin().await;
        for n in 0..7 {
            app.enterprise(&admin, &uscc(n), "431302", "other").await;
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut added = 100;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/enterprises?limit=3&cursor={c}"),
                None => "/api/v1/enterprises?limit=3".to_string(),
            };
            let r = app.get(&admin, &path).await;
            r.assert_status(200);
            assert!(r.items().len() <= 3);
            seen.extend(r.items().iter().map(|e| e["id"].as_i64().unwrap()));
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            // Rows arrive while the client pages.
            if added < 104 {
                app.enterprise(&admin, &uscc(added), "431321", "other")
                    .await;
                added += 1;
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "repeated rows: {seen:?}");
        let all: Vec<i64> = app
            .get(&admin, "/api/v1/enterprises?limit=200")
            .await
            .items()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect();
        assert_eq!(added, 102, "rows were added while paging");
        assert_eq!(seen, all, "every row, including those added meanwhile");
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
    }
);

both!(enterprise_account_self_service, |app| {
    let admin = app.admin().await;
    let own = app
        .enterprise(&admin, &uscc(1), "431302", "construction")
        .await;
    let other = app
        .enterprise(&admin, &uscc(2), "431302", "construction")
        .await;
    let (_, ent) = app
        .account(
            &admin,
            "ent.user",
            "enterprise",
            json!({"enterprise_id": own}),
        )
        .await;
    let path = format!("/api/v1/enterprises/{own}");
    let list = app.get(&ent, "/api/v1/enterprises").await;
    assert_eq!(list.items().len(), 1);
    app.get(&ent, &format!("/api/v1/enterprises/{other}"))
        .await
        .assert_problem(404, "not_found");

    let r = app
        .patch_fresh(
            &ent,
            &path,
            &json!({
                "employees": 150, "annual_revenue_10k_yuan": 2100.0, "principal_name": "新负责人",
                "principal_phone": "13700000000", "safety_director": {"name": "安全总监甲"}
            }),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["safety_director_status"], "appointed");
    for field in [
        json!({"name": "改名"}),
        json!({"jurisdiction_code": "431321"}),
        json!({"status": "closed"}),
        json!({"risk_level": "blue"}),
    ] {
        let r = app.patch_fresh(&ent, &path, &field).await;
        r.assert_problem(403, "field_not_allowed");
    }
    // Sending unchanged values of other fields back is fine.
    let current = app.get(&ent, &path).await;
    let r = app
        .patch(
            &ent,
            &path,
            Some(&current.etag()),
            &json!({"name": current.body["name"], "employees": 151}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        app.get(&admin, &path).await.body["name"],
        current.body["name"]
    );
    app.post(
        &ent,
        "/api/v1/enterprises",
        &enterprise_body(&uscc(3), "431302", "other"),
    )
    .await
    .assert_problem(403, "forbidden");
    let _ = PASSWORD;
});

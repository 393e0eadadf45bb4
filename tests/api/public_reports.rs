//! Public reports (举报, SPEC §9): sent without an account, followed with a tracking code and
//! its secret, triaged / transferred / converted / dismissed / verified by regulators in scope,
//! with the reward rule; the reporter's contact never reaches an enterprise, an export, the
//! feed or the audit log; abuse (rate limit, oversized and bad input, wrong secrets, captcha)
//! is refused and changes nothing.

use std::io::{Read, Write};
use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::support::*;

const PHONE: &str = "13912345678";
const NAME: &str = "举报人张三";

fn report(jurisdiction: &str) -> Value {
    json!({
        "description": "储罐区可燃气体报警器被人为关闭，已持续一周",
        "jurisdiction_code": jurisdiction,
        "location": "万宝镇工业园 3 号路",
        "enterprise_name": "某化工有限公司",
        "contact_name": NAME,
        "contact_phone": PHONE,
    })
}

/// Sends a report from a client address (the test servers trust `X-Forwarded-For`).
async fn send(app: &TestApp, from: &str, body: &Value) -> Resp {
    app.send(
        app.client
            .post(app.url("/api/v1/public/reports"))
            .header("x-forwarded-for", from)
            .json(body),
    )
    .await
}

async fn send_form(app: &TestApp, from: &str, form: reqwest::multipart::Form) -> Resp {
    app.send(
        app.client
            .post(app.url("/api/v1/public/reports"))
            .header("x-forwarded-for", from)
            .multipart(form),
    )
    .await
}

async fn track(app: &TestApp, from: &str, code: &str, secret: Option<&str>) -> Resp {
    let mut req = app
        .client
        .get(app.url(&format!("/api/v1/public/reports/{code}")))
        .header("x-forwarded-for", from);
    if let Some(s) = secret {
        req = req.header("x-tracking-secret", s);
    }
    app.send(req).await
}

/// A handling step with the report's current ETag.
async fn handle(app: &TestApp, token: &str, id: i64, step: &str, body: Value) -> Resp {
    let etag = app
        .get(token, &format!("/api/v1/public-reports/{id}"))
        .await
        .etag();
    app.send(
        app.client
            .post(app.url(&format!("/api/v1/public-reports/{id}/{step}")))
            .bearer_auth(token)
            .header("if-match", etag)
            .json(&body),
    )
    .await
}

fn photo_part(bytes: Vec<u8>) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes).file_name("p.png")
}

fn convert_body(enterprise: i64) -> Value {
    json!({
        "hazard": {"enterprise_id": enterprise, "title": "可燃气体报警器被关闭",
                   "description": "储罐区 3 台报警器被人为关闭", "level": "general",
                   "discovered_on": "2026-12-07"},
        "reply": "已立案，正在督促整改"
    })
}

both!(
    public_reports_are_followed_handled_converted_and_kept_confidential,
    env = [("HAZREG_TRUST_FORWARDED_FOR", "true")],
    |app| {
        app.set_now("2026-12-07T04:00:00Z");
        let admin = app.admin().await;
        let e1 = app
            .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
            .await;
        let (_, lx_admin) = app
            .regulator(&admin, "lx.admin", "county_admin", "431302")
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

        // Sent as JSON, and as a form with two photos.
        let r = send(app, "203.0.113.1", &report("431302")).await;
        r.assert_status(201);
        assert_eq!(r.body["status"], "received");
        let code = r.body["tracking_code"].as_str().unwrap().to_string();
        let secret = r.body["secret"].as_str().unwrap().to_string();
        assert_eq!(
            r.header("location").as_deref(),
            Some(format!("/api/v1/public/reports/{code}").as_str())
        );
        let form = reqwest::multipart::Form::new()
            .text("report", report("431302").to_string())
            .part("photo", photo_part(png()))
            .part("photo", photo_part(png()));
        let r = send_form(app, "203.0.113.2", form).await;
        r.assert_status(201);
        let code2 = r.body["tracking_code"].as_str().unwrap().to_string();
        let secret2 = r.body["secret"].as_str().unwrap().to_string();
        assert_ne!(code, code2);

        // Following it: only with its own secret.
        let t = track(app, "203.0.113.1", &code, Some(&secret)).await;
        t.assert_status(200);
        assert_eq!(t.body["status"], "received");
        assert_eq!(t.body["reply"], Value::Null);
        for (c, s) in [
            (code.as_str(), Some(secret2.as_str())),
            (code.as_str(), None),
            (code.as_str(), Some("")),
            ("JB-2222222222", Some(secret.as_str())),
            ("not-a-code", Some(secret.as_str())),
        ] {
            track(app, "203.0.113.9", c, s)
                .await
                .assert_problem(404, "not_found");
        }

        // Who sees what.
        let r = app.get(&lx_admin, "/api/v1/public-reports").await;
        r.assert_status(200);
        assert_eq!(r.items().len(), 2);
        let first = r.items()[0].clone();
        let id = first["id"].as_i64().unwrap();
        let id2 = r.items()[1]["id"].as_i64().unwrap();
        assert_eq!(first["contact"], json!({"name": NAME, "phone": PHONE}));
        assert_eq!(first["contact_withheld"], false);
        assert_eq!(r.items()[1]["photos"].as_array().unwrap().len(), 2);
        for token in [&lx, &auditor] {
            let r = app
                .get(token, &format!("/api/v1/public-reports/{id}"))
                .await;
            r.assert_status(200);
            assert_eq!(r.body["contact"], Value::Null);
            assert_eq!(r.body["contact_withheld"], true);
            assert!(!r.raw.windows(PHONE.len()).any(|w| w == PHONE.as_bytes()));
        }
        assert!(app
            .get(&sf, "/api/v1/public-reports")
            .await
            .items()
            .is_empty());
        app.get(&sf, &format!("/api/v1/public-reports/{id}"))
            .await
            .assert_problem(404, "not_found");
        app.get(&ent1, "/api/v1/public-reports")
            .await
            .assert_problem(404, "not_found");
        app.get(&ent1, &format!("/api/v1/public-reports/{id}"))
            .await
            .assert_problem(404, "not_found");
        let r = app
            .get(
                &lx_admin,
                "/api/v1/public-reports?status=received&jurisdiction_code=431302",
            )
            .await;
        assert_eq!(r.items().len(), 2);
        assert!(app
            .get(&admin, "/api/v1/public-reports?status=accepted")
            .await
            .items()
            .is_empty());
        // The photos, to those who see the report.
        let photo = app
            .get(&lx, &format!("/api/v1/public-reports/{id2}"))
            .await
            .body["photos"][0]["id"]
            .as_i64()
            .unwrap();
        let r = app
            .get(&lx, &format!("/api/v1/public-reports/{id2}/photos/{photo}"))
            .await;
        r.assert_status(200);
        assert_eq!(r.raw, png());
        assert_eq!(r.header("content-type").as_deref(), Some("image/png"));
        app.get(&sf, &format!("/api/v1/public-reports/{id2}/photos/{photo}"))
            .await
            .assert_problem(404, "not_found");
        app.get(&lx, &format!("/api/v1/public-reports/{id}/photos/{photo}"))
            .await
            .assert_problem(404, "not_found");

        // Handling: If-Match, roles, statuses.
        let r = app
            .post(
                &lx,
                &format!("/api/v1/public-reports/{id}/triage"),
                &json!({"decision": "accept"}),
            )
            .await;
        r.assert_problem(428, "if_match_required");
        let r = app
            .send(
                app.client
                    .post(app.url(&format!("/api/v1/public-reports/{id}/triage")))
                    .bearer_auth(&lx)
                    .header("if-match", "\"99\"")
                    .json(&json!({"decision": "accept"})),
            )
            .await;
        r.assert_problem(412, "stale_etag");
        handle(app, &auditor, id, "triage", json!({"decision": "accept"}))
            .await
            .assert_problem(403, "forbidden");
        app.post(
            &ent1,
            &format!("/api/v1/public-reports/{id}/triage"),
            &json!({"decision": "accept"}),
        )
        .await
        .assert_problem(404, "not_found");
        app.post(
            &sf,
            &format!("/api/v1/public-reports/{id}/triage"),
            &json!({"decision": "accept"}),
        )
        .await
        .assert_problem(404, "not_found");
        handle(
            app,
            &lx,
            id,
            "verify",
            json!({"outcome": "substantiated", "note": "属实"}),
        )
        .await
        .assert_problem(409, "invalid_transition");
        handle(
            app,
            &lx,
            id,
            "triage",
            json!({"decision": "accept", "reply": "x".repeat(2001)}),
        )
        .await
        .assert_problem(422, "validation_failed");
        let r = handle(
            app,
            &lx,
            id,
            "triage",
            json!({"decision": "accept", "reply": "已受理"}),
        )
        .await;
        r.assert_status(200);
        assert_eq!(r.body["status"], "accepted");
        assert!(r.header("etag").is_some());
        handle(app, &lx, id, "triage", json!({"decision": "accept"}))
            .await
            .assert_problem(409, "invalid_transition");
        let t = track(app, "203.0.113.1", &code, Some(&secret)).await;
        assert_eq!(
            (t.body["status"].as_str(), t.body["reply"].as_str()),
            (Some("accepted"), Some("已受理"))
        );

        // Converted into a hazard, linked both ways.
        let mut wrong = convert_body(e1);
        wrong["hazard"]["source"] = json!("self_inspection");
        handle(app, &lx, id, "convert", wrong)
            .await
            .assert_problem(422, "validation_failed");
        let mut far = convert_body(e1);
        far["hazard"]["enterprise_id"] = json!(999_999);
        handle(app, &lx, id, "convert", far)
            .await
            .assert_problem(404, "not_found");
        assert!(
            app.get(&admin, "/api/v1/hazards").await.items().is_empty(),
            "nothing recorded"
        );
        let r = handle(app, &lx, id, "convert", convert_body(e1)).await;
        r.assert_status(200);
        assert_eq!(r.body["status"], "converted");
        assert_eq!(r.body["enterprise_id"], e1);
        let hazard = r.body["hazard_id"].as_i64().unwrap();
        let h = app.get(&ent1, &format!("/api/v1/hazards/{hazard}")).await;
        h.assert_status(200);
        assert_eq!(h.body["source"], "public_report");
        assert_eq!(h.body["public_report_id"], id);
        let r = app
            .get(&admin, "/api/v1/hazards?source=public_report")
            .await;
        assert_eq!(r.items().len(), 1);

        // Verified: the reward rule (15 % of the fine, 3,000 to 300,000).
        handle(
            app,
            &lx,
            id,
            "verify",
            json!({"outcome": "unsubstantiated", "note": "不属实", "fine_yuan": 10}),
        )
        .await
        .assert_problem(422, "validation_failed");
        handle(
            app,
            &lx,
            id,
            "verify",
            json!({"outcome": "substantiated", "note": "属实", "fine_yuan": -1}),
        )
        .await
        .assert_problem(422, "validation_failed");
        let r = handle(
            app,
            &lx_admin,
            id,
            "verify",
            json!({"outcome": "substantiated", "note": "报警器被人为关闭", "fine_yuan": 50000, "reply": "经核查属实，感谢您的举报"}),
        )
        .await;
        r.assert_status(200);
        assert_eq!(r.body["status"], "verified");
        assert_eq!(
            (r.body["fine_yuan"].as_i64(), r.body["reward_yuan"].as_i64()),
            (Some(50000), Some(7500))
        );
        handle(app, &lx, id, "dismiss", json!({"reason": "x"}))
            .await
            .assert_problem(409, "invalid_transition");

        // The second report: transferred to 双峰县, where it is dismissed.
        handle(
            app,
            &lx,
            id2,
            "triage",
            json!({"decision": "transfer", "jurisdiction_code": "431300"}),
        )
        .await
        .assert_problem(422, "validation_failed");
        handle(app, &lx, id2, "triage", json!({"decision": "transfer"}))
            .await
            .assert_problem(422, "validation_failed");
        let r = handle(
            app,
            &lx,
            id2,
            "triage",
            json!({"decision": "transfer", "jurisdiction_code": "431321", "reply": "已转双峰县"}),
        )
        .await;
        r.assert_status(200);
        assert_eq!(
            (r.body["status"].as_str(), r.body["county_code"].as_str()),
            (Some("received"), Some("431321"))
        );
        app.get(&lx, &format!("/api/v1/public-reports/{id2}"))
            .await
            .assert_problem(404, "not_found");
        handle(app, &sf, id2, "dismiss", json!({"reason": "  "}))
            .await
            .assert_problem(422, "validation_failed");
        let r = handle(
            app,
            &sf,
            id2,
            "dismiss",
            json!({"reason": "该企业已关闭", "reply": "经核查，该企业已关闭"}),
        )
        .await;
        r.assert_status(200);
        assert_eq!(r.body["status"], "dismissed");
        let t = track(app, "203.0.113.2", &code2, Some(&secret2)).await;
        assert_eq!(t.body["status"], "dismissed");
        assert_eq!(t.body["reply"], "经核查，该企业已关闭");

        // The reporter's identity never reaches the enterprise, an export, the feed or the log.
        let mut seen_by_enterprise = Vec::new();
        for path in [
            format!("/api/v1/hazards/{hazard}"),
            "/api/v1/hazards".to_string(),
            format!("/api/v1/hazards/{hazard}/timeline"),
            "/api/v1/events?limit=200".to_string(),
            "/api/v1/hazards/export?format=csv".to_string(),
        ] {
            let r = app.get(&ent1, &path).await;
            r.assert_status(200);
            seen_by_enterprise.push((path, r.raw));
        }
        for path in [
            "/api/v1/events?limit=200",
            "/api/v1/hazards/export?format=csv",
        ] {
            let r = app.get(&admin, path).await;
            r.assert_status(200);
            seen_by_enterprise.push((format!("admin {path}"), r.raw));
        }
        let r = app.get(&auditor, "/api/v1/audit-events?limit=200").await;
        r.assert_status(200);
        assert!(r
            .items()
            .iter()
            .any(|e| e["entity_type"] == "public_report"));
        seen_by_enterprise.push(("audit".into(), r.raw));
        for (path, raw) in &seen_by_enterprise {
            let text = String::from_utf8_lossy(raw);
            assert!(!text.contains(PHONE), "{path} shows the reporter's phone");
            assert!(!text.contains(NAME), "{path} shows the reporter's name");
        }
    }
);

/// A siteverify endpoint for the captcha hook: `success` for the token `good`.
fn captcha_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/siteverify", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                // Read the headers and the small form body.
                loop {
                    let n = s.read(&mut buf).unwrap_or(0);
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if n == 0 || (text.contains("\r\n\r\n") && text.contains("response=")) {
                        break;
                    }
                }
                let text = String::from_utf8_lossy(&got).to_string();
                let ok = text.contains("response=good") && text.contains("secret=s3cret");
                let body = format!("{{\"success\": {ok}}}");
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                    body.len(),
                    body
                );
            }
        });
        url
    })
    .clone()
}

both!(
    public_report_abuse_is_refused_and_changes_nothing,
    env = [
        ("HAZREG_TRUST_FORWARDED_FOR", "true"),
        ("HAZREG_PUBLIC_REPORT_RATE_PER_HOUR", "3"),
        ("HAZREG_PUBLIC_REPORT_MAX_PHOTOS", "1"),
        ("HAZREG_PUBLIC_REPORT_PHOTO_MAX_BYTES", "2000"),
        ("HAZREG_LOGIN_ADDRESS_MAX_FAILURES_PER_MINUTE", "3"),
    ],
    |app| {
        let admin = app.admin().await;
        // Bad input, each from its own address: a clear problem, nothing recorded.
        let mut n = 0;
        let mut from = || {
            n += 1;
            format!("198.51.100.{n}")
        };
        let bad = |mut body: Value, key: &str, value: Value| {
            body[key] = value;
            body
        };
        for (body, status, code) in [
            (
                bad(report("431302"), "description", json!("")),
                422,
                "validation_failed",
            ),
            (
                bad(report("431302"), "description", json!("a\u{0}b")),
                400,
                "",
            ),
            (
                bad(report("431302"), "description", json!("长".repeat(5001))),
                422,
                "validation_failed",
            ),
            (
                bad(report("431302"), "jurisdiction_code", json!("431300")),
                422,
                "validation_failed",
            ),
            (
                bad(report("431302"), "jurisdiction_code", json!("999999")),
                422,
                "validation_failed",
            ),
            (
                bad(report("431302"), "contact_phone", json!("call me")),
                422,
                "validation_failed",
            ),
            (
                bad(report("431302"), "status", json!("verified")),
                422,
                "invalid_body",
            ),
            (
                bad(report("431302"), "description", json!(7)),
                422,
                "invalid_body",
            ),
        ] {
            let r = send(app, &from(), &body).await;
            if code.is_empty() {
                r.assert_status_in(&[status, 422]);
            } else {
                r.assert_problem(status, code);
            }
        }
        let huge = json!({"description": "x".repeat(1_100_000), "jurisdiction_code": "431302"});
        send(app, &from(), &huge)
            .await
            .assert_problem(413, "payload_too_large");
        let r = app
            .send(
                app.client
                    .post(app.url("/api/v1/public/reports"))
                    .header("x-forwarded-for", from())
                    .header("content-type", "application/json")
                    .body("{not json"),
            )
            .await;
        r.assert_problem(400, "malformed_json");
        let r = app
            .send(
                app.client
                    .post(app.url("/api/v1/public/reports"))
                    .header("x-forwarded-for", from())
                    .header("content-type", "text/plain")
                    .body("举报"),
            )
            .await;
        r.assert_problem(415, "unsupported_media_type");
        // Photos: too many, too large, not an image; a form without its report.
        let form = reqwest::multipart::Form::new()
            .text("report", report("431302").to_string())
            .part("photo", photo_part(png()))
            .part("photo", photo_part(png()));
        send_form(app, &from(), form)
            .await
            .assert_problem(422, "validation_failed");
        let mut big = png();
        big.resize(5000, 0);
        let form = reqwest::multipart::Form::new()
            .text("report", report("431302").to_string())
            .part("photo", photo_part(big));
        send_form(app, &from(), form)
            .await
            .assert_problem(413, "payload_too_large");
        let form = reqwest::multipart::Form::new()
            .text("report", report("431302").to_string())
            .part("photo", photo_part(b"%PDF-1.7 not a photo".to_vec()));
        send_form(app, &from(), form)
            .await
            .assert_problem(415, "unsupported_media_type");
        let form = reqwest::multipart::Form::new().part("photo", photo_part(png()));
        send_form(app, &from(), form)
            .await
            .assert_problem(422, "validation_failed");
        let form = reqwest::multipart::Form::new()
            .text("report", report("431302").to_string())
            .text("extra", "1");
        send_form(app, &from(), form)
            .await
            .assert_problem(422, "validation_failed");
        let r = app.get(&admin, "/api/v1/public-reports").await;
        assert!(r.items().is_empty(), "no refused report was recorded");

        // The rate limit: three attempts an hour from one address, refused ones included.
        let one = "192.0.2.50";
        send(app, one, &bad(report("431302"), "description", json!("")))
            .await
            .assert_status(422);
        send(app, one, &report("431302")).await.assert_status(201);
        let r = send(app, one, &report("431302")).await;
        r.assert_status(201);
        let (code, secret) = (
            r.body["tracking_code"].as_str().unwrap().to_string(),
            r.body["secret"].as_str().unwrap().to_string(),
        );
        let r = send(app, one, &report("431302")).await;
        r.assert_problem(429, "too_many_requests");
        assert!(r
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n > 0 && n <= 3600)));
        send(app, "192.0.2.51", &report("431302"))
            .await
            .assert_status(201);
        // An hour later the address may send again.
        app.advance(std::time::Duration::from_secs(3601));
        send(app, one, &report("431302")).await.assert_status(201);
        let admin = app.admin().await;
        assert_eq!(
            app.get(&admin, "/api/v1/public-reports")
                .await
                .items()
                .len(),
            4
        );

        // Guessing secrets: 404 each time, then 429 for the address.
        let guesser = "192.0.2.77";
        for _ in 0..3 {
            track(app, guesser, &code, Some("guess"))
                .await
                .assert_problem(404, "not_found");
        }
        track(app, guesser, &code, Some(&secret))
            .await
            .assert_problem(429, "too_many_requests");
        track(app, "192.0.2.78", &code, Some(&secret))
            .await
            .assert_status(200);
    }
);

both!(
    public_reports_pass_the_configured_captcha,
    env = [
        ("HAZREG_TRUST_FORWARDED_FOR", "true"),
        ("HAZREG_CAPTCHA_VERIFY_URL", captcha_url().as_str()),
        ("HAZREG_CAPTCHA_SECRET", "s3cret"),
    ],
    |app| {
        send(app, "203.0.113.10", &report("431302"))
            .await
            .assert_problem(422, "captcha_failed");
        let mut body = report("431302");
        body["captcha_token"] = json!("bad");
        send(app, "203.0.113.11", &body)
            .await
            .assert_problem(422, "captcha_failed");
        body["captcha_token"] = json!("good");
        send(app, "203.0.113.12", &body).await.assert_status(201);
        let admin = app.admin().await;
        assert_eq!(
            app.get(&admin, "/api/v1/public-reports")
                .await
                .items()
                .len(),
            1
        );
    }
);

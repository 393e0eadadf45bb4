//! Webhooks (SPEC §8) against a real HTTP receiver the test starts: Standard Webhooks
//! signatures checked by an implementation written here from the specification, retries after
//! a 500 and a timeout, the delivery log, redelivery, scope, disabling, and refused targets.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::support::{both, uscc, TestApp};

/// What the receiver got: the three Standard Webhooks headers and the body.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
}

/// How the receiver answers its next requests (then 200).
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    Status(u16),
    Stall(Duration),
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
    pub script: Arc<Mutex<VecDeque<Answer>>>,
    pub always: Arc<Mutex<Option<u16>>>,
}

async fn receive(req: HttpRequest, body: web::Bytes, r: web::Data<Receiver>) -> HttpResponse {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    r.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: body.to_vec(),
    });
    let next = r.script.lock().unwrap().pop_front();
    let always = *r.always.lock().unwrap();
    match (next, always) {
        (Some(Answer::Stall(d)), _) => {
            actix_web::rt::time::sleep(d).await;
            HttpResponse::Ok().finish()
        }
        (Some(Answer::Status(s)), _) | (None, Some(s)) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(s).unwrap())
                .body("receiver says no")
        }
        (None, None) => HttpResponse::Ok().body("ok"),
    }
}

impl Receiver {
    /// Starts a receiver on a free loopback port; answers its URL.
    pub fn start(&self) -> String {
        let me = self.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(me.clone()))
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        format!("http://127.0.0.1:{port}/hook")
    }

    pub fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    pub fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until the receiver has had `n` requests (10 s at most).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            if self.count() >= n {
                return self.all();
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the receiver got {} requests, not {n}", self.count());
    }
}

/// Verifies a delivery as the Standard Webhooks specification says, written here without the
/// server's library: HMAC-SHA256 over `id.timestamp.body` with the base64 key after `whsec_`,
/// compared with each `v1,` signature in the header.
pub fn verifies(secret: &str, r: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("base64 secret");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(r.id.as_bytes());
    mac.update(b".");
    mac.update(r.timestamp.as_bytes());
    mac.update(b".");
    mac.update(&r.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    r.signature
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}

async fn subscribe(app: &TestApp, token: &str, url: &str, types: Value) -> (i64, String) {
    let r = app
        .post(
            token,
            "/api/v1/webhooks",
            &json!({"url": url, "event_types": types}),
        )
        .await;
    r.assert_status(201);
    let secret = r.body["secret"].as_str().expect("secret").to_string();
    (r.id(), secret)
}

both!(
    deliveries_are_signed_retried_logged_and_scoped,
    env = [
        ("HAZREG_WEBHOOK_ALLOW_LOOPBACK", "true"),
        ("HAZREG_WEBHOOK_TIMEOUT_SECS", "1"),
        ("HAZREG_WEBHOOK_POLL_MS", "100"),
        ("HAZREG_WEBHOOK_DISABLE_AFTER", "3"),
    ],
    |app| {
        let admin = app.admin().await;
        let (_, officer) = app
            .regulator(&admin, "wh.officer", "county_officer", "431302")
            .await;
        let (_, auditor) = app
            .regulator(&admin, "wh.auditor", "auditor", "431300")
            .await;
        let (_, county_admin) = app
            .regulator(&admin, "wh.shuangfeng", "county_admin", "431321")
            .await;
        let receiver = Receiver::default();
        let url = receiver.start();

        // Who may subscribe, and which targets are refused (SSRF).
        for token in [&officer, &auditor] {
            app.post(token, "/api/v1/webhooks", &json!({"url": url}))
                .await
                .assert_problem(403, "forbidden");
        }
        for bad in [
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.8/hook",
            "https://192.168.1.20/hook",
            "https://[fd00:ec2::254]/",
            "https://100.100.100.200/",
            "ftp://127.0.0.1/hook",
            "https://user:pw@hooks.example.com/",
            "not a url",
        ] {
            let r = app
                .post(&admin, "/api/v1/webhooks", &json!({"url": bad}))
                .await;
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.body["errors"][0]["pointer"], "/url", "{bad}");
        }
        app.post(
            &admin,
            "/api/v1/webhooks",
            &json!({"url": url, "event_types": ["hazard.exploded"]}),
        )
        .await
        .assert_problem(422, "invalid_body");
        app.post(
            &admin,
            "/api/v1/webhooks",
            &json!({"url": url, "description": "a\u{0}b"}),
        )
        .await
        .assert_problem(422, "validation_failed");
        let r = app.get(&admin, "/api/v1/webhooks").await;
        assert!(r.items().is_empty(), "a refused subscription was stored");

        // Subscribe; the secret is shown once.
        let (hook, secret) = subscribe(app, &admin, &url, json!(["enterprise.created"])).await;
        assert!(secret.starts_with("whsec_"));
        let got = app.get(&admin, &format!("/api/v1/webhooks/{hook}")).await;
        got.assert_status(200);
        assert!(got.body.get("secret").is_none());
        // Someone else's subscription is not found, whatever the body says.
        app.get(&county_admin, &format!("/api/v1/webhooks/{hook}"))
            .await
            .assert_problem(404, "not_found");
        app.patch(
            &county_admin,
            &format!("/api/v1/webhooks/{hook}"),
            Some(&got.etag()),
            &json!({"url": "https://10.0.0.1/"}),
        )
        .await
        .assert_problem(404, "not_found");
        let r = app
            .send(
                app.client
                    .delete(app.url(&format!("/api/v1/webhooks/{hook}")))
                    .bearer_auth(&county_admin),
            )
            .await;
        r.assert_problem(404, "not_found");

        // A 500, then a timeout, then success: three attempts with one webhook-id.
        receiver
            .script
            .lock()
            .unwrap()
            .extend([Answer::Status(500), Answer::Stall(Duration::from_secs(3))]);
        let enterprise = app
            .enterprise(&admin, &uscc(8001), "431302", "industry_trade")
            .await;
        let first = receiver.wait_for(1).await;
        // The retry waits 5 s ±20 % on the server's clock; move it instead of sleeping.
        app.advance(Duration::from_secs(10));
        receiver.wait_for(2).await;
        app.advance(Duration::from_secs(60));
        let all = receiver.wait_for(3).await;
        assert_eq!(all.len(), 3);
        assert!(
            all.iter().all(|r| r.id == first[0].id),
            "one webhook-id for every retry"
        );
        for r in &all {
            assert!(verifies(&secret, r), "signature does not verify: {r:?}");
            let tampered = Received {
                body: b"{}".to_vec(),
                ..r.clone()
            };
            assert!(!verifies(&secret, &tampered));
        }
        let event: Value = serde_json::from_slice(&all[0].body).unwrap();
        assert_eq!(event["type"], "enterprise.created");
        assert_eq!(event["id"], all[0].id.as_str());
        assert_eq!(
            event["subject"],
            json!({"type": "enterprise", "id": enterprise})
        );
        assert_eq!(event["data"]["id"], enterprise);

        // The delivery log.
        let mut log = Vec::new();
        for _ in 0..100 {
            let r = app
                .get(&admin, &format!("/api/v1/webhooks/{hook}/deliveries"))
                .await;
            r.assert_status(200);
            log = r.items().clone();
            if log.len() == 3 {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(log.len(), 3, "{log:#?}");
        assert_eq!(
            log.iter()
                .map(|a| a["attempt"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(log[0]["status_code"], 500);
        assert_eq!(log[0]["error"], "HTTP 500");
        assert_eq!(log[0]["response_excerpt"], "receiver says no");
        assert!(log[1]["status_code"].is_null());
        assert!(
            log[1]["error"]
                .as_str()
                .unwrap_or_default()
                .contains("no answer"),
            "{:?}",
            log[1]
        );
        assert_eq!(log[2]["status_code"], 200);
        assert!(log[2]["error"].is_null());
        assert_eq!(log[0]["event_id"], all[0].id.as_str());

        // Redelivery sends the same event again under the same id.
        let delivery = log[2]["delivery_id"].as_i64().unwrap();
        app.post(
            &admin,
            &format!("/api/v1/webhooks/{hook}/deliveries/{delivery}/redeliver"),
            &json!({}),
        )
        .await
        .assert_status(202);
        let again = receiver.wait_for(4).await;
        assert_eq!(again[3].id, first[0].id);
        assert_eq!(again[3].body, first[0].body);
        app.post(
            &admin,
            &format!("/api/v1/webhooks/{hook}/deliveries/999999/redeliver"),
            &json!({}),
        )
        .await
        .assert_problem(404, "not_found");

        // Types: a hazard is not an enterprise.created, so nothing more arrives.
        let r = app
            .post(
                &admin,
                "/api/v1/hazards",
                &crate::support::hazard_body(Some(enterprise), "general", "2026-11-20"),
            )
            .await;
        r.assert_status(201);

        // Scope: another county's subscription never receives this county's events.
        let theirs = Receiver::default();
        let their_url = theirs.start();
        subscribe(app, &county_admin, &their_url, json!([])).await;
        app.enterprise(&admin, &uscc(8002), "431302", "industry_trade")
            .await;
        let own = app
            .enterprise(&admin, &uscc(8003), "431321", "industry_trade")
            .await;
        let received = theirs.wait_for(1).await;
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        let received_now = theirs.all();
        assert_eq!(received_now.len(), received.len());
        let subjects: Vec<Value> = received_now
            .iter()
            .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["subject"].clone())
            .collect();
        assert_eq!(subjects, [json!({"type": "enterprise", "id": own})]);
        // Ours got the 431302 enterprise (and not the hazard).
        let ours = receiver.wait_for(5).await;
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.count(), 6, "the two new enterprises, nothing else");
        assert!(ours.iter().all(|r| verifies(&secret, r)));

        // A receiver that keeps failing disables its subscription after 3 attempts in a row.
        *receiver.always.lock().unwrap() = Some(503);
        let before = receiver.count();
        app.enterprise(&admin, &uscc(8004), "431302", "industry_trade")
            .await;
        receiver.wait_for(before + 1).await;
        app.advance(Duration::from_secs(10));
        receiver.wait_for(before + 2).await;
        app.advance(Duration::from_secs(60));
        receiver.wait_for(before + 3).await;
        let mut disabled = Value::Null;
        for _ in 0..100 {
            let r = app.get(&admin, &format!("/api/v1/webhooks/{hook}")).await;
            if r.body["enabled"] == false {
                disabled = r.body;
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(disabled["enabled"], false, "not disabled");
        assert!(disabled["disabled_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("3 consecutive"));
        app.advance(Duration::from_secs(300));
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            receiver.count(),
            before + 3,
            "a disabled subscription sent more"
        );

        // Re-enabling resumes the waiting delivery; rotation signs with both secrets.
        *receiver.always.lock().unwrap() = None;
        let rotated = app
            .post(
                &admin,
                &format!("/api/v1/webhooks/{hook}/rotate-secret"),
                &json!({}),
            )
            .await;
        rotated.assert_status(200);
        let new_secret = rotated.body["secret"].as_str().unwrap().to_string();
        assert_ne!(new_secret, secret);
        let etag = app
            .get(&admin, &format!("/api/v1/webhooks/{hook}"))
            .await
            .etag();
        let r = app
            .patch(
                &admin,
                &format!("/api/v1/webhooks/{hook}"),
                Some(&etag),
                &json!({"enabled": true}),
            )
            .await;
        r.assert_status(200);
        assert_eq!(r.body["consecutive_failures"], 0);
        assert!(r.body["disabled_reason"].is_null());
        app.advance(Duration::from_secs(600));
        let last = receiver.wait_for(before + 4).await;
        let resumed = &last[before + 3];
        assert!(verifies(&new_secret, resumed) && verifies(&secret, resumed));

        // PATCH needs If-Match; a refused URL changes nothing; DELETE removes it.
        app.patch(
            &admin,
            &format!("/api/v1/webhooks/{hook}"),
            None,
            &json!({"enabled": false}),
        )
        .await
        .assert_problem(428, "if_match_required");
        let etag = app
            .get(&admin, &format!("/api/v1/webhooks/{hook}"))
            .await
            .etag();
        app.patch(
            &admin,
            &format!("/api/v1/webhooks/{hook}"),
            Some(&etag),
            &json!({"url": "https://10.1.1.1/"}),
        )
        .await
        .assert_problem(422, "validation_failed");
        let r = app
            .send(
                app.client
                    .delete(app.url(&format!("/api/v1/webhooks/{hook}")))
                    .bearer_auth(&admin),
            )
            .await;
        r.assert_status(204);
        app.get(&admin, &format!("/api/v1/webhooks/{hook}"))
            .await
            .assert_problem(404, "not_found");
        // A create retried with its key after the delete makes a new subscription instead of
        // replaying an answer that names a deleted one.
        let keyed = || {
            app.client
                .post(app.url("/api/v1/webhooks"))
                .bearer_auth(&admin)
                .header("idempotency-key", "wh-once")
                .json(&json!({"url": url}))
        };
        let first = app.send(keyed()).await;
        first.assert_status(201);
        let replay = app.send(keyed()).await;
        assert_eq!(replay.id(), first.id());
        let r = app
            .send(
                app.client
                    .delete(app.url(&format!("/api/v1/webhooks/{}", first.id())))
                    .bearer_auth(&admin),
            )
            .await;
        r.assert_status(204);
        let again = app.send(keyed()).await;
        again.assert_status(201);
        assert_ne!(again.id(), first.id());
        app.get(&admin, &format!("/api/v1/webhooks/{}", again.id()))
            .await
            .assert_status(200);
    }
);

both!(loopback_targets_need_the_operators_consent, |app| {
    let admin = app.admin().await;
    for bad in [
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1:9/hook",
        "https://localhost/hook",
        "https://[::1]/",
    ] {
        let r = app
            .post(&admin, "/api/v1/webhooks", &json!({"url": bad}))
            .await;
        r.assert_problem(422, "validation_failed");
    }
});

/// Two server processes on one PostgreSQL: each attempt is sent once; and a delivery cut off
/// by killing every server (SIGKILL) is sent again after a restart, with nothing lost.
#[actix_web::test]
async fn two_processes_deliver_each_event_once_and_a_kill_loses_nothing() {
    use crate::support::{becomes_ready, Backend, Node, ScratchDatabase, ADMIN_PASSWORD};
    let Some(db) = ScratchDatabase::create("hazreg_hooks") else {
        return;
    };
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let dir = std::env::temp_dir().join(format!("hazreg-hooks-{}", uuid::Uuid::new_v4().simple()));
    let env = [
        (
            "HAZREG_JWT_SECRET",
            "two-nodes-secret-two-nodes-secret-0123456789",
        ),
        ("HAZREG_WEBHOOK_ALLOW_LOOPBACK", "true"),
        ("HAZREG_WEBHOOK_POLL_MS", "50"),
        ("HAZREG_WEBHOOK_TIMEOUT_SECS", "2"),
    ];
    let (node_a, a) = Node::start(&dir.join("a"), &url, &env);
    let (node_b, b) = Node::start(&dir.join("b"), &url, &env);
    let app = TestApp::spawn(Backend::Sqlite).await.expect("checker");
    let client = reqwest::Client::new();
    assert!(becomes_ready(&app, &client, &a).await && becomes_ready(&app, &client, &b).await);
    let r = app
        .send(
            client
                .post(format!("{a}/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let receiver = Receiver::default();
    let target = receiver.start();
    let r = app
        .send(
            client
                .post(format!("{a}/api/v1/webhooks"))
                .bearer_auth(&token)
                .json(&json!({"url": target})),
        )
        .await;
    r.assert_status(201);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let create = |base: &str, n: u32| {
        client
            .post(format!("{base}/api/v1/enterprises"))
            .bearer_auth(&token)
            .json(&crate::support::enterprise_body(
                &uscc(8100 + n),
                "431302",
                "other",
            ))
    };
    for n in 0..24 {
        let base = if n % 2 == 0 { &a } else { &b };
        app.send(create(base, n)).await.assert_status(201);
    }
    let got = receiver.wait_for(24).await;
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let got_now = receiver.all();
    assert_eq!(got_now.len(), got.len(), "more deliveries than events");
    let ids: std::collections::BTreeSet<String> = got_now.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), 24, "an event was sent twice or not at all");
    assert!(got_now.iter().all(|r| verifies(&secret, r)));

    // The next delivery stalls at the receiver; both servers are killed while it waits.
    receiver
        .script
        .lock()
        .unwrap()
        .push_back(Answer::Stall(Duration::from_millis(1500)));
    app.send(create(&a, 99)).await.assert_status(201);
    let cut = receiver.wait_for(25).await[24].clone();
    drop(node_a);
    drop(node_b);
    // A restarted server sends it again once the dead process's lease has expired
    // (2 × timeout + 5 s).
    let (_node_c, c) = Node::start(&dir.join("c"), &url, &env);
    assert!(becomes_ready(&app, &client, &c).await);
    let mut again = None;
    for _ in 0..300 {
        if let Some(r) = receiver.all().into_iter().skip(25).find(|r| r.id == cut.id) {
            again = Some(r);
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let again = again.expect("the cut delivery was sent again after the restart");
    assert_eq!(again.body, cut.body);
    assert!(verifies(&secret, &again));
    let _ = std::fs::remove_dir_all(&dir);
}

both!(
    an_idempotency_key_outside_its_documented_form_is_refused,
    |app| {
        let admin = app.admin().await;
        // (Spaces around a header value are not part of it in HTTP: the server never sees them.)
        for key in ["tab\there", "ünï"] {
            let r = app
                .send(
                    app.client
                        .post(app.url("/api/v1/enterprises"))
                        .bearer_auth(&admin)
                        .header(
                            "idempotency-key",
                            reqwest::header::HeaderValue::from_bytes(key.as_bytes()).unwrap(),
                        )
                        .json(&crate::support::enterprise_body(
                            &uscc(8301),
                            "431302",
                            "other",
                        )),
                )
                .await;
            r.assert_problem(400, "invalid_idempotency_key");
        }
        let r = app.get(&admin, "/api/v1/enterprises").await;
        assert!(r.items().is_empty(), "a refused create wrote something");
    }
);

both!(
    events_of_one_subject_arrive_in_order,
    env = [
        ("HAZREG_WEBHOOK_ALLOW_LOOPBACK", "true"),
        ("HAZREG_WEBHOOK_POLL_MS", "100"),
    ],
    |app| {
        let admin = app.admin().await;
        let receiver = Receiver::default();
        let url = receiver.start();
        subscribe(
            app,
            &admin,
            &url,
            json!(["enterprise.created", "enterprise.updated"]),
        )
        .await;
        // The first delivery fails; the enterprise's next event waits behind its retry.
        receiver
            .script
            .lock()
            .unwrap()
            .push_back(Answer::Status(500));
        let enterprise = app
            .enterprise(&admin, &uscc(8401), "431302", "industry_trade")
            .await;
        receiver.wait_for(1).await;
        let etag = app
            .get(&admin, &format!("/api/v1/enterprises/{enterprise}"))
            .await
            .etag();
        app.patch(
            &admin,
            &format!("/api/v1/enterprises/{enterprise}"),
            Some(&etag),
            &json!({"employees": 99}),
        )
        .await
        .assert_status(200);
        // Another subject is not held back.
        let other = app
            .enterprise(&admin, &uscc(8402), "431302", "industry_trade")
            .await;
        receiver.wait_for(2).await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(600)).await;
        let subject_of = |r: &Received| {
            let e: Value = serde_json::from_slice(&r.body).unwrap();
            (
                e["subject"]["id"].as_i64().unwrap(),
                e["type"].as_str().unwrap().to_string(),
            )
        };
        let held: Vec<_> = receiver.all().iter().map(subject_of).collect();
        assert_eq!(
            held,
            [
                (enterprise, "enterprise.created".to_string()),
                (other, "enterprise.created".to_string())
            ],
            "the update went out before the failed create"
        );
        // Once the retry is due, the create goes out again, then the update.
        app.advance(std::time::Duration::from_secs(10));
        receiver.wait_for(4).await;
        let all: Vec<_> = receiver.all().iter().map(subject_of).collect();
        assert_eq!(
            all[2..],
            [
                (enterprise, "enterprise.created".to_string()),
                (enterprise, "enterprise.updated".to_string())
            ]
        );
    }
);

both!(
    reminder_events_reach_the_webhooks_of_those_they_are_for,
    env = [
        ("HAZREG_WEBHOOK_ALLOW_LOOPBACK", "true"),
        ("HAZREG_WEBHOOK_POLL_MS", "100"),
        ("HAZREG_REMINDER_INTERVAL_SECS", "1"),
    ],
    |app| {
        app.set_now("2026-11-25T08:00:00Z");
        let admin = app.admin().await;
        let enterprise = app
            .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
            .await;
        let (_, county_admin) = app
            .regulator(&admin, "wh.louxing", "county_admin", "431302")
            .await;
        let (_, ent) = app
            .account(
                &admin,
                "wh.ent",
                "enterprise",
                json!({"enterprise_id": enterprise}),
            )
            .await;
        let (county, enterprise_hook) = (Receiver::default(), Receiver::default());
        let (_, county_secret) = subscribe(
            app,
            &county_admin,
            &county.start(),
            json!(["reminder.raised"]),
        )
        .await;
        subscribe(
            app,
            &ent,
            &enterprise_hook.start(),
            json!(["reminder.raised"]),
        )
        .await;
        // Due on 11-27: `due_soon` (D−3) is due at once; `overdue` (D+1) on 11-28.
        let r = app
            .post(
                &admin,
                "/api/v1/hazards",
                &five_fixes(
                    hazard_body(Some(enterprise), "general", "2026-11-20"),
                    "2026-11-27",
                ),
            )
            .await;
        r.assert_status(201);
        let hazard = r.id();
        let kinds = |got: &[Received]| {
            got.iter()
                .map(|d| {
                    let v: Value = serde_json::from_slice(&d.body).unwrap();
                    assert_eq!(v["type"], "reminder.raised");
                    assert_eq!(v["data"]["subject_id"], hazard);
                    v["data"]["kind"].as_str().unwrap().to_string()
                })
                .collect::<Vec<_>>()
        };
        let got = county.wait_for(1).await;
        assert!(verifies(&county_secret, &got[0]));
        assert_eq!(kinds(&got), vec!["due_soon"]);
        assert_eq!(kinds(&enterprise_hook.wait_for(1).await), vec!["due_soon"]);
        // Overdue is the regulators' alone.
        app.set_now("2026-11-28T08:00:00Z");
        assert_eq!(
            kinds(&county.wait_for(2).await),
            vec!["due_soon", "overdue"]
        );
        actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(
            kinds(&enterprise_hook.all()),
            vec!["due_soon"],
            "the enterprise is not told of its own overdue"
        );
        assert_eq!(county.count(), 2, "each reminder is delivered once");
    }
);

//! `GET /metrics`: off by default, behind `HAZREG_METRICS_TOKEN` on the API's address or
//! without a token on `HAZREG_METRICS_BIND`; every scrape is parsed with a Prometheus
//! text-format parser (`prometheus-parse`) and its figures checked against the requests made.

use serde_json::json;

use crate::support::{becomes_ready, both, hazard_body, Backend, Node, TestApp, ADMIN_PASSWORD};

const TOKEN: &str = "metrics-scrape-token-0123456789";

type Scrape = openmetrics_parser::MetricsExposition<
    openmetrics_parser::PrometheusType,
    openmetrics_parser::PrometheusValue,
>;

fn parse(text: &str) -> Scrape {
    openmetrics_parser::prometheus::parse_prometheus(text)
        .unwrap_or_else(|e| panic!("not a Prometheus text-format document ({e:?}):\n{text}"))
}

/// The value of the sample of family `metric` whose labels include every pair in `labels`
/// (a histogram's: its count).
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    use openmetrics_parser::PrometheusValue as V;
    scrape.families.get(metric)?.iter_samples().find_map(|s| {
        let set = s.get_labelset().ok()?;
        labels
            .iter()
            .all(|(k, v)| set.get_label_value(k) == Some(*v))
            .then(|| match &s.value {
                V::Counter(c) => c.value.as_f64(),
                V::Gauge(n) | V::Unknown(n) => n.as_f64(),
                V::Histogram(h) => h.count.unwrap_or(0) as f64,
                V::Summary(_) => f64::NAN,
            })
    })
}

/// Whether any sample of any family carries `label` = `value`.
fn any_label(scrape: &Scrape, label: &str, value: &str) -> bool {
    scrape.families.values().any(|f| {
        f.iter_samples().any(|s| {
            s.get_labelset()
                .is_ok_and(|set| set.get_label_value(label) == Some(value))
        })
    })
}

async fn scrape(app: &TestApp) -> Scrape {
    let r = app
        .send(app.client.get(app.url("/metrics")).bearer_auth(TOKEN))
        .await;
    r.assert_status(200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    parse(&String::from_utf8(r.raw.clone()).expect("UTF-8"))
}

both!(metrics_are_off_unless_configured, |app| {
    app.get("", "/metrics")
        .await
        .assert_problem(404, "no_route");
    // An account's token does not turn them on.
    let admin = app.admin().await;
    app.get(&admin, "/metrics")
        .await
        .assert_problem(404, "no_route");
});

both!(
    metrics_count_requests_by_route_template,
    env = [
        ("HAZREG_METRICS_TOKEN", TOKEN),
        ("HAZREG_PURGE_INTERVAL_SECS", "1")
    ],
    |app| {
        // Without the token, with a wrong one, or with an account's token: 401.
        app.get("", "/metrics")
            .await
            .assert_problem(401, "unauthorized");
        app.get("metrics-scrape-token-wrong-000000", "/metrics")
            .await
            .assert_problem(401, "unauthorized");
        let admin = app.admin().await;
        app.get(&admin, "/metrics")
            .await
            .assert_problem(401, "unauthorized");

        let enterprise = app
            .enterprise(&admin, &crate::support::uscc(81), "431302", "other")
            .await;
        let r = app
            .post(
                &admin,
                "/api/v1/hazards",
                &hazard_body(Some(enterprise), "general", "2026-11-20"),
            )
            .await;
        r.assert_status(201);
        let path = format!("/api/v1/hazards/{}", r.id());

        let before = scrape(app).await;
        let route = [
            ("route", "/api/v1/hazards/{id}"),
            ("method", "GET"),
            ("status", "200"),
        ];
        let counted = value(&before, "hazreg_http_requests_total", &route).unwrap_or(0.0);
        let timed =
            value(&before, "hazreg_http_request_duration_seconds", &route[..2]).unwrap_or(0.0);
        for _ in 0..3 {
            app.get(&admin, &path).await.assert_status(200);
        }
        app.get(&admin, "/api/v1/hazards/999999")
            .await
            .assert_status(404);
        app.get(&admin, "/no/such/route").await.assert_status(404);
        let after = scrape(app).await;
        assert_eq!(
            value(&after, "hazreg_http_requests_total", &route),
            Some(counted + 3.0),
            "three GETs of one hazard, counted under the route template"
        );
        assert_eq!(
            value(&after, "hazreg_http_request_duration_seconds", &route[..2]),
            Some(timed + 4.0),
            "the histogram has the three 200s and the 404 of that route"
        );
        assert!(
            value(
                &after,
                "hazreg_http_requests_total",
                &[("route", "/api/v1/hazards/{id}"), ("status", "404")]
            ) >= Some(1.0)
        );
        assert!(
            value(
                &after,
                "hazreg_http_requests_total",
                &[("route", "unmatched"), ("status", "404")]
            ) >= Some(1.0)
        );
        assert!(
            !any_label(&after, "route", "/no/such/route"),
            "raw paths never become labels"
        );
        // The pool, the hashers, the background jobs and the build.
        assert_eq!(
            value(&after, "hazreg_db_pool_max_connections", &[]),
            Some(6.0)
        );
        assert!(value(&after, "hazreg_db_pool_connections", &[("state", "idle")]).is_some());
        assert!(value(&after, "hazreg_db_pool_connections", &[("state", "in_use")]).is_some());
        assert!(value(&after, "hazreg_db_pool_wait_seconds", &[]) >= Some(4.0));
        assert_eq!(
            value(&after, "hazreg_db_pool_timeouts_total", &[]),
            Some(0.0)
        );
        assert_eq!(
            value(
                &after,
                "hazreg_password_hash_requests",
                &[("state", "queued")]
            ),
            Some(0.0)
        );
        assert_eq!(
            value(&after, "hazreg_password_hash_rejected_total", &[]),
            Some(0.0)
        );
        let backend = match app.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        assert_eq!(
            value(
                &after,
                "hazreg_build_info",
                &[("backend", backend), ("version", env!("CARGO_PKG_VERSION"))]
            ),
            Some(1.0)
        );
        let mut purged = None;
        for _ in 0..40 {
            purged = value(
                &scrape(app).await,
                "hazreg_background_job_runs_total",
                &[("job", "purge")],
            );
            if purged.is_some() {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(purged >= Some(1.0), "the purge runs every second here");
    }
);

/// On `HAZREG_METRICS_BIND` the scrape needs no token, and that address serves nothing else;
/// the API's address keeps `/metrics` off when no token is set.
#[actix_web::test]
async fn a_separate_metrics_address_serves_the_scrape_alone() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("checker");
    let dir =
        std::env::temp_dir().join(format!("hazreg-metrics-{}", uuid::Uuid::new_v4().simple()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_address = format!("127.0.0.1:{port}");
    let url = format!("sqlite://{}", dir.join("hazard-registry.db").display());
    let (node, base) = Node::start(&dir, &url, &[("HAZREG_METRICS_BIND", &metrics_address)]);
    let client = reqwest::Client::new();
    assert!(becomes_ready(&app, &client, &base).await);
    app.send(
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
    )
    .await
    .assert_status(200);
    app.send(client.get(format!("{base}/metrics")))
        .await
        .assert_problem(404, "no_route");
    // The private address is not part of the API (nor of its document): read it directly.
    let r = client
        .get(format!("http://{metrics_address}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let scraped = parse(&text);
    assert_eq!(
        value(
            &scraped,
            "hazreg_http_requests_total",
            &[("route", "/api/v1/auth/login"), ("status", "200")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&scraped, "hazreg_build_info", &[("backend", "sqlite")]),
        Some(1.0)
    );
    let other = client
        .get(format!("http://{metrics_address}/api/v1/me"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        other.status(),
        404,
        "the metrics address serves /metrics only"
    );
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

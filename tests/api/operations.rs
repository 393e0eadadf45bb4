//! Operations: health, readiness and database outage, first start, reference data, the audit
//! log, migration parity between the two backends, and the `serve` command itself.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use serde_json::json;

use crate::support::{
    becomes_ready, both, pg_admin_url, uscc, Backend, Node, ScratchDatabase, TestApp,
    ADMIN_PASSWORD,
};

both!(health_and_readiness, |app| {
    let r = app.get("", "/healthz").await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "ok");
    app.get("", "/readyz").await.assert_status(200);
});

both!(first_start_is_idempotent, |app| {
    let admin = app.admin().await;
    async fn counts(app: &TestApp, admin: String) -> (usize, usize, usize, usize) {
        (
            app.get(&admin, "/api/v1/jurisdictions").await.items().len(),
            app.get(&admin, "/api/v1/departments").await.items().len(),
            app.get(&admin, "/api/v1/accounts").await.items().len(),
            app.get(&admin, "/api/v1/audit-events?entity_type=reference_data")
                .await
                .items()
                .len(),
        )
    }
    let before = counts(app, admin.clone()).await;
    assert_eq!(before, (11, 15, 1, 1));
    // A restart on the same database (even with another configured password) changes nothing.
    let mut config = app.state_config.clone();
    config.admin_password = Some("Another-Password-99".into());
    let boot = actix_web::web::block(move || hazard_registry::app::bootstrap(config))
        .await
        .unwrap()
        .unwrap();
    assert!(!boot.admin_created && boot.generated_admin_password.is_none());
    assert_eq!(counts(app, admin).await, before);
    app.login("admin", ADMIN_PASSWORD).await;
});

#[actix_web::test]
async fn first_start_without_a_configured_password_generates_one() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let dir = std::env::temp_dir().join(format!("hazreg-gen-{}", uuid::Uuid::new_v4().simple()));
    let mut config = app.state_config.clone();
    config.database_url = format!("sqlite://{}", dir.join("fresh.db").display());
    config.admin_password = None;
    let boot = actix_web::web::block(move || hazard_registry::app::bootstrap(config))
        .await
        .unwrap()
        .unwrap();
    let password = boot
        .generated_admin_password
        .clone()
        .expect("generated password");
    assert!(boot.admin_created && password.len() >= 20);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    actix_web::rt::spawn(hazard_registry::app::serve(boot.state, listener).unwrap());
    app.send(
        reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": password})),
    )
    .await
    .assert_status(200);
    let _ = std::fs::remove_dir_all(dir);
}

both!(reference_data, |app| {
    let admin = app.admin().await;
    let j = app.get(&admin, "/api/v1/jurisdictions").await;
    assert!(j.body["next_cursor"].is_null());
    let first = &j.items()[0];
    assert_eq!(first["code"], "431200");
    let loudi: Vec<&serde_json::Value> = j
        .items()
        .iter()
        .filter(|x| x["code"].as_str().unwrap().starts_with("4313"))
        .collect();
    // Eight units and a township of 431302.
    assert_eq!(loudi.len(), 9);
    let zone = j
        .items()
        .iter()
        .find(|x| x["code"] == "431300-JKQ")
        .unwrap();
    assert_eq!(zone["level"], "zone");
    assert_eq!(zone["parent_code"], "431300");
    let children = app
        .get(&admin, "/api/v1/jurisdictions?parent_code=431300")
        .await;
    assert_eq!(children.items().len(), 7);
    assert_eq!(
        app.get(&admin, "/api/v1/jurisdictions?level=zone")
            .await
            .items()
            .len(),
        2
    );
    let sectors = app.get(&admin, "/api/v1/sectors").await;
    assert_eq!(sectors.items().len(), 18);
    let coal = sectors
        .items()
        .iter()
        .find(|s| s["code"] == "coal_mine")
        .unwrap();
    assert_eq!(
        (coal["name"].as_str(), coal["high_risk"].as_bool()),
        (Some("煤矿"), Some(true))
    );
    let depts = app
        .get(&admin, "/api/v1/departments?jurisdiction_code=431300")
        .await;
    assert_eq!(depts.items().len(), 14);
    let yjj = depts
        .items()
        .iter()
        .find(|d| d["name"] == "市应急管理局")
        .unwrap();
    assert!(yjj["sector_codes"]
        .as_array()
        .unwrap()
        .contains(&json!("hazardous_chemicals")));
    // Every signed-in role reads reference data; nobody unsigned does.
    let (_, officer) = app
        .regulator(&admin, "officer1", "county_officer", "431302")
        .await;
    app.get(&officer, "/api/v1/sectors")
        .await
        .assert_status(200);
    app.get("", "/api/v1/sectors")
        .await
        .assert_problem(401, "unauthorized");
});

/// Reads a whole collection page by page, following `next_cursor`.
async fn all_pages(app: &TestApp, token: &str, path: &str, limit: usize) -> Vec<serde_json::Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}limit={limit}");
    let mut out = Vec::new();
    loop {
        let r = app.get(token, &url).await;
        r.assert_status(200);
        assert!(r.items().len() <= limit);
        out.extend(r.items().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => url = format!("{path}{sep}limit={limit}&cursor={c}"),
            None => return out,
        }
    }
}

both!(
    reference_collections_page_and_sync_like_every_collection,
    |app| {
        let admin = app.admin().await;
        for (path, key, total) in [
            ("/api/v1/jurisdictions", "code", 11),
            ("/api/v1/sectors", "code", 18),
            ("/api/v1/departments", "id", 15),
        ] {
            let whole = app.get(&admin, &format!("{path}?limit=200")).await;
            assert_eq!(whole.items().len(), total, "{path}");
            assert!(whole.body["next_cursor"].is_null());
            // Small pages give the same rows in the same order, none twice.
            let paged = all_pages(app, &admin, path, 3).await;
            let keys =
                |v: &[serde_json::Value]| v.iter().map(|x| x[key].to_string()).collect::<Vec<_>>();
            assert_eq!(keys(&paged), keys(whole.items()), "{path}");
            // updated_since: everything was seeded at first start, so a past instant keeps every
            // row and a future one none.
            assert_eq!(
                app.get(
                    &admin,
                    &format!("{path}?limit=200&updated_since=2000-01-01T00:00:00Z")
                )
                .await
                .items()
                .len(),
                total
            );
            assert!(app
                .get(
                    &admin,
                    &format!("{path}?updated_since=2999-01-01T00:00:00Z")
                )
                .await
                .items()
                .is_empty());
            // Bad paging input is a 400 problem, like on every collection.
            app.get(&admin, &format!("{path}?limit=0"))
                .await
                .assert_problem(400, "invalid_query");
            app.get(&admin, &format!("{path}?limit=201"))
                .await
                .assert_problem(400, "invalid_query");
            app.get(&admin, &format!("{path}?cursor=not-a-cursor"))
                .await
                .assert_problem(400, "invalid_cursor");
            app.get(&admin, &format!("{path}?updated_since=yesterday"))
                .await
                .assert_problem(400, "invalid_query");
        }
        // A cursor of one collection is refused by another.
        let sectors = app.get(&admin, "/api/v1/sectors?limit=2").await;
        let cursor = sectors.body["next_cursor"].as_str().expect("a next page");
        app.get(&admin, &format!("/api/v1/jurisdictions?cursor={cursor}"))
            .await
            .assert_problem(400, "invalid_cursor");
        // Filters still apply across pages.
        let children = all_pages(app, &admin, "/api/v1/jurisdictions?parent_code=431300", 2).await;
        assert_eq!(children.len(), 7);
        app.get(&admin, "/api/v1/jurisdictions?level=province")
            .await
            .assert_problem(400, "invalid_query");
    }
);

both!(audit_events_record_every_write, |app| {
    let admin = app.admin().await;
    let admin_id = app.get(&admin, "/api/v1/me").await.id();
    let since = app
        .advance(std::time::Duration::from_millis(20))
        .replace('+', "%2B");
    let created = app
        .post(
            &admin,
            "/api/v1/enterprises",
            &enterprise_body(&uscc(1), "431302", "other"),
        )
        .await;
    let id = created.id();
    let path = format!("/api/v1/enterprises/{id}");
    let req = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&admin)
        .header("if-match", "\"1\"")
        .header("x-request-id", "req-audit-1")
        .json(&json!({"employees": 42}));
    app.send(req).await.assert_status(200);
    // A refused write leaves no event.
    app.patch(&admin, &path, Some("\"1\""), &json!({"employees": 43}))
        .await
        .assert_status(412);

    let events = app
        .get(
            &admin,
            &format!("/api/v1/audit-events?entity_type=enterprise&entity_id={id}"),
        )
        .await;
    let items = events.items();
    assert_eq!(items.len(), 2, "{:?}", events.body);
    assert_eq!(items[0]["action"], "create");
    assert_eq!(items[0]["actor_id"], admin_id);
    assert_eq!(items[0]["changes"]["uscc"]["after"], uscc(1));
    assert_eq!(
        items[0]["request_id"].as_str(),
        created.header("x-request-id").as_deref()
    );
    assert_eq!(items[1]["action"], "update");
    assert_eq!(
        items[1]["changes"],
        json!({"employees": {"before": 10, "after": 42}})
    );
    assert_eq!(items[1]["request_id"], "req-audit-1");
    assert!(items[0]["seq"].as_i64() < items[1]["seq"].as_i64());

    let by_actor = app
        .get(
            &admin,
            &format!("/api/v1/audit-events?actor_id={admin_id}&since={since}"),
        )
        .await;
    assert!(by_actor.items().iter().all(|e| e["actor_id"] == admin_id));
    assert!(by_actor
        .items()
        .iter()
        .any(|e| e["entity_type"] == "enterprise"));
    let page1 = app.get(&admin, "/api/v1/audit-events?limit=2").await;
    assert_eq!(page1.items().len(), 2);
    let cursor = page1.body["next_cursor"].as_str().expect("more pages");
    let page2 = app
        .get(
            &admin,
            &format!("/api/v1/audit-events?limit=2&cursor={cursor}"),
        )
        .await;
    assert!(page2.items()[0]["seq"].as_i64() > page1.items()[1]["seq"].as_i64());
    // Logins are recorded too (等保: who signed in, and failed attempts).
    app.login_raw("admin", "Wrong-Password-1").await;
    let logins = app
        .get(
            &admin,
            &format!("/api/v1/audit-events?entity_type=account&entity_id={admin_id}"),
        )
        .await;
    let actions: Vec<&str> = logins
        .items()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"login") && actions.contains(&"login_failed"),
        "{actions:?}"
    );
});

type Columns = BTreeSet<(String, String, bool)>;

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    notnull: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[actix_web::test]
async fn migration_trees_give_the_same_tables_and_columns() {
    let Some(pg) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let sqlite = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let mut pgc = diesel::PgConnection::establish(&pg.database_url).unwrap();
    let pg_cols: Columns = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, is_nullable::text AS is_nullable \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load::<PgColumn>(&mut pgc)
    .unwrap()
    .into_iter()
    .map(|c| (c.table_name, c.column_name, c.is_nullable == "YES"))
    .collect();
    let path = sqlite
        .database_url
        .trim_start_matches("sqlite://")
        .to_string();
    let mut sc = diesel::SqliteConnection::establish(&path).unwrap();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' \
         AND name NOT LIKE 'hazards_search%'",
    )
    .load(&mut sc)
    .unwrap();
    let mut sqlite_cols = Columns::new();
    for t in tables {
        for c in diesel::sql_query(format!("PRAGMA table_info({})", t.name))
            .load::<SqliteColumn>(&mut sc)
            .unwrap()
        {
            sqlite_cols.insert((t.name.clone(), c.name, c.notnull == 0 && c.pk == 0));
        }
    }
    assert!(pg_cols.len() > 50, "{pg_cols:?}");
    let only_pg: Vec<_> = pg_cols.difference(&sqlite_cols).collect();
    let only_sqlite: Vec<_> = sqlite_cols.difference(&pg_cols).collect();
    assert!(
        only_pg.is_empty() && only_sqlite.is_empty(),
        "only on PostgreSQL: {only_pg:?}\nonly on SQLite: {only_sqlite:?}"
    );
}

/// A TCP relay to PostgreSQL that the test can cut and restore, to take the database away.
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<actix_web::rt::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("relay bind");
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<actix_web::rt::task::JoinHandle<()>>>> = Arc::default();
        let inner = tasks.clone();
        let accept = actix_web::rt::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = actix_web::rt::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                inner.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Relay { port, tasks }
    }

    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

#[actix_web::test]
async fn database_outage_answers_503_and_recovers() {
    // SQLite is a file inside the process: there is no server to lose. PostgreSQL is.
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let relay = Relay::start(0).await;
    let db = app.database_url.rsplit('/').next().unwrap().to_string();
    let relayed = format!("postgres://postgres@127.0.0.1:{}/{db}", relay.port);
    let base = app.start_again(&[("HAZREG_DATABASE_URL", &relayed)]).await;
    let client = reqwest::Client::new();
    let login = app
        .send(
            client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    login.assert_status(200);
    let token = login.body["access_token"].as_str().unwrap().to_string();
    app.send(client.get(format!("{base}/readyz")))
        .await
        .assert_status(200);

    relay.cut();
    let started = std::time::Instant::now();
    for path in ["/readyz", "/api/v1/enterprises", "/api/v1/me"] {
        let r = app
            .send(client.get(format!("{base}{path}")).bearer_auth(&token))
            .await;
        assert_eq!(r.status, 503, "{path}");
        assert!(r.header("retry-after").is_some(), "{path}");
        r.assert_problem(503, "database_unavailable");
        let body = &r.body;
        assert!(
            !body.to_string().contains("5432"),
            "internals leaked: {body}"
        );
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "answers must not hang"
    );
    app.send(client.get(format!("{base}/healthz")))
        .await
        .assert_status(200);

    let _relay = Relay::start(relay.port).await;
    let ready = becomes_ready(&app, &client, &base).await;
    assert!(ready, "did not recover");
    app.send(
        client
            .get(format!("{base}/api/v1/enterprises"))
            .bearer_auth(&token),
    )
    .await
    .assert_status(200);
    let _ = pg_admin_url();
}

#[test]
fn serve_command_starts_a_working_server_with_no_setup() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("hazreg-serve-{}", uuid::Uuid::new_v4().simple()));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hazard-registry"))
        .env_clear()
        .env("HAZREG_DATA_DIR", &dir)
        .env("HAZREG_BIND", "127.0.0.1:0")
        .env("HAZREG_LOG_FORMAT", "json")
        .env("HAZREG_ARGON2_MEMORY_KIB", "256")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start hazard-registry");
    let stdout = child.stdout.take().unwrap();
    let mut password = None;
    let mut address = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(p) = line.trim().strip_prefix("password: ") {
            password = Some(p.to_string());
        }
        if line.contains("serving") {
            let v: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
            address = v["address"].as_str().map(str::to_string);
            break;
        }
    }
    let (password, address) = (
        password.expect("first admin printed"),
        address.expect("address logged"),
    );
    assert!(dir.join("hazard-registry.db").exists());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("http://{address}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": password}))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status.expect("login request"), 200);
}

/// A TCP relay to PostgreSQL that can stop passing bytes while keeping every socket open: to
/// the server process it looks exactly like a hung database (SIGSTOP, a partition).
struct PausableRelay {
    port: u16,
    paused: Arc<std::sync::atomic::AtomicBool>,
}

impl PausableRelay {
    async fn start() -> PausableRelay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("relay bind");
        let port = listener.local_addr().unwrap().port();
        let paused = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = paused.clone();
        actix_web::rt::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let flag = flag.clone();
                actix_web::rt::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    actix_web::rt::spawn(pump(cr, sw, flag.clone()));
                    pump(sr, cw, flag).await;
                });
            }
        });
        PausableRelay { port, paused }
    }

    fn pause(&self, on: bool) {
        self.paused.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    paused: Arc<std::sync::atomic::AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while paused.load(std::sync::atomic::Ordering::SeqCst) {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[actix_web::test]
async fn a_hung_database_answers_503_within_the_bound_and_recovers() {
    // HAZREG_DATABASE_TIMEOUT_SECS is 2 in the tests (the default too).
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let relay = PausableRelay::start().await;
    let db = app.database_url.rsplit('/').next().unwrap().to_string();
    let relayed = format!("postgres://postgres@127.0.0.1:{}/{db}", relay.port);
    let base = app.start_again(&[("HAZREG_DATABASE_URL", &relayed)]).await;
    let client = reqwest::Client::new();
    let login = app
        .send(
            client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    login.assert_status(200);
    let token = login.body["access_token"].as_str().unwrap().to_string();

    relay.pause(true);
    let started = std::time::Instant::now();
    let paths = [
        "/api/v1/enterprises",
        "/api/v1/me",
        "/api/v1/hazards",
        "/readyz",
    ];
    let app_ref = &app;
    let answers = futures_util::future::join_all(paths.iter().map(|path| {
        let req = client.get(format!("{base}{path}")).bearer_auth(&token);
        async move { (path, app_ref.send(req).await, started.elapsed()) }
    }))
    .await;
    for (path, r, elapsed) in &answers {
        r.assert_problem(503, "database_unavailable");
        assert!(r.header("retry-after").is_some(), "{path}");
        assert!(
            *elapsed < std::time::Duration::from_millis(3000),
            "{path} answered after {elapsed:?}"
        );
    }
    let slowest = answers.iter().map(|a| a.2).max().unwrap();
    eprintln!("hung PostgreSQL: 4 concurrent requests answered 503 within {slowest:?}");
    // The process itself stays responsive.
    app.send(client.get(format!("{base}/healthz")))
        .await
        .assert_status(200);

    relay.pause(false);
    let ready = becomes_ready(&app, &client, &base).await;
    assert!(ready, "did not recover");
    app.send(
        client
            .get(format!("{base}/api/v1/enterprises"))
            .bearer_auth(&token),
    )
    .await
    .assert_status(200);
}

/// The server starts while its PostgreSQL is down: `/healthz` 200, everything else 503, and it
/// migrates, seeds and serves by itself once the database comes up.
#[actix_web::test]
async fn the_server_starts_while_the_database_is_down() {
    let Some(db) = ScratchDatabase::create("hazreg_down") else {
        return;
    };
    let name = db.name.clone();
    // A port with nothing behind it yet: the database is "down".
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("hazreg-down-{}", uuid::Uuid::new_v4().simple()));
    let (node, base) = Node::start(
        &dir,
        &format!("postgres://postgres@127.0.0.1:{port}/{name}"),
        &[(
            "HAZREG_JWT_SECRET",
            "down-test-secret-down-test-secret-0123456789",
        )],
    );
    let app = TestApp::spawn(Backend::Sqlite).await.expect("checker");
    let client = reqwest::Client::new();
    app.send(client.get(format!("{base}/healthz")))
        .await
        .assert_status(200);
    app.send(client.get(format!("{base}/readyz")))
        .await
        .assert_problem(503, "database_unavailable");
    app.send(
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
    )
    .await
    .assert_problem(503, "database_unavailable");

    // The database comes up on that port.
    let _relay = Relay::start(port).await;
    let ready = becomes_ready(&app, &client, &base).await;
    let login = app
        .send(
            client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
    drop(db);
    assert!(ready, "did not become ready once the database was up");
    login.assert_status(200);
    app.stop().await;
}

both!(the_audit_log_is_read_within_the_readers_city, |app| {
    let admin = app.admin().await;
    let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
    let ours = app.enterprise(&admin, &uscc(1), "431302", "other").await;
    let foreign_admin = app.foreign_admin().await;
    let theirs = app
        .enterprise(&foreign_admin, &uscc(2), "431202", "other")
        .await;
    let ids_of = |r: &crate::support::Resp, entity_type: &str| -> Vec<String> {
        r.items()
            .iter()
            .filter(|e| e["entity_type"] == entity_type)
            .map(|e| e["entity_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    for reader in [&admin, &auditor] {
        let r = app.get(reader, "/api/v1/audit-events?limit=200").await;
        r.assert_status(200);
        let enterprises = ids_of(&r, "enterprise");
        assert!(enterprises.contains(&ours.to_string()));
        assert!(
            !enterprises.contains(&theirs.to_string()),
            "another city's event leaked"
        );
        // Not even by asking for it.
        let r = app
            .get(
                reader,
                &format!("/api/v1/audit-events?entity_type=enterprise&entity_id={theirs}"),
            )
            .await;
        assert!(r.items().is_empty());
        // The other city's administrator account is theirs too.
        let accounts = app
            .get(reader, "/api/v1/audit-events?entity_type=account&limit=200")
            .await;
        assert!(accounts
            .items()
            .iter()
            .all(|e| e["changes"]["username"]["after"] != "hh.admin"));
    }
    // And the other way round; reference data belongs to no city and is seen by both.
    let r = app
        .get(&foreign_admin, "/api/v1/audit-events?limit=200")
        .await;
    let enterprises = ids_of(&r, "enterprise");
    assert_eq!(enterprises, vec![theirs.to_string()]);
    for reader in [&admin, &foreign_admin] {
        let r = app
            .get(reader, "/api/v1/audit-events?entity_type=reference_data")
            .await;
        assert!(!r.items().is_empty());
    }
});

/// Two server processes on one PostgreSQL behave as one service: a token, a cursor and an
/// idempotency key from one are honoured by the other, an attachment uploaded through one
/// downloads through the other (evidence in object storage, a local moto server), failed logins
/// count on both, and the background purge runs each slot on one node only.
/// A process without `HAZREG_JWT_SECRET` refuses to serve PostgreSQL.
#[actix_web::test]
async fn two_processes_share_one_postgresql() {
    let Some(db) = ScratchDatabase::create("hazreg_nodes") else {
        return;
    };
    let name = db.name.clone();
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let dir = std::env::temp_dir().join(format!("hazreg-nodes-{}", uuid::Uuid::new_v4().simple()));

    // Without a shared key: refused, with the reason.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_hazard-registry"))
        .env_clear()
        .env("HAZREG_DATA_DIR", &dir)
        .env("HAZREG_DATABASE_URL", &url)
        .env("HAZREG_BIND", "127.0.0.1:0")
        .output()
        .expect("run hazard-registry");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("HAZREG_JWT_SECRET"));

    // The purge runs every second here, so both nodes compete for its slots meanwhile.
    let secret = [
        (
            "HAZREG_JWT_SECRET",
            "two-nodes-secret-two-nodes-secret-0123456789",
        ),
        ("HAZREG_PURGE_INTERVAL_SECS", "1"),
    ];
    let s3 = crate::support::S3Server::start().await;
    let s3_env = s3.as_ref().map(|s| s.env()).unwrap_or_default();
    let mut env: Vec<(&str, &str)> = secret.to_vec();
    env.extend(s3_env.iter().map(|(k, v)| (*k, v.as_str())));
    let (node_a, a) = Node::start(&dir.join("a"), &url, &env);
    let (node_b, b) = Node::start(&dir.join("b"), &url, &env);
    let app = TestApp::spawn(Backend::Sqlite).await.expect("checker");
    let client = reqwest::Client::new();
    assert!(becomes_ready(&app, &client, &a).await && becomes_ready(&app, &client, &b).await);
    let login = |base: &str, password: &str| {
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": password}))
    };
    let r = app.send(login(&a, ADMIN_PASSWORD)).await;
    r.assert_status(200);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    // A's token on B.
    app.send(client.get(format!("{b}/api/v1/me")).bearer_auth(&token))
        .await
        .assert_status(200);
    // A create retried on B with the same key replays A's answer.
    let body = json!({
        "uscc": uscc(1), "name": "两节点企业", "jurisdiction_code": "431302", "sector_code": "other",
        "employees": 10, "annual_revenue_10k_yuan": 100.0
    });
    let create = |base: &str| {
        client
            .post(format!("{base}/api/v1/enterprises"))
            .bearer_auth(&token)
            .header("idempotency-key", "two-nodes-1")
            .json(&body)
    };
    let first = app.send(create(&a)).await;
    first.assert_status(201);
    let again = app.send(create(&b)).await;
    again.assert_status(201);
    assert_eq!(again.id(), first.id());
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    let second = json!({
        "uscc": uscc(2), "name": "第二家", "jurisdiction_code": "431302", "sector_code": "other",
        "employees": 10, "annual_revenue_10k_yuan": 100.0
    });
    app.send(
        client
            .post(format!("{a}/api/v1/enterprises"))
            .bearer_auth(&token)
            .json(&second),
    )
    .await
    .assert_status(201);
    // A's cursor on B.
    let page = app
        .send(
            client
                .get(format!("{a}/api/v1/enterprises?limit=1"))
                .bearer_auth(&token),
        )
        .await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_string();
    let next = app
        .send(
            client
                .get(format!("{b}/api/v1/enterprises?limit=1&cursor={cursor}"))
                .bearer_auth(&token),
        )
        .await;
    next.assert_status(200);
    assert_ne!(next.items()[0]["id"], page.items()[0]["id"]);
    // Evidence uploaded through A downloads through B (each node has its own data directory).
    if s3.is_some() {
        let hazard = app
            .send(
                client
                    .post(format!("{a}/api/v1/hazards"))
                    .bearer_auth(&token)
                    .json(&crate::support::hazard_body(
                        Some(first.id()),
                        "general",
                        "2026-11-20",
                    )),
            )
            .await;
        hazard.assert_status(201);
        let mut bytes = crate::support::png();
        bytes.extend_from_slice(b"uploaded through node A");
        let form = reqwest::multipart::Form::new()
            .text("stage", "before")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name("a.png"),
            );
        let uploaded = app
            .send(
                client
                    .post(format!("{a}/api/v1/hazards/{}/attachments", hazard.id()))
                    .bearer_auth(&token)
                    .multipart(form),
            )
            .await;
        uploaded.assert_status(201);
        let downloaded = app
            .send(
                client
                    .get(format!("{b}/api/v1/attachments/{}", uploaded.id()))
                    .bearer_auth(&token),
            )
            .await;
        downloaded.assert_status(200);
        assert!(downloaded.raw == bytes, "byte-identical through node B");
    }
    // Failed logins count wherever they land: 5 (the default), alternating, lock both.
    for i in 0..5 {
        let base = if i % 2 == 0 { &a } else { &b };
        app.send(login(base, "wrong-password"))
            .await
            .assert_problem(401, "invalid_credentials");
    }
    for base in [&a, &b] {
        app.send(login(base, ADMIN_PASSWORD))
            .await
            .assert_problem(429, "too_many_requests");
    }
    // The background purge: every slot claimed and run by exactly one node.
    let mut nodes_db = diesel::PgConnection::establish(&url).expect("node database");
    #[derive(diesel::QueryableByName)]
    struct Claims {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        claims: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        slots: i64,
    }
    let mut counted = Claims {
        claims: 0,
        slots: 0,
    };
    for _ in 0..40 {
        counted = diesel::sql_query(
            "SELECT COUNT(*) AS claims, COUNT(DISTINCT slot) AS slots FROM job_claims WHERE job = 'purge'",
        )
        .get_result(&mut nodes_db)
        .expect("claims");
        if counted.slots >= 3 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        counted.slots >= 3,
        "the purge ran in {} slots",
        counted.slots
    );
    assert_eq!(counted.claims, counted.slots, "a slot was run twice");
    drop(nodes_db);
    drop((node_a, node_b));
    let _ = std::fs::remove_dir_all(&dir);
    drop(db);
    app.stop().await;
}

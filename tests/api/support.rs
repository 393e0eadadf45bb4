//! The test harness: one server per test on port 0, on a fresh database of either backend
//! (SQLite: a temp file; PostgreSQL: a database cloned from a migrated template), and one small
//! typed helper per endpoint.

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Once, OnceLock};

use diesel::prelude::*;
use diesel::{Connection, PgConnection, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use hazard_registry::clock::ManualClock;
use hazard_registry::config::Config;

pub const ADMIN_PASSWORD: &str = "Loudi-Safety-2026";
pub const PASSWORD: &str = "Test-Password-2026";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn pg_admin_url() -> String {
    std::env::var("HAZREG_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn postgres_required() -> bool {
    std::env::var("HAZREG_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// Says once, on the real stderr (not captured by the test runner), that PostgreSQL is skipped.
fn announce_skip(reason: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** PostgreSQL is not reachable at {} ({reason}): the PostgreSQL variants of the \
             tests are SKIPPED and pass vacuously. Set HAZREG_TEST_POSTGRES_URL, or \
             HAZREG_TEST_REQUIRE_POSTGRES=1 to make this an error. ***\n",
            pg_admin_url()
        );
    });
}

fn migrations_hash() -> String {
    use std::hash::{Hash, Hasher};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<PathBuf> = walk(&dir);
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.to_string_lossy().hash(&mut h);
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn with_db(url: &str, name: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    format!("{base}/{name}")
}

/// A migrated template database, made once per migration set (safe across processes:
/// it is built under a private name and renamed into place).
fn pg_template() -> Result<String, String> {
    static TEMPLATE: OnceLock<Result<String, String>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let admin_url = pg_admin_url();
            let mut admin = PgConnection::establish(&admin_url).map_err(|e| e.to_string())?;
            let name = format!("hazreg_tpl_{}", migrations_hash());
            let exists: i64 = diesel::sql_query(format!(
                "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
            ))
            .get_result::<Count>(&mut admin)
            .map_err(|e| e.to_string())?
            .n;
            if exists > 0 {
                return Ok(name);
            }
            let tmp = format!("{name}_{}", uuid::Uuid::new_v4().simple());
            diesel::sql_query(format!("CREATE DATABASE {tmp}"))
                .execute(&mut admin)
                .map_err(|e| e.to_string())?;
            {
                let mut c = PgConnection::establish(&with_db(&admin_url, &tmp))
                    .map_err(|e| e.to_string())?;
                c.run_pending_migrations(hazard_registry::db::PG_MIGRATIONS)
                    .map_err(|e| e.to_string())?;
            }
            if diesel::sql_query(format!("ALTER DATABASE {tmp} RENAME TO {name}"))
                .execute(&mut admin)
                .is_err()
            {
                let _ = diesel::sql_query(format!("DROP DATABASE {tmp}")).execute(&mut admin);
            }
            Ok(name)
        })
        .clone()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn create_pg_database() -> Result<(String, String), String> {
    let template = pg_template()?;
    let admin_url = pg_admin_url();
    let mut admin = PgConnection::establish(&admin_url).map_err(|e| e.to_string())?;
    let name = format!("hazreg_t_{}", uuid::Uuid::new_v4().simple());
    let mut last = String::new();
    for _ in 0..20 {
        match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut admin)
        {
            Ok(_) => return Ok((name.clone(), with_db(&admin_url, &name))),
            Err(e) => {
                last = e.to_string();
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    Err(last)
}

/// Where a test's database lives, removed when the test ends.
enum Storage {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Drop for Storage {
    fn drop(&mut self) {
        match self {
            Storage::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Storage::Postgres(name) => {
                if let Ok(mut admin) = PgConnection::establish(&pg_admin_url()) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut admin);
                }
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    #[allow(dead_code)]
    pub backend: Backend,
    pub client: reqwest::Client,
    pub database_url: String,
    pub state_config: Config,
    server: actix_web::dev::ServerHandle,
    /// "Now" for the server; starts at the real time, tests may move it.
    pub clock: Arc<ManualClock>,
    _storage: Storage,
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as received.
    pub raw: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    pub fn etag(&self) -> String {
        self.header("etag").expect("response has an ETag")
    }
    pub fn id(&self) -> i64 {
        self.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {:?}", self.body))
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    pub fn items(&self) -> &Vec<Value> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {:?}", self.body))
    }
    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(
            self.status, status,
            "expected {status} {code}, got {:?}",
            self.body
        );
        assert_eq!(
            self.code(),
            code,
            "expected code {code}, got {:?}",
            self.body
        );
        assert!(
            self.header("content-type")
                .unwrap_or_default()
                .starts_with("application/problem+json"),
            "not problem+json: {:?}",
            self.headers
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"].is_string()
                && self.body["title"].is_string()
                && self.body["detail"].is_string()
        );
    }
    #[track_caller]
    pub fn assert_status_in(&self, statuses: &[u16]) -> &Self {
        assert!(
            statuses.contains(&self.status),
            "unexpected answer {}: {:?}",
            self.status,
            self.body
        );
        self
    }
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected answer: {:?}", self.body);
        self
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, &[]).await
    }

    /// `None` only when PostgreSQL is unreachable and not required.
    pub async fn spawn_with(backend: Backend, env: &[(&str, &str)]) -> Option<TestApp> {
        let (storage, url) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir()
                    .join(format!("hazreg-test-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}", dir.join("test.db").display());
                (Storage::Sqlite(dir), url)
            }
            Backend::Postgres => match create_pg_database() {
                Ok((name, url)) => (Storage::Postgres(name), url),
                Err(e) if !postgres_required() => {
                    announce_skip(&e);
                    return None;
                }
                Err(e) => panic!(
                    "PostgreSQL is required (HAZREG_TEST_REQUIRE_POSTGRES) but unusable: {e}"
                ),
            },
        };
        let reference = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/reference-two-cities.json");
        let mut vars: HashMap<String, String> = [
            ("HAZREG_DATABASE_URL", url.as_str()),
            ("HAZREG_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("HAZREG_ARGON2_MEMORY_KIB", "256"),
            ("HAZREG_WORKERS", "2"),
            ("HAZREG_DATABASE_POOL_SIZE", "6"),
            ("HAZREG_DATABASE_TIMEOUT_SECS", "2"),
            // Tests move the server's clock by days (deadlines, overdue); tokens follow that
            // clock, so they live long enough here. Expiry has its own test with the default.
            ("HAZREG_ACCESS_TOKEN_TTL_SECS", "7776000"),
            (
                "HAZREG_JWT_SECRET",
                "test-secret-test-secret-test-secret-0123456789",
            ),
            (
                "HAZREG_REFERENCE_DATA",
                reference.to_str().unwrap_or_default(),
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in env {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_map(&vars).expect("test config");
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let (app, server) = Self::start(config.clone(), clock.clone()).await;
        Some(TestApp {
            server,
            clock,
            base: app,
            backend,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            database_url: config.database_url.clone(),
            state_config: config,
            _storage: storage,
        })
    }

    async fn start(
        config: Config,
        clock: Arc<ManualClock>,
    ) -> (String, actix_web::dev::ServerHandle) {
        let mut boot = actix_web::web::block(move || hazard_registry::app::bootstrap(config))
            .await
            .expect("blocking pool")
            .expect("bootstrap");
        boot.state.clock = clock;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = hazard_registry::app::serve(boot.state, listener).expect("serve");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        (format!("http://127.0.0.1:{port}"), handle)
    }

    /// Stops the server before its database goes away.
    pub async fn stop(self) {
        self.server.stop(false).await;
    }

    /// Starts a second server on the same database (a restart, or a second node).
    pub async fn start_again(&self, env: &[(&str, &str)]) -> String {
        let mut config = self.state_config.clone();
        for (k, v) in env {
            if *k == "HAZREG_DATABASE_URL" {
                config.database_url = v.to_string();
            }
            if *k == "HAZREG_DATA_DIR" {
                config.data_dir = PathBuf::from(v);
            }
        }
        Self::start(config, self.clock.clone()).await.0
    }

    /// Pins the server's "now".
    pub fn set_now(&self, rfc3339: &str) {
        self.clock.set(rfc3339.parse().expect("RFC 3339 instant"));
    }

    /// Moves the server's clock forward and answers the new instant as RFC 3339 (microseconds,
    /// `Z`), ready for `updated_since`.
    pub fn advance(&self, by: std::time::Duration) -> String {
        use hazard_registry::clock::Clock;
        let at = self.clock.now() + chrono::Duration::from_std(by).expect("a short step");
        self.clock.set(at);
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }

    /// A connection to the test's SQLite file that waits for the server's writers (its
    /// background jobs write at start) rather than failing at once.
    fn sqlite_connection(&self) -> diesel::SqliteConnection {
        let path = self.database_url.trim_start_matches("sqlite://");
        let mut c = diesel::SqliteConnection::establish(path).expect("sqlite");
        diesel::sql_query("PRAGMA busy_timeout = 10000")
            .execute(&mut c)
            .expect("busy timeout");
        c
    }

    /// Runs a statement directly on the test's database (fixtures for what has no API yet).
    pub fn sql(&self, statement: &str) {
        match self.backend {
            Backend::Sqlite => {
                let mut c = self.sqlite_connection();
                diesel::sql_query(statement)
                    .execute(&mut c)
                    .expect("fixture statement");
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.database_url).expect("postgres");
                diesel::sql_query(statement)
                    .execute(&mut c)
                    .expect("fixture statement");
            }
        }
    }

    /// Runs a query on the test's database and answers its text column `t`, row by row.
    pub fn sql_texts(&self, query: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        let rows: Vec<Text> = match self.backend {
            Backend::Sqlite => {
                let mut c = self.sqlite_connection();
                diesel::sql_query(query).load(&mut c).expect("query")
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.database_url).expect("postgres");
                diesel::sql_query(query).load(&mut c).expect("query")
            }
        };
        rows.into_iter().map(|r| r.t).collect()
    }

    /// Uploads an attachment to a hazard.
    pub async fn upload(
        &self,
        token: &str,
        hazard: i64,
        stage: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Resp {
        let form = reqwest::multipart::Form::new()
            .text("stage", stage.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            );
        self.send(
            self.client
                .post(self.url(&format!("/api/v1/hazards/{hazard}/attachments")))
                .bearer_auth(token)
                .multipart(form),
        )
        .await
    }

    /// Takes a lifecycle action with the hazard's current ETag.
    pub async fn act(&self, token: &str, hazard: i64, body: Value) -> Resp {
        let path = format!("/api/v1/hazards/{hazard}");
        let etag = self
            .get(token, &path)
            .await
            .header("etag")
            .unwrap_or_else(|| "\"0\"".into());
        self.send(
            self.client
                .post(self.url(&format!("{path}/transitions")))
                .bearer_auth(token)
                .header("if-match", etag)
                .json(&body),
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request and checks the exchange against the OpenAPI document
    /// (`contract::Contract::check`): every answer the suite reads has been validated.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        {
            let (client, request) = req.build_split();
            let request = request.expect("request builds");
            let method = request.method().as_str().to_string();
            let path = request.url().path().to_string();
            let request_content_type = request
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let request_body = request
                .body()
                .and_then(|b| b.as_bytes())
                .map(<[u8]>::to_vec);
            let res = client.execute(request).await.expect("request sent");
            let resp = Self::read(res).await;
            crate::contract::contract().check(&crate::contract::Exchange {
                method: &method,
                path: &path,
                request_content_type: request_content_type.as_deref(),
                request_body: request_body.as_deref(),
                status: resp.status,
                response_content_type: resp.header("content-type").as_deref(),
                response_body: &resp.raw,
            });
            resp
        }
    }

    async fn read(res: reqwest::Response) -> Resp {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Resp {
            status,
            headers,
            body,
            raw: bytes.to_vec(),
        }
    }

    fn auth(&self, req: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
        if token.is_empty() {
            req
        } else {
            req.bearer_auth(token)
        }
    }

    pub async fn get(&self, token: &str, path: &str) -> Resp {
        self.send(self.auth(self.client.get(self.url(path)), token))
            .await
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> Resp {
        self.send(
            self.auth(self.client.post(self.url(path)), token)
                .json(body),
        )
        .await
    }

    pub async fn patch(&self, token: &str, path: &str, etag: Option<&str>, body: &Value) -> Resp {
        let mut req = self
            .auth(self.client.patch(self.url(path)), token)
            .json(body);
        if let Some(e) = etag {
            req = req.header("if-match", e);
        }
        self.send(req).await
    }

    /// Reads the resource, then patches it with its current ETag.
    pub async fn patch_fresh(&self, token: &str, path: &str, body: &Value) -> Resp {
        let current = self.get(token, path).await;
        if current.status != 200 {
            return current;
        }
        self.patch(token, path, Some(&current.etag()), body).await
    }

    pub async fn login_raw(&self, username: &str, password: &str) -> Resp {
        self.post(
            "",
            "/api/v1/auth/login",
            &json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self.login_raw(username, password).await;
        r.assert_status(200);
        r.body["access_token"]
            .as_str()
            .expect("access token")
            .to_string()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates an account (as `creator`) and signs it in.
    pub async fn account(
        &self,
        creator: &str,
        username: &str,
        role: &str,
        binding: Value,
    ) -> (i64, String) {
        let mut body = json!({"username": username, "password": PASSWORD, "display_name": username, "role": role});
        if let (Some(o), Some(b)) = (body.as_object_mut(), binding.as_object()) {
            o.extend(b.clone());
        }
        let r = self.post(creator, "/api/v1/accounts", &body).await;
        r.assert_status(201);
        (r.id(), self.login(username, PASSWORD).await)
    }

    pub async fn regulator(
        &self,
        creator: &str,
        username: &str,
        role: &str,
        jurisdiction: &str,
    ) -> (i64, String) {
        self.account(
            creator,
            username,
            role,
            json!({"jurisdiction_code": jurisdiction}),
        )
        .await
    }

    pub async fn enterprise(
        &self,
        token: &str,
        uscc: &str,
        jurisdiction: &str,
        sector: &str,
    ) -> i64 {
        let r = self
            .post(
                token,
                "/api/v1/enterprises",
                &enterprise_body(uscc, jurisdiction, sector),
            )
            .await;
        r.assert_status(201);
        r.id()
    }

    pub async fn department_id(&self, token: &str, name: &str) -> i64 {
        let r = self.get(token, "/api/v1/departments").await;
        r.items()
            .iter()
            .find(|d| d["name"] == name)
            .and_then(|d| d["id"].as_i64())
            .unwrap_or_else(|| panic!("no department {name}"))
    }

    /// A city administrator of the second city (怀化市), made from the command line path, for
    /// "foreign" objects no Loudi account may reach.
    pub async fn foreign_admin(&self) -> String {
        let config = self.state_config.clone();
        let boot = actix_web::web::block(move || hazard_registry::app::bootstrap(config))
            .await
            .expect("blocking")
            .expect("bootstrap");
        hazard_registry::routes::accounts::create_from_cli(
            &boot.state,
            &system(),
            "hh.admin",
            PASSWORD,
            hazard_registry::routes::accounts::BindingInput {
                display_name: "怀化 admin".into(),
                role: hazard_registry::domain::role::Role::CityAdmin,
                jurisdiction_code: Some("431200".into()),
                department_id: None,
                enterprise_id: None,
                disabled: false,
            },
        )
        .await
        .expect("foreign admin");
        self.login("hh.admin", PASSWORD).await
    }
}

fn system() -> hazard_registry::auth::Principal {
    hazard_registry::auth::Principal {
        account_id: 0,
        username: "test".into(),
        role: hazard_registry::domain::role::Role::CityAdmin,
        jurisdiction_code: None,
        jurisdiction_path: Some("/".into()),
        reach: None,
        department_id: None,
        department_sectors: None,
        enterprise_id: None,
        session_id: String::new(),
        second_factor: true,
        request_id: "test".into(),
    }
}

/// A tiny valid PNG (1×1), and its first bytes are what the server sniffs.
pub fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&[
        0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15,
        0xc4, 0x89,
    ]);
    v.extend_from_slice(b"rest of the image");
    v
}

/// A complete 五定 block on top of a hazard body.
pub fn five_fixes(mut body: Value, deadline: &str) -> Value {
    let o = body.as_object_mut().expect("object");
    o.insert("responsible_person".into(), json!("张伟"));
    o.insert("rectification_deadline".into(), json!(deadline));
    o.insert("measures".into(), json!("更换并加装防护；整改期间设警戒"));
    o.insert("funds_10k_yuan".into(), json!(1.5));
    o.insert("acceptance_criteria".into(), json!("防护装置齐全有效"));
    body
}

pub fn hazard_body(enterprise_id: Option<i64>, level: &str, discovered_on: &str) -> Value {
    let mut b = json!({
        "title": "配电室未配置绝缘垫",
        "description": "高压柜前未铺设绝缘垫",
        "level": level,
        "discovered_on": discovered_on,
        "standard_ref": "GB 50054-2011 4.2",
    });
    if let Some(e) = enterprise_id {
        b["enterprise_id"] = json!(e);
    }
    b
}

pub fn major_documents(mut body: Value) -> Value {
    body["major_report"] =
        json!({"situation_and_cause": "报警仪失效", "harm_and_difficulty": "可能引发爆炸"});
    body["governance_plan"] = json!({
        "goals_and_tasks": "恢复报警联锁", "methods_and_measures": "更换报警仪",
        "funds_and_materials": "12 万元", "organization_and_personnel": "设备部",
        "timeline_and_requirements": "30 日内完成", "safety_measures_and_emergency_plan": "人工巡检"
    });
    body
}

pub fn enterprise_body(uscc: &str, jurisdiction: &str, sector: &str) -> Value {
    json!({
        "uscc": uscc,
        "name": format!("测试企业 {uscc}"),
        "jurisdiction_code": jurisdiction,
        "sector_code": sector,
        "employees": 10,
        "annual_revenue_10k_yuan": 100.0,
    })
}

/// The `n`-th valid USCC of a made-up series (GB 32100 check character computed).
pub fn uscc(n: u32) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body = format!("91431302{:09}", n);
    let sum: usize = body
        .bytes()
        .enumerate()
        .map(|(i, c)| WEIGHTS[i] * ALPHABET.iter().position(|&a| a == c).unwrap_or(0))
        .sum();
    format!("{body}{}", ALPHABET[(31 - sum % 31) % 31] as char)
}

/// Runs one test body on both backends.
macro_rules! both {
    ($name:ident, |$app:ident| $body:block) => {
        both!($name, env = [], |$app| $body);
    };
    ($name:ident, env = [$(($k:expr, $v:expr)),* $(,)?], |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use crate::support::*;

            async fn run($app: &TestApp) $body

            #[actix_web::test]
            async fn sqlite() {
                let app = TestApp::spawn_with(Backend::Sqlite, &[$(($k, $v)),*]).await.expect("sqlite app");
                run(&app).await;
                app.stop().await;
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = TestApp::spawn_with(Backend::Postgres, &[$(($k, $v)),*]).await {
                    run(&app).await;
                    app.stop().await;
                }
            }
        }
    };
}
pub(crate) use both;

/// Percent-encodes a query value (every byte outside the unreserved set).
pub fn query_value(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An empty PostgreSQL database of its own for a test that runs server processes, dropped
/// (connections and all) when the value is. `None` when PostgreSQL is not there and not
/// required.
pub struct ScratchDatabase {
    pub name: String,
    admin: diesel::PgConnection,
}

impl ScratchDatabase {
    pub fn create(prefix: &str) -> Option<ScratchDatabase> {
        let Ok(mut admin) = diesel::PgConnection::establish(&pg_admin_url()) else {
            assert!(
                std::env::var("HAZREG_TEST_REQUIRE_POSTGRES").is_err(),
                "PostgreSQL is required"
            );
            return None;
        };
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        Some(ScratchDatabase { name, admin })
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let _ = diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut self.admin);
    }
}

/// A server process (the built binary), killed when dropped.
pub struct Node(pub std::process::Child);

impl Node {
    /// Starts the binary on a free port and answers its base URL once it says it serves.
    pub fn start(
        dir: &std::path::Path,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> (Node, String) {
        Self::start_args(&[], dir, database_url, env)
    }

    /// [`Node::start`] with command-line arguments (`serve --no-migrate`).
    pub fn start_args(
        args: &[&str],
        dir: &std::path::Path,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> (Node, String) {
        use std::io::{BufRead, BufReader};
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hazard-registry"));
        command
            .args(args)
            .env_clear()
            .env("HAZREG_DATA_DIR", dir)
            .env("HAZREG_DATABASE_URL", database_url)
            .env("HAZREG_BIND", "127.0.0.1:0")
            .env("HAZREG_LOG_FORMAT", "json")
            .env("HAZREG_ARGON2_MEMORY_KIB", "256")
            .env("HAZREG_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start hazard-registry");
        let stdout = child.stdout.take().unwrap();
        let mut address = None;
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        for line in lines.by_ref() {
            if line.contains("serving") {
                let v: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
                address = v["address"].as_str().map(str::to_string);
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        let base = format!(
            "http://{}",
            address.expect("the server started and said where")
        );
        (Node(child), base)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (up to 15 s) until the server at `base` answers `/readyz` 200.
pub async fn becomes_ready(app: &TestApp, client: &reqwest::Client, base: &str) -> bool {
    for _ in 0..60 {
        if app.send(client.get(format!("{base}/readyz"))).await.status == 200 {
            return true;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    false
}

/// A local S3-compatible server (moto's `moto_server`, from `HAZREG_TEST_MOTO_SERVER` or the
/// `PATH`) for one test, with one empty bucket; killed when dropped. `None` when moto is not
/// installed and `HAZREG_TEST_REQUIRE_S3` is not set (the test then says it is skipped).
pub struct S3Server {
    child: std::process::Child,
    pub endpoint: String,
    pub bucket: String,
}

impl S3Server {
    pub async fn start() -> Option<S3Server> {
        let program =
            std::env::var("HAZREG_TEST_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let required =
            std::env::var("HAZREG_TEST_REQUIRE_S3").is_ok_and(|v| v == "1" || v == "true");
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = match std::process::Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) if !required => {
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** {program} could not be started ({e}): the S3 object-storage tests are \
                     SKIPPED. Install moto (`pip install 'moto[server]'`) or set \
                     HAZREG_TEST_MOTO_SERVER; HAZREG_TEST_REQUIRE_S3=1 makes this an error. ***\n"
                );
                return None;
            }
            Err(e) => panic!("moto is required (HAZREG_TEST_REQUIRE_S3) but {program}: {e}"),
        };
        let server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: format!("evidence-{}", uuid::Uuid::new_v4().simple()),
        };
        let client = reqwest::Client::new();
        for _ in 0..150 {
            if let Ok(r) = client
                .put(format!("{}/{}", server.endpoint, server.bucket))
                .send()
                .await
            {
                assert!(
                    r.status().is_success(),
                    "creating the bucket: {}",
                    r.status()
                );
                return Some(server);
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{program} did not answer on port {port}");
    }

    /// The server's settings for this bucket.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("HAZREG_S3_BUCKET", self.bucket.clone()),
            ("HAZREG_S3_ENDPOINT", self.endpoint.clone()),
            ("HAZREG_S3_ALLOW_HTTP", "true".into()),
            ("HAZREG_S3_ACCESS_KEY_ID", "test-access-key".into()),
            ("HAZREG_S3_SECRET_ACCESS_KEY", "test-secret-key".into()),
        ]
    }

    /// The bytes stored under `key` in the bucket, read with the server's credentials but not
    /// through the server (`None`: no such object).
    pub async fn object(&self, key: &str) -> Option<Vec<u8>> {
        use object_store::ObjectStoreExt;
        let store = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&self.bucket)
            .with_region("us-east-1")
            .with_endpoint(&self.endpoint)
            .with_virtual_hosted_style_request(false)
            .with_access_key_id("test-access-key")
            .with_secret_access_key("test-secret-key")
            .with_client_options(object_store::ClientOptions::default().with_allow_http(true))
            .build()
            .expect("S3 client");
        match store.get(&object_store::path::Path::from(key)).await {
            Ok(got) => Some(got.bytes().await.expect("object body").to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("reading {key} from moto: {e}"),
        }
    }

    /// The environment of a command-line run (`backup`, `restore`) on this bucket.
    pub fn command_env(
        &self,
        database_url: &str,
        data_dir: &std::path::Path,
    ) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        env.push(("HAZREG_DATABASE_URL".into(), database_url.to_string()));
        env.push(("HAZREG_DATA_DIR".into(), data_dir.display().to_string()));
        env
    }

    /// Stops the server (storage outage).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs the built binary with `args` and only `env` (plus quiet logs): (success, stdout +
/// stderr).
pub fn run_command(args: &[&str], env: &[(String, String)]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hazard-registry"))
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .env("HAZREG_LOG", "warn")
        .output()
        .expect("run hazard-registry");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

//! `hazard-registry backup` and `restore`, run as the built binary beside a server that keeps
//! writing: every hazard acknowledged before the backup began comes back, with its evidence
//! byte-identical, on a server started on the restored data directory (SQLite: database and
//! evidence; PostgreSQL: the evidence part, on the same database). A restore refuses a
//! non-empty target without `--force`, and a damaged backup without touching the target.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::support::{
    becomes_ready, hazard_body, png, uscc, Backend, Node, TestApp, ADMIN_PASSWORD,
};

/// A hazard the server acknowledged (201 for the hazard and for its attachment).
#[derive(Clone)]
struct Acked {
    hazard: i64,
    title: String,
    attachment: i64,
    bytes: Vec<u8>,
}

fn temp_dir(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("hazreg-{what}-{}", uuid::Uuid::new_v4().simple()))
}

/// Runs the binary with `args` on the installation described by `env`, off the test's
/// thread; answers (success, stdout + stderr).
async fn command(args: &[&str], env: Vec<(String, String)>) -> (bool, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::support::run_command(&args, &env)
    })
    .await
    .expect("blocking task")
}

fn installation(data_dir: &Path, database_url: Option<&str>) -> Vec<(String, String)> {
    let mut env = vec![(
        "HAZREG_DATA_DIR".to_string(),
        data_dir.display().to_string(),
    )];
    if let Some(url) = database_url {
        env.push(("HAZREG_DATABASE_URL".into(), url.to_string()));
    }
    env
}

/// Creates one hazard with one `before` photo whose bytes are unique to `n`.
async fn write_one(app: &TestApp, token: &str, enterprise: i64, n: usize) -> Option<Acked> {
    let title = format!("备份期间写入的隐患 {n}");
    let mut body = hazard_body(Some(enterprise), "general", "2026-11-20");
    body["title"] = json!(title);
    let r = app.post(token, "/api/v1/hazards", &body).await;
    if r.status != 201 {
        return None;
    }
    let hazard = r.id();
    let mut bytes = png();
    bytes.extend_from_slice(format!("photo {n}").as_bytes());
    let r = app
        .upload(token, hazard, "before", "现场.png", bytes.clone())
        .await;
    (r.status == 201).then(|| Acked {
        hazard,
        title,
        attachment: r.id(),
        bytes,
    })
}

/// Writes hazards on three concurrent clients until `stop`; each acknowledged one is pushed.
async fn keep_writing(
    app: &TestApp,
    token: &str,
    enterprise: i64,
    acked: &Mutex<Vec<Acked>>,
    stop: &AtomicBool,
) {
    let client = |k: usize| async move {
        let mut n = 1000 * (k + 1);
        while !stop.load(Ordering::SeqCst) {
            if let Some(a) = write_one(app, token, enterprise, n).await {
                acked.lock().unwrap().push(a);
            }
            n += 1;
        }
    };
    futures_util::future::join3(client(0), client(1), client(2)).await;
}

/// Signs in on a server process and checks every hazard in `expected` and its evidence.
async fn check_restored(app: &TestApp, base: &str, expected: &[Acked]) {
    let client = reqwest::Client::new();
    assert!(
        becomes_ready(app, &client, base).await,
        "the server on the restored data became ready"
    );
    let r = app
        .send(
            client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    r.assert_status(200);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    for a in expected {
        let r = app
            .send(
                client
                    .get(format!("{base}/api/v1/hazards/{}", a.hazard))
                    .bearer_auth(&token),
            )
            .await;
        r.assert_status(200);
        assert_eq!(r.body["title"], json!(a.title));
        let r = app
            .send(
                client
                    .get(format!("{base}/api/v1/attachments/{}", a.attachment))
                    .bearer_auth(&token),
            )
            .await;
        r.assert_status(200);
        assert!(
            r.raw == a.bytes,
            "attachment {} is byte-identical",
            a.attachment
        );
    }
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest")).unwrap()
}

/// The whole scenario; `database` is the database URL the restored server uses (SQLite: the
/// restored file under the new data directory; PostgreSQL: the same database).
async fn backup_during_writes_restores(backend: Backend) {
    let data = temp_dir("backup-data");
    std::fs::create_dir_all(&data).unwrap();
    let sqlite_url = format!("sqlite://{}", data.join("hazard-registry.db").display());
    let data_env = data.display().to_string();
    let mut env = vec![("HAZREG_DATA_DIR", data_env.as_str())];
    if backend == Backend::Sqlite {
        env.push(("HAZREG_DATABASE_URL", sqlite_url.as_str()));
    }
    let Some(app) = TestApp::spawn_with(backend, &env).await else {
        return;
    };
    let admin = app.admin().await;
    let enterprise = app.enterprise(&admin, &uscc(71), "431302", "other").await;
    let (_, token) = app
        .account(
            &admin,
            "backup-writer",
            "enterprise",
            json!({"enterprise_id": enterprise}),
        )
        .await;

    // Written and acknowledged before the backup begins.
    let mut before = Vec::new();
    for n in 0..8 {
        before.push(
            write_one(&app, &token, enterprise, n)
                .await
                .expect("written"),
        );
    }
    let backup_dir = temp_dir("backup");
    let acked = Mutex::new(Vec::new());
    let stop = Arc::new(AtomicBool::new(false));
    let writers = keep_writing(&app, &token, enterprise, &acked, &stop);
    let take = async {
        // Let the writers get going, then back up while they write.
        while acked.lock().unwrap().len() < 3 {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        before.extend(acked.lock().unwrap().iter().cloned());
        let done = command(
            &["backup", "--to", &backup_dir.display().to_string()],
            installation(&data, Some(&app.database_url)),
        )
        .await;
        stop.store(true, Ordering::SeqCst);
        done
    };
    let ((ok, out), ()) = futures_util::future::join(take, writers).await;
    assert!(ok, "backup failed: {out}");
    let during = acked.lock().unwrap().len();
    assert!(
        during > 3,
        "writes went on during the backup ({during} in all)"
    );

    let m = manifest(&backup_dir);
    assert_eq!(m["format"], json!("hazard-registry-backup/1"));
    let hazards_in_backup = m["counts"]["hazards"].as_i64().unwrap();
    assert!(hazards_in_backup >= before.len() as i64);
    assert_eq!(
        m["attachments"].as_array().unwrap().len() as i64,
        m["counts"]["attachments"].as_i64().unwrap(),
        "each photo here is distinct, so one file per attachment row"
    );
    assert_eq!(m["database"].is_null(), backend == Backend::Postgres);

    // A second backup into the same folder copies only the files it lacks.
    let (ok, out) = command(
        &["backup", "--to", &backup_dir.display().to_string()],
        installation(&data, Some(&app.database_url)),
    )
    .await;
    assert!(ok, "{out}");
    let again = manifest(&backup_dir);
    let files = m["attachments"].as_array().unwrap().len();
    let new_files = again["attachments"].as_array().unwrap().len() - files;
    assert!(
        out.contains(&format!("({new_files} copied, {files} already there)")),
        "only the files written since the first backup are copied: {out}"
    );

    // Restore into a fresh data directory.
    let restored = temp_dir("restored");
    let target_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(app.database_url.as_str()),
    };
    let from = backup_dir.display().to_string();
    let (ok, out) = command(
        &["restore", "--from", &from],
        installation(&restored, target_url),
    )
    .await;
    assert!(ok, "restore failed: {out}");
    if backend == Backend::Postgres {
        assert!(
            out.contains("every attachment row of the database finds its file"),
            "{out}"
        );
    }
    // Not again over it without --force; with it, yes.
    let (ok, out) = command(
        &["restore", "--from", &from],
        installation(&restored, target_url),
    )
    .await;
    assert!(!ok && out.contains("without --force"), "{out}");
    let (ok, out) = command(
        &["restore", "--from", &from, "--force"],
        installation(&restored, target_url),
    )
    .await;
    assert!(ok, "{out}");

    // A damaged backup is refused before anything is put in place.
    let damaged_target = temp_dir("damaged-target");
    let sha = m["attachments"][0]["sha256"].as_str().unwrap();
    let file = backup_dir
        .join("attachments")
        .join(&sha[..2])
        .join(&sha[2..4])
        .join(sha);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.push(b'!');
    std::fs::write(&file, bytes).unwrap();
    let (ok, out) = command(
        &["restore", "--from", &from],
        installation(&damaged_target, target_url),
    )
    .await;
    assert!(!ok && out.contains("damaged"), "{out}");
    assert!(
        !damaged_target.join("hazard-registry.db").exists()
            && !damaged_target.join("attachments").exists(),
        "nothing was restored from a damaged backup"
    );

    // A manifest naming a path instead of a digest is refused before anything is read.
    let crafted = temp_dir("crafted-backup");
    std::fs::create_dir_all(&crafted).unwrap();
    let mut evil = again.clone();
    evil["attachments"][0]["sha256"] = json!("../../../../tmp/hazreg-outside");
    std::fs::write(crafted.join("manifest.json"), evil.to_string()).unwrap();
    let (ok, out) = command(
        &["restore", "--from", &crafted.display().to_string()],
        installation(&damaged_target, target_url),
    )
    .await;
    assert!(!ok && out.contains("is not a SHA-256"), "{out}");
    let _ = std::fs::remove_dir_all(&crafted);

    // A server on the restored data finds everything acknowledged before the backup began.
    let database = match backend {
        Backend::Sqlite => format!("sqlite://{}", restored.join("hazard-registry.db").display()),
        Backend::Postgres => app.database_url.clone(),
    };
    let (node, base) = Node::start(
        &restored,
        &database,
        &[(
            "HAZREG_JWT_SECRET",
            "restored-node-secret-restored-node-secret-0123",
        )],
    );
    check_restored(&app, &base, &before).await;
    if backend == Backend::Sqlite {
        // Not under a running server, even with --force (from an intact backup).
        let intact = temp_dir("backup-intact");
        let (ok, out) = command(
            &["backup", "--to", &intact.display().to_string()],
            installation(&data, Some(&app.database_url)),
        )
        .await;
        assert!(ok, "{out}");
        let (ok, out) = command(
            &[
                "restore",
                "--from",
                &intact.display().to_string(),
                "--force",
            ],
            installation(&restored, target_url),
        )
        .await;
        assert!(!ok && out.contains("a server is running"), "{out}");
        let _ = std::fs::remove_dir_all(&intact);
    }
    if backend == Backend::Sqlite {
        // The restored database is the (second) snapshot: as many hazards as its manifest says.
        let r = app
            .send(
                reqwest::Client::new()
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
            )
            .await;
        let token = r.body["access_token"].as_str().unwrap().to_string();
        let r = app
            .send(
                reqwest::Client::new()
                    .get(format!("{base}/api/v1/stats/hazards?group_by=level"))
                    .bearer_auth(&token),
            )
            .await;
        r.assert_status(200);
        assert_eq!(
            r.body["totals"]["found"].as_i64(),
            again["counts"]["hazards"].as_i64(),
            "{}",
            r.body
        );
    }
    drop(node);
    app.stop().await;
    for d in [&data, &backup_dir, &restored, &damaged_target] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[actix_web::test]
async fn a_backup_during_writes_restores_every_acknowledged_hazard_sqlite() {
    backup_during_writes_restores(Backend::Sqlite).await;
}

#[actix_web::test]
async fn a_backup_during_writes_restores_every_acknowledged_hazard_postgres() {
    backup_during_writes_restores(Backend::Postgres).await;
}

/// `serve --no-migrate` refuses a database with pending migrations and names them; after
/// `migrate` (run by two processes at once: they take turns on PostgreSQL's start lock) it
/// serves. `migrate` also loads the reference data and prints the first administrator's
/// password, once.
#[actix_web::test]
async fn migrate_then_serve_no_migrate() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = temp_dir("no-migrate");
        let scratch = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => match crate::support::ScratchDatabase::create("hazreg_migrate") {
                Some(db) => Some(db),
                None => continue,
            },
        };
        let url = match &scratch {
            None => format!("sqlite://{}", dir.join("hazard-registry.db").display()),
            Some(db) => format!("postgres://postgres@127.0.0.1:5432/{}", db.name),
        };
        let mut env = installation(&dir, Some(&url));
        env.push((
            "HAZREG_JWT_SECRET".into(),
            "no-migrate-secret-no-migrate-secret-0123456".into(),
        ));
        env.push(("HAZREG_BIND".into(), "127.0.0.1:0".into()));
        env.push(("HAZREG_ARGON2_MEMORY_KIB".into(), "256".into()));
        let (ok, out) = command(&["serve", "--no-migrate"], env.clone()).await;
        assert!(!ok, "{out}");
        assert!(
            out.contains("migration(s) pending")
                && out.contains("2026-11-29-000001_foundation")
                && out.contains("hazard-registry migrate"),
            "{out}"
        );
        let (a, b) = futures_util::future::join(
            command(&["migrate"], env.clone()),
            command(&["migrate"], env.clone()),
        )
        .await;
        assert!(a.0 && b.0, "both migrate runs succeed:\n{}\n{}", a.1, b.1);
        let all = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
            .unwrap()
            .count();
        let mut applied = [&a.1, &b.1].map(|o| {
            o.lines()
                .find_map(|l| l.strip_suffix(" migration(s) applied"))
                .and_then(|n| n.parse::<usize>().ok())
                .expect("the count of applied migrations")
        });
        applied.sort();
        assert_eq!(
            applied,
            [0, all],
            "one run applied them all, the other none"
        );
        let announced = [&a.1, &b.1]
            .iter()
            .filter(|o| o.contains("username: admin"))
            .count();
        assert_eq!(announced, 1, "one run created the admin:\n{}\n{}", a.1, b.1);
        let password = [&a.1, &b.1]
            .iter()
            .find_map(|o| {
                o.lines()
                    .find_map(|l| l.trim().strip_prefix("password: ").map(str::to_string))
            })
            .expect("the generated password");
        let app = TestApp::spawn(Backend::Sqlite).await.expect("checker");
        let (node, base) = Node::start_args(
            &["serve", "--no-migrate"],
            &dir,
            &url,
            &[(
                "HAZREG_JWT_SECRET",
                "no-migrate-secret-no-migrate-secret-0123456",
            )],
        );
        let r = app
            .send(
                reqwest::Client::new()
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"username": "admin", "password": password})),
            )
            .await;
        r.assert_status(200);
        let r = app
            .send(
                reqwest::Client::new()
                    .get(format!("{base}/api/v1/jurisdictions"))
                    .bearer_auth(r.body["access_token"].as_str().unwrap()),
            )
            .await;
        r.assert_status(200);
        assert!(!r.items().is_empty(), "migrate loaded the reference data");
        drop(node);
        app.stop().await;
        drop(scratch);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

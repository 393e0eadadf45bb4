//! Evidence files in S3-compatible object storage (`HAZREG_S3_*`), against a local moto server
//! the test starts: a file uploaded through one node is in the bucket and downloads
//! byte-identical (ranges too) through another node with an empty cache; while the storage is
//! down an upload answers `503 storage_unavailable` and writes no row; a backup takes the
//! evidence from the bucket and a restore puts it into an empty one.

use std::path::PathBuf;

use crate::support::{hazard_body, png, run_command, uscc, Backend, S3Server, TestApp};

fn temp_dir(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("hazreg-{what}-{}", uuid::Uuid::new_v4().simple()))
}

fn key_of(sha: &str) -> String {
    format!("attachments/{}/{}/{sha}", &sha[..2], &sha[2..4])
}

async fn evidence_is_shared_through_object_storage(backend: Backend) {
    let Some(mut s3) = S3Server::start().await else {
        return;
    };
    let node_a = temp_dir("s3-node-a");
    let node_b = temp_dir("s3-node-b");
    let a_dir = node_a.display().to_string();
    let mut env: Vec<(&str, String)> = s3.env();
    env.push(("HAZREG_DATA_DIR", a_dir.clone()));
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let Some(app) = TestApp::spawn_with(backend, &env_refs).await else {
        return;
    };
    let admin = app.admin().await;
    let enterprise = app.enterprise(&admin, &uscc(91), "431302", "other").await;
    let r = app
        .post(
            &admin,
            "/api/v1/hazards",
            &hazard_body(Some(enterprise), "general", "2026-11-20"),
        )
        .await;
    r.assert_status(201);
    let hazard = r.id();
    let mut bytes = png();
    bytes.extend_from_slice(&[7u8; 3000]);
    let r = app
        .upload(&admin, hazard, "before", "现场.png", bytes.clone())
        .await;
    r.assert_status(201);
    let attachment = r.id();
    let sha = r.body["sha256"].as_str().unwrap().to_string();

    // In the bucket, byte for byte.
    assert!(
        s3.object(&key_of(&sha)).await.as_deref() == Some(&bytes[..]),
        "the file is in the bucket under {}",
        key_of(&sha)
    );

    // A second node with an empty cache serves it from the bucket, ranges included.
    let b_dir = node_b.display().to_string();
    let base_b = app.start_again(&[("HAZREG_DATA_DIR", &b_dir)]).await;
    let path = format!("/api/v1/attachments/{attachment}");
    let r = app
        .send(
            app.client
                .get(format!("{base_b}{path}"))
                .bearer_auth(&admin),
        )
        .await;
    r.assert_status(200);
    assert!(r.raw == bytes, "byte-identical through the other node");
    let r = app
        .send(
            app.client
                .get(format!("{base_b}{path}"))
                .bearer_auth(&admin)
                .header("range", "bytes=0-7"),
        )
        .await;
    r.assert_status(206);
    assert!(r.raw == bytes[..8], "the first 8 bytes");
    assert!(
        node_b
            .join("attachments")
            .join(&sha[..2])
            .join(&sha[2..4])
            .join(&sha)
            .is_file(),
        "node B keeps a cached copy"
    );

    // A backup takes the evidence from the bucket; a restore fills an empty bucket.
    let backup_dir = temp_dir("s3-backup");
    let cmd_env = s3.command_env(&app.database_url, &temp_dir("s3-backup-node"));
    let (ok, out) = run_command(
        &["backup", "--to", &backup_dir.display().to_string()],
        &cmd_env,
    );
    assert!(ok, "{out}");
    let copied = std::fs::read(
        backup_dir
            .join("attachments")
            .join(&sha[..2])
            .join(&sha[2..4])
            .join(&sha),
    )
    .expect("the backup holds the file");
    assert!(copied == bytes, "the backup's copy is byte-identical");
    let fresh = S3Server::start().await.expect("a second moto");
    let mut restore_env = fresh.command_env(&app.database_url, &temp_dir("s3-restore-node"));
    if backend == Backend::Sqlite {
        // SQLite restores its database file too; into a fresh place.
        let dir = temp_dir("s3-restore-db");
        restore_env.retain(|(k, _)| k != "HAZREG_DATABASE_URL");
        restore_env.push((
            "HAZREG_DATABASE_URL".into(),
            format!("sqlite://{}", dir.join("hazard-registry.db").display()),
        ));
    }
    let from = backup_dir.display().to_string();
    let (ok, out) = run_command(&["restore", "--from", &from], &restore_env);
    assert!(ok, "{out}");
    assert!(
        fresh.object(&key_of(&sha)).await.as_deref() == Some(&bytes[..]),
        "restored into the empty bucket"
    );
    assert!(
        out.contains("every attachment row of the database finds its file"),
        "{out}"
    );
    // The bucket now holds files: not again without --force.
    if backend == Backend::Postgres {
        let (ok, out) = run_command(&["restore", "--from", &from], &restore_env);
        assert!(!ok && out.contains("without --force"), "{out}");
    }

    // Storage down: an upload answers 503 and leaves no row; an uncached download answers 503.
    s3.stop();
    let before = app
        .get(&admin, &format!("/api/v1/hazards/{hazard}/attachments"))
        .await;
    before.assert_status(200);
    let mut other = png();
    other.extend_from_slice(b"written while the storage is down");
    let r = app.upload(&admin, hazard, "before", "x.png", other).await;
    r.assert_problem(503, "storage_unavailable");
    assert!(r.header("retry-after").is_some());
    let after = app
        .get(&admin, &format!("/api/v1/hazards/{hazard}/attachments"))
        .await;
    assert_eq!(
        after.items().len(),
        before.items().len(),
        "no row was written"
    );
    let node_c = temp_dir("s3-node-c").display().to_string();
    let base_c = app.start_again(&[("HAZREG_DATA_DIR", &node_c)]).await;
    let r = app
        .send(
            app.client
                .get(format!("{base_c}{path}"))
                .bearer_auth(&admin),
        )
        .await;
    r.assert_problem(503, "storage_unavailable");
    // A node that has the file cached still serves it.
    let r = app
        .send(
            app.client
                .get(format!("{base_b}{path}"))
                .bearer_auth(&admin),
        )
        .await;
    r.assert_status(200);
    app.stop().await;
    for d in [&node_a, &node_b, &backup_dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[actix_web::test]
async fn evidence_is_shared_through_object_storage_sqlite() {
    evidence_is_shared_through_object_storage(Backend::Sqlite).await;
}

#[actix_web::test]
async fn evidence_is_shared_through_object_storage_postgres() {
    evidence_is_shared_through_object_storage(Backend::Postgres).await;
}

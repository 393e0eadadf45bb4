//! `hazard-registry backup --to DIR` and `restore --from DIR` (docs/OPERATIONS.md).
//!
//! A backup folder holds:
//! - `database-<sha256>.sqlite`: on SQLite, an online consistent snapshot (`VACUUM INTO`, a read
//!   transaction, so the server keeps serving and writing while it is taken);
//! - `attachments/ab/cd/<sha256>`: every evidence file the snapshot's attachment rows reference,
//!   checked against its name while copied. Files are content-addressed, so a folder used again
//!   copies only the files it lacks;
//! - `manifest.json`: the format, time, version, backend, row counts, the newest migration, the
//!   database file's SHA-256 and the list of evidence files. It is written last, so a folder with
//!   a manifest holds everything the manifest names.
//!
//! On PostgreSQL the database is dumped with `pg_dump` (the operator's guide gives the steps) and
//! the backup holds the evidence part only. Take the dump first: evidence files are written
//! before their rows and never removed, so files listed after the dump cover every row in it.
//!
//! `restore` checks every hash before it puts anything in place, and refuses a target that
//! already holds a database or evidence files unless `--force` is given.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::attachment_store::AttachmentStore;
use crate::auth::token::hex;
use crate::config::{sqlite_path, Backend, Config};
use crate::db::AnyConnection;

/// The manifest's `format`; a restore refuses any other.
pub const FORMAT: &str = "hazard-registry-backup/1";
const MANIFEST: &str = "manifest.json";
/// The snapshot's file name: `database-<sha256>.sqlite`, so a folder used again never loses the
/// snapshot its manifest names before the new manifest is in place.
fn database_file(sha256: &str) -> String {
    format!("database-{sha256}.sqlite")
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    pub server_version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The newest migration the backed-up database had applied.
    pub migration: Option<String>,
    /// The database file (SQLite only; PostgreSQL is dumped with `pg_dump`).
    pub database: Option<FileEntry>,
    pub counts: BTreeMap<String, i64>,
    pub attachments: Vec<Evidence>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FileEntry {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Evidence {
    pub sha256: String,
    pub bytes: u64,
}

/// What a backup did, for the command's summary.
pub struct BackupReport {
    pub manifest: Manifest,
    pub copied: usize,
    pub already_there: usize,
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    }
}

fn connect(config: &Config) -> anyhow::Result<crate::db::Db> {
    crate::db::Db::new(&config.database_url, 1, config.database_timeout)
}

/// An evidence-store failure, for the command line.
fn store_failed(e: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!(
        "{}{}",
        e.detail,
        e.cause
            .as_deref()
            .map(|c| format!(": {c}"))
            .unwrap_or_default()
    )
}

/// Takes a backup of the configured installation into `to` (created if missing).
pub async fn backup(config: &Config, to: &Path) -> anyhow::Result<BackupReport> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let backend = config.backend();
    let mut conn = connect(config)?
        .dedicated()
        .context("connecting to the database")?;
    let (database, counts, files, migration) = match backend {
        Backend::Sqlite => {
            let temp = to.join(format!(".database.{}", uuid::Uuid::new_v4().simple()));
            let quoted = temp.to_string_lossy().replace('\'', "''");
            conn.batch_execute(&format!("VACUUM INTO '{quoted}'"))
                .context("taking the snapshot (VACUUM INTO)")?;
            drop(conn);
            // Everything else is read from the snapshot, so it all describes one moment.
            let read = (|| -> anyhow::Result<_> {
                let mut snap =
                    AnyConnection::Sqlite(diesel::Connection::establish(&temp.to_string_lossy())?);
                Ok((
                    crate::db::inventory::counts(&mut snap)?,
                    crate::db::inventory::attachment_files(&mut snap)?,
                    crate::db::inventory::latest_migration(&mut snap)?,
                ))
            })();
            let (counts, files, migration) = match read {
                Ok(r) => r,
                Err(e) => {
                    let _ = std::fs::remove_file(&temp);
                    return Err(e.context("reading the snapshot"));
                }
            };
            let (bytes, sha256) = hash_file(&temp)?;
            sync_file(&temp)?;
            let file = database_file(&sha256);
            std::fs::rename(&temp, to.join(&file))?;
            let entry = FileEntry {
                file,
                bytes,
                sha256,
            };
            (Some(entry), counts, files, migration)
        }
        Backend::Postgres => {
            // One snapshot for the counts and the file list.
            let read = crate::db::write_tx(&mut conn, |c| {
                crate::db::repeatable_read(c)?;
                Ok::<_, anyhow::Error>((
                    crate::db::inventory::counts(c)?,
                    crate::db::inventory::attachment_files(c)?,
                ))
            })?;
            let migration = crate::db::inventory::latest_migration(&mut conn)?;
            (None, read.0, read.1, migration)
        }
    };
    let store = AttachmentStore::configured(&config.data_dir, config.s3.as_ref())?;
    let into = AttachmentStore::new(to);
    let (mut copied, mut already_there) = (0, 0);
    let mut evidence = Vec::with_capacity(files.len());
    for (sha256, size) in files {
        let size = u64::try_from(size).unwrap_or(0);
        if copy_evidence(&store, &into, &sha256, size).await? {
            copied += 1;
        } else {
            already_there += 1;
        }
        evidence.push(Evidence {
            sha256,
            bytes: size,
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        server_version: env!("CARGO_PKG_VERSION").into(),
        backend: backend_name(backend).into(),
        migration,
        database,
        counts,
        attachments: evidence,
    };
    write_atomically(&to.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    // Only now, with the new manifest in place, do older snapshots go.
    if let Some(current) = &manifest.database {
        for entry in std::fs::read_dir(to)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("database-") && name.ends_with(".sqlite") && name != current.file {
                std::fs::remove_file(entry.path())?;
            }
        }
    }
    Ok(BackupReport {
        manifest,
        copied,
        already_there,
    })
}

/// Copies one evidence file (from the disk, or straight from object storage) into the local
/// store `to`, unless `to` holds it already with the right bytes (checked by hashing it: a
/// damaged copy is replaced); answers whether it copied.
async fn copy_evidence(
    from: &AttachmentStore,
    to: &AttachmentStore,
    sha256: &str,
    size: u64,
) -> anyhow::Result<bool> {
    let dest = to.path_of(sha256);
    if std::fs::metadata(&dest).is_ok_and(|m| m.len() == size)
        && hash_file(&dest).is_ok_and(|(_, got)| got == sha256)
    {
        return Ok(false);
    }
    from.fetch_to(sha256, &dest).await.map_err(|e| {
        store_failed(e).context(format!("evidence file {sha256} could not be copied"))
    })?;
    Ok(true)
}

/// Copies `source` to `dest` through a temporary file, failing if the bytes do not hash to
/// `sha256`; fsyncs before the rename.
fn copy_checked(source: &Path, dest: &Path, sha256: &str) -> anyhow::Result<()> {
    let dir = dest.parent().context("evidence path has a folder")?;
    std::fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".{}", uuid::Uuid::new_v4().simple()));
    let result = (|| -> anyhow::Result<()> {
        let mut input = std::fs::File::open(source)?;
        let mut output = std::fs::File::create(&temp)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = input.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            output.write_all(&buf[..n])?;
        }
        let got = hex(&hasher.finalize());
        if got != sha256 {
            bail!("its bytes hash to {got}: the file is damaged");
        }
        output.sync_all()?;
        std::fs::rename(&temp, dest)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hasher)?;
    Ok((bytes, hex(&hasher.finalize())))
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)?.sync_all()?;
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let temp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    {
        let mut f = std::fs::File::create(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&temp, path)?;
    Ok(())
}

/// Reads and checks a backup folder's manifest.
pub fn read_manifest(from: &Path) -> anyhow::Result<Manifest> {
    let path = from.join(MANIFEST);
    let raw = std::fs::read(&path)
        .with_context(|| format!("{} is not a backup: no {MANIFEST}", from.display()))?;
    let manifest: Manifest =
        serde_json::from_slice(&raw).with_context(|| format!("reading {}", path.display()))?;
    if manifest.format != FORMAT {
        bail!(
            "{} has format {:?}; this build restores {FORMAT:?}",
            path.display(),
            manifest.format
        );
    }
    // Names from the manifest become paths: only a 64-digit hex digest, and the one database
    // file name, are accepted, so no entry can point outside the folders involved.
    let hex_digest = |s: &str| {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    if let Some(bad) = manifest.attachments.iter().find(|e| !hex_digest(&e.sha256)) {
        bail!(
            "{} lists an evidence file {:?} that is not a SHA-256",
            path.display(),
            bad.sha256
        );
    }
    if let Some(db) = &manifest.database {
        if !hex_digest(&db.sha256) || db.file != database_file(&db.sha256) {
            bail!(
                "{} names a database file {:?} this build does not write",
                path.display(),
                db.file
            );
        }
    }
    Ok(manifest)
}

/// What a restore did, for the command's summary.
pub struct RestoreReport {
    pub manifest: Manifest,
    /// Where the database file went (SQLite).
    pub database: Option<PathBuf>,
    /// Attachment rows of the restored database whose file is still missing afterwards.
    pub missing_evidence: Option<usize>,
}

/// The lock file beside a SQLite database: every `serve` holds it shared, `restore` exclusively,
/// so a restore never replaces the file under a running server (PostgreSQL needs none: its
/// restore is `pg_restore` into a database of the operator's choosing).
fn lock_path(config: &Config) -> Option<PathBuf> {
    (config.backend() == Backend::Sqlite).then(|| {
        let mut p = PathBuf::from(sqlite_path(&config.database_url)).into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    })
}

fn open_lock(path: &Path) -> anyhow::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// Taken by `serve` for as long as it runs (SQLite): refused while a restore holds the file.
pub fn serving_lock(config: &Config) -> anyhow::Result<Option<std::fs::File>> {
    let Some(path) = lock_path(config) else {
        return Ok(None);
    };
    let file = open_lock(&path)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "a restore is replacing {}; start the server when it has finished",
            sqlite_path(&config.database_url)
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Attachment rows whose file is neither in the backup just restored nor already stored.
async fn missing_files(
    manifest: &Manifest,
    target: &AttachmentStore,
    rows: &[(String, i64)],
) -> anyhow::Result<usize> {
    let restored: std::collections::HashSet<&str> = manifest
        .attachments
        .iter()
        .map(|e| e.sha256.as_str())
        .collect();
    let mut missing = 0;
    for (sha, _) in rows {
        if !restored.contains(sha.as_str()) && !target.has(sha).await.map_err(store_failed)? {
            missing += 1;
        }
    }
    Ok(missing)
}

/// Restores the backup in `from` into the configured installation.
pub async fn restore(config: &Config, from: &Path, force: bool) -> anyhow::Result<RestoreReport> {
    let manifest = read_manifest(from)?;
    let backend = config.backend();
    if manifest.backend != backend_name(backend) {
        bail!(
            "the backup is of a {} installation; the target (HAZREG_DATABASE_URL) is {}",
            manifest.backend,
            backend_name(backend)
        );
    }
    // Check everything before anything is put in place.
    let source = AttachmentStore::new(from);
    for e in &manifest.attachments {
        let (bytes, sha256) = hash_file(&source.path_of(&e.sha256))
            .with_context(|| format!("evidence file {} is missing from the backup", e.sha256))?;
        if sha256 != e.sha256 || bytes != e.bytes {
            bail!("evidence file {} in the backup is damaged", e.sha256);
        }
    }
    if let Some(db) = &manifest.database {
        let (bytes, sha256) = hash_file(&from.join(&db.file))
            .with_context(|| format!("{} is missing from the backup", db.file))?;
        if sha256 != db.sha256 || bytes != db.bytes {
            bail!("{} in the backup does not match its manifest", db.file);
        }
    }
    let target = AttachmentStore::configured(&config.data_dir, config.s3.as_ref())?;
    // No server may be running on the SQLite file being replaced (held until the end).
    let _restoring = match lock_path(config) {
        None => None,
        Some(path) => {
            let file = open_lock(&path)?;
            match file.try_lock() {
                Ok(()) => Some(file),
                Err(std::fs::TryLockError::WouldBlock) => bail!(
                    "a server is running on {}; stop it before restoring",
                    sqlite_path(&config.database_url)
                ),
                Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
            }
        }
    };
    let target_db =
        (backend == Backend::Sqlite).then(|| PathBuf::from(sqlite_path(&config.database_url)));
    if !force {
        if let Some(path) = &target_db {
            if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
                bail!(
                    "{} already holds a database; restore refuses to replace it without --force",
                    path.display()
                );
            }
        }
        if target.holds_any().await.map_err(store_failed)? {
            bail!(
                "{} already holds evidence files; restore refuses to mix into them without --force",
                target.describe()
            );
        }
    }
    for e in &manifest.attachments {
        if config.s3.is_some() {
            target
                .upload(&e.sha256, &source.path_of(&e.sha256))
                .await
                .map_err(store_failed)?;
        } else {
            copy_evidence(&source, &target, &e.sha256, e.bytes).await?;
        }
    }
    // Which database to check every attachment row against its file: the restored snapshot
    // (checked before it is put in place), or the PostgreSQL database the dump went into.
    let missing_evidence;
    if let (Some(path), Some(db)) = (&target_db, &manifest.database) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let temp = path.with_extension(format!("restore-{}", uuid::Uuid::new_v4().simple()));
        copy_checked(&from.join(&db.file), &temp, &db.sha256)?;
        let checked = (|| -> anyhow::Result<_> {
            let mut snap =
                AnyConnection::Sqlite(diesel::Connection::establish(&temp.to_string_lossy())?);
            Ok(crate::db::inventory::attachment_files(&mut snap)?)
        })();
        let rows = match checked {
            Ok(rows) => rows,
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Err(e.context("reading the restored database"));
            }
        };
        missing_evidence = Some(missing_files(&manifest, &target, &rows).await?);
        // The replaced database's write-ahead log must not be replayed onto the restored file.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            match std::fs::remove_file(PathBuf::from(side)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        std::fs::rename(&temp, path)?;
    } else {
        // The dump should be restored already; say whether every row now finds its file.
        let rows = connect(config)?
            .dedicated()
            .map_err(|e| {
                anyhow::anyhow!(
                    "the evidence is restored, but the database could not be reached to check \
                     it against the attachment rows: {e}"
                )
            })
            .and_then(|mut c| Ok(crate::db::inventory::attachment_files(&mut c)?))?;
        missing_evidence = Some(missing_files(&manifest, &target, &rows).await?);
    }
    Ok(RestoreReport {
        manifest,
        database: target_db,
        missing_evidence,
    })
}

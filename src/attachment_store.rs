//! Attachment files: received as a stream (never buffered whole), type sniffed from the bytes,
//! hashed while written to a temporary file, then stored under their SHA-256. The database row
//! is written only after the file is stored, so a crash can leave an orphan file but never a row
//! without its file or a half file.
//!
//! Where files are stored:
//! - **the local disk** (the default): `attachments/ab/cd/<sha256>` under the data directory,
//!   fsynced and renamed into place;
//! - **S3-compatible object storage** (`HAZREG_S3_BUCKET`, through `object_store`), which every
//!   node of a cluster shares: `<prefix>/ab/cd/<sha256>` in the bucket. The same local path then
//!   holds a read-through cache of the files this node received or served; files never change,
//!   so a cached copy is always right, and the cache may be deleted at any time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::http::StatusCode;
use futures_util::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::auth::token::hex;
use crate::config::S3Config;
use crate::error::{ApiError, ApiResult};

/// JPEG, PNG, WebP and PDF, recognised by their first bytes.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

#[derive(Clone)]
pub struct AttachmentStore {
    /// The files themselves (local storage), or this node's cache of them (object storage).
    root: PathBuf,
    remote: Option<Remote>,
}

/// The shared object storage and the key prefix the files live under.
#[derive(Clone)]
struct Remote {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    bucket: String,
}

/// Object storage could not be reached or answered an error: the request may be retried.
fn remote_failed(e: object_store::Error) -> ApiError {
    ApiError::storage_unavailable(e)
}

/// A file received into a temporary place, not yet stored.
pub struct Received {
    pub temp: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub content_type: Option<&'static str>,
}

pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("Uploads are limited to {limit} bytes"),
    )
}

impl AttachmentStore {
    /// Files on the local disk under `data_dir`.
    pub fn new(data_dir: &Path) -> AttachmentStore {
        AttachmentStore {
            root: data_dir.join("attachments"),
            remote: None,
        }
    }

    /// Files in object storage when `s3` is given (cached under `data_dir`), else on the disk.
    pub fn configured(data_dir: &Path, s3: Option<&S3Config>) -> anyhow::Result<AttachmentStore> {
        let mut store = AttachmentStore::new(data_dir);
        if let Some(s3) = s3 {
            let mut builder = object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(&s3.bucket)
                .with_region(&s3.region)
                .with_access_key_id(&s3.access_key_id)
                .with_secret_access_key(&s3.secret_access_key)
                .with_retry(object_store::RetryConfig {
                    max_retries: 2,
                    retry_timeout: std::time::Duration::from_secs(5),
                    ..Default::default()
                })
                // `allow_http` lives in the client options: set it there, not before them.
                .with_client_options(
                    object_store::ClientOptions::default()
                        .with_allow_http(s3.allow_http)
                        .with_connect_timeout(std::time::Duration::from_secs(2))
                        .with_timeout(std::time::Duration::from_secs(30)),
                );
            if let Some(endpoint) = &s3.endpoint {
                // MinIO, moto and most S3-compatible servers want path-style requests.
                builder = builder
                    .with_endpoint(endpoint)
                    .with_virtual_hosted_style_request(false);
            }
            let built = builder
                .build()
                .map_err(|e| anyhow::anyhow!("HAZREG_S3_*: {e}"))?;
            store.remote = Some(Remote {
                store: Arc::new(built),
                prefix: s3.prefix.trim_matches('/').to_string(),
                bucket: s3.bucket.clone(),
            });
        }
        Ok(store)
    }

    /// Where the files are, for logs and messages.
    pub fn describe(&self) -> String {
        match &self.remote {
            Some(r) => format!("s3://{}/{}", r.bucket, r.prefix),
            None => self.root.display().to_string(),
        }
    }

    /// The object key of a file: `<prefix>/ab/cd/abcd…`.
    fn key_of(remote: &Remote, sha256: &str) -> object_store::path::Path {
        let (a, b) = split(sha256);
        let key = if remote.prefix.is_empty() {
            format!("{a}/{b}/{sha256}")
        } else {
            format!("{}/{a}/{b}/{sha256}", remote.prefix)
        };
        object_store::path::Path::from(key)
    }

    /// `attachments/ab/cd/abcd…` for a SHA-256: the file (local storage) or its cached copy.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let (a, b) = split(sha256);
        self.root.join(a).join(b).join(sha256)
    }

    /// Streams one multipart field to a temporary file, stopping at `limit` bytes (413).
    pub async fn receive(
        &self,
        mut field: actix_multipart::Field,
        limit: u64,
    ) -> ApiResult<Received> {
        let tmp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir)
            .await
            .map_err(ApiError::internal)?;
        let temp = tmp_dir.join(uuid::Uuid::new_v4().simple().to_string());
        let result = async {
            let mut file = tokio::fs::File::create(&temp)
                .await
                .map_err(ApiError::internal)?;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut head = Vec::with_capacity(16);
            while let Some(chunk) = field.next().await {
                let chunk =
                    chunk.map_err(|e| ApiError::bad_request("unreadable_body", e.to_string()))?;
                size += chunk.len() as u64;
                if size > limit {
                    return Err(too_large(limit));
                }
                if head.len() < 16 {
                    head.extend(chunk.iter().take(16 - head.len()));
                }
                hasher.update(&chunk);
                file.write_all(&chunk).await.map_err(ApiError::internal)?;
            }
            file.sync_all().await.map_err(ApiError::internal)?;
            Ok(Received {
                temp: temp.clone(),
                sha256: hex(&hasher.finalize()),
                size,
                content_type: sniff(&head),
            })
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }

    /// Stores a received file under its content address (an identical file may already be
    /// there): uploads it to object storage, if any, then moves it into place on the disk.
    pub async fn store(&self, r: &Received) -> ApiResult<()> {
        if let Err(e) = self.upload(&r.sha256, &r.temp).await {
            self.discard(r).await;
            return Err(e);
        }
        let target = self.path_of(&r.sha256);
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(ApiError::internal)?;
        }
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            let _ = tokio::fs::remove_file(&r.temp).await;
            return Ok(());
        }
        tokio::fs::rename(&r.temp, &target)
            .await
            .map_err(ApiError::internal)?;
        Ok(())
    }

    pub async fn discard(&self, r: &Received) {
        let _ = tokio::fs::remove_file(&r.temp).await;
    }

    /// Puts the file at `path` (whose bytes hash to `sha256`) into object storage unless it is
    /// there already; nothing to do with local storage.
    pub async fn upload(&self, sha256: &str, path: &Path) -> ApiResult<()> {
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let key = Self::key_of(remote, sha256);
        match remote.store.head(&key).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(remote_failed(e)),
        }
        // Streamed: small files in one request, large ones as a multipart upload.
        let mut writer = object_store::buffered::BufWriter::new(remote.store.clone(), key);
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(ApiError::internal)?;
        let copied = tokio::io::copy(&mut file, &mut writer).await;
        match copied {
            Ok(_) => writer
                .shutdown()
                .await
                .map_err(ApiError::storage_unavailable),
            Err(e) => {
                let _ = writer.abort().await;
                Err(ApiError::storage_unavailable(e))
            }
        }
    }

    /// A local path holding the file's bytes: the file itself (local storage), or the cached
    /// copy, fetched from object storage and checked against its hash when not cached yet.
    pub async fn local_copy(&self, sha256: &str) -> ApiResult<PathBuf> {
        let path = self.path_of(sha256);
        if self.remote.is_some() && !tokio::fs::try_exists(&path).await.unwrap_or(false) {
            self.fetch_to(sha256, &path).await?;
        }
        Ok(path)
    }

    /// Writes the file's bytes to `dest` (through a temporary file beside it, checked against
    /// the hash, fsynced, then renamed): from object storage, or copied from the local disk.
    pub async fn fetch_to(&self, sha256: &str, dest: &Path) -> ApiResult<()> {
        let dir = dest
            .parent()
            .ok_or_else(|| ApiError::internal("a destination without a folder"))?;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(ApiError::internal)?;
        let temp = dir.join(format!(".{}", uuid::Uuid::new_v4().simple()));
        let fetched = async {
            let mut file = tokio::fs::File::create(&temp)
                .await
                .map_err(ApiError::internal)?;
            let mut hasher = Sha256::new();
            match &self.remote {
                Some(remote) => {
                    let got = remote
                        .store
                        .get(&Self::key_of(remote, sha256))
                        .await
                        .map_err(|e| match e {
                            object_store::Error::NotFound { .. } => ApiError::internal(format!(
                                "evidence file {sha256} is missing from {}",
                                self.describe()
                            )),
                            other => remote_failed(other),
                        })?;
                    let mut stream = got.into_stream();
                    while let Some(chunk) = stream.next().await {
                        let chunk = chunk.map_err(remote_failed)?;
                        hasher.update(&chunk);
                        file.write_all(&chunk).await.map_err(ApiError::internal)?;
                    }
                }
                None => {
                    use tokio::io::AsyncReadExt;
                    let mut source = tokio::fs::File::open(self.path_of(sha256))
                        .await
                        .map_err(ApiError::internal)?;
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = source.read(&mut buf).await.map_err(ApiError::internal)?;
                        if n == 0 {
                            break;
                        }
                        hasher.update(&buf[..n]);
                        file.write_all(&buf[..n])
                            .await
                            .map_err(ApiError::internal)?;
                    }
                }
            }
            file.sync_all().await.map_err(ApiError::internal)?;
            let got = hex(&hasher.finalize());
            if got != sha256 {
                return Err(ApiError::internal(format!(
                    "evidence file {sha256} in {} hashes to {got}: it is damaged",
                    self.describe()
                )));
            }
            tokio::fs::rename(&temp, dest)
                .await
                .map_err(ApiError::internal)
        }
        .await;
        if fetched.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        fetched
    }

    /// Whether the file is stored.
    pub async fn has(&self, sha256: &str) -> ApiResult<bool> {
        match &self.remote {
            Some(remote) => match remote.store.head(&Self::key_of(remote, sha256)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(remote_failed(e)),
            },
            None => Ok(self.path_of(sha256).is_file()),
        }
    }

    /// Whether any file is stored (a restore refuses to mix into a store that holds some).
    pub async fn holds_any(&self) -> ApiResult<bool> {
        match &self.remote {
            Some(remote) => {
                let prefix = object_store::path::Path::from(remote.prefix.as_str());
                let mut listing = remote.store.list(Some(&prefix));
                match listing.next().await {
                    None => Ok(false),
                    Some(Ok(_)) => Ok(true),
                    Some(Err(e)) => Err(remote_failed(e)),
                }
            }
            None => Ok(has_files(&self.root)),
        }
    }
}

/// The two folder levels of a content address: `ab`, `cd` of `abcd…`.
fn split(sha256: &str) -> (&str, &str) {
    (
        &sha256[..2.min(sha256.len())],
        &sha256[2.min(sha256.len())..4.min(sha256.len())],
    )
}

/// Whether a folder holds any file, temporary uploads (`tmp/`) aside.
fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let p = e.path();
            if p.is_dir() {
                p.file_name().is_none_or(|n| n != "tmp") && has_files(&p)
            } else {
                true
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_four_types_and_nothing_else() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(b"MZ\x90\x00"), None);
        assert_eq!(sniff(b"\x7fELF"), None);
        assert_eq!(sniff(b"GIF89a"), None);
    }
}

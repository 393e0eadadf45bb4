//! Attachment files: received as a stream (never buffered whole), type sniffed from the bytes,
//! hashed while written to a temporary file, then fsynced and renamed into a content-addressed
//! path under the data directory. The database row is written only after the file is in place,
//! so a crash can leave an orphan file but never a row without its file or a half file.

use std::path::{Path, PathBuf};

use actix_web::http::StatusCode;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::auth::token::hex;
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
    root: PathBuf,
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
    pub fn new(data_dir: &Path) -> AttachmentStore {
        AttachmentStore {
            root: data_dir.join("attachments"),
        }
    }

    /// `attachments/ab/cd/abcd…` for a SHA-256.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let (a, b) = (
            &sha256[..2.min(sha256.len())],
            &sha256[2.min(sha256.len())..4.min(sha256.len())],
        );
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

    /// Moves a received file to its content address (an identical file may already be there).
    pub async fn store(&self, r: &Received) -> ApiResult<()> {
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

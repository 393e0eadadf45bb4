//! argon2id hashing off the request threads, with bounded concurrency and the same cost for
//! unknown users (a dummy hash is verified instead) so timing does not reveal usernames.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// Hashing could not run (the worker pool is gone, or argon2 failed): a server fault.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashFailed(String);

fn failed(e: impl std::fmt::Display) -> HashFailed {
    HashFailed(e.to_string())
}

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

impl Passwords {
    pub fn new(memory_kib: u32, concurrency: usize) -> anyhow::Result<Passwords> {
        let params = Params::new(memory_kib, 2, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let dummy_hash = hash_with(&params, "not a real password, only for timing")?;
        Ok(Passwords {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, HashFailed> {
        let params = self.params.clone();
        let _permit = self.permits.acquire().await.map_err(failed)?;
        actix_web::web::block(move || hash_with(&params, &password))
            .await
            .map_err(failed)?
            .map_err(failed)
    }

    /// Verifies against `hash`, or against the dummy hash when there is no account.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, HashFailed> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let _permit = self.permits.acquire().await.map_err(failed)?;
        let ok = actix_web::web::block(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .map_err(failed)?;
        Ok(ok && known)
    }

    /// Synchronous hashing for the command line (`create-account`, first start).
    pub fn hash_blocking(&self, password: &str) -> anyhow::Result<String> {
        hash_with(&self.params, password)
    }
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// A random password that passes the password policy, for the first administrator and
/// `create-account` without `--password`.
pub fn generate_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_";
    let mut rng = rand::rngs::OsRng;
    loop {
        let candidate: String = (0..24)
            .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
            .collect();
        let mut errors = crate::domain::validate::Errors::default();
        crate::domain::account::check_password(&mut errors, &candidate, "admin");
        if errors.is_empty() {
            return candidate;
        }
    }
}

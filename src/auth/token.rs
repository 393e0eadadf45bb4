//! Access tokens (HS256 JWT, pinned algorithm, `iss`/`aud`/`exp`/`jti`) and opaque refresh tokens.
//!
//! A JWT alone never authorises: its `sid` must name a live session of an enabled account
//! (checked on every request), which is how logout and disabling take effect at once.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// Account id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    /// Not before (optional; checked when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    pub access_ttl_secs: u64,
}

impl Tokens {
    pub fn new(config: &Config) -> Tokens {
        let secret = config.jwt_secret.clone().unwrap_or_else(|| {
            tracing::warn!(
                "HAZREG_JWT_SECRET is not set: using a random key, so tokens end when the process \
                 restarts and are not shared between nodes"
            );
            random_bytes(48)
        });
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry and "not before" are checked against the server's clock in `verify_access`,
        // not the library's system time, so the clock stays the one source of time.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Tokens {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            access_ttl_secs: config.access_token_ttl.as_secs(),
        }
    }

    pub fn issue_access(
        &self,
        account_id: i64,
        session_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<String> {
        let now = at.timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: account_id.to_string(),
            sid: session_id.to_string(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now,
            exp: now + self.access_ttl_secs as i64,
            nbf: None,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The account and session of a valid token at `at`: signed by this key, for this issuer
    /// and audience, not expired and not "not yet valid" (5 s of leeway for clock skew).
    pub fn verify_access(
        &self,
        token: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<(i64, String)> {
        const LEEWAY: i64 = 5;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        let now = at.timestamp();
        if claims.exp + LEEWAY < now || claims.nbf.is_some_and(|nbf| nbf - LEEWAY > now) {
            return None;
        }
        Some((claims.sub.parse().ok()?, claims.sid))
    }
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// A new opaque refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, String) {
    let plain = URL_SAFE_NO_PAD.encode(random_bytes(32));
    let hash = hash_refresh_token(&plain);
    (plain, hash)
}

pub fn hash_refresh_token(plain: &str) -> String {
    hex(&Sha256::digest(plain.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! The second factor of administrators: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one
//! step of clock skew either way) through `totp-rs`, and one-time recovery codes.

use rand::Rng;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};

const STEP: u64 = 30;
/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "Hazard Registry";
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;

fn totp(secret_base32: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().ok()?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        bytes,
        Some(ISSUER.to_string()),
        account.replace(':', "_"),
    )
    .ok()
}

/// A new random secret (160 bits), base32.
pub fn new_secret() -> String {
    match Secret::generate_secret().to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded answers the encoded form"),
    }
}

/// The `otpauth://totp/…` URI an authenticator app imports (often shown as a QR code).
pub fn otpauth_uri(secret_base32: &str, account: &str) -> Option<String> {
    totp(secret_base32, account).map(|t| t.get_url())
}

/// The time step `code` is valid for at `unix_seconds` (the current one or a neighbour), if
/// any. A step may be used once: the caller keeps the last one accepted.
pub fn matching_step(secret_base32: &str, code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_base32, "")?;
    let now = unix_seconds / STEP;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|step| t.generate(step * STEP) == code)
}

/// The code for `unix_seconds` (what an authenticator app shows; the tests use it).
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Option<String> {
    totp(secret_base32, "").map(|t| t.generate(unix_seconds))
}

/// Fresh recovery codes: `xxxxx-xxxxx`, 10 characters from an alphabet without look-alikes.
pub fn recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let c: String = (0..10)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &c[..5], &c[5..])
        })
        .collect()
}

/// What is stored of a recovery code: the SHA-256 of its letters (case and dashes ignored). The
/// codes are random and long, so a plain digest is enough.
pub fn recovery_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(normal.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_neighbours_only() {
        let secret = new_secret();
        let t = 1_796_300_000;
        let code = code_at(&secret, t).unwrap();
        assert_eq!(matching_step(&secret, &code, t), Some(t / 30));
        assert_eq!(matching_step(&secret, &code, t + 30), Some(t / 30));
        assert_eq!(matching_step(&secret, &code, t + 90), None);
        assert_eq!(matching_step(&secret, "12345", t), None);
        assert_eq!(matching_step(&secret, "abcdef", t), None);
        assert!(otpauth_uri(&secret, "admin")
            .unwrap()
            .starts_with("otpauth://totp/"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_loosely() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(
            recovery_hash(&codes[0]),
            recovery_hash(&codes[0].to_uppercase().replace('-', ""))
        );
        assert_ne!(recovery_hash(&codes[0]), recovery_hash(&codes[1]));
    }
}

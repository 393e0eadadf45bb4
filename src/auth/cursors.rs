//! The key that signs list cursors (HMAC-SHA256), so a cursor cannot be forged or moved to
//! another collection, sort or filter.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the HMAC kept in a cursor.
const SIGNATURE_BYTES: usize = 16;

/// The key that signs cursors: derived from `HAZREG_JWT_SECRET` (so every node accepts every
/// node's cursors), or random per process without one.
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl CursorKey {
    pub fn new(secret: Option<&[u8]>) -> CursorKey {
        match secret {
            Some(s) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(s).expect("HMAC takes any key length");
                mac.update(b"hazard-registry cursor key");
                CursorKey(mac.finalize().into_bytes().to_vec())
            }
            None => CursorKey(crate::auth::token::random_bytes(32)),
        }
    }

    fn mac(&self, binding: &str, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(binding.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// The signature of `payload` for `binding` (what it is valid for).
    pub fn sign(&self, binding: &str, payload: &[u8]) -> Vec<u8> {
        self.mac(binding, payload).finalize().into_bytes()[..SIGNATURE_BYTES].to_vec()
    }

    /// Whether `signature` is [`CursorKey::sign`]'s for `payload` and `binding` (constant time).
    pub fn verify(&self, binding: &str, payload: &[u8], signature: &[u8]) -> bool {
        signature.len() == SIGNATURE_BYTES
            && self
                .mac(binding, payload)
                .verify_truncated_left(signature)
                .is_ok()
    }
}

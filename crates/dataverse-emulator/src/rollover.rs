//! Signing-key rollover on demand, as Entra rolls its keys: after [`Rollover::roll`] the JWKS
//! publishes a second key beside the first and new tokens are signed with it, while tokens
//! signed with the first key stay valid. JWKS downloads are counted, so tests can see how
//! often a relying party fetched the keys.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{Value, json};

use crate::error::EmulatorError;

/// Emulator-only second key (see `src/keys/README.md`); never a secret.
const NEXT_PEM: &str = include_str!("keys/rollover.pem");
const NEXT_N: &str = include_str!("keys/rollover.n");
/// The `kid` of the second key.
pub const NEXT_KID: &str = "emulator-signing-key-2";

/// The second key, once rolled.
pub struct NextKey {
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
}

#[derive(Default)]
pub struct Rollover {
    next: OnceLock<NextKey>,
    jwks_fetches: AtomicUsize,
}

impl Rollover {
    /// Publishes the second key and signs new tokens with it (idempotent).
    pub fn roll(&self) -> Result<&'static str, EmulatorError> {
        if self.next.get().is_none() {
            let encoding = EncodingKey::from_rsa_pem(NEXT_PEM.as_bytes())
                .map_err(|e| EmulatorError::Key(e.to_string()))?;
            let decoding = DecodingKey::from_rsa_components(NEXT_N.trim(), "AQAB")
                .map_err(|e| EmulatorError::Key(e.to_string()))?;
            let _ = self.next.set(NextKey { encoding, decoding });
        }
        Ok(NEXT_KID)
    }

    /// The second key, if rolled.
    pub fn next(&self) -> Option<&NextKey> {
        self.next.get()
    }

    /// The second key's JWK, if rolled.
    pub fn jwk(&self, issuer: &str) -> Option<Value> {
        self.next.get().map(|_| {
            json!({"kty": "RSA", "use": "sig", "kid": NEXT_KID, "alg": "RS256",
                "n": NEXT_N.trim(), "e": "AQAB", "issuer": issuer})
        })
    }

    pub fn count_fetch(&self) {
        self.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    }

    /// JWKS downloads so far.
    pub fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    /// The published `kid`s.
    pub fn kids(&self) -> Vec<&'static str> {
        let mut kids = vec![crate::auth::KID];
        kids.extend(self.next.get().map(|_| NEXT_KID));
        kids
    }
}

//! Read-only, expiring links to a profile's failure log (DES's `failures` answer).
//!
//! [`FailureLinks`] is the seam (a des-core port, re-exported here): locally [`SignedLinks`]
//! signs a URL served by this API (HMAC-SHA256 over the profile id and the expiry); an Azure
//! implementation returns a SAS URL of the failure-log blob instead.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use des_core::ports::{FailureLinks, LinkError};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

/// The path of the local failure-log download.
pub const FAILURE_LOG_PATH: &str = "/crm/exporter/failurelog/{id}";

/// A signing key for local links (32 random bytes are plenty).
#[derive(Clone)]
pub struct LinkKey(Vec<u8>);

impl LinkKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// A fresh random key: links die with the process, which is fine for 24-hour links in
    /// local mode; pass a stored key to keep them valid across restarts.
    pub fn random() -> Self {
        let mut bytes = Vec::with_capacity(32);
        bytes.extend_from_slice(Uuid::new_v4().as_bytes());
        bytes.extend_from_slice(Uuid::new_v4().as_bytes());
        Self(bytes)
    }

    fn mac(&self, profile_id: Uuid, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(format!("{profile_id}\n{expires}").as_bytes());
        mac
    }

    /// The signature of a link, base64url.
    pub fn sign(&self, profile_id: Uuid, expires: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(profile_id, expires).finalize().into_bytes())
    }

    /// True when `signature` is this key's signature of the pair (compared in constant time).
    pub fn verify(&self, profile_id: Uuid, expires: i64, signature: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        self.mac(profile_id, expires).verify_slice(&bytes).is_ok()
    }
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(***)")
    }
}

/// Local links: `<base>/crm/exporter/failurelog/<id>?se=<unix expiry>&sig=<hmac>`.
pub struct SignedLinks {
    base: Url,
    key: LinkKey,
}

impl SignedLinks {
    pub fn new(base: Url, key: LinkKey) -> Self {
        Self { base, key }
    }
}

#[async_trait]
impl FailureLinks for SignedLinks {
    async fn link(&self, profile_id: Uuid, expires: OffsetDateTime) -> Result<Url, LinkError> {
        let at = expires.unix_timestamp();
        let path = FAILURE_LOG_PATH.replace("{id}", &profile_id.to_string());
        let base = self.base.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!("{base}{path}"))
            .map_err(|e| LinkError::Unavailable(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("se", &at.to_string())
            .append_pair("sig", &self.key.sign(profile_id, at));
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_covers_the_profile_and_the_expiry() {
        let key = LinkKey::new(b"k".to_vec());
        let id = Uuid::new_v4();
        let sig = key.sign(id, 100);
        assert!(key.verify(id, 100, &sig));
        assert!(!key.verify(id, 101, &sig));
        assert!(!key.verify(Uuid::new_v4(), 100, &sig));
        assert!(!LinkKey::new(b"other".to_vec()).verify(id, 100, &sig));
        assert!(!key.verify(id, 100, "not base64!"));
    }
}

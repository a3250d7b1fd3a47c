//! [`DelegationKeys`]: one user delegation key at a time, reused while it outlives the links
//! signed with it, replaced shortly before it would not.
//!
//! A SAS stops working when its key expires, so a key serves a link only if it is valid
//! until the link's expiry plus [`EXPIRY_MARGIN`]. New keys last [`KEY_LIFETIME`] (the link
//! lifetime and a day more, so one key serves a day of links) and start [`START_SKEW`]
//! early (clocks differ). The service caps keys at seven days from now.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Mutex;

use super::delegation_key::{DelegationKeyError, KeyFetcher, UserDelegationKey};

/// How long a new key lasts.
pub const KEY_LIFETIME: Duration = Duration::from_secs(2 * 24 * 60 * 60);
/// The longest key the service issues.
pub const MAX_KEY_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// A cached key must outlive a link by this much to sign it.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);
/// New keys start this long before now.
pub const START_SKEW: Duration = Duration::from_secs(5 * 60);

/// A key request waits this long at most (other links wait on it).
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The cache; clones of a `StorageAccount` share one.
pub struct DelegationKeys {
    fetcher: Arc<dyn KeyFetcher>,
    // Held across a fetch, so concurrent links wait for one key request, not one each.
    current: Mutex<Option<UserDelegationKey>>,
}

impl std::fmt::Debug for DelegationKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegationKeys").finish_non_exhaustive()
    }
}

impl DelegationKeys {
    pub fn new(fetcher: Arc<dyn KeyFetcher>) -> Self {
        Self {
            fetcher,
            current: Mutex::new(None),
        }
    }

    /// A key valid at `now` and until `until` (a link's expiry) with margin: the cached
    /// one if it is, else a new one.
    pub async fn key_for(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<UserDelegationKey, DelegationKeyError> {
        let needed = until + EXPIRY_MARGIN;
        if needed > now + MAX_KEY_LIFETIME {
            return Err(DelegationKeyError(
                "a link may not outlive a user delegation key (7 days)".to_owned(),
            ));
        }
        let mut current = self.current.lock().await;
        if let Some(key) = current.as_ref().filter(|k| serves(k, now, needed)) {
            return Ok(key.clone());
        }
        let expiry = needed.max(now + KEY_LIFETIME).min(now + MAX_KEY_LIFETIME);
        let fetch = self.fetcher.fetch(now - START_SKEW, expiry);
        let key = tokio::time::timeout(FETCH_TIMEOUT, fetch)
            .await
            .map_err(|_| DelegationKeyError("no answer in 30 s".to_owned()))??;
        if !serves(&key, now, needed) {
            return Err(DelegationKeyError(
                "the service issued a key that ends before the link".to_owned(),
            ));
        }
        tracing::debug!(expiry = %key.signed_expiry, "Fetched a user delegation key.");
        *current = Some(key.clone());
        Ok(key)
    }
}

fn serves(key: &UserDelegationKey, now: OffsetDateTime, needed: OffsetDateTime) -> bool {
    key.signed_start <= now && key.signed_expiry >= needed
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use async_trait::async_trait;
    use time::macros::datetime;

    use super::*;
    use crate::failure_links::LINK_LIFETIME;

    /// Issues the key asked for and remembers each request.
    #[derive(Default)]
    struct Issuer {
        asked: StdMutex<Vec<(OffsetDateTime, OffsetDateTime)>>,
    }

    #[async_trait]
    impl KeyFetcher for Issuer {
        async fn fetch(
            &self,
            start: OffsetDateTime,
            expiry: OffsetDateTime,
        ) -> Result<UserDelegationKey, DelegationKeyError> {
            let mut asked = self.asked.lock().unwrap();
            asked.push((start, expiry));
            let value = vec![u8::try_from(asked.len()).unwrap()];
            Ok(UserDelegationKey::new("oid", "tid", start, expiry, value))
        }
    }

    fn keys() -> (Arc<Issuer>, DelegationKeys) {
        let issuer = Arc::new(Issuer::default());
        let keys = DelegationKeys::new(Arc::clone(&issuer) as Arc<dyn KeyFetcher>);
        (issuer, keys)
    }

    #[tokio::test]
    async fn one_key_serves_links_until_it_would_expire_before_one() {
        let (issuer, keys) = keys();
        let t0 = datetime!(2026-11-27 12:00:00 UTC);
        let first = keys.key_for(t0, t0 + LINK_LIFETIME).await.unwrap();
        assert_eq!(
            issuer.asked.lock().unwrap().as_slice(),
            [(t0 - START_SKEW, t0 + KEY_LIFETIME)],
            "starts early, lasts KEY_LIFETIME"
        );
        assert!(first.signed_expiry >= t0 + LINK_LIFETIME + EXPIRY_MARGIN);

        // Almost a day later the key still outlives a new link by the margin: reused.
        let later = t0 + Duration::from_secs(23 * 3600 + 50 * 60);
        let reused = keys.key_for(later, later + LINK_LIFETIME).await.unwrap();
        assert_eq!(reused, first);
        assert_eq!(issuer.asked.lock().unwrap().len(), 1);

        // Within the margin of the link's end: a new key, cached in turn.
        let near = t0 + Duration::from_secs(23 * 3600 + 56 * 60);
        let fresh = keys.key_for(near, near + LINK_LIFETIME).await.unwrap();
        assert_ne!(fresh, first);
        assert_eq!(fresh.signed_expiry, near + KEY_LIFETIME);
        let again = keys.key_for(near, near + LINK_LIFETIME).await.unwrap();
        assert_eq!(again, fresh);
        assert_eq!(issuer.asked.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn long_links_get_long_keys_within_the_service_cap() {
        let (issuer, keys) = keys();
        let t0 = datetime!(2026-11-27 12:00:00 UTC);
        let five_days = t0 + Duration::from_secs(5 * 24 * 3600);
        let key = keys.key_for(t0, five_days).await.unwrap();
        assert_eq!(key.signed_expiry, five_days + EXPIRY_MARGIN);
        let eight_days = t0 + Duration::from_secs(8 * 24 * 3600);
        let error = keys.key_for(t0, eight_days).await.unwrap_err();
        assert!(error.to_string().contains("7 days"), "{error}");
        assert_eq!(issuer.asked.lock().unwrap().len(), 1);
    }

    /// Issues keys shorter than asked (a service-side cap): refused, not cached.
    struct Stingy;

    #[async_trait]
    impl KeyFetcher for Stingy {
        async fn fetch(
            &self,
            start: OffsetDateTime,
            _: OffsetDateTime,
        ) -> Result<UserDelegationKey, DelegationKeyError> {
            let expiry = start + Duration::from_secs(3600);
            Ok(UserDelegationKey::new("o", "t", start, expiry, vec![1]))
        }
    }

    #[tokio::test]
    async fn a_key_shorter_than_the_link_is_refused() {
        let keys = DelegationKeys::new(Arc::new(Stingy));
        let t0 = datetime!(2026-11-27 12:00:00 UTC);
        let error = keys.key_for(t0, t0 + LINK_LIFETIME).await.unwrap_err();
        assert!(error.to_string().contains("ends before"), "{error}");
        assert!(keys.current.lock().await.is_none());
    }
}

//! A caching wrapper that refreshes tokens before they expire.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::{AccessToken, TokenError, TokenProvider};

/// Caches the inner provider's token and fetches a new one `margin` before expiry.
///
/// The slot's lock is held across the fetch, so concurrent callers that find the token stale
/// wait for one request instead of each making their own.
pub struct CachedToken<P> {
    inner: P,
    margin: Duration,
    slot: Mutex<Option<AccessToken>>,
}

impl<P: TokenProvider> CachedToken<P> {
    /// Refreshes five minutes before expiry.
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            margin: Duration::from_secs(300),
            slot: Mutex::new(None),
        }
    }

    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &P {
        &self.inner
    }
}

#[async_trait]
impl<P: TokenProvider> TokenProvider for CachedToken<P> {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref().filter(|t| is_fresh(t, self.margin)) {
            return Ok(token.clone());
        }
        let token = self.inner.token().await?;
        tracing::debug!("Fetched a new access token.");
        *slot = Some(token.clone());
        Ok(token)
    }

    async fn invalidate(&self, token: &AccessToken) {
        let mut slot = self.slot.lock().await;
        // Only the refused token goes: a caller may already have put a newer one in.
        if slot.as_ref().is_some_and(|t| t.secret() == token.secret()) {
            *slot = None;
        }
        self.inner.invalidate(token).await;
    }
}

fn is_fresh(token: &AccessToken, margin: Duration) -> bool {
    token
        .refresh_at(margin)
        .is_none_or(|at| Instant::now() < at)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use des_core::Secret;

    use super::*;

    /// Counts fetches; the first token is born stale, later ones live an hour.
    #[derive(Default)]
    struct Counting(AtomicU32);

    #[async_trait]
    impl TokenProvider for Counting {
        async fn token(&self) -> Result<AccessToken, TokenError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            let lifetime = if n == 0 {
                Duration::ZERO
            } else {
                Duration::from_secs(3600)
            };
            Ok(AccessToken::new(
                Secret::new(format!("token-{n}")),
                Some(lifetime),
            ))
        }
    }

    #[tokio::test]
    async fn stale_token_is_refreshed_then_reused() {
        let cache = CachedToken::new(Counting::default());
        assert_eq!(
            cache.token().await.expect("token").secret().expose(),
            "token-0"
        );
        assert_eq!(
            cache.token().await.expect("token").secret().expose(),
            "token-1"
        );
        assert_eq!(
            cache.token().await.expect("token").secret().expose(),
            "token-1"
        );
        assert_eq!(cache.inner.0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(CachedToken::new(Counting::default()));
        cache.token().await.expect("first, stale");
        let calls = (0..16).map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { cache.token().await.map(|t| t.secret().clone()) })
        });
        for call in calls.collect::<Vec<_>>() {
            assert_eq!(
                call.await.expect("joined").expect("token").expose(),
                "token-1"
            );
        }
        assert_eq!(cache.inner.0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn invalidate_drops_only_the_refused_token() {
        let cache = CachedToken::new(Counting::default()).with_refresh_margin(Duration::ZERO);
        cache.token().await.expect("stale");
        let good = cache.token().await.expect("good");
        let old = AccessToken::new(Secret::new("token-0"), None);
        cache.invalidate(&old).await;
        assert_eq!(cache.token().await.expect("kept").secret(), good.secret());
        cache.invalidate(&good).await;
        assert_eq!(
            cache.token().await.expect("new").secret().expose(),
            "token-2"
        );
    }
}

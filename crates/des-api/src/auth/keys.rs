//! The issuer's signing keys: OpenID discovery → `jwks_uri` → JWKS, cached, refetched when a
//! token names an unknown `kid` or the keys are older than `max_age`. Fetches caused by
//! tokens are attempts counted whether they succeed or not, at most one per `min_interval`,
//! so garbage `kid`s (or an issuer that fails) cannot make us hammer the issuer. Until a
//! first fetch succeeded, attempts are spaced by [`FIRST_FETCH_RETRY`] instead.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{JwkSet, KeyAlgorithm, PublicKeyUse};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use url::Url;

use super::AuthError;

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
    issuer: Option<String>,
}

/// Spacing of fetch attempts while no key was ever fetched.
pub const FIRST_FETCH_RETRY: Duration = Duration::from_secs(5);

/// When the keys are fetched again.
#[derive(Debug, Clone, Copy)]
pub struct Refresh {
    /// Shortest time between two attempts.
    pub min_interval: Duration,
    /// Keys older than this are refetched when a token arrives.
    pub max_age: Duration,
}

struct Fetched {
    keys: JwkSet,
    issuer: Option<String>,
    at: Instant,
}

/// The key cache.
pub struct KeyCache {
    http: reqwest::Client,
    discovery_url: Url,
    refresh: Refresh,
    current: RwLock<Option<Fetched>>,
    /// One fetch at a time; holds when the last attempt started.
    fetching: Mutex<Option<Instant>>,
    /// Bumped by every successful fetch: what was verified under older keys is re-verified.
    generation: AtomicU64,
}

impl KeyCache {
    pub fn new(authority: &Url, refresh: Refresh) -> Result<Self, AuthError> {
        let base = authority.as_str().trim_end_matches('/');
        let discovery_url = Url::parse(&format!("{base}/.well-known/openid-configuration"))
            .map_err(|e| AuthError::Config(format!("authority: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| AuthError::Config(e.to_string()))?;
        Ok(Self {
            http,
            discovery_url,
            refresh,
            current: RwLock::new(None),
            fetching: Mutex::new(None),
            generation: AtomicU64::new(0),
        })
    }

    /// The RS256 key with this `kid`, fetching the JWKS when it is not known yet (or the
    /// keys are stale) and the last attempt is old enough.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if !self.stale().await
            && let Some(key) = self.cached(kid).await?
        {
            return Ok(key);
        }
        let mut last_attempt = self.fetching.lock().await;
        let known = self.cached(kid).await?;
        if let Some(key) = &known
            && !self.stale().await
        {
            return Ok(key.clone());
        }
        if !self.may_attempt(*last_attempt).await {
            return known.ok_or(AuthError::UnknownKey);
        }
        *last_attempt = Some(Instant::now());
        match (self.fetch().await, known) {
            (Ok(()), _) => self.cached(kid).await?.ok_or(AuthError::UnknownKey),
            // Stale keys still verify while the issuer is away: its keys outlive hours.
            (Err(error), Some(key)) => {
                tracing::warn!(%error, "Could not refresh the issuer's keys; using the cached ones.");
                Ok(key)
            }
            (Err(error), None) => Err(error),
        }
    }

    /// Which key set is current; changes with every successful fetch.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The issuer the discovery document names, once fetched.
    pub async fn discovered_issuer(&self) -> Option<String> {
        let current = self.current.read().await;
        current.as_ref().and_then(|f| f.issuer.clone())
    }

    async fn cached(&self, kid: &str) -> Result<Option<DecodingKey>, AuthError> {
        let current = self.current.read().await;
        let Some(jwk) = current.as_ref().and_then(|f| f.keys.find(kid)) else {
            return Ok(None);
        };
        let usable = !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption))
            && matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256));
        if !usable {
            return Err(AuthError::UnknownKey);
        }
        DecodingKey::from_jwk(jwk)
            .map(Some)
            .map_err(|_| AuthError::UnknownKey)
    }

    async fn stale(&self) -> bool {
        let current = self.current.read().await;
        current
            .as_ref()
            .is_some_and(|f| f.at.elapsed() >= self.refresh.max_age)
    }

    async fn may_attempt(&self, last_attempt: Option<Instant>) -> bool {
        let spacing = match self.current.read().await.is_some() {
            true => self.refresh.min_interval,
            false => FIRST_FETCH_RETRY.min(self.refresh.min_interval),
        };
        last_attempt.is_none_or(|at| at.elapsed() >= spacing)
    }

    async fn fetch(&self) -> Result<(), AuthError> {
        let discovery: Discovery = self.get_json(self.discovery_url.as_str()).await?;
        let keys: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        tracing::info!(keys = keys.keys.len(), "Fetched the issuer's signing keys.");
        *self.current.write().await = Some(Fetched {
            keys,
            issuer: discovery.issuer,
            at: Instant::now(),
        });
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, AuthError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::IssuerUnavailable(e.to_string()))?;
        response
            .json()
            .await
            .map_err(|e| AuthError::IssuerUnavailable(format!("{url}: {e}")))
    }
}

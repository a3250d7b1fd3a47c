//! The issuer's signing keys: OpenID discovery → `jwks_uri` → JWKS, cached, refetched when a
//! token names an unknown `kid` (at most once per `min_refresh`, so garbage `kid`s cannot
//! make us hammer the issuer).

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

struct Fetched {
    keys: JwkSet,
    issuer: Option<String>,
    at: Instant,
}

/// The key cache.
pub struct KeyCache {
    http: reqwest::Client,
    discovery_url: Url,
    min_refresh: Duration,
    current: RwLock<Option<Fetched>>,
    /// One fetch at a time; callers that waited re-check the cache first.
    fetching: Mutex<()>,
}

impl KeyCache {
    pub fn new(authority: &Url, min_refresh: Duration) -> Result<Self, AuthError> {
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
            min_refresh,
            current: RwLock::new(None),
            fetching: Mutex::new(()),
        })
    }

    /// The RS256 key with this `kid`, fetching the JWKS when it is not known yet.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some(key) = self.cached(kid).await? {
            return Ok(key);
        }
        let _guard = self.fetching.lock().await;
        if let Some(key) = self.cached(kid).await? {
            return Ok(key);
        }
        if self.fetched_recently().await {
            return Err(AuthError::UnknownKey);
        }
        self.refresh().await?;
        self.cached(kid).await?.ok_or(AuthError::UnknownKey)
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

    async fn fetched_recently(&self) -> bool {
        let current = self.current.read().await;
        current
            .as_ref()
            .is_some_and(|f| f.at.elapsed() < self.min_refresh)
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        let discovery: Discovery = self.get_json(self.discovery_url.as_str()).await?;
        let keys: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        tracing::info!(keys = keys.keys.len(), "Fetched the issuer's signing keys.");
        *self.current.write().await = Some(Fetched {
            keys,
            issuer: discovery.issuer,
            at: Instant::now(),
        });
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

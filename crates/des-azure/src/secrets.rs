//! [`KeyVaultSecrets`]: secret references that are Key Vault secret URLs,
//! `https://<vault>.vault.azure.net/secrets/<name>` (no version: the current one is read, so
//! a rotated secret is picked up), resolved through `azure_security_keyvault_secrets` and
//! cached for a short time ([`CACHE_LIFETIME`]) so a poll does not call the vault per batch.
//!
//! Not run against a vault here: there is no Key Vault emulator, and the client only sends
//! tokens over https. The reference parsing and the cache are tested with an injected
//! [`SecretFetcher`]; the real fetcher is a thin call of `SecretClient::get_secret`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_security_keyvault_secrets::SecretClient;
use des_core::Secret;
use des_core::ports::{SecretError, Secrets};
use url::Url;

use crate::storage::{describe, status};

/// How long a resolved value is reused.
pub const CACHE_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// The DNS suffixes of Key Vault in the public and sovereign clouds.
const VAULT_SUFFIXES: [&str; 3] = [
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
];

/// A parsed secret reference: the vault's URL and the secret's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretReference {
    pub vault: Url,
    pub name: String,
}

impl SecretReference {
    /// Parses `https://<vault>.vault.azure.net/secrets/<name>` (a trailing `/` is fine).
    pub fn parse(reference: &str) -> Result<Self, SecretError> {
        let bad = || SecretError::BadReference(reference.to_owned());
        let url = Url::parse(reference).map_err(|_| bad())?;
        let host = url.host_str().ok_or_else(bad)?.to_ascii_lowercase();
        let in_vault = VAULT_SUFFIXES
            .iter()
            .any(|s| host.len() > s.len() && host.ends_with(s));
        if url.scheme() != "https" || !in_vault || url.query().is_some() || url.port().is_some() {
            return Err(bad());
        }
        let segments: Vec<&str> = url.path().trim_matches('/').split('/').collect();
        let [kind, name] = segments.as_slice() else {
            return Err(bad());
        };
        let valid_name = (1..=127).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if *kind != "secrets" || !valid_name {
            return Err(bad());
        }
        let vault = Url::parse(&format!("https://{host}")).map_err(|_| bad())?;
        Ok(Self {
            vault,
            name: (*name).to_owned(),
        })
    }
}

/// Reads the current value of one secret; `None` when the vault has no such secret.
#[async_trait]
pub trait SecretFetcher: Send + Sync {
    async fn fetch(&self, reference: &SecretReference) -> Result<Option<Secret>, SecretError>;
}

/// The real fetcher: one `SecretClient` per vault, signed in with `credential`.
pub struct KeyVaultFetcher {
    credential: Arc<dyn TokenCredential>,
    clients: Mutex<HashMap<Url, Arc<SecretClient>>>,
}

impl KeyVaultFetcher {
    pub fn new(credential: Arc<dyn TokenCredential>) -> Self {
        Self {
            credential,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, vault: &Url) -> Result<Arc<SecretClient>, SecretError> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(vault) {
            return Ok(Arc::clone(client));
        }
        let client = SecretClient::new(vault.as_str(), Arc::clone(&self.credential), None)
            .map_err(|e| SecretError::Unavailable(e.to_string()))?;
        let client = Arc::new(client);
        clients.insert(vault.clone(), Arc::clone(&client));
        Ok(client)
    }
}

#[async_trait]
impl SecretFetcher for KeyVaultFetcher {
    async fn fetch(&self, reference: &SecretReference) -> Result<Option<Secret>, SecretError> {
        let client = self.client(&reference.vault)?;
        let response = match client.get_secret(&reference.name, None).await {
            Ok(response) => response,
            Err(e) if status(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(SecretError::Unavailable(describe(&e))),
        };
        let secret = response
            .into_model()
            .map_err(|e| SecretError::Unavailable(describe(&e)))?;
        Ok(secret.value.map(Secret::new))
    }
}

/// The Azure [`Secrets`]: Key Vault secret URLs, cached for a short time.
pub struct KeyVaultSecrets {
    fetcher: Arc<dyn SecretFetcher>,
    lifetime: Duration,
    cache: Mutex<HashMap<String, (Instant, Secret)>>,
}

impl KeyVaultSecrets {
    /// Reads from Key Vault with `credential` (see [`crate::credential::credential`]).
    pub fn new(credential: Arc<dyn TokenCredential>) -> Self {
        Self::with_fetcher(Arc::new(KeyVaultFetcher::new(credential)), CACHE_LIFETIME)
    }

    /// Reads through `fetcher`, reusing a value for `lifetime`.
    pub fn with_fetcher(fetcher: Arc<dyn SecretFetcher>, lifetime: Duration) -> Self {
        Self {
            fetcher,
            lifetime,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, reference: &str) -> Option<Secret> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let (at, secret) = cache.get(reference)?;
        (at.elapsed() < self.lifetime).then(|| secret.clone())
    }

    /// Drops every cached value, e.g. after a target refused a password.
    pub fn forget(&self) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[async_trait]
impl Secrets for KeyVaultSecrets {
    async fn get(&self, reference: &str) -> Result<Secret, SecretError> {
        let parsed = SecretReference::parse(reference)?;
        if let Some(secret) = self.cached(reference) {
            return Ok(secret);
        }
        let secret = self
            .fetcher
            .fetch(&parsed)
            .await?
            .ok_or_else(|| SecretError::NotFound(reference.to_owned()))?;
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.insert(reference.to_owned(), (Instant::now(), secret.clone()));
        Ok(secret)
    }
}

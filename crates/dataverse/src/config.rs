//! Client settings: where the environment is, how big pages are, how hard to retry.

use std::time::Duration;

use url::Url;

/// The largest page Dataverse serves (also its default).
const MAX_PAGE_SIZE: u32 = 5000;
/// Dataverse's limit of concurrent requests per user.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 52;

/// Settings of a [`DataverseClient`](crate::DataverseClient).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The environment URL, e.g. `https://org.crm.dynamics.com` (no `/api/data` part).
    pub org_url: Url,
    /// Web API version, `v9.2`.
    pub api_version: String,
    /// `odata.maxpagesize` sent on every data read (1..=5000).
    pub page_size: u32,
    pub retry: RetryPolicy,
    /// Limit for one HTTP exchange, body included.
    pub request_timeout: Duration,
    /// Requests in flight at once, at most (the service's limit per user is 52); the client
    /// paces below it by the service's hints and remaining budget (`pace.rs`).
    pub max_concurrency: u32,
}

impl ClientConfig {
    /// Defaults for an environment: v9.2, pages of 5000, 60 s per request.
    pub fn new(org_url: Url) -> Self {
        Self {
            org_url,
            api_version: "v9.2".to_owned(),
            page_size: MAX_PAGE_SIZE,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(60),
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
        }
    }

    /// The Web API root, `<org>/api/data/<version>/`, checked for a usable shape.
    pub(crate) fn api_root(&self) -> Result<Url, ConfigError> {
        if !matches!(self.org_url.scheme(), "http" | "https") {
            return Err(ConfigError::OrgUrl(self.org_url.to_string()));
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(ConfigError::PageSize(self.page_size));
        }
        let org = self.org_url.as_str().trim_end_matches('/');
        let root = format!("{org}/api/data/{}/", self.api_version);
        Url::parse(&root).map_err(|_| ConfigError::OrgUrl(self.org_url.to_string()))
    }
}

/// How transient faults (429, 5xx, timeouts, dropped connections) are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request, the first one included.
    pub max_attempts: u32,
    /// First backoff; it doubles on each further try, with jitter.
    pub base_backoff: Duration,
    /// Cap on one backoff.
    pub max_backoff: Duration,
    /// Cap on the time one request may spend waiting between tries, `Retry-After` included.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(300),
        }
    }
}

/// A setting the client cannot work with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("organization URL must be an http(s) URL: {0}")]
    OrgUrl(String),
    #[error("page size must be 1..=5000, got {0}")]
    PageSize(u32),
    #[error("HTTP client could not be built: {0}")]
    Http(String),
    #[error("a client needs at least one application user")]
    NoAppUser,
}

//! [`StorageAccount`]: builds Blob and Queue clients that share one HTTP transport and one
//! authorization policy (so a token is fetched once per lifetime, not once per client).

use std::net::IpAddr;
use std::sync::Arc;

use azure_core::http::HttpClient;
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{ClientOptions, HttpClientOptions, Transport, new_http_client};
use azure_storage_blob::{
    BlobClient, BlobClientOptions, BlobContainerClient, BlobContainerClientOptions,
};
use azure_storage_queue::{QueueClient, QueueClientOptions};
use url::Url;

use super::ConfigError;
use super::config::{StorageAuth, StorageConfig};
use super::delegation_key::{KeyFetcher, RestKeyFetcher};
use super::delegation_keys::DelegationKeys;
use super::shared_key::{AccountKey, SharedKeyPolicy};

/// The newest storage service version Azurite 3.35 accepts; the 1.x crates send a newer one,
/// which it refuses with `400 InvalidHeaderValue`. Used for loopback endpoints only.
pub const AZURITE_SERVICE_VERSION: &str = "2025-11-05";

/// The token audience of Azure Storage.
pub(crate) const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

/// One storage account's Blob and Queue services.
#[derive(Clone)]
pub struct StorageAccount {
    blob_endpoint: Url,
    queue_endpoint: Url,
    options: ClientOptions,
    /// The service version to send, when not the crates' default.
    version: Option<String>,
    key: Option<AccountKey>,
    /// The account name SAS resources are signed with.
    name: String,
    /// User delegation keys, when requests carry Entra tokens (shared by clones).
    delegation: Option<Arc<DelegationKeys>>,
}

impl std::fmt::Debug for StorageAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageAccount")
            .field("blob_endpoint", &self.blob_endpoint.as_str())
            .field("queue_endpoint", &self.queue_endpoint.as_str())
            .finish_non_exhaustive()
    }
}

impl StorageAccount {
    pub fn new(config: StorageConfig) -> Result<Self, ConfigError> {
        let http = new_http_client(Some(HttpClientOptions {
            automatic_decompression: false,
        }));
        let transport = Transport::new(Arc::clone(&http));
        let mut delegation = None;
        let (policy, key): (Arc<dyn Policy>, _) = match config.auth {
            StorageAuth::SharedKey(key) => (SharedKeyPolicy::new(key.clone()), Some(key)),
            StorageAuth::Token(credential) => {
                for url in [&config.blob_endpoint, &config.queue_endpoint] {
                    if url.scheme() != "https" {
                        return Err(ConfigError::new(format!(
                            "{url}: Entra tokens are only sent over https"
                        )));
                    }
                }
                delegation = Some(delegation_keys(&config.blob_endpoint, &credential, http)?);
                let policy = BearerTokenAuthorizationPolicy::new(credential, [STORAGE_SCOPE]);
                (Arc::new(policy), None)
            }
        };
        let options = ClientOptions {
            transport: Some(transport),
            per_try_policies: vec![policy],
            ..Default::default()
        };
        let version = is_loopback(&config.blob_endpoint).then(|| AZURITE_SERVICE_VERSION.into());
        let name = match &key {
            Some(key) => key.account().to_owned(),
            None => account_name(&config.blob_endpoint)?,
        };
        Ok(Self {
            blob_endpoint: config.blob_endpoint,
            queue_endpoint: config.queue_endpoint,
            options,
            version,
            key,
            name,
            delegation,
        })
    }

    pub fn from_connection_string(text: &str) -> Result<Self, ConfigError> {
        Self::new(StorageConfig::from_connection_string(text)?)
    }

    /// The account of the `AzureWebJobsStorage` settings (see [`StorageConfig::from_env`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(StorageConfig::from_env()?)
    }

    /// The account key, when requests are signed with one (it can sign SAS links).
    pub fn account_key(&self) -> Option<&AccountKey> {
        self.key.as_ref()
    }

    /// The storage account's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The user delegation keys that sign SAS links when requests carry Entra tokens (no
    /// account key).
    pub fn delegation_keys(&self) -> Option<&DelegationKeys> {
        self.delegation.as_deref()
    }

    /// The same account with delegation keys from `fetcher` (a stand-in in tests).
    pub fn with_key_fetcher(mut self, fetcher: Arc<dyn KeyFetcher>) -> Self {
        self.delegation = Some(Arc::new(DelegationKeys::new(fetcher)));
        self
    }

    /// `<blob endpoint>/<container>/<name>`, with the `/` of `name` kept as separators.
    pub fn blob_url(&self, container: &str, name: &str) -> Url {
        join(
            &self.blob_endpoint,
            std::iter::once(container).chain(name.split('/')),
        )
    }

    pub(crate) fn container(&self, container: &str) -> Result<BlobContainerClient, ConfigError> {
        let mut options = BlobContainerClientOptions {
            client_options: self.options.clone(),
            ..Default::default()
        };
        if let Some(version) = &self.version {
            options.version.clone_from(version);
        }
        let url = join(&self.blob_endpoint, [container]);
        BlobContainerClient::new(url, None, Some(options)).map_err(ConfigError::from_azure)
    }

    pub(crate) fn blob(&self, container: &str, name: &str) -> Result<BlobClient, ConfigError> {
        let mut options = BlobClientOptions {
            client_options: self.options.clone(),
            ..Default::default()
        };
        if let Some(version) = &self.version {
            options.version.clone_from(version);
        }
        BlobClient::new(self.blob_url(container, name), None, Some(options))
            .map_err(ConfigError::from_azure)
    }

    pub(crate) fn queue(&self, name: &str) -> Result<QueueClient, ConfigError> {
        let mut options = QueueClientOptions {
            client_options: self.options.clone(),
            ..Default::default()
        };
        if let Some(version) = &self.version {
            options.version.clone_from(version);
        }
        let url = join(&self.queue_endpoint, [name]);
        QueueClient::new(url, None, Some(options)).map_err(ConfigError::from_azure)
    }
}

fn delegation_keys(
    blob_endpoint: &Url,
    credential: &Arc<dyn azure_core::credentials::TokenCredential>,
    http: Arc<dyn HttpClient>,
) -> Result<Arc<DelegationKeys>, ConfigError> {
    let fetcher = RestKeyFetcher::new(blob_endpoint, Arc::clone(credential), http)
        .map_err(|e| ConfigError::new(e.to_string()))?;
    Ok(Arc::new(DelegationKeys::new(Arc::new(fetcher))))
}

/// The account in a blob endpoint: the first path segment of a loopback (path-style) one,
/// else the first label of the host (`<account>.blob.core.windows.net`).
fn account_name(endpoint: &Url) -> Result<String, ConfigError> {
    let name = if is_loopback(endpoint) {
        endpoint.path_segments().and_then(|mut s| s.next())
    } else {
        endpoint.host_str().and_then(|h| h.split('.').next())
    };
    name.filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ConfigError::new(format!("{endpoint}: no account name in it")))
}

fn join<'a>(base: &Url, segments: impl IntoIterator<Item = &'a str>) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// Azurite runs on the loopback interface; Azure never does.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_urls_keep_folders_and_escape_the_rest() {
        let account =
            StorageAccount::from_connection_string("UseDevelopmentStorage=true").expect("account");
        let url = account.blob_url("des-control", "cursors/p 1/account.json");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:10000/devstoreaccount1/des-control/cursors/p%201/account.json"
        );
        assert_eq!(account.version.as_deref(), Some(AZURITE_SERVICE_VERSION));
    }

    #[test]
    fn account_names_come_from_the_endpoint() {
        let name = |url: &str| account_name(&Url::parse(url).expect("url")).ok();
        assert_eq!(
            name("https://acct.blob.core.windows.net/").as_deref(),
            Some("acct")
        );
        assert_eq!(name("http://127.0.0.1:10000/dev1").as_deref(), Some("dev1"));
        assert_eq!(name("http://localhost:10000/"), None);
    }

    #[test]
    fn a_service_root_gets_no_double_slash() {
        let base = Url::parse("https://acct.blob.core.windows.net/").expect("url");
        assert_eq!(
            join(&base, ["c", "b"]).as_str(),
            "https://acct.blob.core.windows.net/c/b"
        );
    }
}

//! [`StorageAccount`]: builds Blob and Queue clients that share one HTTP transport and one
//! authorization policy (so a token is fetched once per lifetime, not once per client).

use std::net::IpAddr;
use std::sync::Arc;

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
use super::shared_key::{AccountKey, SharedKeyPolicy};

/// The newest storage service version Azurite 3.35 accepts; the 1.x crates send a newer one,
/// which it refuses with `400 InvalidHeaderValue`. Used for loopback endpoints only.
pub const AZURITE_SERVICE_VERSION: &str = "2025-11-05";

/// The token audience of Azure Storage.
const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

/// One storage account's Blob and Queue services.
#[derive(Clone)]
pub struct StorageAccount {
    blob_endpoint: Url,
    queue_endpoint: Url,
    options: ClientOptions,
    /// The service version to send, when not the crates' default.
    version: Option<String>,
    key: Option<AccountKey>,
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
        let transport = Transport::new(new_http_client(Some(HttpClientOptions {
            automatic_decompression: false,
        })));
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
        Ok(Self {
            blob_endpoint: config.blob_endpoint,
            queue_endpoint: config.queue_endpoint,
            options,
            version,
            key,
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

fn join<'a>(base: &Url, segments: impl IntoIterator<Item = &'a str>) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// Azurite runs on the loopback interface; Azure never does.
fn is_loopback(url: &Url) -> bool {
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
    fn a_service_root_gets_no_double_slash() {
        let base = Url::parse("https://acct.blob.core.windows.net/").expect("url");
        assert_eq!(
            join(&base, ["c", "b"]).as_str(),
            "https://acct.blob.core.windows.net/c/b"
        );
    }
}

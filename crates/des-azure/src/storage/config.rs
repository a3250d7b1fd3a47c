//! Where the storage account is and how to sign in to it, read from the Functions settings:
//! a connection string in `AzureWebJobsStorage` (Azurite, or an account key), or the
//! identity-based `AzureWebJobsStorage__blobServiceUri` / `__queueServiceUri` (or
//! `__accountName`) / `__credential=managedidentity` settings (Entra tokens, the Azure
//! deployment).

use std::collections::HashMap;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use url::Url;

use super::ConfigError;
use super::shared_key::AccountKey;
use crate::credential;
use crate::names::{
    ACCOUNT_NAME_SUFFIX, BLOB_SERVICE_URI_SUFFIX, CLIENT_ID_SUFFIX, CREDENTIAL_SUFFIX,
    MANAGED_IDENTITY, QUEUE_SERVICE_URI_SUFFIX, STORAGE_SETTING,
};

/// The Azurite account and its published key (`UseDevelopmentStorage=true`).
pub const DEV_ACCOUNT: &str = "devstoreaccount1";
pub const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// How requests to the account are authorized.
#[derive(Clone)]
pub enum StorageAuth {
    /// Shared Key with the account key: Azurite (which takes no tokens over http) and
    /// connection strings with an `AccountKey`.
    SharedKey(AccountKey),
    /// Entra ID tokens: the managed identity in Azure.
    Token(Arc<dyn TokenCredential>),
}

impl std::fmt::Debug for StorageAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SharedKey(key) => f.debug_tuple("SharedKey").field(key).finish(),
            Self::Token(_) => f.write_str("Token"),
        }
    }
}

/// The Blob and Queue endpoints of one account and how to sign in.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub blob_endpoint: Url,
    pub queue_endpoint: Url,
    pub auth: StorageAuth,
}

impl StorageConfig {
    /// Reads `UseDevelopmentStorage=true` or an `AccountName`/`AccountKey` string, with
    /// explicit `BlobEndpoint`/`QueueEndpoint` (Azurite on other ports) or endpoints made
    /// from `DefaultEndpointsProtocol` and `EndpointSuffix`. Errors name the problem, never
    /// the string (it holds the key).
    pub fn from_connection_string(text: &str) -> Result<Self, ConfigError> {
        let pairs = pairs(text)?;
        let get = |name: &str| pairs.get(&name.to_ascii_lowercase()).map(String::as_str);
        if get("UseDevelopmentStorage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return development(get("DevelopmentStorageProxyUri"));
        }
        if get("SharedAccessSignature").is_some() {
            return Err(ConfigError::new(
                "SAS connection strings are not supported: give AccountName and AccountKey",
            ));
        }
        let account = get("AccountName").ok_or_else(|| ConfigError::new("no AccountName"))?;
        let key = get("AccountKey").ok_or_else(|| ConfigError::new("no AccountKey"))?;
        let endpoint = |explicit: Option<&str>, service: &str| match explicit {
            Some(url) => parse_endpoint(url),
            None => {
                let scheme = get("DefaultEndpointsProtocol").unwrap_or("https");
                let suffix = get("EndpointSuffix").unwrap_or("core.windows.net");
                parse_endpoint(&format!("{scheme}://{account}.{service}.{suffix}"))
            }
        };
        Ok(Self {
            blob_endpoint: endpoint(get("BlobEndpoint"), "blob")?,
            queue_endpoint: endpoint(get("QueueEndpoint"), "queue")?,
            auth: StorageAuth::SharedKey(AccountKey::new(account, key)?),
        })
    }

    /// Reads the `AzureWebJobsStorage` settings through `setting` (the process environment
    /// in [`from_env`](Self::from_env)): the connection string if set, else the
    /// identity-based service URIs with the managed identity (`__credential=managedidentity`,
    /// optionally `__clientId` for a user-assigned one) or the [`credential::credential`]
    /// chain.
    pub fn from_settings(setting: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let named = |suffix: &str| setting(&format!("{STORAGE_SETTING}{suffix}"));
        if let Some(text) = setting(STORAGE_SETTING).filter(|s| !s.trim().is_empty()) {
            return Self::from_connection_string(&text);
        }
        let missing = || {
            ConfigError::new(format!(
                "set {STORAGE_SETTING} or {STORAGE_SETTING}{BLOB_SERVICE_URI_SUFFIX} and \
                 {STORAGE_SETTING}{QUEUE_SERVICE_URI_SUFFIX}"
            ))
        };
        // `__accountName` stands for both URIs in the public cloud.
        let account = named(ACCOUNT_NAME_SUFFIX);
        let service = |suffix: &str, kind: &str| {
            named(suffix).or_else(|| {
                let account = account.as_ref()?;
                Some(format!("https://{account}.{kind}.core.windows.net"))
            })
        };
        let blob = service(BLOB_SERVICE_URI_SUFFIX, "blob").ok_or_else(missing)?;
        let queue = service(QUEUE_SERVICE_URI_SUFFIX, "queue").ok_or_else(missing)?;
        let managed =
            named(CREDENTIAL_SUFFIX).is_some_and(|c| c.eq_ignore_ascii_case(MANAGED_IDENTITY));
        let credential = if managed {
            credential::managed_identity(named(CLIENT_ID_SUFFIX))
        } else {
            credential::credential_from(&setting)
        }
        .map_err(|e| ConfigError::new(format!("no credential for storage: {e}")))?;
        Ok(Self {
            blob_endpoint: parse_endpoint(&blob)?,
            queue_endpoint: parse_endpoint(&queue)?,
            auth: StorageAuth::Token(credential),
        })
    }

    /// [`from_settings`](Self::from_settings) over the process environment (how the
    /// Functions host passes app settings).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_settings(|name| std::env::var(name).ok())
    }
}

fn development(proxy: Option<&str>) -> Result<StorageConfig, ConfigError> {
    let host = proxy.map_or("http://127.0.0.1".to_owned(), |p| {
        p.trim_end_matches('/').to_owned()
    });
    Ok(StorageConfig {
        blob_endpoint: parse_endpoint(&format!("{host}:10000/{DEV_ACCOUNT}"))?,
        queue_endpoint: parse_endpoint(&format!("{host}:10001/{DEV_ACCOUNT}"))?,
        auth: StorageAuth::SharedKey(AccountKey::new(DEV_ACCOUNT, DEV_KEY)?),
    })
}

/// `name=value` pairs split on `;`, names lower-cased; values may hold `=` (base64 keys).
fn pairs(text: &str) -> Result<HashMap<String, String>, ConfigError> {
    let mut pairs = HashMap::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| ConfigError::new("a connection string part has no '='"))?;
        pairs.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    Ok(pairs)
}

/// A service URL without a trailing slash: the clients append path segments to it.
fn parse_endpoint(text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim().trim_end_matches('/'))
        .map_err(|e| ConfigError::new(format!("bad storage endpoint {text}: {e}")))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(format!("bad storage endpoint {text}")));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared_key(config: &StorageConfig) -> &AccountKey {
        match &config.auth {
            StorageAuth::SharedKey(key) => key,
            StorageAuth::Token(_) => panic!("expected shared key"),
        }
    }

    #[test]
    fn development_storage_is_azurite_on_its_default_ports() {
        let config = StorageConfig::from_connection_string("UseDevelopmentStorage=true").unwrap();
        assert_eq!(
            config.blob_endpoint.as_str(),
            "http://127.0.0.1:10000/devstoreaccount1"
        );
        assert_eq!(
            config.queue_endpoint.as_str(),
            "http://127.0.0.1:10001/devstoreaccount1"
        );
        assert_eq!(shared_key(&config).account(), DEV_ACCOUNT);
    }

    #[test]
    fn explicit_endpoints_and_derived_ones() {
        let explicit = format!(
            "DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};\
             BlobEndpoint=http://127.0.0.1:4000/{DEV_ACCOUNT}/;QueueEndpoint=http://127.0.0.1:4001/{DEV_ACCOUNT};"
        );
        let config = StorageConfig::from_connection_string(&explicit).unwrap();
        assert_eq!(
            config.blob_endpoint.as_str(),
            "http://127.0.0.1:4000/devstoreaccount1"
        );
        assert_eq!(config.queue_endpoint.port(), Some(4001));

        let derived =
            format!("AccountName=acct;AccountKey={DEV_KEY};EndpointSuffix=core.chinacloudapi.cn");
        let config = StorageConfig::from_connection_string(&derived).unwrap();
        assert_eq!(
            config.queue_endpoint.as_str(),
            "https://acct.queue.core.chinacloudapi.cn/"
        );
        assert_eq!(shared_key(&config).account(), "acct");
    }

    #[test]
    fn errors_name_the_problem_not_the_key() {
        for text in [
            "AccountName=acct",
            "AccountKey=abc",
            "nonsense",
            "BlobEndpoint=https://x;SharedAccessSignature=sv=1",
        ] {
            let error = StorageConfig::from_connection_string(text).unwrap_err();
            assert!(!error.to_string().contains("abc"), "{error}");
        }
        let error = StorageConfig::from_connection_string("AccountName=a;AccountKey=%%secret%%")
            .unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn identity_settings_use_the_service_uris_with_a_token() {
        let settings = HashMap::from([
            (
                "AzureWebJobsStorage__blobServiceUri",
                "https://acct.blob.core.windows.net/",
            ),
            (
                "AzureWebJobsStorage__queueServiceUri",
                "https://acct.queue.core.windows.net",
            ),
            ("AzureWebJobsStorage__credential", "managedidentity"),
        ]);
        let config =
            StorageConfig::from_settings(|n| settings.get(n).map(|v| (*v).to_owned())).unwrap();
        assert_eq!(
            config.blob_endpoint.as_str(),
            "https://acct.blob.core.windows.net/"
        );
        assert!(matches!(config.auth, StorageAuth::Token(_)));

        let by_name = StorageConfig::from_settings(|n| {
            (n == "AzureWebJobsStorage__accountName").then(|| "acct".to_owned())
        })
        .unwrap();
        assert_eq!(
            by_name.queue_endpoint.as_str(),
            "https://acct.queue.core.windows.net/"
        );

        let none = StorageConfig::from_settings(|_| None).unwrap_err();
        assert!(
            none.to_string()
                .contains("AzureWebJobsStorage__blobServiceUri")
        );
    }

    #[test]
    fn a_connection_string_setting_wins() {
        let config = StorageConfig::from_settings(|n| {
            (n == "AzureWebJobsStorage").then(|| "UseDevelopmentStorage=true".to_owned())
        })
        .unwrap();
        assert!(matches!(config.auth, StorageAuth::SharedKey(_)));
    }
}

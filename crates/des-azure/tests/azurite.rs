//! The Azurite the tests run against: `DES_TEST_AZURITE` holds its connection string
//! (`scripts/azurite start <dir>` prints it; `scripts/test` exports it).

use std::time::Duration;

use des_azure::StorageAccount;
use des_azure::storage::{AZURITE_SERVICE_VERSION, AccountKey, StorageConfig};
use reqwest::Method;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use url::Url;
use uuid::Uuid;

/// The connection string, or `None` when the tests are told to skip (`DES_TEST_AZURITE=skip`).
/// Unset is a failure, so a CI run without Azurite cannot pass by skipping
/// (`des_test_env::azurite`).
pub fn connection_string() -> Option<String> {
    des_test_env::azurite("the des-azure Azurite tests")
}

/// A fresh client of the Azurite account.
pub fn account() -> Option<StorageAccount> {
    let text = connection_string()?;
    Some(
        StorageAccount::from_connection_string(&text)
            .expect("DES_TEST_AZURITE is a connection string"),
    )
}

/// A container or queue name no other case uses (lower case, 3-63 characters).
pub fn unique(role: &str) -> String {
    let id = Uuid::new_v4().simple().to_string();
    format!("t-{role}-{}", &id[..16])
}

/// The account key and the queue endpoint, for requests made outside the adapters.
pub struct Raw {
    pub key: AccountKey,
    pub queue: Url,
    pub http: reqwest::Client,
}

impl Raw {
    pub fn new(connection_string: &str) -> Self {
        let config = StorageConfig::from_connection_string(connection_string).expect("config");
        let des_azure::StorageAuth::SharedKey(key) = config.auth else {
            panic!("Azurite uses a shared key");
        };
        Self {
            key,
            queue: config.queue_endpoint,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
        }
    }

    /// Sends a bodiless request signed with `key` (Shared Key made by des-azure).
    pub async fn signed(&self, method: Method, url: &Url, key: &AccountKey) -> reqwest::Response {
        let date = OffsetDateTime::now_utc()
            .format(&Rfc2822)
            .expect("date")
            .replace("+0000", "GMT");
        let headers = vec![
            ("x-ms-date".to_owned(), date),
            (
                "x-ms-version".to_owned(),
                AZURITE_SERVICE_VERSION.to_owned(),
            ),
        ];
        let authorization = key.authorization(method.as_str(), url, &headers, 0);
        let mut request = self.http.request(method, url.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request
            .header("authorization", authorization)
            .send()
            .await
            .expect("Azurite answers")
    }
}

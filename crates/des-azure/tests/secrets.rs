//! Key Vault secrets over an injected fetcher (no Key Vault emulator exists, and the real
//! client sends tokens over https only): the des-contract secrets suite, reference parsing
//! and the short-lived cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use des_azure::{KeyVaultSecrets, SecretFetcher, SecretReference};
use des_contract::secrets::SecretsFixture;
use des_core::Secret;
use des_core::ports::{SecretError, Secrets};

const KNOWN: &str = "https://contoso-des.vault.azure.net/secrets/target-connection";

/// A vault in memory that counts its reads.
#[derive(Default)]
struct FakeVault {
    values: HashMap<String, String>,
    reads: AtomicUsize,
}

#[async_trait]
impl SecretFetcher for FakeVault {
    async fn fetch(&self, reference: &SecretReference) -> Result<Option<Secret>, SecretError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let key = format!(
            "{}|{}",
            reference.vault.host_str().unwrap_or(""),
            reference.name
        );
        Ok(self.values.get(&key).map(Secret::new))
    }
}

fn vault() -> Arc<FakeVault> {
    let mut values = HashMap::new();
    values.insert(
        "contoso-des.vault.azure.net|target-connection".to_owned(),
        "Server=tcp:x;Password=hunter2".to_owned(),
    );
    Arc::new(FakeVault {
        values,
        ..Default::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_contract() {
    des_contract::secrets::run_all(|| async {
        SecretsFixture {
            secrets: KeyVaultSecrets::with_fetcher(vault(), Duration::from_secs(60)),
            known_reference: KNOWN.to_owned(),
            known_value: "Server=tcp:x;Password=hunter2".to_owned(),
            missing_reference: "https://contoso-des.vault.azure.net/secrets/missing".to_owned(),
            malformed_reference: "local:target".to_owned(),
        }
    })
    .await;
}

#[test]
fn references_are_unversioned_secret_urls_of_a_vault() {
    let parsed = SecretReference::parse(&format!("{KNOWN}/")).expect("trailing slash");
    assert_eq!(
        parsed.vault.as_str(),
        "https://contoso-des.vault.azure.net/"
    );
    assert_eq!(parsed.name, "target-connection");
    for bad in [
        "http://contoso-des.vault.azure.net/secrets/a",
        "https://contoso-des.vault.azure.net/secrets/a/0123456789abcdef",
        "https://contoso-des.vault.azure.net/keys/a",
        "https://contoso-des.vault.azure.net/secrets/",
        "https://contoso-des.vault.azure.net/secrets/bad_name",
        "https://example.com/secrets/a",
        "https://vault.azure.net/secrets/a",
        "https://contoso-des.vault.azure.net/secrets/a?api-version=7.4",
        "not a url",
    ] {
        match SecretReference::parse(bad) {
            Err(SecretError::BadReference(reference)) => assert_eq!(reference, bad),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(SecretReference::parse("https://x.vault.azure.cn/secrets/a").is_ok());
}

#[tokio::test]
async fn values_are_cached_for_their_lifetime_only() {
    let fake = vault();
    let cached =
        KeyVaultSecrets::with_fetcher(Arc::<FakeVault>::clone(&fake), Duration::from_secs(3600));
    for _ in 0..3 {
        cached.get(KNOWN).await.expect("known");
    }
    assert_eq!(
        fake.reads.load(Ordering::SeqCst),
        1,
        "one vault read per lifetime"
    );
    cached.forget();
    cached.get(KNOWN).await.expect("known");
    assert_eq!(
        fake.reads.load(Ordering::SeqCst),
        2,
        "forget drops the cache"
    );

    let fake = vault();
    let expired = KeyVaultSecrets::with_fetcher(Arc::<FakeVault>::clone(&fake), Duration::ZERO);
    expired.get(KNOWN).await.expect("known");
    expired.get(KNOWN).await.expect("known");
    assert_eq!(
        fake.reads.load(Ordering::SeqCst),
        2,
        "an expired value is read again"
    );

    let missing = "https://contoso-des.vault.azure.net/secrets/missing";
    for _ in 0..2 {
        assert!(matches!(
            cached.get(missing).await,
            Err(SecretError::NotFound(_))
        ));
    }
    let bad = cached.get("local:x").await;
    assert!(matches!(bad, Err(SecretError::BadReference(_))));
}

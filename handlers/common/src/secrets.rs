//! [`HandlerSecrets`]: where a handler resolves secret references (a profile's
//! `DestinationKeyVaultUri`, an organization's `ClientSecretRef`):
//!
//! - `https://<vault>.vault.azure.net/secrets/<name>`: Key Vault, with the service identity;
//! - a bare `<name>`: that secret in the vault of `DES_KEYVAULT_URL`;
//! - `local:<name>` / `env:<VAR>`: app settings (`DES_SECRET_<NAME>`, or `VAR`), for runs
//!   without a vault (Azurite, tests). In Azure, app settings can themselves be Key Vault
//!   references, so even these need not hold a plain secret.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use des_azure::KeyVaultSecrets;
use des_core::Secret;
use des_core::ports::{SecretError, Secrets};
use des_local::LocalSecrets;
use url::Url;

use crate::identity::ServiceIdentity;

/// Key Vault and app-setting secrets behind one [`Secrets`].
pub struct HandlerSecrets {
    local: LocalSecrets,
    vault: Option<Url>,
    identity: Arc<ServiceIdentity>,
    keyvault: OnceLock<Result<Arc<KeyVaultSecrets>, String>>,
}

impl HandlerSecrets {
    pub fn new(vault: Option<Url>, identity: Arc<ServiceIdentity>) -> Self {
        Self {
            local: LocalSecrets::new(),
            vault,
            identity,
            keyvault: OnceLock::new(),
        }
    }

    fn keyvault(&self) -> Result<Arc<KeyVaultSecrets>, SecretError> {
        self.keyvault
            .get_or_init(|| {
                let credential = self.identity.credential()?;
                Ok(Arc::new(KeyVaultSecrets::new(credential)))
            })
            .clone()
            .map_err(SecretError::Unavailable)
    }

    /// The Key Vault URL a reference stands for, if it is one.
    fn vault_reference(&self, reference: &str) -> Option<String> {
        if reference.starts_with("https://") {
            return Some(reference.to_owned());
        }
        let vault = self.vault.as_ref()?;
        let bare = !reference.is_empty() && !reference.contains([':', '/']);
        bare.then(|| {
            let base = vault.as_str().trim_end_matches('/');
            format!("{base}/secrets/{reference}")
        })
    }
}

#[async_trait]
impl Secrets for HandlerSecrets {
    async fn get(&self, reference: &str) -> Result<Secret, SecretError> {
        let reference = reference.trim();
        if reference.starts_with("local:") || reference.starts_with("env:") {
            return self.local.get(reference).await;
        }
        match self.vault_reference(reference) {
            Some(url) => self.keyvault()?.get(&url).await,
            None => Err(SecretError::BadReference(reference.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(vault: Option<&str>) -> HandlerSecrets {
        let vault = vault.map(|v| Url::parse(v).unwrap());
        HandlerSecrets::new(vault, ServiceIdentity::new())
    }

    #[test]
    fn bare_names_live_in_the_configured_vault() {
        let s = secrets(Some("https://des.vault.azure.net/"));
        assert_eq!(
            s.vault_reference("target-db").as_deref(),
            Some("https://des.vault.azure.net/secrets/target-db")
        );
        let url = "https://other.vault.azure.net/secrets/x";
        assert_eq!(s.vault_reference(url).as_deref(), Some(url));
        assert_eq!(secrets(None).vault_reference("target-db"), None);
    }

    #[tokio::test]
    async fn unknown_references_are_refused_without_a_vault() {
        let error = secrets(None).get("target-db").await.unwrap_err();
        assert!(matches!(error, SecretError::BadReference(_)), "{error}");
        let missing = secrets(None)
            .get("env:DES_HANDLER_TEST_NO_SUCH_VAR")
            .await
            .unwrap_err();
        assert!(matches!(missing, SecretError::NotFound(_)), "{missing}");
    }
}

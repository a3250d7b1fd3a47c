//! The Entra ID credential chain. `azure_identity` 1.x has no `DefaultAzureCredential`, so
//! this picks one the way the deployment runs:
//!
//! 1. App Service / Functions managed identity when `IDENTITY_ENDPOINT` and
//!    `IDENTITY_HEADER` are set (`AZURE_CLIENT_ID` then names a user-assigned identity);
//! 2. a service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`;
//! 3. the developer tools (Azure CLI, Azure Developer CLI logins) otherwise.

use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{
    DeveloperToolsCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId,
};

/// No credential could be made from the settings.
#[derive(Debug, thiserror::Error)]
#[error("Entra ID credential: {0}")]
pub struct CredentialError(String);

impl CredentialError {
    fn from_azure(error: azure_core::Error) -> Self {
        Self(error.to_string())
    }
}

/// Which credential the settings select; secrets stay out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub enum CredentialKind {
    ManagedIdentity {
        client_id: Option<String>,
    },
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret: String,
    },
    DeveloperTools,
}

impl std::fmt::Debug for CredentialKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ManagedIdentity { client_id } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .finish(),
            Self::ClientSecret {
                tenant_id,
                client_id,
                ..
            } => f
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::DeveloperTools => f.write_str("DeveloperTools"),
        }
    }
}

impl CredentialKind {
    /// The first step of the chain whose settings are present.
    pub fn choose(setting: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| setting(name).filter(|v| !v.trim().is_empty());
        if get("IDENTITY_ENDPOINT").is_some() && get("IDENTITY_HEADER").is_some() {
            return Self::ManagedIdentity {
                client_id: get("AZURE_CLIENT_ID"),
            };
        }
        match (
            get("AZURE_TENANT_ID"),
            get("AZURE_CLIENT_ID"),
            get("AZURE_CLIENT_SECRET"),
        ) {
            (Some(tenant_id), Some(client_id), Some(secret)) => Self::ClientSecret {
                tenant_id,
                client_id,
                secret,
            },
            _ => Self::DeveloperTools,
        }
    }

    pub fn build(self) -> Result<Arc<dyn TokenCredential>, CredentialError> {
        match self {
            Self::ManagedIdentity { client_id } => managed_identity(client_id),
            Self::ClientSecret {
                tenant_id,
                client_id,
                secret,
            } => {
                let credential = azure_identity::ClientSecretCredential::new(
                    &tenant_id,
                    client_id,
                    Secret::new(secret),
                    None,
                )
                .map_err(CredentialError::from_azure)?;
                Ok(credential)
            }
            Self::DeveloperTools => {
                let credential =
                    DeveloperToolsCredential::new(None).map_err(CredentialError::from_azure)?;
                Ok(credential)
            }
        }
    }
}

/// The chain over the process environment.
pub fn credential() -> Result<Arc<dyn TokenCredential>, CredentialError> {
    credential_from(&|name: &str| std::env::var(name).ok())
}

/// The chain over `setting` (for tests and hosts that pass settings another way).
pub fn credential_from(
    setting: &dyn Fn(&str) -> Option<String>,
) -> Result<Arc<dyn TokenCredential>, CredentialError> {
    let kind = CredentialKind::choose(setting);
    tracing::debug!(credential = ?kind, "Chose the Entra ID credential.");
    kind.build()
}

/// The managed identity: system-assigned, or the user-assigned one with `client_id`. It reads
/// `IDENTITY_ENDPOINT`/`IDENTITY_HEADER` itself (and falls back to IMDS on VMs).
pub fn managed_identity(
    client_id: Option<String>,
) -> Result<Arc<dyn TokenCredential>, CredentialError> {
    let options = ManagedIdentityCredentialOptions {
        user_assigned_id: client_id.map(UserAssignedId::ClientId),
        ..Default::default()
    };
    let credential =
        ManagedIdentityCredential::new(Some(options)).map_err(CredentialError::from_azure)?;
    Ok(credential)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn choose(pairs: &[(&str, &str)]) -> CredentialKind {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        CredentialKind::choose(|n| map.get(n).map(|v| (*v).to_owned()))
    }

    #[test]
    fn the_chain_prefers_the_managed_identity_then_a_secret_then_the_tools() {
        let secret = [
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s3cr3t"),
        ];
        let mut msi = secret.to_vec();
        msi.extend([
            ("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ]);
        assert_eq!(
            choose(&msi),
            CredentialKind::ManagedIdentity {
                client_id: Some("c".to_owned())
            }
        );
        let chosen = choose(&secret);
        assert!(matches!(chosen, CredentialKind::ClientSecret { .. }));
        assert!(
            !format!("{chosen:?}").contains("s3cr3t"),
            "Debug hides the secret"
        );
        assert_eq!(choose(&secret[..2]), CredentialKind::DeveloperTools);
        assert_eq!(
            choose(&[("IDENTITY_ENDPOINT", "http://x")]),
            CredentialKind::DeveloperTools,
            "an endpoint without its header is not App Service"
        );
    }

    #[test]
    fn each_kind_builds() {
        let secret = CredentialKind::ClientSecret {
            tenant_id: "00000000-0000-0000-0000-000000000001".to_owned(),
            client_id: "c".to_owned(),
            secret: "s".to_owned(),
        };
        assert!(secret.build().is_ok());
        assert!(CredentialKind::DeveloperTools.build().is_ok());
    }
}

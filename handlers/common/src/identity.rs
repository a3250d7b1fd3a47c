//! The service's own Entra ID credential (managed identity in Azure, see
//! [`des_azure::credential`]), made on first use: most local runs never need it, and making
//! it must not delay the readiness answer.

use std::sync::{Arc, OnceLock};

use azure_core::credentials::TokenCredential;

/// The credential chain, built once when first asked for.
#[derive(Default)]
pub struct ServiceIdentity {
    credential: OnceLock<Result<Arc<dyn TokenCredential>, String>>,
}

impl ServiceIdentity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The credential, or why there is none (no secret in the text).
    pub fn credential(&self) -> Result<Arc<dyn TokenCredential>, String> {
        self.credential
            .get_or_init(|| des_azure::credential::credential().map_err(|e| e.to_string()))
            .clone()
    }
}

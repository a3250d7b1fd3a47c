//! [`OrgSources`]: the Dataverse client of each configured organization, as the engine's
//! source resolver and the API's admin checker. An organization with a `ClientSecretRef`
//! signs in with that app secret (resolved through the handler's secrets); one without signs
//! in as the service's managed identity.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use dataverse::{ClientConfig, DataverseClient};
use des_api::{AdminChecker, OrgClients};
use des_azure::EntraTokens;
use des_core::ports::{ControlStore, Organization, Secrets, Source, SourceError};
use des_engine::{EngineError, SourceResolver};
use url::Url;
use uuid::Uuid;

use crate::identity::ServiceIdentity;

/// Dataverse clients by organization id, built on first use.
pub struct OrgSources {
    control: Arc<dyn ControlStore>,
    identity: Arc<ServiceIdentity>,
    with_secret: OrgClients,
    clients: Mutex<HashMap<Uuid, Arc<DataverseClient>>>,
}

impl OrgSources {
    /// `authority` is where app secrets are exchanged for tokens (`DES_ENTRA_AUTHORITY`).
    pub fn new(
        control: Arc<dyn ControlStore>,
        secrets: Arc<dyn Secrets>,
        authority: Url,
        identity: Arc<ServiceIdentity>,
    ) -> Self {
        let with_secret =
            OrgClients::new().with_credentials(Arc::clone(&control), secrets, authority);
        Self {
            control,
            identity,
            with_secret,
            clients: Mutex::default(),
        }
    }

    fn cached(&self, id: Uuid) -> Option<Arc<DataverseClient>> {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients.get(&id).cloned()
    }

    /// The client of `org`.
    pub async fn client(&self, org: &Organization) -> Result<Arc<DataverseClient>, SourceError> {
        if let Some(client) = self.cached(org.organization_id) {
            return Ok(client);
        }
        let client = if org.client_secret_ref.trim().is_empty() {
            self.managed_client(org)?
        } else {
            self.with_secret.client(org).await?
        };
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Arc::clone(
            clients.entry(org.organization_id).or_insert(client),
        ))
    }

    fn managed_client(&self, org: &Organization) -> Result<Arc<DataverseClient>, SourceError> {
        let credential = self.identity.credential().map_err(SourceError::Auth)?;
        let url = Url::parse(&org.organization_url)
            .map_err(|e| SourceError::Protocol(format!("organization URL: {e}")))?;
        let tokens = Arc::new(EntraTokens::for_dataverse(credential, url.as_str()));
        let client = DataverseClient::new(ClientConfig::new(url), tokens)
            .map_err(|e| SourceError::Protocol(e.to_string()))?;
        Ok(Arc::new(client))
    }
}

#[async_trait]
impl SourceResolver for OrgSources {
    async fn source(&self, organization_id: Uuid) -> Result<Arc<dyn Source>, EngineError> {
        if let Some(client) = self.cached(organization_id) {
            return Ok(client as Arc<dyn Source>);
        }
        let orgs = self.control.organizations().await?;
        let org = orgs
            .into_iter()
            .find(|o| o.organization_id == organization_id)
            .ok_or(EngineError::OrganizationNotFound(organization_id))?;
        Ok(self.client(&org).await? as Arc<dyn Source>)
    }
}

#[async_trait]
impl AdminChecker for OrgSources {
    async fn is_system_admin(&self, org: &Organization, oid: Uuid) -> Result<bool, SourceError> {
        self.client(org).await?.is_system_admin(oid).await
    }

    async fn who_am_i(&self, org: &Organization) -> Result<Uuid, SourceError> {
        Ok(self.client(org).await?.who_am_i().await?.user_id)
    }
}

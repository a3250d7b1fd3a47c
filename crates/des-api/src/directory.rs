//! [`OrgClients`]: one Dataverse client per configured organization, signed in with the
//! service's own identity. It answers the admin checks and is the engine's source resolver.
//!
//! Clients are either given (local mode: the client `des run` already has) or built on first
//! use from the organization's `TenantId`, `ClientId` and `ClientSecretRef` (resolved through
//! [`Secrets`], never logged) against an Entra authority; an organization that names no
//! secret signs in as the service itself when a deployment gives one ([`ServiceTokens`]: the
//! Functions apps' managed identity).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use dataverse::{CachedToken, ClientConfig, ClientCredentials, DataverseClient};
use des_core::ports::{ControlStore, Organization, Secrets, Source, SourceError, TokenProvider};
use des_engine::{EngineError, SourceResolver};
use url::Url;
use uuid::Uuid;

use crate::access::AdminChecker;

/// How to build clients for organizations that were not given one.
struct Credentials {
    control: Arc<dyn ControlStore>,
    secrets: Arc<dyn Secrets>,
    authority: Url,
}

/// Signs in to an organization's Dataverse (its URL) as the service itself.
pub type ServiceTokens = dyn Fn(&Url) -> Result<Arc<dyn TokenProvider>, String> + Send + Sync;

/// Dataverse clients by organization id.
#[derive(Default)]
pub struct OrgClients {
    clients: Mutex<HashMap<Uuid, Arc<DataverseClient>>>,
    credentials: Option<Credentials>,
    service: Option<Box<ServiceTokens>>,
}

impl OrgClients {
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `client` for organization `organization_id`.
    pub fn with_client(self, organization_id: Uuid, client: Arc<DataverseClient>) -> Self {
        self.lock().insert(organization_id, client);
        self
    }

    /// Builds missing clients with client credentials at `authority`
    /// (e.g. `https://login.microsoftonline.com`).
    pub fn with_credentials(
        mut self,
        control: Arc<dyn ControlStore>,
        secrets: Arc<dyn Secrets>,
        authority: Url,
    ) -> Self {
        self.credentials = Some(Credentials {
            control,
            secrets,
            authority,
        });
        self
    }

    /// Organizations with no `ClientSecretRef` sign in through `tokens`.
    pub fn with_service_identity(mut self, tokens: Box<ServiceTokens>) -> Self {
        self.service = Some(tokens);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<DataverseClient>>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The client of `org`, built on first use.
    pub async fn client(&self, org: &Organization) -> Result<Arc<DataverseClient>, SourceError> {
        if let Some(client) = self.lock().get(&org.organization_id) {
            return Ok(Arc::clone(client));
        }
        let Some(credentials) = &self.credentials else {
            let id = org.organization_id;
            return Err(SourceError::Auth(format!(
                "no Dataverse client for organization {id}"
            )));
        };
        let client = Arc::new(self.build(credentials, org).await?);
        let mut clients = self.lock();
        Ok(Arc::clone(
            clients.entry(org.organization_id).or_insert(client),
        ))
    }
}

impl OrgClients {
    async fn build(
        &self,
        credentials: &Credentials,
        org: &Organization,
    ) -> Result<DataverseClient, SourceError> {
        let org_url = Url::parse(&org.organization_url)
            .map_err(|e| SourceError::Protocol(format!("organization URL: {e}")))?;
        let tokens = match &self.service {
            Some(service) if org.client_secret_ref.trim().is_empty() => {
                service(&org_url).map_err(SourceError::Auth)?
            }
            _ => app_tokens(credentials, org, &org_url).await?,
        };
        DataverseClient::new(ClientConfig::new(org_url), tokens)
            .map_err(|e| SourceError::Protocol(e.to_string()))
    }
}

/// The organization's app user: its client secret exchanged at the authority.
async fn app_tokens(
    credentials: &Credentials,
    org: &Organization,
    org_url: &Url,
) -> Result<Arc<dyn TokenProvider>, SourceError> {
    let secret = credentials
        .secrets
        .get(&org.client_secret_ref)
        .await
        .map_err(|e| SourceError::Auth(e.to_string()))?;
    let grant = ClientCredentials::for_tenant(
        &credentials.authority,
        &org.tenant_id,
        &org.client_id,
        secret,
        org_url,
    )
    .map_err(|e| SourceError::Auth(e.to_string()))?;
    Ok(Arc::new(CachedToken::new(grant)))
}

#[async_trait]
impl AdminChecker for OrgClients {
    async fn is_system_admin(&self, org: &Organization, oid: Uuid) -> Result<bool, SourceError> {
        self.client(org).await?.is_system_admin(oid).await
    }

    async fn who_am_i(&self, org: &Organization) -> Result<Uuid, SourceError> {
        Ok(self.client(org).await?.who_am_i().await?.user_id)
    }
}

#[async_trait]
impl SourceResolver for OrgClients {
    async fn source(&self, organization_id: Uuid) -> Result<Arc<dyn Source>, EngineError> {
        if let Some(client) = self.lock().get(&organization_id) {
            return Ok(Arc::clone(client) as Arc<dyn Source>);
        }
        let Some(credentials) = &self.credentials else {
            return Err(EngineError::OrganizationNotFound(organization_id));
        };
        let orgs = credentials.control.organizations().await?;
        let org = orgs
            .into_iter()
            .find(|o| o.organization_id == organization_id)
            .ok_or(EngineError::OrganizationNotFound(organization_id))?;
        Ok(self.client(&org).await? as Arc<dyn Source>)
    }
}

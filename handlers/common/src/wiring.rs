//! The engine's ports over the Azure adapters, as every handler wires them:
//!
//! | port | adapter |
//! |---|---|
//! | control store | [`BlobControlStore`] in `des-control` |
//! | work queue | [`StorageQueue`] `des-apply` |
//! | payloads | [`BlobPayloadStore`] in `des-payloads` |
//! | failure log | [`AppendBlobFailureLog`] in `des-failures` |
//! | sources | [`OrgClients`] (an organization's app secret, or the managed identity) |
//! | sinks | [`CachedSinks`] over [`HandlerSecrets`]: a profile's `DestinationKeyVaultUri` |

use std::sync::Arc;

use des_api::OrgClients;
use des_azure::names::{CONTROL_CONTAINER, FAILURE_CONTAINER, PAYLOAD_CONTAINER, WORK_QUEUE};
use des_azure::{
    AppendBlobFailureLog, BlobControlStore, BlobPayloadStore, EntraTokens, StorageAccount,
    StorageQueue,
};
use des_core::Secret;
use des_core::ports::{AccessTokenSource, SystemClock, TokenProvider, WorkQueue};
use des_engine::resolve::SinkFactory;
use des_engine::{CachedSinks, EnginePorts};
use des_sinks::Opening;
use des_sinks::mssql::AZURE_SQL_SCOPE;

use url::Url;

use crate::identity::ServiceIdentity;
use crate::secrets::HandlerSecrets;
use crate::server::WiringError;
use crate::settings::Settings;

/// Everything a handler works with, wired once per process.
pub struct Wiring {
    pub settings: Settings,
    pub account: StorageAccount,
    pub secrets: Arc<HandlerSecrets>,
    pub control: Arc<BlobControlStore>,
    pub queue: Arc<StorageQueue>,
    pub payloads: Arc<BlobPayloadStore>,
    pub failures: Arc<AppendBlobFailureLog>,
    pub sources: Arc<OrgClients>,
    pub sinks: Arc<CachedSinks>,
}

impl Wiring {
    /// Opens the storage adapters (creating containers and the queue when missing).
    pub async fn connect(settings: Settings) -> Result<Self, WiringError> {
        let account =
            StorageAccount::from_env().map_err(|e| WiringError::new("storage settings", e))?;
        let identity = ServiceIdentity::new();
        let secrets = Arc::new(HandlerSecrets::new(
            settings.keyvault_url.clone(),
            Arc::clone(&identity),
        ));
        let (control, queue, payloads, failures) = tokio::try_join!(
            async {
                BlobControlStore::open(&account, CONTROL_CONTAINER)
                    .await
                    .map_err(|e| WiringError::new("control store", e))
            },
            async {
                StorageQueue::open(&account, WORK_QUEUE)
                    .await
                    .map_err(|e| WiringError::new("work queue", e))
            },
            async {
                BlobPayloadStore::open(&account, PAYLOAD_CONTAINER)
                    .await
                    .map_err(|e| WiringError::new("payload store", e))
            },
            async {
                AppendBlobFailureLog::open(&account, FAILURE_CONTAINER)
                    .await
                    .map_err(|e| WiringError::new("failure log", e))
            },
        )?;
        let control = Arc::new(control);
        let sources = Arc::new(org_clients(&settings, &control, &secrets, &identity));
        let sinks = Arc::new(CachedSinks::new(
            Arc::clone(&secrets) as _,
            sink_factory(identity),
        ));
        Ok(Self {
            settings,
            account,
            secrets,
            control,
            queue: Arc::new(queue),
            payloads: Arc::new(payloads),
            failures: Arc::new(failures),
            sources,
            sinks,
        })
    }

    /// The engine's ports, with the work queue the caller chooses (the applier wraps it).
    pub fn ports_with_queue(&self, queue: Arc<dyn WorkQueue>) -> EnginePorts {
        EnginePorts {
            control: Arc::clone(&self.control) as _,
            queue,
            payloads: Arc::clone(&self.payloads) as _,
            failures: Arc::clone(&self.failures) as _,
            clock: Arc::new(SystemClock),
            sources: Arc::clone(&self.sources) as _,
            sinks: Arc::clone(&self.sinks) as _,
        }
    }

    pub fn ports(&self) -> EnginePorts {
        self.ports_with_queue(Arc::clone(&self.queue) as _)
    }
}

/// The Dataverse client of each configured organization: an organization with a
/// `ClientSecretRef` signs in with that app secret (resolved through the handler's secrets),
/// one without as the service's managed identity.
fn org_clients(
    settings: &Settings,
    control: &Arc<BlobControlStore>,
    secrets: &Arc<HandlerSecrets>,
    identity: &Arc<ServiceIdentity>,
) -> OrgClients {
    let identity = Arc::clone(identity);
    let managed = move |org_url: &Url| {
        let credential = identity.credential().map_err(|e| e.to_string())?;
        let tokens: Arc<dyn TokenProvider> =
            Arc::new(EntraTokens::for_dataverse(credential, org_url.as_str()));
        Ok(tokens)
    };
    OrgClients::new()
        .with_credentials(
            Arc::clone(control) as _,
            Arc::clone(secrets) as _,
            settings.entra_authority.clone(),
        )
        .with_service_identity(Box::new(managed))
}

/// Opens a target from its destination type and connection string. SQLite's "connection
/// string" is the database file's path; the file's folder must exist (a missing one is the
/// profile's configuration). A SQL Server string without credentials signs in as the
/// service's managed identity.
pub fn sink_factory(identity: Arc<ServiceIdentity>) -> Box<SinkFactory> {
    let tokens = move || {
        let credential = identity.credential().map_err(|e| e.to_string())?;
        let tokens: Arc<dyn AccessTokenSource> =
            Arc::new(EntraTokens::new(credential, AZURE_SQL_SCOPE));
        Ok(tokens)
    };
    let opening = Opening {
        create_sqlite_folder: false,
        sql_tokens: Some(Box::new(tokens)),
    };
    Box::new(move |kind, secret: &Secret| Ok(opening.open(kind, secret)?))
}

//! [`ApiState`]: everything the handlers use, built explicitly by the entry point.

use std::sync::Arc;
use std::time::Duration;

use des_core::ports::Secrets;
use des_engine::EnginePorts;
use url::Url;

use crate::access::{AdminChecker, AdminRecheck, CachedAdminChecker};
use crate::auth::Authenticator;
use crate::links::{FailureLinks, LinkKey, SignedLinks};
use crate::monitor::Monitor;

/// How long a failure-log link stays valid (DES: 24 hours).
pub const FAILURE_LINK_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Plain settings of the API.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Where clients reach this API (`ConnectorUrl`, failure links), e.g.
    /// `http://127.0.0.1:7071`.
    pub public_base_url: Url,
    /// Signs local failure-log links.
    pub link_key: LinkKey,
    /// How long admin answers are used (at most 8 s by default: the bound on how long a
    /// removed role or a disabled user keeps access).
    pub admin_recheck: AdminRecheck,
    /// The least time a refusal about an organization or profile takes (403/404), counted
    /// from the start of the check. An unknown one is known at once, an unadministered one
    /// only after an admin check that may reach Dataverse; without the floor the answer's
    /// timing would tell an outsider which organizations and profiles exist.
    pub refusal_floor: Duration,
}

/// [`ApiSettings::refusal_floor`] by default: above a typical admin check's round trip.
pub const REFUSAL_FLOOR: Duration = Duration::from_millis(500);

impl ApiSettings {
    pub fn new(public_base_url: Url, link_key: LinkKey) -> Self {
        Self {
            public_base_url,
            link_key,
            admin_recheck: AdminRecheck::default(),
            refusal_floor: REFUSAL_FLOOR,
        }
    }

    /// `ConnectorUrl`: the base URL without a trailing slash, as DES clients append
    /// `/crm/exporter/...` to it.
    pub fn connector_url(&self) -> String {
        self.public_base_url
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }
}

/// The API's shared state; cheap to clone (a few `Arc`s).
#[derive(Clone)]
pub struct ApiState {
    engine: EnginePorts,
    secrets: Arc<dyn Secrets>,
    authenticator: Arc<Authenticator>,
    admins: Arc<dyn AdminChecker>,
    failure_links: Arc<dyn FailureLinks>,
    settings: Arc<ApiSettings>,
    monitor: Arc<Monitor>,
}

impl ApiState {
    /// The engine's ports (control store, failure log, clock, source and sink resolvers),
    /// the secret store the `test` checks resolve targets with, the token validator, and the
    /// admin checker (wrapped in a cache under `settings.admin_recheck`). Failure links are
    /// [`SignedLinks`] served by this API unless [`ApiState::with_failure_links`] says otherwise.
    pub fn new(
        engine: EnginePorts,
        secrets: Arc<dyn Secrets>,
        authenticator: Authenticator,
        admins: Arc<dyn AdminChecker>,
        settings: ApiSettings,
    ) -> Self {
        let admins = Arc::new(CachedAdminChecker::new(admins, settings.admin_recheck));
        let links = SignedLinks::new(settings.public_base_url.clone(), settings.link_key.clone());
        Self {
            engine,
            secrets,
            authenticator: Arc::new(authenticator),
            admins,
            failure_links: Arc::new(links),
            settings: Arc::new(settings),
            monitor: Arc::new(Monitor::default()),
        }
    }

    /// Replaces the failure-link maker (the Azure SAS links of a later issue).
    pub fn with_failure_links(mut self, links: Arc<dyn FailureLinks>) -> Self {
        self.failure_links = links;
        self
    }

    pub fn engine(&self) -> &EnginePorts {
        &self.engine
    }

    pub fn secrets(&self) -> &dyn Secrets {
        self.secrets.as_ref()
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    pub fn admins(&self) -> &dyn AdminChecker {
        self.admins.as_ref()
    }

    pub fn failure_links(&self) -> &dyn FailureLinks {
        self.failure_links.as_ref()
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.settings
    }

    /// Sampled figures and request counts (`x-monitor`, `/metrics`).
    pub fn monitor(&self) -> &Arc<Monitor> {
        &self.monitor
    }
}

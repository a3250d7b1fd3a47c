//! Which source and which sink a profile uses.
//!
//! Adapters are picked per profile at run time: the source by the profile's organization, the
//! sink by its destination type and the connection string behind `DestinationKeyVaultUri`
//! (resolved through [`Secrets`], never logged). The wiring code (CLI, Functions handlers)
//! supplies the constructors; the engine only sees `Arc<dyn Source>` / `Arc<dyn Sink>`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use des_core::Secret;
use des_core::ports::{Secrets, Sink, Source};
use des_core::profile::{DestinationType, Profile};
use uuid::Uuid;

use crate::error::EngineError;

/// Organization → its Dataverse source.
#[async_trait]
pub trait SourceResolver: Send + Sync {
    async fn source(&self, organization_id: Uuid) -> Result<Arc<dyn Source>, EngineError>;
}

/// Profile → its SQL target.
#[async_trait]
pub trait SinkResolver: Send + Sync {
    async fn sink(&self, profile: &Profile) -> Result<Arc<dyn Sink>, EngineError>;
}

/// One source for every organization (local mode, tests).
pub struct SingleSource(pub Arc<dyn Source>);

#[async_trait]
impl SourceResolver for SingleSource {
    async fn source(&self, _organization_id: Uuid) -> Result<Arc<dyn Source>, EngineError> {
        Ok(Arc::clone(&self.0))
    }
}

/// Builds a sink from a destination type and its connection string.
pub type SinkFactory =
    dyn Fn(DestinationType, &Secret) -> Result<Arc<dyn Sink>, EngineError> + Send + Sync;

/// Resolves `DestinationKeyVaultUri` through [`Secrets`] and caches one sink per profile and
/// secret reference, so a changed reference builds a new sink.
pub struct CachedSinks {
    secrets: Arc<dyn Secrets>,
    factory: Box<SinkFactory>,
    cache: Mutex<HashMap<(Uuid, String), Arc<dyn Sink>>>,
}

impl CachedSinks {
    pub fn new(secrets: Arc<dyn Secrets>, factory: Box<SinkFactory>) -> Self {
        Self {
            secrets,
            factory,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, key: &(Uuid, String)) -> Option<Arc<dyn Sink>> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }
}

#[async_trait]
impl SinkResolver for CachedSinks {
    async fn sink(&self, profile: &Profile) -> Result<Arc<dyn Sink>, EngineError> {
        let key = (profile.id, profile.destination_key_vault_uri.clone());
        if let Some(sink) = self.cached(&key) {
            return Ok(sink);
        }
        let secret = self.secrets.get(&profile.destination_key_vault_uri).await?;
        let sink = (self.factory)(profile.destination_type, &secret)?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        Ok(Arc::clone(cache.entry(key).or_insert(sink)))
    }
}

/// One sink for every profile (tests, and wrappers that inject faults).
pub struct SingleSink(pub Arc<dyn Sink>);

#[async_trait]
impl SinkResolver for SingleSink {
    async fn sink(&self, _profile: &Profile) -> Result<Arc<dyn Sink>, EngineError> {
        Ok(Arc::clone(&self.0))
    }
}

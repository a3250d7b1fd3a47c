//! The client: metadata discovery and change-tracked reads behind the `Source` port.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use des_core::ports::{NextLink, Page, PageRequest, Source, SourceError};
use des_core::{EntityMetadata, EntitySummary, ManyToManyRelationship, OptionSetMetadata};
use url::Url;
use uuid::Uuid;

use crate::config::{ClientConfig, ConfigError};
use crate::identity::{self, WhoAmI};
use crate::metadata;
use crate::page::PageParser;
use crate::plan::ColumnPlan;
use crate::token::TokenProvider;
use crate::transport::Transport;

/// A Dataverse environment read through the Web API.
///
/// The `Source` reads need each entity's attribute kinds. They come from a per-entity-set
/// cache that [`Source::entity_metadata`] fills (and refreshes); a read of an entity set not
/// seen yet looks its metadata up first. [`DataverseClient::read_page_with`] skips the cache.
pub struct DataverseClient {
    transport: Transport,
    page_size: u32,
    /// Body bytes of the data pages read so far.
    page_bytes: AtomicU64,
    entities: Mutex<HashMap<String, Arc<EntityMetadata>>>,
}

impl DataverseClient {
    pub fn new(config: ClientConfig, tokens: Arc<dyn TokenProvider>) -> Result<Self, ConfigError> {
        Self::with_app_users(config, vec![tokens])
    }

    /// A client that spreads its requests over several application users, each signing in
    /// with its own `tokens` and paced within its own service-protection budget.
    pub fn with_app_users(
        config: ClientConfig,
        tokens: Vec<Arc<dyn TokenProvider>>,
    ) -> Result<Self, ConfigError> {
        let transport = Transport::new(&config, tokens)?;
        Ok(Self {
            transport,
            page_size: config.page_size,
            page_bytes: AtomicU64::new(0),
            entities: Mutex::new(HashMap::new()),
        })
    }

    /// Body bytes of every data page this client has read (what `des bench` compares with
    /// and without lookup names).
    pub fn page_bytes_read(&self) -> u64 {
        self.page_bytes.load(Ordering::Relaxed)
    }

    /// How this client has paced its requests so far, its app users added up.
    pub fn pace_stats(&self) -> crate::PaceStats {
        crate::users::total(&self.transport.pace_stats())
    }

    /// How each app user's requests were paced (one budget each), in the order given.
    pub fn pace_stats_per_user(&self) -> Vec<crate::PaceStats> {
        self.transport.pace_stats()
    }

    /// `WhoAmI`: a cheap authenticated round trip that names the calling user.
    pub async fn who_am_i(&self) -> Result<WhoAmI, SourceError> {
        identity::who_am_i(&self.transport).await
    }

    /// True when the Entra user `aad_object_id` is an enabled user of this environment with
    /// System Administrator, directly or through a team.
    pub async fn is_system_admin(&self, aad_object_id: Uuid) -> Result<bool, SourceError> {
        match identity::user_by_object_id(&self.transport, aad_object_id).await? {
            Some(user) => identity::holds_system_admin(&self.transport, user).await,
            None => Ok(false),
        }
    }

    /// The same check for a known `systemuserid`.
    pub async fn is_user_system_admin(&self, user_id: Uuid) -> Result<bool, SourceError> {
        identity::holds_system_admin(&self.transport, user_id).await
    }

    /// Reads a page of `entity` with the caller's metadata, bypassing the cache.
    pub async fn read_page_with(
        &self,
        entity: &EntityMetadata,
        request: &PageRequest,
        select: &[String],
    ) -> Result<Page, SourceError> {
        self.read_planned(&ColumnPlan::new(entity, select)?, request)
            .await
    }

    /// Reads one page with a prepared plan. `Start` selects the plan's columns, the primary key
    /// and `versionnumber`; `Follow` GETs the link as it was returned.
    pub async fn read_planned(
        &self,
        plan: &ColumnPlan,
        request: &PageRequest,
    ) -> Result<Page, SourceError> {
        let (url, followed) = match request {
            PageRequest::Start { entity_set, .. } => {
                let relative = format!("{entity_set}?$select={}", plan.select_clause());
                (self.transport.url(&relative)?, None)
            }
            PageRequest::Follow { link } => (self.transport.link(link)?, Some(link.as_str())),
        };
        // The annotations follow the plan: formatted values only when it reads lookup names.
        let prefer = format!(
            "odata.track-changes,odata.maxpagesize={},odata.include-annotations=\"{}\"",
            self.page_size,
            plan.annotations()
        );
        let make = |_| PageParser::new(plan, followed);
        let (page, bytes) = self.transport.get_with(&url, Some(&prefer), &make).await?;
        self.page_bytes.fetch_add(bytes, Ordering::Relaxed);
        let more = matches!(page.next, NextLink::More(_));
        tracing::debug!(entity_set = %plan.entity_set, changes = page.changes.len(), more, "Read a page.");
        Ok(page)
    }

    fn cached(&self, entity_set: &str) -> Option<Arc<EntityMetadata>> {
        self.entities
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(entity_set)
            .cloned()
    }

    fn remember(&self, entity: EntityMetadata) -> Arc<EntityMetadata> {
        let entity = Arc::new(entity);
        let mut cache = self.entities.lock().unwrap_or_else(PoisonError::into_inner);
        cache.insert(entity.entity_set_name.clone(), Arc::clone(&entity));
        entity
    }

    /// The metadata of `entity_set`, from the cache unless `refresh`.
    async fn metadata_for_set(
        &self,
        entity_set: &str,
        refresh: bool,
    ) -> Result<Arc<EntityMetadata>, SourceError> {
        if let Some(entity) = self.cached(entity_set).filter(|_| !refresh) {
            return Ok(entity);
        }
        let logical_name = match self.cached(entity_set) {
            Some(entity) => entity.logical_name.clone(),
            None => self.logical_name_of(entity_set).await?,
        };
        let entity = metadata::entity(&self.transport, &logical_name).await?;
        Ok(self.remember(entity))
    }

    async fn logical_name_of(&self, entity_set: &str) -> Result<String, SourceError> {
        let all = metadata::entities(&self.transport).await?;
        all.into_iter()
            .find(|e| e.entity_set_name == entity_set)
            .map(|e| e.logical_name)
            .ok_or_else(|| SourceError::Service {
                status: 404,
                code: String::new(),
                message: format!("no entity has the entity set {entity_set}"),
            })
    }

    /// The plan for `select` on `entity_set`, refreshing stale metadata once.
    async fn plan(&self, entity_set: &str, select: &[String]) -> Result<ColumnPlan, SourceError> {
        let entity = self.metadata_for_set(entity_set, false).await?;
        match ColumnPlan::new(&entity, select) {
            Ok(plan) => Ok(plan),
            Err(_) => ColumnPlan::new(&*self.metadata_for_set(entity_set, true).await?, select),
        }
    }
}

/// The entity set a link reads: the last path segment (`.../v9.2/accounts?...`).
fn entity_set_of(link: &str) -> Result<String, SourceError> {
    let url =
        Url::parse(link).map_err(|e| SourceError::Protocol(format!("link is not a URL: {e}")))?;
    url.path_segments()
        .and_then(|mut segments| segments.next_back().map(str::to_owned))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| SourceError::Protocol("link names no entity set".to_owned()))
}

#[async_trait]
impl Source for DataverseClient {
    async fn entities(&self) -> Result<Vec<EntitySummary>, SourceError> {
        metadata::entities(&self.transport).await
    }

    async fn entity_metadata(&self, logical_name: &str) -> Result<EntityMetadata, SourceError> {
        let entity = metadata::entity(&self.transport, logical_name).await?;
        Ok((*self.remember(entity)).clone())
    }

    async fn relationships(&self) -> Result<Vec<ManyToManyRelationship>, SourceError> {
        metadata::relationships(&self.transport).await
    }

    async fn global_option_sets(&self) -> Result<Vec<OptionSetMetadata>, SourceError> {
        metadata::global_option_sets(&self.transport).await
    }

    async fn read_page(
        &self,
        request: &PageRequest,
        select: &[String],
    ) -> Result<Page, SourceError> {
        let (entity_set, select) = match request {
            PageRequest::Start {
                entity_set,
                select: start,
            } if select.is_empty() => (entity_set.clone(), start.as_slice()),
            PageRequest::Start { entity_set, .. } => (entity_set.clone(), select),
            PageRequest::Follow { link } => (entity_set_of(link)?, select),
        };
        let plan = self.plan(&entity_set, select).await?;
        self.read_planned(&plan, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_set_comes_from_the_last_path_segment() {
        let link = "http://127.0.0.1:1/api/data/v9.2/accounts?$select=name&$deltatoken=9%2101";
        assert_eq!(entity_set_of(link).expect("set"), "accounts");
        assert!(entity_set_of("not a url").is_err());
    }
}

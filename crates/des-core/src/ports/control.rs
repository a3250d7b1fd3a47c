use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::profile::Profile;
use crate::sync::{EntityCursor, EntityStats, StatsDelta};

/// An opaque version tag for optimistic concurrency (a blob ETag, a row counter).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Etag(pub String);

/// A stored value with its version tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub etag: Etag,
}

/// The condition a write must meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Write whatever is there.
    None,
    /// Create only: fail with `Conflict` if the key exists.
    MustNotExist,
    /// Replace only this version: fail with `Conflict` if it changed.
    Match(Etag),
}

/// A configured Dataverse environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Organization {
    pub organization_id: Uuid,
    pub organization_name: String,
    pub organization_url: String,
    pub tenant_id: String,
    /// The app id the service signs in to Dataverse with.
    pub client_id: String,
    /// Where that app's secret is (`local:<name>` or a Key Vault secret URL); empty when a
    /// managed identity is used.
    pub client_secret_ref: String,
    pub privacy_terms_accepted: bool,
}

/// One stream's cursor and counters, as [`ControlStore::progress`] lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamProgress {
    pub profile_id: Uuid,
    pub entity: String,
    /// `None` for a stream with counters but no cursor (yet).
    pub cursor: Option<EntityCursor>,
    /// Zero counters for a stream with a cursor but no counters (yet).
    pub stats: EntityStats,
}

impl StreamProgress {
    fn empty(profile_id: Uuid, entity: String) -> Self {
        Self {
            profile_id,
            entity,
            cursor: None,
            stats: EntityStats::default(),
        }
    }

    /// Pairs cursors and counters read separately by (profile, entity), sorted by both.
    pub fn merge(
        cursors: impl IntoIterator<Item = EntityCursor>,
        counters: impl IntoIterator<Item = (Uuid, String, EntityStats)>,
    ) -> Vec<Self> {
        let mut streams = std::collections::BTreeMap::new();
        for cursor in cursors {
            let (profile_id, entity) = (cursor.stream.profile_id, cursor.stream.entity.clone());
            streams
                .entry((profile_id, entity.clone()))
                .or_insert_with(|| Self::empty(profile_id, entity))
                .cursor = Some(cursor);
        }
        for (profile_id, entity, stats) in counters {
            streams
                .entry((profile_id, entity.clone()))
                .or_insert_with(|| Self::empty(profile_id, entity))
                .stats = stats;
        }
        streams.into_values().collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("precondition failed for {0}: it changed or already exists")]
    Conflict(String),
    #[error("control store unavailable: {0}")]
    Unavailable(String),
    #[error("stored {key} is not valid: {reason}")]
    Corrupt { key: String, reason: String },
}

/// Organizations, profiles, cursors and counters.
///
/// Contract (tested by `des-contract::control`): writes honour their [`Precondition`] so two
/// writers can never lose an update; `update_stats` is atomic; deleting a profile removes its
/// cursors and stats.
#[async_trait]
pub trait ControlStore: Send + Sync {
    async fn put_organization(&self, org: &Organization) -> Result<(), StoreError>;
    async fn organizations(&self) -> Result<Vec<Organization>, StoreError>;

    async fn profile(&self, id: Uuid) -> Result<Option<Versioned<Profile>>, StoreError>;
    async fn profiles(&self) -> Result<Vec<Versioned<Profile>>, StoreError>;
    async fn put_profile(&self, profile: &Profile, when: Precondition) -> Result<Etag, StoreError>;
    async fn delete_profile(&self, id: Uuid) -> Result<(), StoreError>;

    async fn cursor(
        &self,
        profile_id: Uuid,
        entity: &str,
    ) -> Result<Option<Versioned<EntityCursor>>, StoreError>;
    async fn put_cursor(
        &self,
        cursor: &EntityCursor,
        when: Precondition,
    ) -> Result<Etag, StoreError>;

    async fn stats(&self, profile_id: Uuid, entity: &str) -> Result<EntityStats, StoreError>;

    /// Every stream that has a cursor or counters, of one profile or of all (`None`), in
    /// one read where the store allows it: the status of many profiles costs no round trip
    /// per profile or per stream. Sorted by profile, then entity.
    async fn progress(&self, profile_id: Option<Uuid>) -> Result<Vec<StreamProgress>, StoreError>;

    /// [`progress`](Self::progress) of the listed profiles only (a page of a listing), in
    /// one read where the store allows it; the same order.
    async fn progress_of(&self, profile_ids: &[Uuid]) -> Result<Vec<StreamProgress>, StoreError> {
        let all = match profile_ids {
            [] => return Ok(Vec::new()),
            [one] => return self.progress(Some(*one)).await,
            _ => self.progress(None).await?,
        };
        Ok(all
            .into_iter()
            .filter(|p| profile_ids.contains(&p.profile_id))
            .collect())
    }
    async fn update_stats(
        &self,
        profile_id: Uuid,
        entity: &str,
        delta: &StatsDelta,
    ) -> Result<(), StoreError>;

    /// The identity token of the profile's target (see `Sink::identify`): `None` until one
    /// was placed in the target and stored here. Deleting the profile removes it.
    async fn target_token(&self, profile_id: Uuid) -> Result<Option<String>, StoreError>;
    async fn put_target_token(&self, profile_id: Uuid, token: &str) -> Result<(), StoreError>;
}

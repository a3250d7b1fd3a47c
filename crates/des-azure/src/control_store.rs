//! [`BlobControlStore`]: organizations, profiles, cursors and stats as JSON blobs in
//! `des-control`, one blob per document:
//!
//! - `organizations/<organization id>.json`
//! - `profiles/<profile id>.json`
//! - `cursors/<profile id>/<entity>.json`
//! - `stats/<profile id>/<entity>.json`
//! - `tokens/<profile id>.json` (the target identity token)
//!
//! The blob ETag is the document's [`Etag`]: conditional writes go out as `If-Match: <etag>`
//! or `If-None-Match: *`, so the service refuses the second of two writers with 412/409 and
//! no update is lost. Storage gives every write a fresh ETag, so one read before a delete
//! never matches the re-created blob.

use std::time::Duration;

use async_trait::async_trait;
use des_core::ports::{
    ControlStore, Etag, Organization, Precondition, StoreError, StreamProgress, Versioned,
};
use des_core::profile::Profile;
use des_core::sync::{EntityCursor, EntityStats, StatsDelta};
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::container::{Container, Unavailable};
use crate::storage::StorageAccount;

const JSON: &str = "application/json";
/// Blob reads in flight at once when listing progress.
const PROGRESS_READS: usize = 16;
/// Rounds of read-modify-write `update_stats` tries before giving up.
const STATS_ATTEMPTS: u32 = 500;
/// Upper bound of the random pause between two rounds that lost a race.
const STATS_BACKOFF: Duration = Duration::from_millis(20);

/// The Azure [`ControlStore`].
#[derive(Debug, Clone)]
pub struct BlobControlStore {
    container: Container,
}

impl From<Unavailable> for StoreError {
    fn from(error: Unavailable) -> Self {
        StoreError::Unavailable(error.0)
    }
}

fn organization_key(id: Uuid) -> String {
    format!("organizations/{id}.json")
}

fn profile_key(id: Uuid) -> String {
    format!("profiles/{id}.json")
}

fn token_key(profile_id: Uuid) -> String {
    format!("tokens/{profile_id}.json")
}

fn cursor_key(profile_id: Uuid, entity: &str) -> String {
    format!("cursors/{profile_id}/{entity}.json")
}

fn stats_key(profile_id: Uuid, entity: &str) -> String {
    format!("stats/{profile_id}/{entity}.json")
}

/// The (profile id, entity) of a `cursors/` or `stats/` key.
fn stream_of(key: &str) -> Result<(Uuid, String), StoreError> {
    let corrupt = || StoreError::Corrupt {
        key: key.to_owned(),
        reason: "not <kind>/<profile id>/<entity>.json".to_owned(),
    };
    let mut parts = key.splitn(3, '/').skip(1);
    let profile = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(corrupt)?;
    let entity = parts
        .next()
        .and_then(|e| e.strip_suffix(".json"))
        .ok_or_else(corrupt)?;
    Ok((profile, entity.to_owned()))
}

fn to_json<T: Serialize>(value: &T, key: &str) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

fn from_json<T: DeserializeOwned>(bytes: &[u8], key: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

impl BlobControlStore {
    /// The store in `container` of `account` (normally [`crate::names::CONTROL_CONTAINER`]),
    /// creating the container if missing.
    pub async fn open(account: &StorageAccount, container: &str) -> Result<Self, StoreError> {
        let container = Container::open(account, container).await?;
        Ok(Self { container })
    }

    async fn read<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        let Some(stored) = self.container.read(key).await? else {
            return Ok(None);
        };
        Ok(Some(Versioned {
            value: from_json(&stored.bytes, key)?,
            etag: stored.etag,
        }))
    }

    async fn write<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        when: &Precondition,
    ) -> Result<Etag, StoreError> {
        let bytes = to_json(value, key)?;
        self.container
            .write(key, bytes, JSON, when)
            .await?
            .ok_or_else(|| StoreError::Conflict(key.to_owned()))
    }

    /// Every document under `prefix`; one deleted between listing and reading is left out.
    async fn read_all<T: DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> Result<Vec<Versioned<T>>, StoreError> {
        let mut found = Vec::new();
        for key in self.container.list(prefix).await? {
            found.extend(self.read(&key).await?);
        }
        Ok(found)
    }

    /// Every document under `prefix` as (profile id, entity, value), read concurrently.
    async fn read_streams<T: DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> Result<Vec<(Uuid, String, T)>, StoreError> {
        let keys = self.container.list(prefix).await?;
        let reads = futures::stream::iter(keys)
            .map(|key| async move { (self.read::<T>(&key).await, key) })
            .buffered(PROGRESS_READS)
            .collect::<Vec<_>>()
            .await;
        let mut found = Vec::new();
        for (read, key) in reads {
            let Some(stored) = read? else { continue };
            let (profile_id, entity) = stream_of(&key)?;
            found.push((profile_id, entity, stored.value));
        }
        Ok(found)
    }

    /// One read-modify-write round of `update_stats`: `false` when another writer won.
    async fn try_update_stats(&self, key: &str, delta: &StatsDelta) -> Result<bool, StoreError> {
        let (mut stats, when) = match self.read::<EntityStats>(key).await? {
            Some(current) => (current.value, Precondition::Match(current.etag)),
            None => (EntityStats::default(), Precondition::MustNotExist),
        };
        stats.apply(delta);
        match self.write(key, &stats, &when).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }
}

#[async_trait]
impl ControlStore for BlobControlStore {
    async fn put_organization(&self, org: &Organization) -> Result<(), StoreError> {
        let key = organization_key(org.organization_id);
        self.write(&key, org, &Precondition::None).await?;
        Ok(())
    }

    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        let found = self.read_all::<Organization>("organizations/").await?;
        Ok(found.into_iter().map(|v| v.value).collect())
    }

    async fn profile(&self, id: Uuid) -> Result<Option<Versioned<Profile>>, StoreError> {
        self.read(&profile_key(id)).await
    }

    async fn profiles(&self) -> Result<Vec<Versioned<Profile>>, StoreError> {
        self.read_all("profiles/").await
    }

    async fn put_profile(&self, profile: &Profile, when: Precondition) -> Result<Etag, StoreError> {
        self.write(&profile_key(profile.id), profile, &when).await
    }

    async fn delete_profile(&self, id: Uuid) -> Result<(), StoreError> {
        // Dependents first: a crash half-way leaves a profile to delete again, never orphans.
        for prefix in [format!("cursors/{id}/"), format!("stats/{id}/")] {
            for key in self.container.list(&prefix).await? {
                self.container.delete(&key).await?;
            }
        }
        self.container.delete(&token_key(id)).await?;
        self.container.delete(&profile_key(id)).await?;
        tracing::debug!(profile_id = %id, "Deleted profile documents.");
        Ok(())
    }

    async fn cursor(
        &self,
        profile_id: Uuid,
        entity: &str,
    ) -> Result<Option<Versioned<EntityCursor>>, StoreError> {
        self.read(&cursor_key(profile_id, entity)).await
    }

    async fn put_cursor(
        &self,
        cursor: &EntityCursor,
        when: Precondition,
    ) -> Result<Etag, StoreError> {
        let key = cursor_key(cursor.stream.profile_id, &cursor.stream.entity);
        self.write(&key, cursor, &when).await
    }

    async fn stats(&self, profile_id: Uuid, entity: &str) -> Result<EntityStats, StoreError> {
        let stored = self.read(&stats_key(profile_id, entity)).await?;
        Ok(stored.map(|s| s.value).unwrap_or_default())
    }

    async fn update_stats(
        &self,
        profile_id: Uuid,
        entity: &str,
        delta: &StatsDelta,
    ) -> Result<(), StoreError> {
        let key = stats_key(profile_id, entity);
        for _ in 0..STATS_ATTEMPTS {
            if self.try_update_stats(&key, delta).await? {
                return Ok(());
            }
            // Spread the losers out so the next round is not the same pile-up.
            let pause = fastrand::u64(0..=STATS_BACKOFF.as_millis() as u64);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        Err(StoreError::Unavailable(format!(
            "{key}: {STATS_ATTEMPTS} concurrent updates in a row won the race"
        )))
    }

    /// Two listings and concurrent blob reads: a blob container has no query across blobs.
    async fn progress(&self, profile_id: Option<Uuid>) -> Result<Vec<StreamProgress>, StoreError> {
        let under = |kind: &str| match profile_id {
            Some(id) => format!("{kind}/{id}/"),
            None => format!("{kind}/"),
        };
        let cursors = self.read_streams::<EntityCursor>(&under("cursors")).await?;
        let counters = self.read_streams::<EntityStats>(&under("stats")).await?;
        let cursors = cursors.into_iter().map(|(_, _, cursor)| cursor);
        Ok(StreamProgress::merge(cursors, counters))
    }

    async fn target_token(&self, profile_id: Uuid) -> Result<Option<String>, StoreError> {
        let found = self.read::<String>(&token_key(profile_id)).await?;
        Ok(found.map(|v| v.value))
    }

    async fn put_target_token(&self, profile_id: Uuid, token: &str) -> Result<(), StoreError> {
        let key = token_key(profile_id);
        self.write(&key, &token, &Precondition::None).await?;
        Ok(())
    }
}

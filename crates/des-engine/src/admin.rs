//! Admin operations as plain functions over the ports; the CLI and the HTTP API call them.
//!
//! - `activate` sets the profile state (`Mode::All` → `Active`, `MetadataOnly`, `DataOnly`)
//!   and resumes stopped streams; the poller does the rest on its next round.
//! - `deactivate` sets `Inactive` and stops the streams; cursors keep their links, so a
//!   later activation resumes where they stopped.
//! - `resync_entity` restarts one stream as a full re-read that upserts everything and
//!   deletes what the source no longer has (with `DeleteLog`).
//! - `resync_failed` does that for every stream whose failure counter grew since its last
//!   resync (the counter is remembered in the cursor): DES's "Resync failed records".
//! - `status` builds DES's `EntityStatus` objects from the counters and the cursors.

use std::collections::HashMap;

use des_core::ports::{Precondition, StoreError, Versioned};
use des_core::profile::{EntityStatus, Profile, ProfileState};
use des_core::sync::{EntityCursor, EntityStats, SyncPhase};
use uuid::Uuid;

use crate::error::EngineError;
use crate::ports::EnginePorts;
use crate::streams::profile_streams;

/// Which activation route was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `activate`: tables, metadata tables and data.
    All,
    /// `activatemetadata`: tables and metadata tables, no data.
    MetadataOnly,
    /// `activatedata`: data (tables are still created, since data needs them).
    DataOnly,
}

impl Mode {
    fn state(self) -> ProfileState {
        match self {
            Self::All => ProfileState::Active,
            Self::MetadataOnly => ProfileState::MetadataOnly,
            Self::DataOnly => ProfileState::DataOnly,
        }
    }
}

/// Validates and stores a new profile (inactive, as DES created them).
pub async fn create_profile(
    ports: &EnginePorts,
    mut profile: Profile,
) -> Result<Profile, EngineError> {
    if profile.id.is_nil() {
        profile.id = Uuid::new_v4();
    }
    profile.validate()?;
    let now = ports.clock.now();
    profile.created_on = now;
    profile.modified_on = now;
    profile.state = ProfileState::Inactive;
    ports
        .control
        .put_profile(&profile, Precondition::MustNotExist)
        .await?;
    Ok(profile)
}

pub async fn activate(
    ports: &EnginePorts,
    profile_id: Uuid,
    mode: Mode,
) -> Result<Profile, EngineError> {
    crate::shared_tables::refuse_shared_tables(ports, profile_id).await?;
    let profile = set_state(ports, profile_id, mode.state()).await?;
    update_cursors(ports, &profile, EntityCursor::resume).await?;
    crate::identity::place_at_activation(ports, &profile).await;
    Ok(profile)
}

pub async fn deactivate(ports: &EnginePorts, profile_id: Uuid) -> Result<Profile, EngineError> {
    let profile = set_state(ports, profile_id, ProfileState::Inactive).await?;
    update_cursors(ports, &profile, EntityCursor::stop).await?;
    Ok(profile)
}

/// Restarts one stream (an entity, or an M:N intersect entity) as a resync.
pub async fn resync_entity(
    ports: &EnginePorts,
    profile_id: Uuid,
    entity: &str,
) -> Result<(), EngineError> {
    let profile = load_profile(ports, profile_id).await?.value;
    let streams = streams_of(ports, &profile).await?;
    if !streams.iter().any(|s| s == entity) {
        let entity = entity.to_owned();
        return Err(EngineError::UnknownEntity { profile_id, entity });
    }
    let stats = ports.control.stats(profile_id, entity).await?;
    update_cursor(ports, profile_id, entity, |c| {
        c.request_resync(stats.failure)
    })
    .await
}

/// Resyncs every stream with failures since its last resync; returns their names.
pub async fn resync_failed(
    ports: &EnginePorts,
    profile_id: Uuid,
) -> Result<Vec<String>, EngineError> {
    let profile = load_profile(ports, profile_id).await?.value;
    let mut resynced = Vec::new();
    for entity in streams_of(ports, &profile).await? {
        let stats = ports.control.stats(profile_id, &entity).await?;
        let Some(cursor) = ports.control.cursor(profile_id, &entity).await? else {
            continue;
        };
        if stats.failure > cursor.value.failures_at_resync {
            update_cursor(ports, profile_id, &entity, |c| {
                c.request_resync(stats.failure)
            })
            .await?;
            resynced.push(entity);
        }
    }
    Ok(resynced)
}

/// DES's per-entity status objects, in stream order.
pub async fn status(
    ports: &EnginePorts,
    profile_id: Uuid,
) -> Result<Vec<EntityStatus>, EngineError> {
    let profile = load_profile(ports, profile_id).await?.value;
    let mut out = Vec::new();
    for entity in streams_of(ports, &profile).await? {
        let stats = ports.control.stats(profile_id, &entity).await?;
        let cursor = ports
            .control
            .cursor(profile_id, &entity)
            .await?
            .map(|c| c.value);
        out.push(entity_status(profile_id, &entity, &stats, cursor.as_ref()));
    }
    Ok(out)
}

/// DES's status objects of every stream of the listed profiles, keyed by (profile, entity),
/// from one `progress_of` read of the control store: no round trip per profile or per
/// stream, and no Dataverse call.
pub async fn statuses(
    ports: &EnginePorts,
    profile_ids: &[Uuid],
) -> Result<HashMap<(Uuid, String), EntityStatus>, EngineError> {
    let progress = ports.control.progress_of(profile_ids).await?;
    Ok(progress
        .into_iter()
        .map(|p| {
            let status = entity_status(p.profile_id, &p.entity, &p.stats, p.cursor.as_ref());
            ((p.profile_id, p.entity), status)
        })
        .collect())
}

/// Builds one DES status object; pure.
pub fn entity_status(
    profile_id: Uuid,
    entity: &str,
    stats: &EntityStats,
    cursor: Option<&EntityCursor>,
) -> EntityStatus {
    let phase = cursor.map_or(SyncPhase::NotStarted, |c| match c.phase {
        SyncPhase::Stopped => c.resume_phase.unwrap_or(SyncPhase::NotStarted),
        phase => phase,
    });
    let metadata_state = match (stats.metadata_state.as_deref(), phase) {
        (Some(state), _) => state.to_owned(),
        (None, SyncPhase::NotStarted) => "NotCreated".to_owned(),
        (None, _) => "Created".to_owned(),
    };
    let initial = match phase {
        SyncPhase::NotStarted | SyncPhase::MetadataCreated => "NotStarted",
        SyncPhase::InitialSync => "InProgress",
        // The first read of a stream whose table held an earlier profile's batches.
        SyncPhase::Resync if stats.initial_sync_state.as_deref() == Some("InProgress") => {
            "InProgress"
        }
        _ if stats.initial_sync_state.as_deref() == Some("CompletedWithFailures") => {
            "CompletedWithFailures"
        }
        _ => "Completed",
    };
    EntityStatus {
        entity_type: entity.to_owned(),
        profile_id,
        total_notifications: stats.total,
        success_notifications: stats.success,
        failure_notifications: stats.failure,
        last_export_date: stats.last_export_date,
        last_export_status: stats
            .last_export_status
            .clone()
            .unwrap_or_else(|| "NotStarted".into()),
        entity_metadata_state: metadata_state,
        initial_sync_state: initial.to_owned(),
        hint: stats.hint.clone(),
    }
}

async fn load_profile(ports: &EnginePorts, id: Uuid) -> Result<Versioned<Profile>, EngineError> {
    ports
        .control
        .profile(id)
        .await?
        .ok_or(EngineError::ProfileNotFound(id))
}

async fn set_state(
    ports: &EnginePorts,
    id: Uuid,
    state: ProfileState,
) -> Result<Profile, EngineError> {
    for _ in 0..5 {
        let current = load_profile(ports, id).await?;
        let mut profile = current.value;
        profile.state = state;
        profile.modified_on = ports.clock.now();
        match ports
            .control
            .put_profile(&profile, Precondition::Match(current.etag))
            .await
        {
            Ok(_) => return Ok(profile),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict(format!("profile {id}")).into())
}

async fn streams_of(ports: &EnginePorts, profile: &Profile) -> Result<Vec<String>, EngineError> {
    if profile.relationships.is_empty() {
        return Ok(profile.entity_names().map(str::to_owned).collect());
    }
    let source = ports.sources.source(profile.organization_id).await?;
    let specs = profile_streams(profile, source.as_ref()).await?;
    Ok(specs.into_iter().map(|s| s.stream.entity).collect())
}

async fn update_cursors(
    ports: &EnginePorts,
    profile: &Profile,
    change: fn(&EntityCursor) -> EntityCursor,
) -> Result<(), EngineError> {
    for entity in streams_of(ports, profile).await? {
        update_cursor(ports, profile.id, &entity, change).await?;
    }
    Ok(())
}

/// Applies `change` to an existing cursor under its etag, retrying on conflicts.
pub(crate) async fn update_cursor(
    ports: &EnginePorts,
    profile_id: Uuid,
    entity: &str,
    change: impl Fn(&EntityCursor) -> EntityCursor,
) -> Result<(), EngineError> {
    for _ in 0..10 {
        let Some(cursor) = ports.control.cursor(profile_id, entity).await? else {
            return Ok(());
        };
        let next = change(&cursor.value);
        if next == cursor.value {
            return Ok(());
        }
        match ports
            .control
            .put_cursor(&next, Precondition::Match(cursor.etag))
            .await
        {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict(format!("cursor {profile_id}/{entity}")).into())
}

#[cfg(test)]
mod tests {
    use des_core::StreamId;

    use super::*;

    fn cursor(phase: SyncPhase) -> EntityCursor {
        let stream = StreamId {
            profile_id: Uuid::nil(),
            entity: "account".into(),
        };
        EntityCursor {
            phase,
            ..EntityCursor::new(stream)
        }
    }

    #[test]
    fn status_follows_the_phase_and_the_counters() {
        let stats = EntityStats {
            total: 10,
            success: 8,
            failure: 1,
            ..Default::default()
        };
        let s = entity_status(Uuid::nil(), "account", &stats, None);
        assert_eq!(
            (
                s.entity_metadata_state.as_str(),
                s.initial_sync_state.as_str()
            ),
            ("NotCreated", "NotStarted")
        );
        assert_eq!(s.last_export_status, "NotStarted");
        let s = entity_status(
            Uuid::nil(),
            "account",
            &stats,
            Some(&cursor(SyncPhase::InitialSync)),
        );
        assert_eq!(
            (
                s.entity_metadata_state.as_str(),
                s.initial_sync_state.as_str()
            ),
            ("Created", "InProgress")
        );
        assert_eq!(
            (
                s.total_notifications,
                s.success_notifications,
                s.failure_notifications
            ),
            (10, 8, 1)
        );
        let s = entity_status(
            Uuid::nil(),
            "account",
            &stats,
            Some(&cursor(SyncPhase::Delta)),
        );
        assert_eq!(s.initial_sync_state, "Completed");
    }

    #[test]
    fn failures_during_the_initial_sync_and_a_stopped_stream_show_through() {
        let stats = EntityStats {
            initial_sync_state: Some("CompletedWithFailures".into()),
            metadata_state: Some("Failed".into()),
            ..Default::default()
        };
        let stopped = cursor(SyncPhase::Delta).stop();
        let s = entity_status(Uuid::nil(), "account", &stats, Some(&stopped));
        assert_eq!(s.initial_sync_state, "CompletedWithFailures");
        assert_eq!(s.entity_metadata_state, "Failed");
        assert_eq!(s.hint, None);
        let waiting = EntityStats {
            hint: Some("fix the target".into()),
            ..stats
        };
        let s = entity_status(Uuid::nil(), "account", &waiting, Some(&stopped));
        assert_eq!(s.hint.as_deref(), Some("fix the target"));
    }

    #[test]
    fn modes_map_to_profile_states() {
        assert_eq!(Mode::All.state(), ProfileState::Active);
        assert_eq!(Mode::MetadataOnly.state(), ProfileState::MetadataOnly);
        assert_eq!(Mode::DataOnly.state(), ProfileState::DataOnly);
    }
}

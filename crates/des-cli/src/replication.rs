//! Wiring the engine to local adapters: the control store, work queue, payload store and
//! failure log live in a data folder; the source and sink are given. `run` and `bench` share it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use des_core::StreamId;
use des_core::ports::{ControlStore, Sink, Source, SystemClock, WorkQueue};
use des_core::profile::{Profile, ProfileState};
use des_engine::{
    EnginePorts, Mode, Runtime, RuntimeHandle, RuntimeOptions, SingleSink, SingleSource,
    SinkResolver, SourceResolver,
};
use des_local::{
    FileFailureLog, FilePayloadStore, SqliteControlStore, SqlitePayloadStore, SqliteWorkQueue,
};

use crate::status::{Snapshot, StreamView};

/// The local state of one replication: everything but the target.
pub struct LocalStores {
    pub control: Arc<SqliteControlStore>,
    pub queue: Arc<SqliteWorkQueue>,
    pub payloads: Arc<FilePayloadStore>,
    pub failures: Arc<FileFailureLog>,
}

impl LocalStores {
    /// Opens (or creates) `control.db`, `queue.db`, `payloads/` and `failures/` under `dir`
    /// (payloads an earlier version stored in `queue.db` stay readable there).
    pub async fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let control = SqliteControlStore::open(dir.join("control.db"))
            .await
            .context("control store")?;
        let queue_file = dir.join("queue.db");
        let queue = SqliteWorkQueue::open(&queue_file, "batches")
            .await
            .context("work queue")?;
        let earlier = SqlitePayloadStore::open(&queue_file)
            .await
            .context("payload store")?;
        let payloads = FilePayloadStore::open(dir.join("payloads"))
            .await
            .context("payload store")?
            .with_legacy(earlier)
            .await
            .context("payload store")?;
        Ok(Self {
            control: Arc::new(control),
            queue: Arc::new(queue),
            payloads: Arc::new(payloads),
            failures: Arc::new(FileFailureLog::new(dir.join("failures"))),
        })
    }

    /// Ports with one source and one target for every profile (the bench).
    pub fn ports(&self, source: Arc<dyn Source>, sink: Arc<dyn Sink>) -> EnginePorts {
        self.ports_with(Arc::new(SingleSource(source)), Arc::new(SingleSink(sink)))
    }

    /// Ports that resolve each profile's organization and target (`des run`, whose API may
    /// add profiles).
    pub fn ports_with(
        &self,
        sources: Arc<dyn SourceResolver>,
        sinks: Arc<dyn SinkResolver>,
    ) -> EnginePorts {
        EnginePorts {
            control: Arc::clone(&self.control) as Arc<dyn ControlStore>,
            queue: Arc::clone(&self.queue) as Arc<dyn WorkQueue>,
            payloads: Arc::clone(&self.payloads) as _,
            failures: Arc::clone(&self.failures) as _,
            clock: Arc::new(SystemClock),
            sources,
            sinks,
        }
    }

    /// The stored profile named `name`, if there is one.
    pub async fn find_profile(&self, name: &str) -> anyhow::Result<Option<Profile>> {
        let profiles = self.control.profiles().await?;
        Ok(profiles
            .into_iter()
            .map(|v| v.value)
            .find(|p| p.name == name))
    }
}

/// Stores `profile` (unless it is stored already) and activates it.
pub async fn create_and_activate(
    ports: &EnginePorts,
    profile: Profile,
    stored: bool,
) -> anyhow::Result<Profile> {
    let profile = if stored {
        profile
    } else {
        create(ports, profile).await?
    };
    activate(ports, &profile).await?;
    Ok(profile)
}

/// Stores a new profile.
pub async fn create(ports: &EnginePorts, profile: Profile) -> anyhow::Result<Profile> {
    des_engine::admin::create_profile(ports, profile)
        .await
        .context("cannot create the profile")
}

/// Activates a stored profile (again: activating an active profile resumes its streams).
pub async fn activate(ports: &EnginePorts, profile: &Profile) -> anyhow::Result<()> {
    des_engine::admin::activate(ports, profile.id, Mode::All)
        .await
        .context("cannot activate the profile")?;
    Ok(())
}

/// Checks the target of every replicating profile against what the control store believes
/// it holds, before the loops start (`des_engine::check`), and says what was repaired. A
/// check that cannot run is a warning: the loops meet the same fault and retry it.
pub async fn check_targets(ports: &EnginePorts) -> anyhow::Result<()> {
    for profile in ports.control.profiles().await? {
        let profile = profile.value;
        if profile.state == ProfileState::Inactive {
            continue;
        }
        match des_engine::check::check_profile(ports, &profile).await {
            Ok(repairs) => {
                for repair in repairs {
                    println!("target check: {repair}");
                }
            }
            Err(error) => println!(
                "warning: cannot check the target of profile {}: {error}",
                profile.id
            ),
        }
    }
    Ok(())
}

/// Starts the poller and applier loops.
pub fn start(ports: EnginePorts, poll_interval: std::time::Duration) -> RuntimeHandle {
    let options = RuntimeOptions {
        poll_interval,
        ..Default::default()
    };
    Runtime::start(ports, options)
}

/// The streams the engine runs, with counters read fresh from the control store (the
/// engine's own status is as of its last poll round, up to a poll interval old), plus the
/// queue depth. `totals` fills in row counts the engine does not know.
pub async fn snapshot(
    handle: &RuntimeHandle,
    stores: &LocalStores,
    totals: &HashMap<String, u64>,
) -> Snapshot {
    let mut streams = Vec::new();
    for status in handle.status() {
        let StreamId { profile_id, entity } = &status.stream;
        let stats = stores.control.stats(*profile_id, entity).await.ok();
        let cursor = stores
            .control
            .cursor(*profile_id, entity)
            .await
            .ok()
            .flatten();
        let stats = stats.unwrap_or_default();
        streams.push(StreamView {
            name: entity.clone(),
            phase: cursor.map_or(status.phase, |c| c.value.phase),
            initial_sync_complete: stats
                .initial_sync_state
                .as_deref()
                .is_some_and(|s| s.starts_with("Completed")),
            enqueued: stats.total,
            applied: stats.success,
            failed: stats.failure,
            estimated_total: status
                .estimated_total
                .or_else(|| totals.get(entity).copied()),
            last_applied_at: stats.last_export_date,
            hint: stats.hint.clone().or_else(|| status.hint.clone()),
        });
    }
    let queue_depth = stores.queue.approximate_len().await.unwrap_or_default();
    Snapshot {
        streams,
        queue_depth,
        repairs: handle.take_repairs(),
    }
}

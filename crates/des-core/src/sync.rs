//! The per-entity sync cursor that the poller checkpoints after every page.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::record::StreamId;

/// Where an entity stands: not started → metadata created → initial sync → delta, with a
/// resync (expired change token, or on demand) going back through a full read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncPhase {
    NotStarted,
    MetadataCreated,
    InitialSync,
    Delta,
    Resync,
    /// Deactivated; reactivation resumes from the saved link.
    Stopped,
}

/// The durable read position of one stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityCursor {
    pub stream: StreamId,
    pub phase: SyncPhase,
    /// Phase to resume when a stopped stream is reactivated.
    pub resume_phase: Option<SyncPhase>,
    /// The link to read next: a `nextLink` during a full read, the `deltaLink` in `Delta`.
    /// `None` at the start of a full read.
    pub link: Option<String>,
    /// The `seq` the next enqueued batch gets (the first batch is 1).
    pub next_seq: u64,
    /// During a resync: the `seq` of its first batch.
    pub resync_first_seq: Option<u64>,
    /// The `$select` list (attribute logical names) of the current read.
    pub columns: Vec<String>,
    /// A fingerprint of the entity metadata the table was last planned from.
    pub metadata_fingerprint: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

impl EntityCursor {
    pub fn new(stream: StreamId) -> Self {
        Self {
            stream,
            phase: SyncPhase::NotStarted,
            resume_phase: None,
            link: None,
            next_seq: 1,
            resync_first_seq: None,
            columns: Vec::new(),
            metadata_fingerprint: None,
            updated_at: None,
        }
    }
}

/// Counters behind DES's per-entity status, moved by the poller and the applier.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EntityStats {
    pub total: u64,
    pub success: u64,
    pub failure: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_export_date: Option<OffsetDateTime>,
    pub last_export_status: Option<String>,
    pub metadata_state: Option<String>,
    pub initial_sync_state: Option<String>,
}

/// A change to [`EntityStats`]; counters add, the other fields replace when set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatsDelta {
    pub total: u64,
    pub success: u64,
    pub failure: u64,
    pub last_export_date: Option<OffsetDateTime>,
    pub last_export_status: Option<String>,
    pub metadata_state: Option<String>,
    pub initial_sync_state: Option<String>,
}

impl EntityStats {
    pub fn apply(&mut self, delta: &StatsDelta) {
        self.total += delta.total;
        self.success += delta.success;
        self.failure += delta.failure;
        replace(&mut self.last_export_date, delta.last_export_date);
        replace(&mut self.last_export_status, delta.last_export_status.clone());
        replace(&mut self.metadata_state, delta.metadata_state.clone());
        replace(&mut self.initial_sync_state, delta.initial_sync_state.clone());
    }
}

fn replace<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

//! The per-entity sync cursor that the poller checkpoints after every page, and the pure
//! transitions of its state machine.
//!
//! ```text
//! NotStarted ─schema─► MetadataCreated ─data─► InitialSync ─Done─► Delta ◄─Done─ Resync
//!                 (activatemetadata stops here)     │ More: stay        │ expired token,
//!                                                   └──────────────────►┘ new column, on demand
//! any phase ─deactivate─► Stopped ─activate─► the phase it left
//! ```
//!
//! The poller loads a cursor, does I/O, and then asks one of the functions below for the next
//! cursor; keeping them pure makes every transition testable without a source or a queue.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ports::NextLink;
use crate::record::{BatchKind, StreamId};

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
    /// The entity's failure counter when its last resync was requested; `resync_failed`
    /// resyncs only entities whose counter grew since.
    #[serde(default)]
    pub failures_at_resync: u64,
    /// The first `seq` of the latest resync (0 when none). A resync re-reads every record, so
    /// a retry of a change read before it is obsolete: the resync carries the record again
    /// if it still exists, and must not be undone by the old change if it does not.
    #[serde(default)]
    pub last_resync_seq: u64,
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
            failures_at_resync: 0,
            last_resync_seq: 0,
        }
    }

    /// The kind of the batch the next page becomes, or `None` when no data is being read.
    pub fn batch_kind(&self) -> Option<BatchKind> {
        match self.phase {
            SyncPhase::InitialSync => Some(BatchKind::Initial),
            SyncPhase::Delta => Some(BatchKind::Delta),
            SyncPhase::Resync => Some(BatchKind::Resync {
                first_seq: self.resync_first_seq?,
            }),
            _ => None,
        }
    }

    /// True while the stream reads data (a full read or deltas).
    pub fn reads_data(&self) -> bool {
        self.batch_kind().is_some()
    }

    /// The tables exist with `columns`; data follows when `with_data`, otherwise the stream
    /// waits in `MetadataCreated` (`activatemetadata`).
    pub fn after_schema(&self, columns: Vec<String>, fingerprint: String, with_data: bool) -> Self {
        let mut next = self.clone();
        next.columns = columns;
        next.metadata_fingerprint = Some(fingerprint);
        if matches!(
            self.phase,
            SyncPhase::NotStarted | SyncPhase::MetadataCreated
        ) {
            next.phase = if with_data {
                SyncPhase::InitialSync
            } else {
                SyncPhase::MetadataCreated
            };
            next.link = None;
        }
        next
    }

    /// The schema changed under a reading stream: the table was evolved, and a full re-read
    /// gives the new columns their values. A stream that has not started reading just takes
    /// the new columns.
    pub fn after_schema_change(&self, columns: Vec<String>, fingerprint: String) -> Self {
        let mut next = self.clone();
        next.columns = columns;
        next.metadata_fingerprint = Some(fingerprint);
        if self.reads_data() {
            next.restart_as_resync()
        } else {
            next
        }
    }

    /// One page was read and `batches` batches were enqueued for it (its page batch and, at
    /// the end of a resync, the `ResyncComplete` batch).
    pub fn after_page(&self, next_link: &NextLink, batches: u64) -> Self {
        let mut next = self.clone();
        next.next_seq += batches;
        match next_link {
            NextLink::More(link) => next.link = Some(link.clone()),
            NextLink::Done(link) => {
                next.link = Some(link.clone());
                next.phase = SyncPhase::Delta;
                next.resync_first_seq = None;
            }
        }
        next
    }

    /// A `ResyncComplete` batch is due when a resync read ends; it names the resync.
    pub fn resync_completion(&self, next_link: &NextLink) -> Option<u64> {
        match (self.phase, next_link) {
            (SyncPhase::Resync, NextLink::Done(_)) => self.resync_first_seq,
            _ => None,
        }
    }

    /// A stored batch from before an admin change (its kind no longer matches the phase) was
    /// shipped: its `seq` is used, the read position stays.
    pub fn after_leftover(&self) -> Self {
        let mut next = self.clone();
        if next.resync_first_seq == Some(next.next_seq) {
            next.resync_first_seq = Some(next.next_seq + 1);
            next.last_resync_seq = next.next_seq + 1;
        }
        next.next_seq += 1;
        next
    }

    /// The stream's table already holds batches up to `watermark` from an earlier life (a
    /// deleted profile, another profile with the same prefix) while this cursor is new: its
    /// batches continue after that `seq` (earlier ones would be taken as duplicates and
    /// dropped), and a data read starts as a resync, so rows the source no longer has are
    /// swept. Nothing changes when the table holds no later batch than the cursor's.
    pub fn after_earlier_batches(&self, watermark: u64) -> Self {
        if watermark < self.next_seq {
            return self.clone();
        }
        let mut next = self.clone();
        next.next_seq = watermark + 1;
        if next.phase == SyncPhase::InitialSync {
            next = next.restart_as_resync();
        }
        next
    }

    /// The stream's table was already in the target before this cursor planned it: rows
    /// there may be another profile's (a control store lost and recreated, a second data
    /// folder) or a restored backup's, and the source may no longer have some of them. A
    /// first data read then goes as a resync, so its end sweeps what the source lacks; a
    /// table this cursor created itself is read as a plain initial sync.
    pub fn onto_existing_table(&self, existed: bool) -> Self {
        if existed && self.phase == SyncPhase::InitialSync {
            return self.restart_as_resync();
        }
        self.clone()
    }

    /// The change token expired: re-read everything as a resync that sweeps vanished rows.
    pub fn after_expired_token(&self) -> Self {
        self.restart_as_resync()
    }

    /// A resync on demand. Only reading streams restart; the others will read everything
    /// anyway when they start.
    pub fn request_resync(&self, failures_now: u64) -> Self {
        let mut next = match self.phase {
            SyncPhase::Stopped => {
                let mut stopped = self.clone();
                if stopped
                    .resume_phase
                    .is_some_and(|p| p != SyncPhase::NotStarted)
                {
                    stopped.resume_phase = Some(SyncPhase::Resync);
                    stopped.link = None;
                    stopped.resync_first_seq = Some(stopped.next_seq);
                    stopped.last_resync_seq = stopped.next_seq;
                }
                stopped
            }
            _ if self.reads_data() => self.restart_as_resync(),
            _ => self.clone(),
        };
        next.failures_at_resync = failures_now;
        next
    }

    /// Deactivation: remember the phase; the saved link and `seq` stay.
    pub fn stop(&self) -> Self {
        let mut next = self.clone();
        if self.phase != SyncPhase::Stopped {
            next.resume_phase = Some(self.phase);
            next.phase = SyncPhase::Stopped;
        }
        next
    }

    /// Reactivation resumes where the stream stopped.
    pub fn resume(&self) -> Self {
        let mut next = self.clone();
        if self.phase == SyncPhase::Stopped {
            next.phase = self.resume_phase.unwrap_or(SyncPhase::NotStarted);
            next.resume_phase = None;
            if next.phase == SyncPhase::Resync && next.resync_first_seq.is_none() {
                next.resync_first_seq = Some(next.next_seq);
                next.last_resync_seq = next.next_seq;
            }
        }
        next
    }

    fn restart_as_resync(&self) -> Self {
        let mut next = self.clone();
        next.phase = SyncPhase::Resync;
        next.link = None;
        next.resync_first_seq = Some(self.next_seq);
        next.last_resync_seq = self.next_seq;
        next
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
    /// What the operator should do while the stream waits for them (a target- or
    /// configuration-class fault); `None` once a batch went through again.
    #[serde(default)]
    pub hint: Option<String>,
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
    /// `None` keeps the hint, `Some(None)` clears it, `Some(Some(_))` sets it.
    pub hint: Option<Option<String>>,
}

impl EntityStats {
    pub fn apply(&mut self, delta: &StatsDelta) {
        self.total += delta.total;
        self.success += delta.success;
        self.failure += delta.failure;
        replace(&mut self.last_export_date, delta.last_export_date);
        replace(
            &mut self.last_export_status,
            delta.last_export_status.clone(),
        );
        replace(&mut self.metadata_state, delta.metadata_state.clone());
        replace(
            &mut self.initial_sync_state,
            delta.initial_sync_state.clone(),
        );
        if let Some(hint) = &delta.hint {
            self.hint.clone_from(hint);
        }
    }
}

fn replace<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> EntityCursor {
        EntityCursor::new(StreamId {
            profile_id: uuid::Uuid::nil(),
            entity: "account".into(),
        })
    }

    fn more(link: &str) -> NextLink {
        NextLink::More(link.into())
    }

    fn done(link: &str) -> NextLink {
        NextLink::Done(link.into())
    }

    fn reading() -> EntityCursor {
        cursor().after_schema(vec!["name".into()], "f1".into(), true)
    }

    #[test]
    fn schema_then_data_or_metadata_only() {
        let c = reading();
        assert_eq!(
            (c.phase, c.batch_kind()),
            (SyncPhase::InitialSync, Some(BatchKind::Initial))
        );
        assert_eq!(c.columns, ["name"]);
        let m = cursor().after_schema(vec![], "f1".into(), false);
        assert_eq!(
            (m.phase, m.batch_kind()),
            (SyncPhase::MetadataCreated, None)
        );
        let later = m.after_schema(vec![], "f1".into(), true);
        assert_eq!(later.phase, SyncPhase::InitialSync);
    }

    #[test]
    fn initial_pages_advance_then_done_moves_to_delta() {
        let c = reading().after_page(&more("n1"), 1);
        assert_eq!(
            (c.phase, c.link.as_deref(), c.next_seq),
            (SyncPhase::InitialSync, Some("n1"), 2)
        );
        let c = c.after_page(&done("d1"), 1);
        assert_eq!(
            (c.phase, c.link.as_deref(), c.next_seq),
            (SyncPhase::Delta, Some("d1"), 3)
        );
        assert_eq!(c.resync_completion(&done("d2")), None);
        let c = c.after_page(&done("d2"), 0);
        assert_eq!((c.link.as_deref(), c.next_seq), (Some("d2"), 3));
    }

    #[test]
    fn expired_token_restarts_as_resync_named_by_next_seq() {
        let c = reading()
            .after_page(&done("d1"), 1)
            .after_page(&done("d2"), 1);
        let r = c.after_expired_token();
        assert_eq!(r.phase, SyncPhase::Resync);
        assert_eq!((r.link.clone(), r.resync_first_seq), (None, Some(3)));
        assert_eq!(r.batch_kind(), Some(BatchKind::Resync { first_seq: 3 }));
        assert_eq!(r.last_resync_seq, 3);
        let r = r.after_page(&more("n"), 1);
        assert_eq!(r.resync_completion(&done("d3")), Some(3));
        let end = r.after_page(&done("d3"), 2);
        assert_eq!(
            (end.phase, end.next_seq, end.resync_first_seq),
            (SyncPhase::Delta, 6, None)
        );
    }

    #[test]
    fn stop_and_resume_keep_the_position() {
        let c = reading().after_page(&more("n1"), 1);
        let s = c.stop();
        assert_eq!(
            (s.phase, s.resume_phase),
            (SyncPhase::Stopped, Some(SyncPhase::InitialSync))
        );
        assert_eq!(s.stop(), s);
        let r = s.resume();
        assert_eq!(r.resume_phase, None);
        assert_eq!((r.phase, r.link, r.next_seq), (c.phase, c.link, c.next_seq));
    }

    #[test]
    fn resync_on_demand_only_restarts_reading_streams() {
        let idle = cursor().request_resync(4);
        assert_eq!(
            (idle.phase, idle.failures_at_resync),
            (SyncPhase::NotStarted, 4)
        );
        let delta = reading().after_page(&done("d"), 1).request_resync(0);
        assert_eq!(
            (delta.phase, delta.resync_first_seq),
            (SyncPhase::Resync, Some(2))
        );
        let stopped = reading().after_page(&done("d"), 1).stop().request_resync(0);
        assert_eq!(stopped.phase, SyncPhase::Stopped);
        assert_eq!(
            stopped.resume().batch_kind(),
            Some(BatchKind::Resync { first_seq: 2 })
        );
    }

    #[test]
    fn a_leftover_batch_takes_its_seq_and_moves_the_resync_name() {
        let r = reading().after_page(&done("d"), 1).request_resync(0);
        let after = r.after_leftover();
        assert_eq!((after.next_seq, after.resync_first_seq), (3, Some(3)));
        assert_eq!(after.last_resync_seq, 3);
        assert_eq!(after.link, None);
    }

    #[test]
    fn schema_change_resyncs_only_reading_streams() {
        let c = reading()
            .after_page(&done("d"), 1)
            .after_schema_change(vec!["x".into()], "f2".into());
        assert_eq!(
            (c.phase, c.columns.clone()),
            (SyncPhase::Resync, vec!["x".to_owned()])
        );
        let m = cursor().after_schema(vec![], "f1".into(), false);
        assert_eq!(
            m.after_schema_change(vec![], "f2".into()).phase,
            SyncPhase::MetadataCreated
        );
    }

    #[test]
    fn a_first_read_onto_a_table_already_there_is_a_resync() {
        let stream = StreamId {
            profile_id: uuid::Uuid::new_v4(),
            entity: "account".into(),
        };
        let fresh = EntityCursor::new(stream).after_schema(vec!["name".into()], "f".into(), true);
        assert_eq!(
            fresh.onto_existing_table(false),
            fresh,
            "a table of its own"
        );
        let onto = fresh.onto_existing_table(true);
        assert_eq!(onto.phase, SyncPhase::Resync);
        assert_eq!(onto.batch_kind(), Some(BatchKind::Resync { first_seq: 1 }));
        let metadata_only =
            EntityCursor::new(onto.stream.clone()).after_schema(Vec::new(), "f".into(), false);
        assert_eq!(
            metadata_only.onto_existing_table(true).phase,
            SyncPhase::MetadataCreated,
            "no data read, nothing to sweep"
        );
    }

    #[test]
    fn a_new_cursor_over_a_table_with_earlier_batches_continues_after_them_as_a_resync() {
        let stream = StreamId {
            profile_id: uuid::Uuid::new_v4(),
            entity: "account".into(),
        };
        let fresh = EntityCursor::new(stream).after_schema(vec!["name".into()], "f".into(), true);
        assert_eq!(
            fresh.after_earlier_batches(0),
            fresh,
            "a new table: nothing changes"
        );
        let next = fresh.after_earlier_batches(41);
        assert_eq!(next.next_seq, 42);
        assert_eq!(next.phase, SyncPhase::Resync);
        assert_eq!(next.batch_kind(), Some(BatchKind::Resync { first_seq: 42 }));
        let metadata_only =
            EntityCursor::new(next.stream.clone()).after_schema(Vec::new(), "f".into(), false);
        let waiting = metadata_only.after_earlier_batches(41);
        assert_eq!(
            (waiting.next_seq, waiting.phase),
            (42, SyncPhase::MetadataCreated)
        );
    }
}

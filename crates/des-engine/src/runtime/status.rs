//! Per-stream progress for status lines.

use des_core::StreamId;
use des_core::sync::SyncPhase;
use time::OffsetDateTime;

use super::RuntimeState;

/// One stream's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStatus {
    pub stream: StreamId,
    pub phase: SyncPhase,
    /// Changes read and enqueued (DES `TotalNotifications`).
    pub enqueued: u64,
    /// Changes written (DES `SuccessNotifications`).
    pub applied: u64,
    /// Changes given up on after their retries (DES `FailureNotifications`).
    pub failed: u64,
    /// Rows the source holds, when known.
    pub estimated_total: Option<u64>,
    pub last_applied_at: Option<OffsetDateTime>,
    /// What the operator should do while the stream waits for them (a target or
    /// configuration fault), as the applier's decision said.
    pub hint: Option<String>,
}

/// Reads the counters and cursors of these streams.
pub(super) async fn snapshot(state: &RuntimeState, streams: &[StreamId]) -> Vec<StreamStatus> {
    let control = &state.ports.control;
    let mut out = Vec::with_capacity(streams.len());
    for stream in streams {
        let (Ok(stats), Ok(cursor)) = (
            control.stats(stream.profile_id, &stream.entity).await,
            control.cursor(stream.profile_id, &stream.entity).await,
        ) else {
            continue;
        };
        out.push(StreamStatus {
            stream: stream.clone(),
            phase: cursor.map_or(SyncPhase::NotStarted, |c| c.value.phase),
            enqueued: stats.total,
            applied: stats.success,
            failed: stats.failure,
            estimated_total: None,
            last_applied_at: stats.last_export_date,
            hint: stats.hint.or_else(|| state.applier.hint(stream)),
        });
    }
    out
}

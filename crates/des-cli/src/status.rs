//! What the replication looks like at one moment: per-stream counters, queue depth, and the
//! figures derived from them (initial sync done, lag, rows per second).

use std::time::{Duration, Instant};

use des_core::sync::SyncPhase;
use time::OffsetDateTime;

/// One stream's counters, as the engine keeps them.
#[derive(Debug, Clone)]
pub struct StreamView {
    pub name: String,
    pub phase: SyncPhase,
    /// The engine marked the initial sync `Completed` (or `CompletedWithFailures`). It does so
    /// in the same counter update that adds the last page, unlike the cursor's phase, which
    /// moves to `Delta` before that page is counted.
    pub initial_sync_complete: bool,
    pub enqueued: u64,
    pub applied: u64,
    pub failed: u64,
    pub estimated_total: Option<u64>,
    pub last_applied_at: Option<OffsetDateTime>,
    /// Why the stream waits for the operator, when it does.
    pub hint: Option<String>,
}

impl StreamView {
    fn pending(&self) -> u64 {
        self.enqueued.saturating_sub(self.applied + self.failed)
    }
}

/// Everything one refresh shows.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub streams: Vec<StreamView>,
    pub queue_depth: u64,
    /// What the engine repaired in the target since the last snapshot, one line each.
    pub repairs: Vec<String>,
}

impl Snapshot {
    /// Every stream finished its initial read and nothing read is waiting to be applied.
    pub fn initial_sync_done(&self) -> bool {
        !self.streams.is_empty()
            && self
                .streams
                .iter()
                .all(|s| s.initial_sync_complete && s.pending() == 0)
    }

    /// Some stream re-reads its entity (expired change token, or resync on demand).
    pub fn resyncing(&self) -> bool {
        self.streams.iter().any(|s| s.phase == SyncPhase::Resync)
    }

    pub fn applied(&self) -> u64 {
        self.streams.iter().map(|s| s.applied).sum()
    }

    pub fn failed(&self) -> u64 {
        self.streams.iter().map(|s| s.failed).sum()
    }

    /// The first stream waiting for the operator, with what to do.
    pub fn waiting(&self) -> Option<(&str, &str)> {
        self.streams
            .iter()
            .find_map(|s| Some((s.name.as_str(), s.hint.as_deref()?)))
    }

    /// How long the oldest waiting change has waited at most: the time since the last apply of
    /// a stream that has changes pending; zero when nothing waits.
    pub fn lag(&self, now: OffsetDateTime, started: OffsetDateTime) -> Duration {
        let waited = |s: &StreamView| (now - s.last_applied_at.unwrap_or(started)).unsigned_abs();
        self.streams
            .iter()
            .filter(|s| s.pending() > 0)
            .map(waited)
            .max()
            .unwrap_or_default()
    }
}

/// Rows per second over the last ten seconds of refreshes.
#[derive(Debug, Default)]
pub struct Rate {
    samples: Vec<(Instant, u64)>,
}

impl Rate {
    const WINDOW: Duration = Duration::from_secs(10);

    pub fn observe(&mut self, applied: u64) -> f64 {
        let now = Instant::now();
        self.samples.push((now, applied));
        self.samples
            .retain(|(t, _)| now.duration_since(*t) <= Self::WINDOW);
        let (t0, a0) = self.samples[0];
        let secs = now.duration_since(t0).as_secs_f64();
        if secs < 0.5 {
            0.0
        } else {
            applied.saturating_sub(a0) as f64 / secs
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(phase: SyncPhase, enqueued: u64, applied: u64) -> StreamView {
        StreamView {
            name: "account".into(),
            phase,
            initial_sync_complete: phase == SyncPhase::Delta,
            enqueued,
            applied,
            failed: 0,
            estimated_total: Some(enqueued),
            last_applied_at: None,
            hint: None,
        }
    }

    #[test]
    fn initial_sync_is_done_when_every_stream_is_in_delta_and_drained() {
        let streams = vec![stream(SyncPhase::InitialSync, 10, 10)];
        let mut snap = Snapshot {
            streams,
            queue_depth: 0,
            repairs: Vec::new(),
        };
        assert!(!snap.initial_sync_done());
        snap.streams[0].phase = SyncPhase::Delta;
        let why = "the phase alone is not enough: the last page may be uncounted";
        assert!(!snap.initial_sync_done(), "{why}");
        snap.streams[0].initial_sync_complete = true;
        assert!(snap.initial_sync_done());
        snap.streams[0].enqueued = 11;
        assert!(!snap.initial_sync_done());
        assert!(
            !Snapshot::default().initial_sync_done(),
            "no streams yet is not done"
        );
    }

    #[test]
    fn lag_counts_only_streams_with_pending_changes() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut snap = Snapshot {
            streams: vec![stream(SyncPhase::Delta, 5, 5)],
            queue_depth: 0,
            repairs: Vec::new(),
        };
        assert_eq!(snap.lag(t0 + Duration::from_secs(9), t0), Duration::ZERO);
        snap.streams[0].enqueued = 6;
        assert_eq!(
            snap.lag(t0 + Duration::from_secs(9), t0),
            Duration::from_secs(9)
        );
    }

    #[test]
    fn the_first_sample_gives_no_rate() {
        assert_eq!(Rate::default().observe(1000), 0.0);
    }
}

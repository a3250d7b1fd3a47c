//! Figures for monitoring, per stream: DES's counters plus how far the target is behind.
//!
//! **Lag** is the age of the oldest page read from Dataverse that the target does not hold yet
//! (now minus that batch's `read_at`), 0 when every page read is applied. It is found without
//! asking the target: the poller writes each batch's payload before it moves the cursor, and
//! the applier deletes it once the target committed it, so the payloads still stored between
//! the stream's first unapplied `seq` and the cursor's last are exactly the pending batches
//! (applied in `seq` order, so present payloads form one run ending at the cursor). The run is
//! found with a few payload probes (exponential, then binary search), and only the oldest
//! payload is decoded. A change waits up to one poll interval before it is read; that time is
//! not in the lag.

use des_core::StreamId;
use des_core::profile::{Profile, ProfileState};
use time::OffsetDateTime;

use crate::admin;
use crate::error::EngineError;
use crate::message::{BatchEnvelope, batch_key};
use crate::ports::EnginePorts;

/// One stream's figures at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamFigures {
    pub entity: String,
    /// Changes read and sent (DES `TotalNotifications`).
    pub rows_read: u64,
    /// Changes written to the target (DES `SuccessNotifications`).
    pub rows_applied: u64,
    /// Changes given up on (DES `FailureNotifications`).
    pub failures: u64,
    pub last_sync: Option<OffsetDateTime>,
    /// Batches read but not yet in the target (the stream's share of the queue).
    pub pending_batches: u64,
    /// Seconds; `None` while the profile does not replicate data.
    pub lag_seconds: Option<f64>,
    /// What the operator should do while the stream waits for them.
    pub hint: Option<String>,
}

/// The figures of every stream of `profile`.
pub async fn figures(
    ports: &EnginePorts,
    profile: &Profile,
) -> Result<Vec<StreamFigures>, EngineError> {
    let replicating = matches!(profile.state, ProfileState::Active | ProfileState::DataOnly);
    let now = ports.clock.now();
    let mut out = Vec::new();
    for status in admin::status(ports, profile.id).await? {
        let stream = StreamId {
            profile_id: profile.id,
            entity: status.entity_type.clone(),
        };
        let pending = pending(ports, &stream).await?;
        let lag = match (replicating, pending.oldest_read_at) {
            (false, _) => None,
            (true, None) => Some(0.0),
            (true, Some(read_at)) => Some((now - read_at).as_seconds_f64().max(0.0)),
        };
        out.push(StreamFigures {
            entity: status.entity_type,
            rows_read: status.total_notifications,
            rows_applied: status.success_notifications,
            failures: status.failure_notifications,
            last_sync: status.last_export_date,
            pending_batches: pending.batches,
            lag_seconds: lag,
            hint: status.hint,
        });
    }
    Ok(out)
}

/// The stream's unapplied batches: how many, and when the oldest was read.
#[derive(Debug, Default, PartialEq)]
struct Pending {
    batches: u64,
    oldest_read_at: Option<OffsetDateTime>,
}

async fn pending(ports: &EnginePorts, stream: &StreamId) -> Result<Pending, EngineError> {
    let cursor = ports
        .control
        .cursor(stream.profile_id, &stream.entity)
        .await?;
    let last = cursor.map_or(0, |c| c.value.next_seq.saturating_sub(1));
    if last == 0 || !stored(ports, stream, last).await? {
        return Ok(Pending::default());
    }
    let oldest = oldest_stored(ports, stream, last).await?;
    let bytes = ports.payloads.get(&batch_key(stream, oldest)).await?;
    // Applied (and deleted) between the probes: the stream has caught up meanwhile.
    let read_at = bytes
        .and_then(|b| BatchEnvelope::decode(&b).ok())
        .map(|e| e.batch.read_at);
    Ok(Pending {
        batches: last - oldest + 1,
        oldest_read_at: read_at,
    })
}

/// The last `seq` of the stream that the target must hold: the one before the oldest
/// payload still stored (the applier deletes a payload only once the target committed its
/// batch), or the cursor's last when none is. A payload left by a crash between commit and
/// delete only makes this lower, never higher than the truth.
pub(crate) async fn applied_through(
    ports: &EnginePorts,
    stream: &StreamId,
    next_seq: u64,
) -> Result<u64, EngineError> {
    let last = next_seq.saturating_sub(1);
    if last == 0 || !stored(ports, stream, last).await? {
        return Ok(last);
    }
    Ok(oldest_stored(ports, stream, last).await?.saturating_sub(1))
}

async fn stored(ports: &EnginePorts, stream: &StreamId, seq: u64) -> Result<bool, EngineError> {
    Ok(ports.payloads.get(&batch_key(stream, seq)).await?.is_some())
}

/// The smallest stored `seq` of the run that ends at `last` (which is stored).
async fn oldest_stored(
    ports: &EnginePorts,
    stream: &StreamId,
    last: u64,
) -> Result<u64, EngineError> {
    // Widen the step until a probe finds a gap (or seq 1), then halve the interval.
    let (mut present, mut step) = (last, 1);
    let mut absent = loop {
        let probe = present.saturating_sub(step);
        if probe == 0 {
            break 0;
        }
        if !stored(ports, stream, probe).await? {
            break probe;
        }
        present = probe;
        step *= 2;
    };
    while present - absent > 1 {
        let middle = absent + (present - absent) / 2;
        match stored(ports, stream, middle).await? {
            true => present = middle,
            false => absent = middle,
        }
    }
    Ok(present)
}

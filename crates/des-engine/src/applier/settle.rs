//! Settling a delivery after the sink committed: retries for its failed records, the
//! counters, then acknowledging the message and deleting its payload.
//!
//! Settling runs after the stream's lock is let go, so it overlaps the next batch's write.
//! While it runs the batch is marked *settling*: a duplicate delivery of it in this process
//! is released for a moment instead of taking the payload for a crashed holder's and
//! offering every record again; when it comes back the batch is settled (or its holder
//! failed and the payload is still there for exactly that recovery).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use des_core::StreamId;
use des_core::ports::{Delivery, RecordFailure};
use des_core::sync::StatsDelta;

use super::{Applier, Resolved};
use crate::error::EngineError;
use crate::message::BatchEnvelope;

/// A batch message's place in its stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Position {
    pub stream: StreamId,
    pub seq: u64,
}

/// What the sink reported for a committed batch.
pub(super) struct Settled {
    pub applied: usize,
    pub failures: Vec<RecordFailure>,
}

/// Batches committed by this process and not yet settled.
#[derive(Default)]
pub(super) struct Settling {
    batches: Arc<Mutex<HashSet<Position>>>,
}

/// Marks a batch settling until dropped.
pub(super) struct SettlingMark {
    batches: Arc<Mutex<HashSet<Position>>>,
    at: Position,
}

impl Settling {
    pub fn hold(&self, at: &Position) -> SettlingMark {
        lock(&self.batches).insert(at.clone());
        SettlingMark {
            batches: Arc::clone(&self.batches),
            at: at.clone(),
        }
    }

    pub fn contains(&self, at: &Position) -> bool {
        lock(&self.batches).contains(at)
    }
}

impl Drop for SettlingMark {
    fn drop(&mut self) {
        lock(&self.batches).remove(&self.at);
    }
}

fn lock(batches: &Mutex<HashSet<Position>>) -> MutexGuard<'_, HashSet<Position>> {
    batches.lock().unwrap_or_else(|p| p.into_inner())
}

impl Applier {
    /// Failures first (they must be safe before the message goes), then the counters and
    /// the acknowledgement, which touch different stores and run together.
    pub(super) async fn settle(
        &self,
        delivery: &Delivery,
        resolved: &Resolved,
        envelope: &BatchEnvelope,
        keys: (&str, &str),
        settled: Settled,
    ) -> Result<(), EngineError> {
        let (key, plan_key) = keys;
        let refused = !settled.failures.is_empty();
        self.handle_failures(resolved, envelope, plan_key, settled.failures)
            .await?;
        // The sink counts only the changes it wrote; failures are counted apart, and a
        // batch with refused records does not report `Success` over them.
        let stream = &envelope.batch.stream;
        let counted = self.count_written(stream, settled.applied, !refused);
        let finished = self.finish(delivery, Some(key));
        tokio::try_join!(counted, finished)?;
        Ok(())
    }

    pub(super) async fn count_applied(
        &self,
        stream: &StreamId,
        success: usize,
    ) -> Result<(), EngineError> {
        self.count_written(stream, success, true).await
    }

    async fn count_written(
        &self,
        stream: &StreamId,
        success: usize,
        clean: bool,
    ) -> Result<(), EngineError> {
        let status = if clean { "Success" } else { "Failure" };
        let delta = StatsDelta {
            success: success as u64,
            last_export_date: Some(self.ports.clock.now()),
            last_export_status: Some(status.into()),
            // A batch went through: the stream no longer waits for its operator.
            hint: Some(None),
            ..Default::default()
        };
        self.add_stats(stream, &delta).await
    }

    pub(super) async fn add_stats(
        &self,
        stream: &StreamId,
        delta: &StatsDelta,
    ) -> Result<(), EngineError> {
        let control = &self.ports.control;
        control
            .update_stats(stream.profile_id, &stream.entity, delta)
            .await?;
        Ok(())
    }

    /// Acknowledges: the message first, then the payload it pointed to.
    pub(super) async fn finish(
        &self,
        delivery: &Delivery,
        payload: Option<&str>,
    ) -> Result<(), EngineError> {
        self.ports.queue.delete(delivery).await?;
        if let Some(key) = payload {
            self.ports.payloads.delete(key).await?;
        }
        Ok(())
    }
}

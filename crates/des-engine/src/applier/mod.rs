//! The applier: takes one queue delivery and applies it to the sink.
//!
//! - A batch is applied with [`Sink::apply_batch`], which keeps the stream's order in the
//!   target database: a duplicate is skipped, an early arrival (`OutOfOrder`) is released
//!   for a short while. Record failures inside an applied batch become retry messages (the
//!   profile's `RetryPolicy`), or failure lines when retries are off.
//! - A retry is applied with [`Sink::apply_retry`], guarded by versions and tombstones so it
//!   can never overwrite a newer row or resurrect a delete; after `MaxRetryCount` failed
//!   retries the record is marked processed: one failure line, `failure += 1`.
//! - The message is deleted only after the sink committed (or skipped it); the batch payload
//!   after that, since retries carry their change themselves.
//! - Batch-level faults (the target is down) return an error; [`Applier::settle_error`]
//!   releases the message with back-off, and after `max_dequeue_count` deliveries poisons it
//!   (see the `poison` module).
//!
//! Calls for one stream are serialised in-process by a per-stream lock, held only until the
//! sink has answered: settling a committed batch overlaps the next batch's write (see the
//! `settle` module). Batches received together are taken in `seq` order and a batch waits
//! for the earlier ones this process holds (the `turns` module), so consecutive batches in
//! two applier loops never bounce off the sink as early arrivals. Calls for different
//! streams run in parallel.

mod poison;
mod repair;
mod retry;
mod settle;
mod stop;
mod sweep;
mod turns;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use des_core::StreamId;
use des_core::ports::{BatchOutcome, Delivery, RecordFailure, Sink};
use des_core::profile::Profile;
use des_core::schema::{SchemaPlan, TableDef};
use tokio::sync::OwnedMutexGuard;

use crate::error::EngineError;
use crate::message::{BatchEnvelope, WorkMessage};
use crate::plan::{PlanCache, stream_table};
use crate::ports::EnginePorts;

use settle::{Position, Settled, Settling};
pub use turns::Ticket;
use turns::Turns;

/// How long a batch waits for an earlier batch of its stream that this process holds.
const TURN_LIMIT: Duration = Duration::from_secs(10);

/// Applier settings.
#[derive(Debug, Clone)]
pub struct ApplierOptions {
    /// How long an early batch waits before it is offered again.
    pub out_of_order_delay: Duration,
    /// First back-off after a batch-level fault; doubles per delivery up to `max_backoff`.
    pub error_backoff: Duration,
    pub max_backoff: Duration,
    /// Failed deliveries (batch-level errors, counted by this applier; deferrals of early
    /// batches do not count) after which a message is poisoned.
    pub max_dequeue_count: u32,
}

impl Default for ApplierOptions {
    fn default() -> Self {
        Self {
            out_of_order_delay: Duration::from_millis(100),
            error_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_dequeue_count: 10,
        }
    }
}

/// What happened to a delivery (the message is settled accordingly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The batch was committed; `failed` of its changes went to retries or the failure log.
    Applied {
        stream: StreamId,
        seq: u64,
        applied: usize,
        failed: usize,
    },
    /// Already applied; the message was deleted.
    Duplicate,
    /// An earlier batch is missing; the message was released for a short while.
    Deferred,
    /// A retried change was written (or a newer version already was).
    RetryApplied,
    /// A retried change failed again and was re-enqueued.
    RetryScheduled,
    /// A retried change failed for the last time: one failure line was written.
    RecordFailed,
    /// The message belongs to a deleted profile, or could not be decoded, and was dropped.
    Dropped,
}

/// Applies deliveries.
pub struct Applier {
    ports: EnginePorts,
    options: ApplierOptions,
    plans: PlanCache,
    locks: Mutex<HashMap<StreamId, Arc<tokio::sync::Mutex<()>>>>,
    /// Failed deliveries per message id; in memory, so a restart starts counting again.
    errors: Mutex<HashMap<String, u32>>,
    handoff: Option<Arc<crate::runtime::Handoff>>,
    turns: Arc<Turns>,
    settling: Settling,
    hints: stop::Hints,
    repairs: repair::Repairs,
}

/// What a batch holds while it is applied: the stream's lock and its turn.
struct Held<'a> {
    _serial: OwnedMutexGuard<()>,
    ticket: Option<&'a Ticket>,
}

impl Held<'_> {
    fn pass(&self) {
        if let Some(ticket) = self.ticket {
            ticket.pass();
        }
    }
}

/// What a message needs resolved before it can be applied: its profile, the schema plan it
/// names and the profile's sink.
struct Resolved {
    profile: Profile,
    plan: Arc<SchemaPlan>,
    sink: Arc<dyn Sink>,
}

impl Resolved {
    fn table(&self, entity: &str) -> Result<&TableDef, EngineError> {
        stream_table(&self.plan, entity)
    }
}

impl Applier {
    pub fn new(ports: EnginePorts, options: ApplierOptions) -> Self {
        Self {
            ports,
            options,
            plans: PlanCache::default(),
            locks: Mutex::default(),
            errors: Mutex::default(),
            handoff: None,
            turns: Arc::default(),
            settling: Settling::default(),
            hints: stop::Hints::default(),
            repairs: repair::Repairs::default(),
        }
    }

    /// Takes envelopes the in-process poller hands over instead of reading their payloads.
    pub fn with_handoff(mut self, handoff: Arc<crate::runtime::Handoff>) -> Self {
        self.handoff = Some(handoff);
        self
    }

    /// Applies one delivery and settles its message, except on `Err`: then the caller hands
    /// the error to [`Applier::settle_error`] (local mode) or lets the host retry (Functions).
    pub async fn apply_one(&self, delivery: &Delivery) -> Result<ApplyOutcome, EngineError> {
        self.apply_admitted(delivery, None).await
    }

    /// [`Applier::apply_one`] for a delivery [`Applier::admit`] returned, with its ticket:
    /// the ticket is passed as soon as the sink has answered.
    #[tracing::instrument(skip_all, fields(message = %delivery.id, dequeue = delivery.dequeue_count))]
    pub async fn apply_admitted(
        &self,
        delivery: &Delivery,
        ticket: Option<&Ticket>,
    ) -> Result<ApplyOutcome, EngineError> {
        let message = match WorkMessage::decode(&delivery.body) {
            Ok(message) => message,
            Err(error) => return self.drop_undecodable(delivery, &error.to_string()).await,
        };
        if let WorkMessage::Batch { stream, seq, .. } = &message {
            self.turns.wait(stream, *seq, TURN_LIMIT).await;
        }
        let stream = &message.stream().clone();
        let serial = self.stream_lock(stream).lock_owned().await;
        let outcome = match message {
            WorkMessage::Batch {
                stream,
                seq,
                key,
                plan_key,
            } => {
                let at = Position { stream, seq };
                let held = Held {
                    _serial: serial,
                    ticket,
                };
                self.apply_batch(delivery, held, &at, &key, &plan_key).await
            }
            WorkMessage::Retry { retry, plan_key } => {
                let outcome = self.apply_retry(delivery, retry, &plan_key).await;
                drop(serial);
                outcome
            }
        };
        if matches!(outcome, Ok(ref o) if *o != ApplyOutcome::Deferred) {
            self.clear_errors(&delivery.id);
            self.hints.clear(stream);
        }
        outcome
    }

    /// Applies a batch under the stream's lock, which is let go as soon as the sink has
    /// committed: settling (retries, counters, acknowledging) overlaps the next batch.
    async fn apply_batch(
        &self,
        delivery: &Delivery,
        held: Held<'_>,
        at: &Position,
        key: &str,
        plan_key: &str,
    ) -> Result<ApplyOutcome, EngineError> {
        let stream = &at.stream;
        let Some(resolved) = self.resolve(stream, plan_key).await? else {
            return self.drop_orphan(delivery, Some(key)).await;
        };
        let table = resolved.table(&stream.entity)?;
        let Some(envelope) = self.envelope(key).await? else {
            return self
                .missing_payload(delivery, &resolved, table, at.seq, key)
                .await;
        };
        let batch = self.guard_sweep(&envelope.batch).await?;
        let outcome = resolved
            .sink
            .apply_batch(&resolved.plan, table, &batch)
            .await?;
        drop(batch);
        held.pass();
        match outcome {
            BatchOutcome::Applied { applied, failures } => {
                let _settling = self.settling.hold(at);
                drop(held);
                let envelope = keep_failed(envelope, &failures);
                let failed = failures.len();
                let settled = Settled { applied, failures };
                self.settle(delivery, &resolved, &envelope, (key, plan_key), settled)
                    .await?;
                tracing::debug!(%stream, seq = at.seq, applied, failed, "Applied batch.");
                Ok(ApplyOutcome::Applied {
                    stream: stream.clone(),
                    seq: at.seq,
                    applied,
                    failed,
                })
            }
            BatchOutcome::Duplicate if self.settling.contains(at) => {
                // This process committed it and is settling it now. The copy comes back
                // once that is done: acknowledging it now could leave the failures unsettled
                // if the holder stopped, and taking the payload would offer every record again.
                self.defer(delivery).await
            }
            BatchOutcome::Duplicate => {
                // The payload is deleted when a batch is settled, and in-process copies are
                // settled by their holder (above): a payload still here means its holder
                // stopped between commit and settle (a crash).
                self.recover_failures(&resolved, &envelope, plan_key)
                    .await?;
                self.finish(delivery, Some(key)).await?;
                Ok(ApplyOutcome::Duplicate)
            }
            BatchOutcome::OutOfOrder { .. } => self.defer(delivery).await,
        }
    }

    /// The stored envelope, from the in-process handoff when the poller left it there.
    async fn envelope(&self, key: &str) -> Result<Option<BatchEnvelope>, EngineError> {
        if let Some(envelope) = self.handoff.as_ref().and_then(|h| h.take(key)) {
            return Ok(Some(envelope));
        }
        let Some(bytes) = self.ports.payloads.get(key).await? else {
            return Ok(None);
        };
        let envelope = BatchEnvelope::decode(&bytes).map_err(|e| EngineError::corrupt(key, e))?;
        Ok(Some(envelope))
    }

    /// An early batch waits: released for a short while. (Re-sending a copy instead would
    /// multiply messages wherever the queue duplicates sends; failed deliveries are counted
    /// apart, see `settle_error`, so a long wait never looks like a poison message.)
    async fn defer(&self, delivery: &Delivery) -> Result<ApplyOutcome, EngineError> {
        let delay = self.options.out_of_order_delay;
        self.ports.queue.release(delivery, delay).await?;
        Ok(ApplyOutcome::Deferred)
    }

    /// No payload: fine when the batch was applied already (a duplicate delivery after the
    /// payload was deleted); otherwise an error that ends in the poison path.
    async fn missing_payload(
        &self,
        delivery: &Delivery,
        resolved: &Resolved,
        table: &TableDef,
        seq: u64,
        key: &str,
    ) -> Result<ApplyOutcome, EngineError> {
        if seq <= resolved.sink.watermark(resolved.profile.id, table).await? {
            self.finish(delivery, None).await?;
            return Ok(ApplyOutcome::Duplicate);
        }
        Err(EngineError::corrupt(key, "batch payload is missing"))
    }

    async fn resolve(
        &self,
        stream: &StreamId,
        plan_key: &str,
    ) -> Result<Option<Resolved>, EngineError> {
        let Some(profile) = self.ports.control.profile(stream.profile_id).await? else {
            return Ok(None);
        };
        let plan = self
            .plans
            .get(self.ports.payloads.as_ref(), plan_key)
            .await?;
        let sink = self.ports.sinks.sink(&profile.value).await?;
        Ok(Some(Resolved {
            profile: profile.value,
            plan,
            sink,
        }))
    }

    fn stream_lock(&self, stream: &StreamId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(locks.entry(stream.clone()).or_default())
    }
}

/// The envelope with only the changes the sink refused: settling overlaps the next batch's
/// write and needs no more, so the page's rows are freed as soon as the sink has them. The
/// refused ids go in a set: a target that refuses a whole page refuses thousands.
fn keep_failed(mut envelope: BatchEnvelope, failures: &[RecordFailure]) -> BatchEnvelope {
    let refused: HashSet<uuid::Uuid> = failures.iter().map(|f| f.id).collect();
    let changes = &mut envelope.batch.changes;
    changes.retain(|c| refused.contains(&c.id()));
    changes.shrink_to_fit();
    envelope
}

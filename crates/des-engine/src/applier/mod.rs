//! The applier: takes one queue delivery and applies it to the sink.
//!
//! - A batch is applied with [`Sink::apply_batch`], which keeps the stream's order in the
//!   target database: a duplicate is skipped, an early arrival is released for a short while
//!   (`OutOfOrder`, released for a short while). Record failures inside an applied batch become retry messages (the
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
//! Calls for one stream are serialised in-process by a per-stream lock; calls for different
//! streams run in parallel.

mod poison;
mod retry;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use des_core::StreamId;
use des_core::ports::{BatchOutcome, Delivery, Sink};
use des_core::profile::Profile;
use des_core::schema::{SchemaPlan, TableDef};
use des_core::sync::StatsDelta;

use crate::error::EngineError;
use crate::message::{BatchEnvelope, WorkMessage};
use crate::plan::{PlanCache, stream_table};
use crate::ports::EnginePorts;

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
}

/// What a message needs resolved before it can be applied.
struct Target {
    profile: Profile,
    plan: Arc<SchemaPlan>,
    sink: Arc<dyn Sink>,
}

impl Target {
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
        }
    }

    /// Takes envelopes the in-process poller hands over instead of reading their payloads.
    pub fn with_handoff(mut self, handoff: Arc<crate::runtime::Handoff>) -> Self {
        self.handoff = Some(handoff);
        self
    }

    /// Applies one delivery and settles its message, except on `Err`: then the caller hands
    /// the error to [`Applier::settle_error`] (local mode) or lets the host retry (Functions).
    #[tracing::instrument(skip_all, fields(message = %delivery.id, dequeue = delivery.dequeue_count))]
    pub async fn apply_one(&self, delivery: &Delivery) -> Result<ApplyOutcome, EngineError> {
        let message = match WorkMessage::decode(&delivery.body) {
            Ok(message) => message,
            Err(error) => return self.drop_undecodable(delivery, &error.to_string()).await,
        };
        let lock = self.stream_lock(message.stream());
        let _serial = lock.lock().await;
        let outcome = match message {
            WorkMessage::Batch {
                stream,
                seq,
                key,
                plan_key,
            } => {
                self.apply_batch(delivery, &stream, seq, &key, &plan_key)
                    .await
            }
            WorkMessage::Retry { retry, plan_key } => {
                self.apply_retry(delivery, retry, &plan_key).await
            }
        };
        if matches!(outcome, Ok(ref o) if *o != ApplyOutcome::Deferred) {
            self.clear_errors(&delivery.id);
        }
        outcome
    }

    async fn apply_batch(
        &self,
        delivery: &Delivery,
        stream: &StreamId,
        seq: u64,
        key: &str,
        plan_key: &str,
    ) -> Result<ApplyOutcome, EngineError> {
        let Some(target) = self.target(stream, plan_key).await? else {
            return self.drop_orphan(delivery, Some(key)).await;
        };
        let table = target.table(&stream.entity)?;
        let Some(envelope) = self.envelope(key).await? else {
            return self
                .missing_payload(delivery, &target, table, seq, key)
                .await;
        };
        let outcome = target
            .sink
            .apply_batch(&target.plan, table, &envelope.batch)
            .await?;
        match outcome {
            BatchOutcome::Applied { applied, failures } => {
                let failed = failures.len();
                self.handle_failures(&target, &envelope, plan_key, failures)
                    .await?;
                // The sink counts only the changes it wrote; failures are settled apart.
                self.count_applied(stream, applied).await?;
                self.finish(delivery, Some(key)).await?;
                tracing::debug!(%stream, seq, applied, failed, "Applied batch.");
                Ok(ApplyOutcome::Applied {
                    stream: stream.clone(),
                    seq,
                    applied,
                    failed,
                })
            }
            BatchOutcome::Duplicate => {
                // The payload is deleted when a batch is settled, and in-process copies wait
                // for the stream lock: a payload still here means its holder stopped between
                // commit and settle (a crash).
                self.recover_failures(&target, &envelope, plan_key).await?;
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
        target: &Target,
        table: &TableDef,
        seq: u64,
        key: &str,
    ) -> Result<ApplyOutcome, EngineError> {
        if seq <= target.sink.watermark(table).await? {
            self.finish(delivery, None).await?;
            return Ok(ApplyOutcome::Duplicate);
        }
        Err(EngineError::corrupt(key, "batch payload is missing"))
    }

    async fn count_applied(&self, stream: &StreamId, success: usize) -> Result<(), EngineError> {
        let delta = StatsDelta {
            success: success as u64,
            last_export_date: Some(self.ports.clock.now()),
            last_export_status: Some("Success".into()),
            ..Default::default()
        };
        self.add_stats(stream, &delta).await
    }

    async fn add_stats(&self, stream: &StreamId, delta: &StatsDelta) -> Result<(), EngineError> {
        let control = &self.ports.control;
        control
            .update_stats(stream.profile_id, &stream.entity, delta)
            .await?;
        Ok(())
    }

    /// Acknowledges: the message first, then the payload it pointed to.
    async fn finish(&self, delivery: &Delivery, payload: Option<&str>) -> Result<(), EngineError> {
        self.ports.queue.delete(delivery).await?;
        if let Some(key) = payload {
            self.ports.payloads.delete(key).await?;
        }
        Ok(())
    }

    async fn target(
        &self,
        stream: &StreamId,
        plan_key: &str,
    ) -> Result<Option<Target>, EngineError> {
        let Some(profile) = self.ports.control.profile(stream.profile_id).await? else {
            return Ok(None);
        };
        let plan = self
            .plans
            .get(self.ports.payloads.as_ref(), plan_key)
            .await?;
        let sink = self.ports.sinks.sink(&profile.value).await?;
        Ok(Some(Target {
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

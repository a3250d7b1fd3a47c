//! What happens to a message that keeps failing.
//!
//! A batch-level fault (target unreachable, a database error) releases the message with
//! exponential back-off; the applier counts failed deliveries per message (deferrals of
//! early batches do not count). After `max_dequeue_count` failures the message is poisoned: its body is kept under `poison/<profile>/<entity>/<message id>`
//! in the payload store and one entity-level failure line (`RecordId: N/A`) is written.
//!
//! A poisoned *batch* would stall its stream forever (later batches wait for its `seq`), so
//! the applier writes an empty batch with the same `seq` in its place, which moves the
//! watermark, and requests a resync of the stream: the resync re-reads every row, so the
//! rows of the skipped batch come back and convergence holds. If even the empty batch fails,
//! the target is down: the message is released with the longest back-off and nothing is lost.

use des_core::ports::{BatchOutcome, Delivery, Precondition, RecordFailure, StoreError};
use des_core::sync::StatsDelta;
use des_core::{Batch, BatchKind, ChangeType, FailureLine, StreamId};

use super::{Applier, ApplyOutcome};
use crate::decision::{Decision, Subject, decide, decide_error};
use crate::error::EngineError;
use crate::message::{WorkMessage, batch_key, poison_key};

impl Applier {
    /// Settles a delivery whose [`Applier::apply_one`] failed, as
    /// [`decide`](crate::decision::decide) says for the error's class: release with
    /// back-off (poisoned after too many deliveries), poison now, or wait for the operator.
    pub async fn settle_error(
        &self,
        delivery: &Delivery,
        error: &EngineError,
    ) -> Result<(), EngineError> {
        let subject = match WorkMessage::decode(&delivery.body) {
            Ok(WorkMessage::Retry { .. }) => Subject::Retry,
            _ => Subject::Batch,
        };
        let class = error.class();
        let mut decision = decide_error(error, subject);
        if decision == Decision::Repair {
            match self.repair(delivery, error).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => tracing::error!(message = %delivery.id, error = %e, "Repair failed."),
            }
            decision = decide(class, subject);
        }
        match decision {
            Decision::Backoff | Decision::Repair => {}
            Decision::Poison | Decision::RecordAttempt => {
                tracing::warn!(message = %delivery.id, %class, %error, "Apply failed; poisoned.");
                self.clear_errors(&delivery.id);
                return self.poison(delivery, error).await;
            }
            Decision::Stop { hint } => {
                tracing::error!(message = %delivery.id, %class, %error, %hint, "Stream waits.");
                self.clear_errors(&delivery.id);
                self.stopped(delivery, error, &hint).await;
                let delay = self.options.max_backoff;
                self.ports.queue.release(delivery, delay).await?;
                return Ok(());
            }
        }
        let count = self.count_error(&delivery.id);
        tracing::warn!(message = %delivery.id, failures = count, %class, %error, "Apply failed.");
        if count < self.options.max_dequeue_count {
            let factor = 2u32.saturating_pow(count.saturating_sub(1).min(16));
            let delay = self
                .options
                .error_backoff
                .saturating_mul(factor)
                .min(self.options.max_backoff);
            self.ports.queue.release(delivery, delay).await?;
            return Ok(());
        }
        self.poison(delivery, error).await
    }

    /// Poisons a delivery now, whatever its count: the Functions applier calls this on the
    /// host's last try (the host's `DequeueCount` is the count there). Like the poison
    /// branch of [`Applier::settle_error`], it deletes the message when the stream could
    /// be moved past it, and releases it when not (the target is down).
    pub async fn poison(
        &self,
        delivery: &Delivery,
        error: &EngineError,
    ) -> Result<(), EngineError> {
        match WorkMessage::decode(&delivery.body) {
            Ok(WorkMessage::Batch {
                stream,
                seq,
                plan_key,
                ..
            }) => {
                self.poison_batch(delivery, &stream, seq, &plan_key, error)
                    .await
            }
            Ok(WorkMessage::Retry { retry, .. }) => {
                let failure = RecordFailure {
                    id: retry.change.id(),
                    change_type: change_type_of(&retry.change, retry.kind),
                    reason: error.to_string(),
                };
                self.keep_poisoned(delivery, &retry.stream).await?;
                self.record_failure(&retry, &failure).await?;
                self.ports.queue.delete(delivery).await?;
                Ok(())
            }
            Err(e) => self
                .drop_undecodable(delivery, &e.to_string())
                .await
                .map(|_| ()),
        }
    }

    /// Counts one more failed delivery of the message; forgets it once poisoned.
    fn count_error(&self, message_id: &str) -> u32 {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        let count = errors.entry(message_id.to_owned()).or_default();
        *count += 1;
        let now = *count;
        if now >= self.options.max_dequeue_count {
            errors.remove(message_id);
        }
        now
    }

    /// Forgets the failures of a message that went through.
    pub(super) fn clear_errors(&self, message_id: &str) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if !errors.is_empty() {
            errors.remove(message_id);
        }
    }

    async fn poison_batch(
        &self,
        delivery: &Delivery,
        stream: &StreamId,
        seq: u64,
        plan_key: &str,
        error: &EngineError,
    ) -> Result<(), EngineError> {
        let lock = self.stream_lock(stream);
        let _serial = lock.lock().await;
        // The resync is requested before the batch is skipped: a resync whose batch is
        // skipped must never sweep (its ids were not marked seen), and a requested resync
        // makes the applier hold back the sweep of every resync that began before it.
        self.request_resync(stream).await?;
        if !self.skip_seq(stream, seq, plan_key).await.unwrap_or(false) {
            self.ports
                .queue
                .release(delivery, self.options.max_backoff)
                .await?;
            return Ok(());
        }
        self.keep_poisoned(delivery, stream).await?;
        let line = FailureLine {
            entity: stream.entity.clone(),
            record_id: None,
            notification_time: Some(self.ports.clock.now()),
            change_type: ChangeType::Update,
            reason: format!(
                "Batch {seq} failed {} times: {error}",
                delivery.dequeue_count
            ),
        };
        self.ports
            .failures
            .append(stream.profile_id, &[line])
            .await?;
        // The counters equal the failure lines.
        let delta = StatsDelta {
            failure: 1,
            last_export_date: Some(self.ports.clock.now()),
            last_export_status: Some("Failure".into()),
            ..Default::default()
        };
        self.add_stats(stream, &delta).await?;
        self.ports.queue.delete(delivery).await?;
        self.ports.payloads.delete(&batch_key(stream, seq)).await?;
        Ok(())
    }

    /// Writes an empty batch at `seq` so later batches can flow; `false` if it could not be
    /// written (an earlier batch is missing, or the target is down).
    async fn skip_seq(
        &self,
        stream: &StreamId,
        seq: u64,
        plan_key: &str,
    ) -> Result<bool, EngineError> {
        let Some(resolved) = self.resolve(stream, plan_key).await? else {
            return Ok(true);
        };
        let table = resolved.table(&stream.entity)?;
        let empty = Batch {
            stream: stream.clone(),
            seq,
            kind: BatchKind::Delta,
            columns: Vec::new(),
            changes: Vec::new(),
            read_at: self.ports.clock.now(),
        };
        let outcome = resolved
            .sink
            .apply_batch(&resolved.plan, table, &empty)
            .await?;
        Ok(matches!(
            outcome,
            BatchOutcome::Applied { .. } | BatchOutcome::Duplicate
        ))
    }

    async fn request_resync(&self, stream: &StreamId) -> Result<(), EngineError> {
        let control = &self.ports.control;
        for _ in 0..5 {
            let Some(cursor) = control.cursor(stream.profile_id, &stream.entity).await? else {
                return Ok(());
            };
            let stats = control.stats(stream.profile_id, &stream.entity).await?;
            let next = cursor.value.request_resync(stats.failure);
            match control
                .put_cursor(&next, Precondition::Match(cursor.etag))
                .await
            {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        // Without the request the batch must not be skipped: try again later.
        Err(StoreError::Conflict(format!("the cursor of {stream}")).into())
    }

    async fn keep_poisoned(
        &self,
        delivery: &Delivery,
        stream: &StreamId,
    ) -> Result<(), EngineError> {
        let key = poison_key(stream, &delivery.id);
        self.ports
            .payloads
            .put_if_absent(&key, &delivery.body)
            .await?;
        Ok(())
    }

    pub(super) async fn drop_undecodable(
        &self,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<ApplyOutcome, EngineError> {
        tracing::error!(message = %delivery.id, %reason, "Dropping an undecodable message.");
        let key = format!("poison/undecodable/{}", delivery.id);
        self.ports
            .payloads
            .put_if_absent(&key, &delivery.body)
            .await?;
        self.ports.queue.delete(delivery).await?;
        Ok(ApplyOutcome::Dropped)
    }

    /// The profile is gone: its messages and payloads go too.
    pub(super) async fn drop_orphan(
        &self,
        delivery: &Delivery,
        payload: Option<&str>,
    ) -> Result<ApplyOutcome, EngineError> {
        self.finish(delivery, payload).await?;
        Ok(ApplyOutcome::Dropped)
    }
}

pub(super) fn change_type_of(change: &des_core::Change, kind: BatchKind) -> ChangeType {
    match (change, kind) {
        (des_core::Change::Delete(_), _) => ChangeType::Delete,
        (_, BatchKind::Initial) => ChangeType::New,
        _ => ChangeType::Update,
    }
}

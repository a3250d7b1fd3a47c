//! Per-record failure processing, as the seed describes it: retry after the profile's
//! interval up to its count, then mark the record processed, write one failure line and go
//! on. The record is tried again only when it changes in the source (the next delta brings
//! it as a new change).

use std::time::Duration;

use des_core::ports::{Delivery, RecordFailure, RetryOutcome};
use des_core::sync::StatsDelta;
use des_core::{BatchKind, Change, FailureLine, RetryChange};

use des_core::schema::TableDef;

use super::poison::change_type_of;
use super::{Applier, ApplyOutcome, Resolved};
use crate::decision::{Decision, Subject, decide};
use crate::error::EngineError;
use crate::message::{BatchEnvelope, WorkMessage};

impl Applier {
    /// Failures inside an applied batch: each becomes a retry, or a failure line when the
    /// profile's `MaxRetryCount` is 0.
    pub(super) async fn handle_failures(
        &self,
        resolved: &Resolved,
        envelope: &BatchEnvelope,
        plan_key: &str,
        failures: Vec<RecordFailure>,
    ) -> Result<(), EngineError> {
        let batch = &envelope.batch;
        for failure in failures {
            let Some(change) = batch.changes.iter().find(|c| c.id() == failure.id) else {
                continue;
            };
            let retry = RetryChange {
                stream: batch.stream.clone(),
                origin_seq: batch.seq,
                kind: batch.kind,
                columns: batch.columns.clone(),
                change: change.clone(),
                attempts: 1,
                read_at: batch.read_at,
            };
            self.retry_or_fail(resolved, retry, plan_key, &failure)
                .await?;
        }
        Ok(())
    }

    /// A redelivered batch the sink already holds, with its payload still here: the previous
    /// holder committed and stopped before it settled the batch's record failures. Each
    /// upsert is offered again as a retry; the sink's version and tombstone guards skip what
    /// was written, and what fails again starts its retries now, so no failure is lost. (In
    /// the rare race where the holder is alive in another process, a failing record gets a
    /// second retry chain: a duplicate failure line, never a lost one.)
    pub(super) async fn recover_failures(
        &self,
        resolved: &Resolved,
        envelope: &BatchEnvelope,
        plan_key: &str,
    ) -> Result<(), EngineError> {
        let batch = &envelope.batch;
        let table = resolved.table(&batch.stream.entity)?;
        for change in batch
            .changes
            .iter()
            .filter(|c| matches!(c, Change::Upsert(_)))
        {
            let retry = RetryChange {
                stream: batch.stream.clone(),
                origin_seq: batch.seq,
                kind: batch.kind,
                columns: batch.columns.clone(),
                change: change.clone(),
                attempts: 1,
                read_at: batch.read_at,
            };
            let outcome = self.try_retry(resolved, table, &retry).await?;
            if let RetryOutcome::Failed(failure) = outcome {
                self.retry_or_fail(resolved, retry, plan_key, &failure)
                    .await?;
            }
        }
        Ok(())
    }

    pub(super) async fn apply_retry(
        &self,
        delivery: &Delivery,
        retry: RetryChange,
        plan_key: &str,
    ) -> Result<ApplyOutcome, EngineError> {
        let Some(resolved) = self.resolve(&retry.stream, plan_key).await? else {
            return self.drop_orphan(delivery, None).await;
        };
        let table = resolved.table(&retry.stream.entity)?;
        let outcome = if self.predates_resync(&retry).await? {
            RetryOutcome::Superseded
        } else {
            self.try_retry(&resolved, table, &retry).await?
        };
        let result = match outcome {
            RetryOutcome::Applied | RetryOutcome::Superseded => {
                // A superseded retry is settled too: the newer change was counted on its own.
                self.count_applied(&retry.stream, 1).await?;
                ApplyOutcome::RetryApplied
            }
            RetryOutcome::Failed(failure) => {
                let tried = RetryChange {
                    attempts: retry.attempts + 1,
                    ..retry.clone()
                };
                match self
                    .retry_or_fail(&resolved, tried, plan_key, &failure)
                    .await?
                {
                    true => ApplyOutcome::RetryScheduled,
                    false => ApplyOutcome::RecordFailed,
                }
            }
        };
        self.finish(delivery, None).await?;
        Ok(result)
    }

    /// Applies a retried change; a record-class refusal the sink reported as an error is
    /// the record's failed attempt, as [`decide`] says.
    async fn try_retry(
        &self,
        resolved: &Resolved,
        table: &TableDef,
        retry: &RetryChange,
    ) -> Result<RetryOutcome, EngineError> {
        match resolved
            .sink
            .apply_retry(&resolved.plan, table, retry)
            .await
        {
            Ok(outcome) => Ok(outcome),
            Err(e) if decide(e.class(), Subject::Retry) == Decision::RecordAttempt => {
                Ok(RetryOutcome::Failed(RecordFailure {
                    id: retry.change.id(),
                    change_type: change_type_of(&retry.change, retry.kind),
                    reason: e.to_string(),
                }))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A retry of a change read before the stream's latest resync is obsolete: the resync
    /// carries the record again if it still exists. Applying it anyway could re-create a
    /// record the resync swept (its delete was never seen as a change, so no tombstone).
    async fn predates_resync(&self, retry: &RetryChange) -> Result<bool, EngineError> {
        let stream = &retry.stream;
        let cursor = self
            .ports
            .control
            .cursor(stream.profile_id, &stream.entity)
            .await?;
        Ok(cursor.is_some_and(|c| retry.origin_seq < c.value.last_resync_seq))
    }

    /// `retry.attempts` counts the tries made, the first (in its batch) included. While fewer
    /// than `MaxRetryCount` retries were made, the change is enqueued again after the
    /// profile's interval; otherwise the final failure is recorded. `true` when retried.
    async fn retry_or_fail(
        &self,
        resolved: &Resolved,
        retry: RetryChange,
        plan_key: &str,
        failure: &RecordFailure,
    ) -> Result<bool, EngineError> {
        let policy = &resolved.profile.retry_policy;
        let retries_made = retry.attempts.saturating_sub(1);
        if retries_made < policy.max_retry_count {
            let delay = Duration::from_secs(u64::from(policy.interval_in_seconds));
            let message = WorkMessage::Retry {
                retry,
                plan_key: plan_key.to_owned(),
            };
            self.ports.queue.send(&message.encode(), delay).await?;
            return Ok(true);
        }
        self.record_failure(&retry, failure).await?;
        Ok(false)
    }

    /// Marks the record processed: one failure line in the seed's format, `failure += 1`.
    pub(super) async fn record_failure(
        &self,
        retry: &RetryChange,
        failure: &RecordFailure,
    ) -> Result<(), EngineError> {
        let (stream, change) = (&retry.stream, &retry.change);
        let line = FailureLine {
            entity: stream.entity.clone(),
            record_id: Some(change.id()),
            notification_time: Some(retry.read_at),
            change_type: failure.change_type,
            reason: failure.reason.clone(),
        };
        self.ports
            .failures
            .append(stream.profile_id, &[line])
            .await?;
        tracing::info!(%stream, record = %change.id(), "Record failed for good; logged.");
        let delta = StatsDelta {
            failure: 1,
            last_export_date: Some(self.ports.clock.now()),
            last_export_status: Some("Failure".into()),
            // An initial sync with a record given up on completed with failures.
            initial_sync_state: (retry.kind == BatchKind::Initial)
                .then(|| "CompletedWithFailures".into()),
            ..Default::default()
        };
        self.add_stats(stream, &delta).await
    }
}

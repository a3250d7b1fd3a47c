//! The `apply` function: one queue message per invocation, applied with the engine's
//! [`Applier`] through a [`HostedQueue`].
//!
//! | engine result | answer | the host then |
//! |---|---|---|
//! | applied, duplicate, retry scheduled, record failed, dropped | 200 | deletes the message |
//! | deferred (an earlier batch is missing) | 200, after re-sending a copy with the delay | deletes this copy |
//! | error of the target or configuration class (a missing table, permission, a wrong connection string) | 200, after re-sending a copy delayed by the longest back-off (or at once after a repair) | deletes this copy |
//! | any other error (target unreachable, storage down) | 500 | shows it again; after the last try moves it to `des-apply-poison` |
//!
//! A target or configuration fault never ends in the poison queue: retrying the same
//! message cannot help before the operator acts, and counting its tries would poison every
//! batch of a stream whose target is being fixed. The engine decides as in local mode
//! (`des_engine::decision::decide_error`): the stream waits with its hint stored in its
//! counters (the API's `Status.Hint`), or a missing table is recreated and the stream
//! resynced; the copy carries the wait, with a fresh dequeue count.
//!
//! A deferral cannot be a 500: the host would count it as a failed try and poison a batch
//! that only waits for an earlier one. So the copy carries the delay (the engine's local
//! mode releases instead); a queue that duplicates an early batch makes one extra copy per
//! duplicate, and every copy ends as a duplicate once the batch is applied.
//!
//! Per-record failures never fail the message: the engine re-enqueues them with the
//! profile's interval, then writes their failure line. On the last try
//! (`DequeueCount >= DES_MAX_DEQUEUE_COUNT`) the engine's poison handling runs first (keep a
//! copy, skip the batch's `seq` and resync the stream when the target takes the empty
//! batch); when it cannot (the target is down), one entity-level failure line is appended
//! here, so every poisoned message leaves a line. The answer stays 500 either way, so the
//! host parks the message in `des-apply-poison`, from where `des-applier replay-poison`
//! sends it back.

use std::sync::Arc;

use des_core::ports::{Clock, Delivery, FailureLog, SystemClock};
use des_core::{ChangeType, FailureLine};
use des_engine::applier::{Applier, ApplierOptions, ApplyOutcome};
use des_engine::decision::{Decision, Subject, decide_error};
use des_engine::message::WorkMessage;
use des_engine::{EngineError, EnginePorts};
use uuid::Uuid;

use crate::hosted_queue::{HostedQueue, Settlement};
use crate::protocol::{Invocation, InvocationRequest};

/// The queue trigger's binding name in `apply/function.json`.
pub const MESSAGE_BINDING: &str = "msg";

/// Applies invocations of the `apply` function.
pub struct ApplyFunction {
    applier: Applier,
    queue: Arc<HostedQueue>,
    failures: Arc<dyn FailureLog>,
    clock: Arc<dyn Clock>,
    max_dequeue_count: u32,
}

impl ApplyFunction {
    /// `ports.queue` is the real work queue; the applier gets it wrapped.
    pub fn new(mut ports: EnginePorts, max_dequeue_count: u32) -> Self {
        let queue = Arc::new(HostedQueue::new(Arc::clone(&ports.queue)));
        ports.queue = Arc::clone(&queue) as _;
        let failures = Arc::clone(&ports.failures);
        let options = ApplierOptions {
            max_dequeue_count,
            ..ApplierOptions::default()
        };
        Self {
            applier: Applier::new(ports, options),
            queue,
            failures,
            clock: Arc::new(SystemClock),
            max_dequeue_count,
        }
    }

    /// One invocation: `Data.msg` and `Metadata.DequeueCount`.
    pub async fn invoke(&self, request: &InvocationRequest) -> Invocation {
        let body = match request.queue_message(MESSAGE_BINDING) {
            Ok(body) => body,
            Err(error) => return Invocation::failed(vec![error.to_string()]),
        };
        let delivery = Delivery {
            id: request
                .metadata_text("Id")
                .unwrap_or_else(|| Uuid::new_v4().to_string()),
            receipt: request.metadata_text("PopReceipt").unwrap_or_default(),
            body,
            dequeue_count: request.dequeue_count().unwrap_or(1).max(1),
        };
        self.apply(&delivery).await
    }

    /// Applies a delivery the host holds and answers as the table above says.
    pub async fn apply(&self, delivery: &Delivery) -> Invocation {
        self.queue.hold(delivery);
        let result = self.applier.apply_one(delivery).await;
        match result {
            Ok(outcome) => {
                let settlement = self.queue.settle(delivery);
                self.completed(delivery, &outcome, settlement).await
            }
            Err(error) if waits_for_operator(delivery, &error) => {
                self.queue.settle(delivery);
                self.keep(delivery, &error).await
            }
            Err(error) if delivery.dequeue_count < self.max_dequeue_count => {
                self.queue.settle(delivery);
                let (id, n, max) = (&delivery.id, delivery.dequeue_count, self.max_dequeue_count);
                Invocation::retried(vec![format!(
                    "Message {id}: try {n} of {max} failed: {error}"
                )])
            }
            Err(error) => self.last_try_failed(delivery, &error).await,
        }
    }

    /// Keeps a message the operator (or a repair) must unblock: the engine settles it as in
    /// local mode (hint stored, or the schema repaired), and a copy carries its delay.
    async fn keep(&self, delivery: &Delivery, error: &EngineError) -> Invocation {
        self.queue.hold(delivery);
        let settled = self.applier.settle_error(delivery, error).await;
        let settlement = self.queue.settle(delivery);
        let delay = match (settled, settlement) {
            (Ok(()), Settlement::Released(delay)) => delay,
            (Ok(()), _) => self.applier_max_backoff(),
            (Err(e), _) => {
                // The hint could not be stored; the message is kept all the same.
                tracing::warn!(message = %delivery.id, error = %e, "Could not settle a kept message.");
                self.applier_max_backoff()
            }
        };
        if let Err(e) = self.queue.inner().send(&delivery.body, delay).await {
            return Invocation::retried(vec![format!(
                "Message {}: {error}; cannot keep it for the operator: {e}",
                delivery.id
            )]);
        }
        Invocation::ok(vec![format!(
            "Message {}: {error}; kept for the operator, offered again after {} ms (never poisoned).",
            delivery.id,
            delay.as_millis()
        )])
    }

    fn applier_max_backoff(&self) -> std::time::Duration {
        ApplierOptions::default().max_backoff
    }

    async fn completed(
        &self,
        delivery: &Delivery,
        outcome: &ApplyOutcome,
        settlement: Settlement,
    ) -> Invocation {
        let mut logs = vec![describe(outcome)];
        if let Settlement::Released(delay) = settlement {
            // The host cannot delay this message; a copy can.
            if let Err(error) = self.queue.inner().send(&delivery.body, delay).await {
                return Invocation::failed(vec![format!(
                    "Cannot re-send a deferred message: {error}"
                )]);
            }
            logs.push(format!("Re-sent after {} ms.", delay.as_millis()));
        }
        Invocation::ok(logs)
    }

    async fn last_try_failed(&self, delivery: &Delivery, error: &EngineError) -> Invocation {
        let (id, n) = (&delivery.id, delivery.dequeue_count);
        let mut logs = vec![format!("Message {id}: last try ({n}) failed: {error}")];
        let settled = self.applier.poison(delivery, error).await;
        let settlement = self.queue.settle(delivery);
        match (settled, settlement) {
            (Ok(()), Settlement::Deleted) => {
                logs.push("The engine poisoned it: failure line written, stream resynced.".into());
            }
            (settled, _) => {
                if let Err(e) = settled {
                    logs.push(format!("Engine poison handling failed: {e}"));
                }
                logs.push(self.log_poisoned(delivery, error).await);
            }
        }
        logs.push("The host moves the message to des-apply-poison.".into());
        Invocation::failed(logs)
    }

    /// Appends the failure line of a message the engine could not settle.
    async fn log_poisoned(&self, delivery: &Delivery, error: &EngineError) -> String {
        let Ok(message) = WorkMessage::decode(&delivery.body) else {
            return "The message is not a DES work message; no failure line.".into();
        };
        let stream = message.stream().clone();
        let line = poison_line(&message, delivery.dequeue_count, error, self.clock.now());
        match self.failures.append(stream.profile_id, &[line]).await {
            Ok(()) => format!("Failure line written for {stream}."),
            Err(e) => format!("Cannot write the failure line for {stream}: {e}"),
        }
    }
}

/// Whether the engine keeps this error's message rather than letting the host count tries:
/// a target or configuration fault (wait for the operator, or repair a missing table).
fn waits_for_operator(delivery: &Delivery, error: &EngineError) -> bool {
    let subject = match WorkMessage::decode(&delivery.body) {
        Ok(WorkMessage::Retry { .. }) => Subject::Retry,
        Ok(WorkMessage::Batch { .. }) => Subject::Batch,
        Err(_) => return false,
    };
    matches!(
        decide_error(error, subject),
        Decision::Stop { .. } | Decision::Repair
    )
}

fn poison_line(
    message: &WorkMessage,
    tries: u32,
    error: &EngineError,
    now: time::OffsetDateTime,
) -> FailureLine {
    let (record_id, change_type, what) = match message {
        WorkMessage::Batch { seq, .. } => (None, ChangeType::Update, format!("Batch {seq}")),
        WorkMessage::Retry { retry, .. } => {
            let kind = match retry.change {
                des_core::Change::Delete(_) => ChangeType::Delete,
                des_core::Change::Upsert(_) => ChangeType::Update,
            };
            (Some(retry.change.id()), kind, "A retried change".to_owned())
        }
    };
    FailureLine {
        entity: message.stream().entity.clone(),
        record_id,
        notification_time: Some(now),
        change_type,
        reason: format!("{what} failed {tries} times and was moved to des-apply-poison: {error}"),
    }
}

fn describe(outcome: &ApplyOutcome) -> String {
    match outcome {
        ApplyOutcome::Applied {
            stream,
            seq,
            applied,
            failed,
        } => {
            format!("Applied batch {seq} of {stream}: {applied} changes written, {failed} failed.")
        }
        ApplyOutcome::Duplicate => "Already applied; skipped.".into(),
        ApplyOutcome::Deferred => "An earlier batch of the stream is missing; deferred.".into(),
        ApplyOutcome::RetryApplied => "Retried change written.".into(),
        ApplyOutcome::RetryScheduled => "Retried change failed again; scheduled.".into(),
        ApplyOutcome::RecordFailed => {
            "Retried change failed for good; failure line written.".into()
        }
        ApplyOutcome::Dropped => "Dropped (deleted profile or unreadable message).".into(),
    }
}

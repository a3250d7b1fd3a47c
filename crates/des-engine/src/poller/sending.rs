//! Sending batch messages, repairing unsent ones after a crash, and back-pressure.

use std::sync::Arc;
use std::time::Duration;

use des_core::schema::SchemaPlan;
use des_core::sync::EntityCursor;

use super::{Poller, StreamCtx};
use crate::error::EngineError;
use crate::message::{BatchEnvelope, WorkMessage, batch_key, plan_key};
use crate::plan::stream_table;

impl Poller {
    /// Sends, handing the envelope to in-process appliers first (so it is there when the
    /// message is received).
    pub(super) async fn send_owned(&self, envelope: BatchEnvelope) -> Result<(), EngineError> {
        let Some(handoff) = &self.handoff else {
            return self.send(&envelope).await;
        };
        let key = batch_key(&envelope.batch.stream, envelope.batch.seq);
        let message = message(&envelope);
        handoff.offer(key.clone(), envelope);
        if let Err(error) = self.enqueue(&message).await {
            handoff.take(&key);
            return Err(error);
        }
        Ok(())
    }

    pub(super) async fn send(&self, envelope: &BatchEnvelope) -> Result<(), EngineError> {
        self.enqueue(&message(envelope)).await
    }

    async fn enqueue(&self, message: &WorkMessage) -> Result<(), EngineError> {
        self.ports
            .queue
            .send(&message.encode(), Duration::ZERO)
            .await?;
        if let Some(wake) = &self.wake {
            wake.notify_waiters();
        }
        if let WorkMessage::Batch { stream, seq, .. } = message {
            tracing::debug!(%stream, seq, "Enqueued batch.");
        }
        Ok(())
    }

    /// Re-sends the stream's last two batches if their payloads still exist, whenever the
    /// cursor is not where this process's own last send left it: repairs a crash between
    /// checkpoint and send, in this process (a restart) or another one (a checkpoint that
    /// landed after its writer was aborted, or a second poller that died).
    pub(super) async fn ensure_sent(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: &EntityCursor,
    ) -> Result<(), EngineError> {
        let known = self.memory().sent_checked.get(ctx.stream()).copied();
        if known == Some(cursor.next_seq) {
            return Ok(());
        }
        let last = cursor.next_seq.saturating_sub(1);
        for seq in last.saturating_sub(1).max(1)..=last {
            let key = batch_key(ctx.stream(), seq);
            if let Some(bytes) = self.ports.payloads.get(&key).await? {
                let envelope =
                    BatchEnvelope::decode(&bytes).map_err(|e| EngineError::corrupt(&key, e))?;
                self.send(&envelope).await?;
            }
        }
        let stream = ctx.stream().clone();
        self.memory().sent_checked.insert(stream, cursor.next_seq);
        Ok(())
    }

    /// True when the stream already has `max_unapplied_batches` batches waiting.
    pub(super) async fn backlogged(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: &EntityCursor,
    ) -> Result<bool, EngineError> {
        let sent = cursor.next_seq.saturating_sub(1);
        let bound = self.options.max_unapplied_batches;
        let seen = self.memory().applied_seen.get(ctx.stream()).copied();
        if sent.saturating_sub(seen.unwrap_or(0)) < bound {
            return Ok(false);
        }
        let plan = self.current_plan(ctx, cursor).await?;
        let table = stream_table(&plan, &ctx.stream().entity)?;
        let applied = ctx.sink.watermark(ctx.profile.id, table).await?;
        let stream = ctx.stream().clone();
        self.memory().applied_seen.insert(stream, applied);
        Ok(sent.saturating_sub(applied) >= bound)
    }

    async fn current_plan(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: &EntityCursor,
    ) -> Result<Arc<SchemaPlan>, EngineError> {
        let fp = cursor.metadata_fingerprint.as_deref().unwrap_or_default();
        let key = plan_key(ctx.stream(), fp);
        self.plans.get(self.ports.payloads.as_ref(), &key).await
    }
}

fn message(envelope: &BatchEnvelope) -> WorkMessage {
    let batch = &envelope.batch;
    WorkMessage::Batch {
        stream: batch.stream.clone(),
        seq: batch.seq,
        key: batch_key(&batch.stream, batch.seq),
        plan_key: envelope.plan_key.clone(),
    }
}

//! The page step, built as an outbox so a crash anywhere never loses or forks a batch.
//!
//! Order of writes for batch `seq = cursor.next_seq`:
//!
//! 1. `payloads.put_new(batches/<profile>/<entity>/<seq>, envelope)` (write-once); go on with the
//!    STORED envelope. A step that finds an envelope already stored at `next_seq` (a crash
//!    after step 1) ships it without reading the source, so a page read twice never becomes
//!    two different batches with one `seq`, and the cursor continues from the stored link.
//! 2. `put_cursor(link = envelope's next link, next_seq + n, Match(etag))`. A conflict means
//!    another poller owns the stream this round: stop, it sends the batch.
//! 3. `queue.send(WorkMessage::Batch)`. Sending after the checkpoint means a payload whose
//!    batch was applied (and deleted by the applier) is never needed again by the poller.
//!    A crash between 2 and 3 is repaired by [`Poller::ensure_sent`]: the first step of a
//!    stream in a process re-sends its last two batches if their payloads still exist
//!    (duplicates are harmless: the sink skips `seq` at or below its watermark).
//!
//! Empty pages make no batch (an empty delta only advances the link). The end of a resync
//! adds a `ResyncComplete { first_seq }` batch right after the last page's batch.

use std::sync::Arc;

use des_core::ports::{NextLink, Page, PageRequest, SourceError, Versioned};
use des_core::sync::{EntityCursor, StatsDelta, SyncPhase};
use des_core::{Batch, BatchKind};

use super::{Poller, StepOutcome, StreamCtx};
use crate::error::EngineError;
use crate::message::{BatchEnvelope, batch_key, plan_key};

/// What a step ships: stored envelopes and the cursor that follows them.
struct Shipment {
    envelopes: Vec<BatchEnvelope>,
    next: EntityCursor,
    /// More pages of the same read follow at once.
    more: bool,
}

impl Poller {
    pub(super) async fn page_step(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: Versioned<EntityCursor>,
    ) -> Result<StepOutcome, EngineError> {
        if self.backlogged(ctx, &cursor.value).await? {
            return Ok(StepOutcome::Backpressure);
        }
        let key = batch_key(ctx.stream(), cursor.value.next_seq);
        let shipment = match self.ports.payloads.get(&key).await? {
            Some(bytes) => {
                let stored =
                    BatchEnvelope::decode(&bytes).map_err(|e| EngineError::corrupt(&key, e))?;
                self.ship_stored(ctx, &cursor.value, stored).await?
            }
            None => match self.read_and_store(ctx, &cursor.value).await? {
                Some(shipment) => shipment,
                None => return self.restart_expired(ctx, cursor).await,
            },
        };
        self.commit(ctx, cursor, shipment).await
    }

    /// Checkpoints, then sends, then counts.
    async fn commit(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: Versioned<EntityCursor>,
        shipment: Shipment,
    ) -> Result<StepOutcome, EngineError> {
        if shipment.envelopes.is_empty() && shipment.next.link == cursor.value.link {
            return Ok(StepOutcome::Idle);
        }
        if !self.checkpoint(&shipment.next, &cursor.etag).await? {
            return Ok(StepOutcome::Conflict);
        }
        self.memory().sent_checked.remove(ctx.stream());
        let changes: u64 = shipment
            .envelopes
            .iter()
            .map(|e| e.batch.changes.len() as u64)
            .sum();
        let batches = shipment.envelopes.len() as u64;
        for envelope in shipment.envelopes {
            self.send_owned(envelope).await?;
        }
        let sent_below = shipment.next.next_seq;
        self.memory()
            .sent_checked
            .insert(ctx.stream().clone(), sent_below);
        self.count(ctx, &cursor.value, &shipment.next, changes)
            .await?;
        Ok(StepOutcome::Progressed {
            batches,
            changes,
            more: shipment.more,
        })
    }

    async fn count(
        &self,
        ctx: &StreamCtx<'_>,
        before: &EntityCursor,
        after: &EntityCursor,
        changes: u64,
    ) -> Result<(), EngineError> {
        let mut delta = StatsDelta {
            total: changes,
            ..Default::default()
        };
        // The first full read ends: an initial sync, or the resync a stream starts with when
        // its table held an earlier profile's batches (its stats still say InProgress).
        let read_ends = matches!(before.phase, SyncPhase::InitialSync | SyncPhase::Resync)
            && after.phase == SyncPhase::Delta;
        if read_ends {
            let stream = ctx.stream();
            let stats = self
                .ports
                .control
                .stats(stream.profile_id, &stream.entity)
                .await?;
            let first_read = before.phase == SyncPhase::InitialSync
                || stats.initial_sync_state.as_deref() == Some("InProgress");
            if !first_read {
                return self.add_changes(ctx, delta).await;
            }
            let state = if stats.failure > 0 {
                "CompletedWithFailures"
            } else {
                "Completed"
            };
            delta.initial_sync_state = Some(state.into());
        }
        self.add_changes(ctx, delta).await
    }

    async fn add_changes(&self, ctx: &StreamCtx<'_>, delta: StatsDelta) -> Result<(), EngineError> {
        if delta != StatsDelta::default() {
            self.add_stats(ctx.stream(), delta).await?;
        }
        Ok(())
    }

    /// Reads the page at the cursor and stores its envelopes; `None` when the change token
    /// expired.
    async fn read_and_store(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: &EntityCursor,
    ) -> Result<Option<Shipment>, EngineError> {
        let request = match &cursor.link {
            Some(link) => PageRequest::Follow { link: link.clone() },
            None => PageRequest::Start {
                entity_set: self.entity_set(ctx).await?,
                select: cursor.columns.clone(),
            },
        };
        let page = match self.read_page(ctx, &request, &cursor.columns).await {
            Ok(page) => page,
            Err(SourceError::ExpiredToken { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if let NextLink::More(link) = &page.next {
            let source = Arc::clone(&ctx.source);
            self.read_ahead
                .start(ctx.stream(), source, link, &cursor.columns);
        }
        let kind = cursor.batch_kind().unwrap_or(BatchKind::Delta);
        let mut envelopes = Vec::new();
        let mut seq = cursor.next_seq;
        if !page.changes.is_empty() {
            let batch = self.batch(ctx, cursor, seq, kind, page.changes);
            envelopes.push(self.outbox(cursor, batch, &page.next).await?);
            seq += 1;
        }
        if let Some(first_seq) = cursor.resync_completion(&page.next) {
            let done = BatchKind::ResyncComplete { first_seq };
            let batch = self.batch(ctx, cursor, seq, done, Vec::new());
            envelopes.push(self.outbox(cursor, batch, &page.next).await?);
        }
        let next_link = envelopes
            .first()
            .map_or(page.next, |e| NextLink::from(&e.next));
        let next = cursor.after_page(&next_link, envelopes.len() as u64);
        let more = matches!(next_link, NextLink::More(_));
        Ok(Some(Shipment {
            envelopes,
            next,
            more,
        }))
    }

    /// The entity set a read starts from: as the stream's last metadata read (its plan)
    /// named it, else read now.
    async fn entity_set(&self, ctx: &StreamCtx<'_>) -> Result<String, EngineError> {
        let known = self.memory().entity_sets.get(ctx.stream()).cloned();
        if let Some(name) = known {
            return Ok(name);
        }
        let metadata = ctx.source.entity_metadata(&ctx.stream().entity).await?;
        let name = metadata.entity_set_name;
        self.memory()
            .entity_sets
            .insert(ctx.stream().clone(), name.clone());
        Ok(name)
    }

    /// The page `request` asks for, from the read-ahead when it fetched exactly that page.
    async fn read_page(
        &self,
        ctx: &StreamCtx<'_>,
        request: &PageRequest,
        columns: &[String],
    ) -> Result<Page, SourceError> {
        if let PageRequest::Follow { link } = request
            && let Some(page) = self.read_ahead.take(ctx.stream(), link, columns).await
        {
            return Ok(page);
        }
        ctx.source.read_page(request, columns).await
    }

    /// A stored envelope at `next_seq`: the page batch of this read, the completion of this
    /// resync, or a leftover from before an admin change (shipped, read position kept).
    async fn ship_stored(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: &EntityCursor,
        stored: BatchEnvelope,
    ) -> Result<Shipment, EngineError> {
        let expected = cursor.batch_kind();
        let next_link = NextLink::from(&stored.next);
        let completes = matches!(
            (stored.batch.kind, expected),
            (BatchKind::ResyncComplete { first_seq: a }, Some(BatchKind::Resync { first_seq: b })) if a == b
        );
        if completes {
            let next = cursor.after_page(&next_link, 1);
            return Ok(Shipment {
                envelopes: vec![stored],
                next,
                more: false,
            });
        }
        if Some(stored.batch.kind) != expected {
            tracing::info!(stream = %ctx.stream(), seq = stored.batch.seq, "Shipping a leftover batch.");
            let next = cursor.after_leftover();
            return Ok(Shipment {
                envelopes: vec![stored],
                next,
                more: true,
            });
        }
        let mut envelopes = vec![stored];
        if let Some(first_seq) = cursor.resync_completion(&next_link) {
            let done = BatchKind::ResyncComplete { first_seq };
            let batch = self.batch(ctx, cursor, cursor.next_seq + 1, done, Vec::new());
            envelopes.push(self.outbox(cursor, batch, &next_link).await?);
        }
        let next = cursor.after_page(&next_link, envelopes.len() as u64);
        let more = matches!(next_link, NextLink::More(_));
        Ok(Shipment {
            envelopes,
            next,
            more,
        })
    }

    fn batch(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: &EntityCursor,
        seq: u64,
        kind: BatchKind,
        changes: Vec<des_core::Change>,
    ) -> Batch {
        Batch {
            stream: ctx.stream().clone(),
            seq,
            kind,
            columns: cursor.columns.clone(),
            changes,
            read_at: self.ports.clock.now(),
        }
    }

    /// Step 1 of the outbox: store once, continue with what is stored.
    async fn outbox(
        &self,
        cursor: &EntityCursor,
        batch: Batch,
        next: &NextLink,
    ) -> Result<BatchEnvelope, EngineError> {
        let key = batch_key(&batch.stream, batch.seq);
        let fp = cursor.metadata_fingerprint.as_deref().unwrap_or_default();
        let envelope = BatchEnvelope {
            plan_key: plan_key(&batch.stream, fp),
            next: next.into(),
            batch,
        };
        // The common case stored ours: skip decoding a page we already hold.
        match self.ports.payloads.put_new(&key, envelope.encode()).await? {
            None => Ok(envelope),
            Some(stored) => {
                BatchEnvelope::decode(&stored).map_err(|e| EngineError::corrupt(&key, e))
            }
        }
    }

    async fn restart_expired(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: Versioned<EntityCursor>,
    ) -> Result<StepOutcome, EngineError> {
        tracing::warn!(stream = %ctx.stream(), "Change token expired; resyncing the stream.");
        let next = cursor.value.after_expired_token();
        Ok(match self.checkpoint(&next, &cursor.etag).await? {
            true => StepOutcome::Progressed {
                batches: 0,
                changes: 0,
                more: true,
            },
            false => StepOutcome::Conflict,
        })
    }
}

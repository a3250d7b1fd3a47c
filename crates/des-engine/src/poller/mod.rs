//! The poller: reads each stream's next page and turns it into an ordered, durable batch.
//!
//! One call of [`Poller::step`] moves one stream by one page (or one schema step):
//!
//! 1. load the cursor with its etag;
//! 2. `NotStarted`/`MetadataCreated`: read metadata, plan the stream's table, apply the schema
//!    directly to the sink (so tables exist before batch 1 is sent; schema changes are only
//!    additive, so batches still queued stay valid), then move to `InitialSync`;
//! 3. reading phases: re-read metadata when `metadata_refresh` has passed and, on a new
//!    column, evolve the table and resync the stream; then read one page (see the `outbox` module).
//!
//! Every step checkpoints the cursor with `Precondition::Match(etag)`, so two pollers of the
//! same stream never both advance it: the loser gets `Conflict` and stops for this round.

mod outbox;
mod read_ahead;
mod schema;
mod sending;
mod turn;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use des_core::ports::{Precondition, Sink, Source, StoreError, Versioned};
use des_core::profile::Profile;
use des_core::sync::{EntityCursor, StatsDelta, SyncPhase};
use des_core::{ManyToManyRelationship, OptionSetMetadata, StreamId};

use crate::error::EngineError;
use crate::plan::PlanCache;
use crate::ports::EnginePorts;
use crate::streams::{StreamSpec, streams_with};

/// Poller settings.
#[derive(Debug, Clone)]
pub struct PollerOptions {
    /// How often a stream re-reads its metadata to notice schema changes.
    pub metadata_refresh: Duration,
    /// Back-pressure: a stream stops reading while this many of its batches wait unapplied.
    pub max_unapplied_batches: u64,
}

impl Default for PollerOptions {
    fn default() -> Self {
        Self {
            metadata_refresh: Duration::from_secs(60),
            max_unapplied_batches: 8,
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// Work was done; `more` is true when the next step can run at once (a full read goes
    /// on page after page).
    Progressed {
        batches: u64,
        changes: u64,
        more: bool,
    },
    /// Nothing new: an empty delta, or a stream that does not read data.
    Idle,
    /// Too many of the stream's batches wait to be applied; read again later.
    Backpressure,
    /// Another poller moved the cursor first; this round is theirs.
    Conflict,
}

/// What a stream's turn ([`Poller::poll_stream`], [`Poller::poll_until`]) did in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollReport {
    pub steps: u32,
    pub batches: u64,
    pub changes: u64,
    /// The last step's outcome.
    pub last: StepOutcome,
}

/// In-process memory; losing it (a restart) only costs a metadata read and a re-send.
#[derive(Default)]
struct Memory {
    refreshed: HashMap<StreamId, Instant>,
    /// Per stream, the `next_seq` below which this process has made sure batches were sent.
    sent_checked: HashMap<StreamId, u64>,
    /// Per stream, the sink's watermark as last read: it only grows, so while the sends are
    /// within the back-pressure bound of it the sink need not be asked (its connection is
    /// busy applying).
    applied_seen: HashMap<StreamId, u64>,
    /// M:N relationships per organization, with when they were read.
    relationships: HashMap<uuid::Uuid, (Instant, Arc<Vec<ManyToManyRelationship>>)>,
    /// Global option sets per organization, with when they were read: every stream's plan
    /// needs them, and streams planned together share one read.
    option_sets: HashMap<uuid::Uuid, (Instant, Arc<Vec<OptionSetMetadata>>)>,
    /// Per stream, the entity set name of its last metadata read, so a read that starts
    /// right after planning does not read the metadata again (each request costs the
    /// service-protection budget a page's base).
    entity_sets: HashMap<StreamId, String>,
}

/// What a step works with for one stream.
pub(crate) struct StreamCtx<'a> {
    pub profile: &'a Profile,
    pub spec: &'a StreamSpec,
    pub source: Arc<dyn Source>,
    pub sink: Arc<dyn Sink>,
}

impl StreamCtx<'_> {
    fn stream(&self) -> &StreamId {
        &self.spec.stream
    }
}

/// Reads pages and produces batches.
pub struct Poller {
    ports: EnginePorts,
    options: PollerOptions,
    plans: Arc<PlanCache>,
    memory: Mutex<Memory>,
    wake: Option<Arc<tokio::sync::Notify>>,
    read_ahead: read_ahead::ReadAhead,
    handoff: Option<Arc<crate::runtime::Handoff>>,
    /// One global option set read at a time, so streams planned at once wait for it.
    option_sets_gate: tokio::sync::Mutex<()>,
}

impl Poller {
    pub fn new(ports: EnginePorts, options: PollerOptions) -> Self {
        Self {
            ports,
            options,
            plans: Arc::default(),
            memory: Mutex::default(),
            wake: None,
            read_ahead: read_ahead::ReadAhead::default(),
            handoff: None,
            option_sets_gate: tokio::sync::Mutex::new(()),
        }
    }

    /// Notifies `wake` after every enqueued batch (in-process appliers start at once).
    pub fn with_wake(mut self, wake: Arc<tokio::sync::Notify>) -> Self {
        self.wake = Some(wake);
        self
    }

    /// Hands sent envelopes to in-process appliers, which then skip reading the payload.
    pub fn with_handoff(mut self, handoff: Arc<crate::runtime::Handoff>) -> Self {
        self.handoff = Some(handoff);
        self
    }

    /// The streams of a profile (entities, then M:N relationships). The source's
    /// relationship list is re-read at most every `metadata_refresh`.
    pub async fn streams(&self, profile: &Profile) -> Result<Vec<StreamSpec>, EngineError> {
        if profile.relationships.is_empty() {
            return Ok(streams_with(profile, &[]));
        }
        let org = profile.organization_id;
        let cached = self.memory().relationships.get(&org).cloned();
        let fresh = cached.filter(|(at, _)| at.elapsed() < self.options.metadata_refresh);
        let all = match fresh {
            Some((_, all)) => all,
            None => {
                let source = self.ports.sources.source(org).await?;
                let all = Arc::new(source.relationships().await?);
                let entry = (Instant::now(), Arc::clone(&all));
                self.memory().relationships.insert(org, entry);
                all
            }
        };
        Ok(streams_with(profile, &all))
    }

    /// Moves one stream by one page or one schema step.
    #[tracing::instrument(skip_all, fields(stream = %spec.stream))]
    pub async fn step(
        &self,
        profile: &Profile,
        spec: &StreamSpec,
    ) -> Result<StepOutcome, EngineError> {
        let source = self.ports.sources.source(profile.organization_id).await?;
        let sink = self.ports.sinks.sink(profile).await?;
        let ctx = StreamCtx {
            profile,
            spec,
            source,
            sink,
        };
        let cursor = self.load_cursor(ctx.stream()).await?;
        match cursor.value.phase {
            SyncPhase::Stopped => self.resume_if_active(&ctx, cursor).await,
            SyncPhase::NotStarted => self.schema_step(&ctx, cursor).await,
            SyncPhase::MetadataCreated if profile.state.replicates_data() => {
                self.schema_step(&ctx, cursor).await
            }
            SyncPhase::MetadataCreated => self.refresh_metadata_only(&ctx, cursor).await,
            _ => self.data_step(&ctx, cursor).await,
        }
    }

    async fn data_step(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: Versioned<EntityCursor>,
    ) -> Result<StepOutcome, EngineError> {
        let Some(cursor) = self.refresh_if_due(ctx, cursor).await? else {
            return Ok(StepOutcome::Conflict);
        };
        if !ctx.profile.state.replicates_data() {
            return Ok(StepOutcome::Idle);
        }
        self.ensure_sent(ctx, &cursor.value).await?;
        self.page_step(ctx, cursor).await
    }

    async fn resume_if_active(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: Versioned<EntityCursor>,
    ) -> Result<StepOutcome, EngineError> {
        if ctx.profile.state == des_core::profile::ProfileState::Inactive {
            return Ok(StepOutcome::Idle);
        }
        let resumed = cursor.value.resume();
        Ok(match self.checkpoint(&resumed, &cursor.etag).await? {
            true => StepOutcome::Progressed {
                batches: 0,
                changes: 0,
                more: true,
            },
            false => StepOutcome::Conflict,
        })
    }

    async fn load_cursor(&self, stream: &StreamId) -> Result<Versioned<EntityCursor>, EngineError> {
        let control = &self.ports.control;
        if let Some(cursor) = control.cursor(stream.profile_id, &stream.entity).await? {
            return Ok(cursor);
        }
        let fresh = EntityCursor::new(stream.clone());
        match control.put_cursor(&fresh, Precondition::MustNotExist).await {
            Ok(etag) => Ok(Versioned { value: fresh, etag }),
            Err(StoreError::Conflict(_)) => control
                .cursor(stream.profile_id, &stream.entity)
                .await?
                .ok_or_else(|| EngineError::corrupt(&stream.to_string(), "cursor vanished")),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the cursor if nobody else did since it was loaded; `false` on a conflict.
    async fn checkpoint(
        &self,
        cursor: &EntityCursor,
        etag: &des_core::ports::Etag,
    ) -> Result<bool, EngineError> {
        let mut cursor = cursor.clone();
        cursor.updated_at = Some(self.ports.clock.now());
        match self
            .ports
            .control
            .put_cursor(&cursor, Precondition::Match(etag.clone()))
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn add_stats(&self, stream: &StreamId, delta: StatsDelta) -> Result<(), EngineError> {
        let control = &self.ports.control;
        control
            .update_stats(stream.profile_id, &stream.entity, &delta)
            .await?;
        Ok(())
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

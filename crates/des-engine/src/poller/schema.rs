//! Schema steps: plan a stream's table from fresh metadata and apply it to the sink.

use std::sync::Arc;
use std::time::{Duration, Instant};

use des_core::ports::Versioned;
use des_core::schema::{Naming, SchemaPlan};
use des_core::sync::{EntityCursor, StatsDelta};
use des_core::{ChangeType, FailureLine, OptionSetMetadata};

use super::{Poller, StepOutcome, StreamCtx};
use crate::error::EngineError;
use crate::message::plan_key;
use crate::plan::{fingerprint, needs_reread, plan_stream, select_columns, stream_table};

/// How long one read of the global option sets serves other streams' plans.
const OPTION_SETS_SHARED: Duration = Duration::from_secs(10);

/// A freshly planned stream table.
pub(super) struct Planned {
    pub plan: Arc<SchemaPlan>,
    pub fingerprint: String,
    pub columns: Vec<String>,
}

impl Poller {
    /// Creates the stream's table (and metadata rows) and starts the data read if wanted.
    pub(super) async fn schema_step(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: Versioned<EntityCursor>,
    ) -> Result<StepOutcome, EngineError> {
        let planned = self.plan_now(ctx).await?;
        let table = stream_table(&planned.plan, &ctx.stream().entity)?;
        let existed = ctx.sink.has_table(table).await?;
        self.apply_schema(ctx, &planned.plan).await?;
        let with_data = ctx.profile.state.replicates_data();
        let earlier = ctx.sink.watermark(ctx.profile.id, table).await?;
        let next = cursor
            .value
            .after_schema(planned.columns, planned.fingerprint, with_data)
            .after_earlier_batches(earlier)
            .onto_existing_table(existed);
        if !self.checkpoint(&next, &cursor.etag).await? {
            return Ok(StepOutcome::Conflict);
        }
        self.mark_refreshed(ctx);
        let mut delta = StatsDelta {
            metadata_state: Some("Created".into()),
            ..Default::default()
        };
        if with_data {
            delta.initial_sync_state = Some("InProgress".into());
        }
        self.add_stats(ctx.stream(), delta).await?;
        Ok(StepOutcome::Progressed {
            batches: 0,
            changes: 0,
            more: with_data,
        })
    }

    /// A metadata-only stream keeps its tables and metadata rows current.
    pub(super) async fn refresh_metadata_only(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: Versioned<EntityCursor>,
    ) -> Result<StepOutcome, EngineError> {
        match self.refresh_if_due(ctx, cursor).await? {
            Some(_) => Ok(StepOutcome::Idle),
            None => Ok(StepOutcome::Conflict),
        }
    }

    /// Re-reads metadata when `metadata_refresh` has passed. A changed plan is applied; a new
    /// column (or table) also restarts a reading stream as a resync so the column gets values.
    /// Returns the cursor to go on with, or `None` on a checkpoint conflict.
    pub(super) async fn refresh_if_due(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: Versioned<EntityCursor>,
    ) -> Result<Option<Versioned<EntityCursor>>, EngineError> {
        if !self.refresh_due(ctx) {
            return Ok(Some(cursor));
        }
        let planned = self.plan_now(ctx).await?;
        if cursor.value.metadata_fingerprint.as_deref() == Some(planned.fingerprint.as_str()) {
            self.mark_refreshed(ctx);
            return Ok(Some(cursor));
        }
        self.apply_schema(ctx, &planned.plan).await?;
        let reread = self.reread_needed(ctx, &cursor.value, &planned).await;
        let next = if reread {
            tracing::info!(stream = %ctx.stream(), "Schema changed; resyncing the stream.");
            cursor
                .value
                .after_schema_change(planned.columns, planned.fingerprint)
        } else {
            let mut same = cursor.value.clone();
            same.metadata_fingerprint = Some(planned.fingerprint);
            same
        };
        self.save_refreshed(ctx, next, cursor.etag).await
    }

    async fn save_refreshed(
        &self,
        ctx: &StreamCtx<'_>,
        next: EntityCursor,
        etag: des_core::ports::Etag,
    ) -> Result<Option<Versioned<EntityCursor>>, EngineError> {
        if !self.checkpoint(&next, &etag).await? {
            return Ok(None);
        }
        self.mark_refreshed(ctx);
        let stream = ctx.stream();
        let reloaded = self
            .ports
            .control
            .cursor(stream.profile_id, &stream.entity)
            .await?;
        Ok(reloaded)
    }

    async fn reread_needed(
        &self,
        ctx: &StreamCtx<'_>,
        cursor: &EntityCursor,
        planned: &Planned,
    ) -> bool {
        let entity = &ctx.stream().entity;
        let Some(old_fp) = cursor.metadata_fingerprint.as_deref() else {
            return true;
        };
        let old_key = plan_key(ctx.stream(), old_fp);
        let Ok(old) = self.plans.get(self.ports.payloads.as_ref(), &old_key).await else {
            return true;
        };
        match (
            stream_table(&old, entity),
            stream_table(&planned.plan, entity),
        ) {
            (Ok(old), Ok(new)) => needs_reread(old, new),
            _ => true,
        }
    }

    /// Reads the stream's metadata, plans its table and stores the plan under its fingerprint.
    /// The two reads go at once: each costs a request's base time of the budget, and a
    /// stream's first page waits for its plan.
    pub(super) async fn plan_now(&self, ctx: &StreamCtx<'_>) -> Result<Planned, EngineError> {
        let stream = ctx.stream();
        let entity = async { Ok(ctx.source.entity_metadata(&stream.entity).await?) };
        let (metadata, option_sets) = tokio::try_join!(entity, self.option_sets_for(ctx))?;
        self.memory()
            .entity_sets
            .insert(stream.clone(), metadata.entity_set_name.clone());
        let naming = Naming::from_profile(ctx.profile);
        let rel = ctx.spec.relationship.as_ref();
        let plan = plan_stream(&naming, &metadata, rel, &option_sets);
        let columns = select_columns(stream_table(&plan, &stream.entity)?);
        let fingerprint = fingerprint(&plan);
        let key = plan_key(stream, &fingerprint);
        let plan = self
            .plans
            .put(self.ports.payloads.as_ref(), &key, plan)
            .await?;
        Ok(Planned {
            plan,
            fingerprint,
            columns,
        })
    }

    /// Applies the plan; metadata rows only when the profile replicates metadata. A failure
    /// is logged once as an entity-level line (`RecordId: N/A`) and the step is retried later.
    async fn apply_schema(
        &self,
        ctx: &StreamCtx<'_>,
        plan: &SchemaPlan,
    ) -> Result<(), EngineError> {
        let result = if ctx.profile.state.replicates_metadata() {
            ctx.sink.apply_schema(plan).await
        } else {
            let mut tables_only = plan.clone();
            tables_only.metadata.clear();
            ctx.sink.apply_schema(&tables_only).await
        };
        let Err(error) = result else { return Ok(()) };
        self.record_schema_failure(ctx, &error.to_string()).await?;
        Err(error.into())
    }

    async fn record_schema_failure(
        &self,
        ctx: &StreamCtx<'_>,
        reason: &str,
    ) -> Result<(), EngineError> {
        let stream = ctx.stream();
        let stats = self
            .ports
            .control
            .stats(stream.profile_id, &stream.entity)
            .await?;
        if stats.metadata_state.as_deref() == Some("Failed") {
            return Ok(());
        }
        let line = FailureLine {
            entity: stream.entity.clone(),
            record_id: None,
            notification_time: None,
            change_type: ChangeType::TriggerInitialExport,
            reason: reason.to_owned(),
        };
        self.ports
            .failures
            .append(stream.profile_id, &[line])
            .await?;
        let delta = StatsDelta {
            metadata_state: Some("Failed".into()),
            last_export_status: Some("Failure".into()),
            ..Default::default()
        };
        self.add_stats(stream, delta).await
    }

    /// The organization's global option sets, read once for streams planned within a few
    /// seconds of each other (never longer than `metadata_refresh`, so a refresh still sees
    /// a change when it is due).
    async fn option_sets_for(
        &self,
        ctx: &StreamCtx<'_>,
    ) -> Result<Arc<Vec<OptionSetMetadata>>, EngineError> {
        if ctx.spec.relationship.is_some() {
            return Ok(Arc::default());
        }
        let org = ctx.profile.organization_id;
        let shared_for = self.options.metadata_refresh.min(OPTION_SETS_SHARED);
        let _one_read = self.option_sets_gate.lock().await;
        let cached = self.memory().option_sets.get(&org).cloned();
        if let Some((_, sets)) = cached.filter(|(asked, _)| asked.elapsed() < shared_for) {
            return Ok(sets);
        }
        let asked = Instant::now();
        let sets = Arc::new(ctx.source.global_option_sets().await?);
        let entry = (asked, Arc::clone(&sets));
        self.memory().option_sets.insert(org, entry);
        Ok(sets)
    }

    fn refresh_due(&self, ctx: &StreamCtx<'_>) -> bool {
        let memory = self.memory();
        memory
            .refreshed
            .get(ctx.stream())
            .is_none_or(|at| at.elapsed() >= self.options.metadata_refresh)
    }

    fn mark_refreshed(&self, ctx: &StreamCtx<'_>) {
        self.memory()
            .refreshed
            .insert(ctx.stream().clone(), Instant::now());
    }
}

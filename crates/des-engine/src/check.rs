//! The engine never believes the target without checking it.
//!
//! A target can lose what the control store believes it holds: `export.db` deleted or
//! replaced by an empty file, a database restored from an older backup, a table dropped by
//! hand. Left alone, the stream's next batch is "early" for ever (the target's watermark is
//! behind) or fails for a missing table, while the counters say all is well. [`check_profile`]
//! runs at start, before the loops: for each stream whose table was created it applies the
//! stream's plan again (idempotent: it recreates missing tables, columns and the sink's own
//! state tables; a stream whose table was gone is resynced, since its watermark outlived its
//! rows), and compares the target's watermark with the last `seq` the engine knows
//! the target committed ([`crate::monitor`]'s payload run: a payload is deleted only after its
//! batch was committed). A target behind that gets the missing `seq`s as empty batches (so
//! the batches still queued apply again) and a resync of the stream, which writes every row
//! again and deletes what the source no longer has. The stored batches after it are sent
//! again, so none the target lost waits for a message that was acknowledged already.
//!
//! Before the streams, the target's identity token is compared with the control store's
//! ([`crate::identity`]): a target that lacks it or holds another is not the database the
//! engine wrote, whatever its watermarks say (an emptied file, another database, a copy from
//! another data folder), and every stream of the profile is resynced, saying why.

use std::time::Duration;

use des_core::StreamId;
use des_core::ports::{BatchOutcome, Sink};
use des_core::profile::Profile;
use des_core::schema::{SchemaPlan, TableDef};
use des_core::sync::EntityCursor;
use des_core::{Batch, BatchKind};

use crate::error::EngineError;
use crate::identity::Lost;
use crate::message::{BatchEnvelope, WorkMessage, batch_key, plan_key};
use crate::plan::{PlanCache, stream_table};
use crate::ports::EnginePorts;

/// A stream the target had lost batches of, and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    pub entity: String,
    /// The target's watermark as found.
    pub found: u64,
    /// The last `seq` the engine knows the target had committed.
    pub expected: u64,
    /// The stream's table was gone and was created again (its rows with it).
    pub recreated: bool,
    /// Set when the target's identity token said it is not the database the engine wrote.
    pub lost: Option<Lost>,
}

impl std::fmt::Display for Repair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(lost) = &self.lost {
            return write!(
                f,
                "{}: {lost}; tables recreated where missing, resyncing",
                self.entity
            );
        }
        if self.recreated && self.found >= self.expected {
            return write!(
                f,
                "{}: its table was gone from the target; recreated, resyncing",
                self.entity
            );
        }
        if self.found >= self.expected {
            return write!(
                f,
                "{}: resyncing with the rest of a lost, replaced or restored target",
                self.entity
            );
        }
        write!(
            f,
            "{}: the target holds batches up to {} of {} that were applied (a lost, replaced or restored target); tables recreated where missing, resyncing",
            self.entity, self.found, self.expected
        )
    }
}

/// Checks every stream of `profile` that has a table against the target, repairing what it
/// can; returns the streams that had to be resynced.
pub async fn check_profile(
    ports: &EnginePorts,
    profile: &Profile,
) -> Result<Vec<Repair>, EngineError> {
    let sink = ports.sinks.sink(profile).await?;
    let lost = crate::identity::confirm(ports, sink.as_ref(), profile.id).await?;
    if let Some(lost) = &lost {
        tracing::warn!(profile = %profile.id, %lost, "The target is not the one the engine wrote; resyncing the profile.");
    }
    let plans = PlanCache::default();
    let (mut repairs, mut untouched) = (Vec::new(), Vec::new());
    for progress in ports.control.progress(Some(profile.id)).await? {
        let Some(cursor) = progress.cursor else {
            continue;
        };
        let Some(fingerprint) = cursor.metadata_fingerprint.as_deref() else {
            continue; // Not planned yet: the poller creates the table first.
        };
        let key = plan_key(&cursor.stream, fingerprint);
        let plan = plans.get(ports.payloads.as_ref(), &key).await?;
        if let Some(mut repair) = check_stream(ports, sink.as_ref(), &plan, &cursor).await? {
            repair.lost.clone_from(&lost);
            tracing::warn!(
                profile = %profile.id,
                entity = %repair.entity,
                found = repair.found,
                expected = repair.expected,
                "The target lost applied batches; resyncing the stream."
            );
            repairs.push(repair);
        } else {
            untouched.push(cursor);
        }
    }
    // A target behind on one stream was restored or replaced as a whole: the others may have
    // lost what moves no watermark (a retried record), so they are resynced too. So are all
    // streams of a target that is not the one the engine wrote.
    if !repairs.is_empty() || lost.is_some() {
        for cursor in untouched {
            let entity = cursor.stream.entity.clone();
            request_resync(ports, &cursor.stream).await?;
            let at = cursor.next_seq.saturating_sub(1);
            repairs.push(Repair {
                entity,
                found: at,
                expected: at,
                recreated: false,
                lost: lost.clone(),
            });
        }
    }
    Ok(repairs)
}

/// The start-up check of one stream, at run time: after a write failed for a missing table
/// or column, the stream's plan is applied again (recreating what is missing) and the
/// stream is resynced whatever its watermark says (a dropped table takes its rows but not
/// the watermark, kept in the engine's own state). `None` when the stream has no plan yet.
pub async fn repair_stream(
    ports: &EnginePorts,
    profile: &Profile,
    stream: &StreamId,
) -> Result<Option<Repair>, EngineError> {
    let control = &ports.control;
    let Some(cursor) = control.cursor(stream.profile_id, &stream.entity).await? else {
        return Ok(None);
    };
    let Some(fingerprint) = cursor.value.metadata_fingerprint.as_deref() else {
        return Ok(None);
    };
    let sink = ports.sinks.sink(profile).await?;
    let plan = PlanCache::default()
        .get(ports.payloads.as_ref(), &plan_key(stream, fingerprint))
        .await?;
    if let Some(repair) = check_stream(ports, sink.as_ref(), &plan, &cursor.value).await? {
        return Ok(Some(repair)); // Behind as well: resynced by the check.
    }
    request_resync(ports, stream).await?;
    let at = cursor.value.next_seq.saturating_sub(1);
    Ok(Some(Repair {
        entity: stream.entity.clone(),
        found: at,
        expected: at,
        recreated: false,
        lost: None,
    }))
}

async fn request_resync(ports: &EnginePorts, stream: &StreamId) -> Result<(), EngineError> {
    let stats = ports
        .control
        .stats(stream.profile_id, &stream.entity)
        .await?;
    crate::admin::update_cursor(ports, stream.profile_id, &stream.entity, |c| {
        c.request_resync(stats.failure)
    })
    .await
}

async fn check_stream(
    ports: &EnginePorts,
    sink: &dyn Sink,
    plan: &SchemaPlan,
    cursor: &EntityCursor,
) -> Result<Option<Repair>, EngineError> {
    let stream = &cursor.stream;
    let table = stream_table(plan, &stream.entity)?;
    // A table that is gone lost its rows but not its watermark (the engine's own state).
    let existed = sink.has_table(table).await?;
    sink.apply_schema(plan).await?;
    let found = sink.watermark(stream.profile_id, table).await?;
    let expected = crate::monitor::applied_through(ports, stream, cursor.next_seq).await?;
    let behind = found < expected || (!existed && found > 0);
    for seq in found + 1..=expected {
        fill(ports, sink, plan, table, stream, seq).await?;
    }
    resend_stored(ports, stream, found.max(expected) + 1, cursor.next_seq).await?;
    if !behind {
        return Ok(None);
    }
    let stats = ports
        .control
        .stats(stream.profile_id, &stream.entity)
        .await?;
    crate::admin::update_cursor(ports, stream.profile_id, &stream.entity, |c| {
        c.request_resync(stats.failure)
    })
    .await?;
    Ok(Some(Repair {
        entity: stream.entity.clone(),
        found,
        expected,
        recreated: !existed,
        lost: None,
    }))
}

/// Sends the messages of the stored batches from `first` on again. A payload outlives its
/// message when a process stops between acknowledging and deleting it; the target no longer
/// holding that batch would wait for it for ever. Back-pressure keeps these few, and a
/// batch the target holds comes back as a duplicate, a no-op.
async fn resend_stored(
    ports: &EnginePorts,
    stream: &StreamId,
    first: u64,
    next_seq: u64,
) -> Result<(), EngineError> {
    for seq in first..next_seq {
        let key = batch_key(stream, seq);
        let Some(bytes) = ports.payloads.get(&key).await? else {
            continue;
        };
        let envelope = BatchEnvelope::decode(&bytes).map_err(|e| EngineError::corrupt(&key, e))?;
        let message = WorkMessage::Batch {
            stream: stream.clone(),
            seq,
            key,
            plan_key: envelope.plan_key,
        };
        ports.queue.send(&message.encode(), Duration::ZERO).await?;
    }
    Ok(())
}

/// An empty batch at `seq`, as the poison path writes one: it moves the watermark only.
async fn fill(
    ports: &EnginePorts,
    sink: &dyn Sink,
    plan: &SchemaPlan,
    table: &TableDef,
    stream: &StreamId,
    seq: u64,
) -> Result<(), EngineError> {
    let empty = Batch {
        stream: stream.clone(),
        seq,
        kind: BatchKind::Delta,
        columns: Vec::new(),
        changes: Vec::new(),
        read_at: ports.clock.now(),
    };
    match sink.apply_batch(plan, table, &empty).await? {
        BatchOutcome::Applied { .. } | BatchOutcome::Duplicate => Ok(()),
        BatchOutcome::OutOfOrder { watermark } => Err(EngineError::corrupt(
            &format!("watermark of {}", stream.entity),
            format!("moved to {watermark} while it was being repaired"),
        )),
    }
}

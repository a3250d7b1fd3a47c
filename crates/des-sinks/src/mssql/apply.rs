//! The transactions of a batch and of a retried change.
//!
//! A batch is one transaction: lock the table's watermark row (`UPDLOCK, HOLDLOCK`), bulk-load
//! the batch's ids and upserts into session temp tables, write the upserts with one
//! version-guarded MERGE, delete with one statement whose OUTPUT feeds `DeleteLog` and the
//! tombstones, sweep a finished resync, and move the watermark. The statement count does not
//! grow with the batch. A batch the target refuses for a record-class reason is applied
//! again in parts (`isolate`, `parts`).

use des_core::ports::{BatchOutcome, RecordFailure, RetryOutcome, SinkError};
use des_core::{Batch, BatchKind, Change, ChangeType, ErrorClass, RetryChange};
use time::{OffsetDateTime, PrimitiveDateTime};

use super::client::{Connection, Finish, begin, end};
use super::rows::{Layout, Prepared};
use super::sql;
use super::writer::{Writer, seq_param};

/// The write time, in UTC as `datetime` holds it.
pub(super) fn now() -> PrimitiveDateTime {
    let t = OffsetDateTime::now_utc();
    PrimitiveDateTime::new(t.date(), t.time())
}

/// Checks the watermark, writes the batch and moves the watermark, in one transaction.
pub(super) async fn apply_batch(
    conn: &mut Connection,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    batch: &Batch,
) -> Result<BatchOutcome, SinkError> {
    // Encoding (and every per-record check) happens before the transaction opens.
    let prepared = Prepared::new(layout, &batch.changes);
    begin(conn).await?;
    let outcome = write_batch(conn, writer, layout, batch, prepared).await;
    match end(conn, outcome).await {
        // A refusal doomed the transaction: isolate the refused changes in parts.
        Err(e) if e.class() == ErrorClass::Record && !batch.changes.is_empty() => {
            super::parts::apply_in_parts(conn, writer, layout, batch, e).await
        }
        other => other,
    }
}

async fn write_batch(
    conn: &mut Connection,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    batch: &Batch,
    prepared: Prepared<'_>,
) -> Result<Finish<BatchOutcome>, SinkError> {
    let seq = seq_param(batch.seq);
    let watermark = writer.lock_watermark(conn).await?;
    if seq <= watermark {
        return Ok(Finish::Rollback(BatchOutcome::Duplicate));
    }
    if seq > watermark + 1 {
        let watermark = u64::try_from(watermark).unwrap_or(0);
        return Ok(Finish::Rollback(BatchOutcome::OutOfOrder { watermark }));
    }
    let outcome = write_changes(conn, writer, layout, batch.kind, seq, prepared).await?;
    writer.set_watermark(conn, seq).await?;
    Ok(Finish::Commit(outcome))
}

/// The batch's upserts, deletes and resync bookkeeping, each one set-based statement.
async fn write_changes(
    conn: &mut Connection,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    kind: BatchKind,
    seq: i64,
    prepared: Prepared<'_>,
) -> Result<BatchOutcome, SinkError> {
    let now = now();
    writer.stage_keys(conn, &prepared.keys).await?;
    let failures = writer.failures(conn, &prepared.rejected).await?;
    let deletes = prepared.has_deletes();
    writer
        .upsert(conn, layout, prepared.upserts, seq, now)
        .await?;
    if deletes {
        writer.delete(conn, seq, now).await?;
    }
    match kind {
        BatchKind::Resync { first_seq } => writer.mark_seen(conn, first_seq).await?,
        BatchKind::ResyncComplete { first_seq } => {
            writer.mark_seen(conn, first_seq).await?;
            writer.sweep(conn, seq_param(first_seq), seq, now).await?;
        }
        BatchKind::Initial | BatchKind::Delta => {}
    }
    let applied = prepared.changes - failures.len();
    Ok(BatchOutcome::Applied { applied, failures })
}

/// One retried change, applied out of band. A tombstone from the change's own batch or a
/// later one wins (within a batch deletes come after upserts), and so does a row version at
/// or above the retried one.
pub(super) async fn apply_retry(
    conn: &mut Connection,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    retry: &RetryChange,
) -> Result<RetryOutcome, SinkError> {
    begin(conn).await?;
    let outcome = write_retry(conn, writer, layout, retry).await;
    end(conn, outcome).await
}

async fn write_retry(
    conn: &mut Connection,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    retry: &RetryChange,
) -> Result<Finish<RetryOutcome>, SinkError> {
    let (origin, id) = (seq_param(retry.origin_seq), retry.change.id());
    writer.lock_watermark(conn).await?;
    let tombstone = writer.tombstone(conn, id).await?;
    if tombstone.is_some_and(|t| t >= origin) {
        return Ok(Finish::Rollback(RetryOutcome::Superseded));
    }
    let row = match &retry.change {
        Change::Delete(id) => {
            writer.stage_keys(conn, &[(*id, sql::KEY_DELETE)]).await?;
            writer.delete(conn, origin, now()).await?;
            return Ok(Finish::Commit(RetryOutcome::Applied));
        }
        Change::Upsert(row) => row,
    };
    let current = writer.version_of(conn, id).await?;
    if matches!(current, Some(Some(have)) if have >= row.version) {
        return Ok(Finish::Rollback(RetryOutcome::Superseded));
    }
    let cells = match layout.encode(row.id, row.version, &row.values) {
        Ok(cells) => cells,
        Err(reason) => {
            let change_type = if current.is_some() {
                ChangeType::Update
            } else {
                ChangeType::New
            };
            let failure = RecordFailure {
                id,
                change_type,
                reason,
            };
            return Ok(Finish::Rollback(RetryOutcome::Failed(failure)));
        }
    };
    // Any tombstone left is older than the change's batch, and this write supersedes it.
    writer
        .upsert(conn, layout, vec![cells], origin, now())
        .await?;
    Ok(Finish::Commit(RetryOutcome::Applied))
}

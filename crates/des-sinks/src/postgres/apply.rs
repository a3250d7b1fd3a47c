//! The transactions of a batch and of a retried change.
//!
//! A batch is one transaction: lock the table's watermark row, stage the upserts with a
//! binary COPY, write them with one version-guarded `INSERT ... ON CONFLICT`, delete with one
//! statement that also fills `DeleteLog`, tombstone, sweep a finished resync, and move the
//! watermark. The statement count does not grow with the batch.

use des_core::ports::{BatchOutcome, RecordFailure, RetryOutcome, SinkError};
use des_core::{Batch, BatchKind, Change, ChangeType, RetryChange};
use time::OffsetDateTime;

use super::client::{Pooled, db_error};
use super::isolate;
use super::rows::{Layout, Prepared};
use super::stage;
use super::writer::{Writer, seq_param};

/// Checks the watermark, writes the batch and moves the watermark, in one transaction.
pub(super) async fn apply_batch(
    client: &mut Pooled<'_>,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    batch: &Batch,
) -> Result<BatchOutcome, SinkError> {
    // Encoding (and every per-record check) happens before the transaction opens.
    let prepared = Prepared::new(layout, &batch.changes);
    if prepared.upserts.copy.len() > 0 {
        stage::ensure(client, layout).await?;
    }
    let (seq, now) = (seq_param(batch.seq), OffsetDateTime::now_utc());
    let tx = client.transaction().await.map_err(db_error)?;
    let watermark = writer.lock_watermark(&tx).await?;
    if seq <= watermark {
        return Ok(BatchOutcome::Duplicate);
    }
    if seq > watermark + 1 {
        let watermark = u64::try_from(watermark).unwrap_or(0);
        return Ok(BatchOutcome::OutOfOrder { watermark });
    }
    let mut failures = writer.failures(&tx, &prepared.rejected).await?;
    let at = (seq, now);
    isolate::upsert(&tx, writer, layout, &prepared.upserts, at, &mut failures).await?;
    isolate::delete(&tx, writer, &prepared.deletes, at, &mut failures).await?;
    match batch.kind {
        BatchKind::Resync { first_seq } => writer.mark_seen(&tx, first_seq, &prepared.ids).await?,
        BatchKind::ResyncComplete { first_seq } => {
            writer.mark_seen(&tx, first_seq, &prepared.ids).await?;
            writer.sweep(&tx, seq_param(first_seq), seq, now).await?;
        }
        BatchKind::Initial | BatchKind::Delta => {}
    }
    writer.set_watermark(&tx, seq).await?;
    tx.commit().await.map_err(db_error)?;
    let applied = prepared.changes - failures.len();
    Ok(BatchOutcome::Applied { applied, failures })
}

/// One retried change, applied out of band. A tombstone from the change's own batch or a
/// later one wins (within a batch deletes come after upserts), and so does a row version at
/// or above the retried one.
pub(super) async fn apply_retry(
    client: &mut Pooled<'_>,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    retry: &RetryChange,
) -> Result<RetryOutcome, SinkError> {
    let (origin, now) = (seq_param(retry.origin_seq), OffsetDateTime::now_utc());
    if matches!(retry.change, Change::Upsert(_)) {
        stage::ensure(client, layout).await?;
    }
    let tx = client.transaction().await.map_err(db_error)?;
    writer.lock_watermark(&tx).await?;
    let id = retry.change.id();
    if writer
        .tombstone(&tx, id)
        .await?
        .is_some_and(|t| t >= origin)
    {
        return Ok(RetryOutcome::Superseded);
    }
    let mut refused = Vec::new();
    match &retry.change {
        Change::Delete(id) => {
            isolate::delete(&tx, writer, &[*id], (origin, now), &mut refused).await?
        }
        Change::Upsert(row) => {
            let current = writer.version_of(&tx, id).await?;
            if matches!(current, Some(Some(have)) if have >= row.version) {
                return Ok(RetryOutcome::Superseded);
            }
            match layout.encode_one(row) {
                Ok(rows) => {
                    let at = (origin + 1, now);
                    isolate::upsert(&tx, writer, layout, &rows, at, &mut refused).await?
                }
                Err(reason) => {
                    let change_type = if current.is_some() {
                        ChangeType::Update
                    } else {
                        ChangeType::New
                    };
                    return Ok(RetryOutcome::Failed(RecordFailure {
                        id,
                        change_type,
                        reason,
                    }));
                }
            }
        }
    }
    if let Some(failure) = refused.pop() {
        return Ok(RetryOutcome::Failed(failure));
    }
    tx.commit().await.map_err(db_error)?;
    Ok(RetryOutcome::Applied)
}

//! A refused batch applied again in parts, each in a transaction of its own, as
//! [`super::isolate`] plans them; the watermark moves only in the last transaction.
//! No SQL Server runs where this project is built: the plan is unit-tested in `isolate`, and
//! these transactions run in the SQL Server contract suite when `DES_TEST_MSSQL` is set.

use des_core::ports::{BatchOutcome, RecordFailure, SinkError};
use des_core::{Batch, BatchKind, Change, ChangeType, ErrorClass};
use uuid::Uuid;

use super::apply::now;
use super::client::{Connection, Finish, begin, end};
use super::isolate::Bisection;
use super::rows::{Layout, Prepared};
use super::sql;
use super::writer::{Writer, seq_param};
use crate::columns;

/// How a part's transaction ended.
enum Part {
    /// Written; the records the encoding refused (length, conversion).
    Written(Vec<RecordFailure>),
    /// The batch is no longer the next one (another applier committed it, or it is early).
    Halt(BatchOutcome),
}

/// Applies `batch` again in parts after the target refused it as a whole with `refusal`.
pub(super) async fn apply_in_parts(
    conn: &mut Connection,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    batch: &Batch,
    refusal: SinkError,
) -> Result<BatchOutcome, SinkError> {
    let changes: Vec<Change> = columns::last_per_id(&batch.changes).cloned().collect();
    let mut bisection = Bisection::new(changes.len(), reason(&refusal));
    let mut failures = Vec::new();
    while let Some(range) = bisection.next() {
        match write_part(conn, writer, layout, batch, &changes[range.clone()]).await {
            Ok(Part::Written(rejected)) => failures.extend(rejected),
            Ok(Part::Halt(outcome)) => return Ok(outcome),
            Err(e) if e.class() == ErrorClass::Record => bisection.refuse(range, reason(&e)),
            Err(e) => return Err(e),
        }
    }
    let refused: Vec<(&Change, &str)> = bisection
        .refused()
        .iter()
        .map(|(i, why)| (&changes[*i], why.as_str()))
        .collect();
    match finish(conn, writer, batch, &refused).await? {
        Part::Written(refused) => failures.extend(refused),
        Part::Halt(outcome) => return Ok(outcome),
    }
    let applied = batch.changes.len().saturating_sub(failures.len());
    Ok(BatchOutcome::Applied { applied, failures })
}

fn reason(e: &SinkError) -> String {
    format!("The target refused the record: {e}")
}

/// `Some` when the batch is no longer the next one: nothing is written then.
async fn check_turn(
    conn: &mut Connection,
    writer: &Writer<'_>,
    seq: i64,
) -> Result<Option<BatchOutcome>, SinkError> {
    let watermark = writer.lock_watermark(conn).await?;
    if seq <= watermark {
        return Ok(Some(BatchOutcome::Duplicate));
    }
    if seq > watermark + 1 {
        let watermark = u64::try_from(watermark).unwrap_or(0);
        return Ok(Some(BatchOutcome::OutOfOrder { watermark }));
    }
    Ok(None)
}

/// One part: its upserts, deletes and resync marks, without the watermark or the sweep.
async fn write_part(
    conn: &mut Connection,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    batch: &Batch,
    changes: &[Change],
) -> Result<Part, SinkError> {
    begin(conn).await?;
    let outcome = async {
        let seq = seq_param(batch.seq);
        if let Some(outcome) = check_turn(conn, writer, seq).await? {
            return Ok(Finish::Rollback(Part::Halt(outcome)));
        }
        let prepared = Prepared::new(layout, changes);
        writer.stage_keys(conn, &prepared.keys).await?;
        let rejected = writer.failures(conn, &prepared.rejected).await?;
        let deletes = prepared.has_deletes();
        let now = now();
        writer
            .upsert(conn, layout, prepared.upserts, seq, now)
            .await?;
        if deletes {
            writer.delete(conn, seq, now).await?;
        }
        if let Some(first_seq) = resync_first_seq(batch.kind) {
            writer.mark_seen(conn, first_seq).await?;
        }
        Ok(Finish::Commit(Part::Written(rejected)))
    }
    .await;
    end(conn, outcome).await
}

/// The last transaction: the refused ids marked seen (a resync), their failures, a finished
/// resync's sweep, and the watermark.
async fn finish(
    conn: &mut Connection,
    writer: &Writer<'_>,
    batch: &Batch,
    refused: &[(&Change, &str)],
) -> Result<Part, SinkError> {
    begin(conn).await?;
    let outcome = async {
        let seq = seq_param(batch.seq);
        if let Some(outcome) = check_turn(conn, writer, seq).await? {
            return Ok(Finish::Rollback(Part::Halt(outcome)));
        }
        let keys: Vec<(Uuid, u8)> = refused
            .iter()
            .map(|(change, _)| (change.id(), sql::KEY_REJECTED))
            .collect();
        writer.stage_keys(conn, &keys).await?;
        let failures = failures(conn, writer, refused).await?;
        if let Some(first_seq) = resync_first_seq(batch.kind) {
            writer.mark_seen(conn, first_seq).await?;
        }
        if let BatchKind::ResyncComplete { first_seq } = batch.kind {
            writer.sweep(conn, seq_param(first_seq), seq, now()).await?;
        }
        writer.set_watermark(conn, seq).await?;
        Ok(Finish::Commit(Part::Written(failures)))
    }
    .await;
    end(conn, outcome).await
}

/// A refused upsert is `New` or `Update` by whether the row exists, a delete `Delete`.
async fn failures(
    conn: &mut Connection,
    writer: &Writer<'_>,
    refused: &[(&Change, &str)],
) -> Result<Vec<RecordFailure>, SinkError> {
    let upserts: Vec<(Uuid, String)> = refused
        .iter()
        .filter(|(change, _)| matches!(change, Change::Upsert(_)))
        .map(|(change, why)| (change.id(), (*why).to_owned()))
        .collect();
    let mut out = writer.failures(conn, &upserts).await?;
    out.extend(
        refused
            .iter()
            .filter(|(change, _)| matches!(change, Change::Delete(_)))
            .map(|(change, why)| RecordFailure {
                id: change.id(),
                change_type: ChangeType::Delete,
                reason: (*why).to_owned(),
            }),
    );
    Ok(out)
}

fn resync_first_seq(kind: BatchKind) -> Option<u64> {
    match kind {
        BatchKind::Resync { first_seq } | BatchKind::ResyncComplete { first_seq } => {
            Some(first_seq)
        }
        BatchKind::Initial | BatchKind::Delta => None,
    }
}

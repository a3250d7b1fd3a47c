//! Record isolation: when the target refuses a set of rows for a record-class reason (a
//! constraint, a trigger's `RAISE EXCEPTION`, a conversion) without saying which row, the set
//! is split in halves under savepoints until each refused row stands alone. The others are
//! written in the same transaction as the batch's watermark, so the batch still commits as
//! one; each refused row comes back as its [`RecordFailure`].
//!
//! The happy path costs one savepoint per statement; a refusal costs about
//! `2 · refused · log2(rows)` extra statements.

use std::ops::Range;

use des_core::ports::{RecordFailure, SinkError};
use des_core::{ChangeType, ErrorClass};
use time::OffsetDateTime;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::client::db_error;
use super::rows::{Layout, Staged};
use super::sql;
use super::writer::Writer;

const SAVEPOINT: &str = "SAVEPOINT \"des_part\"";
const ROLLBACK: &str = "ROLLBACK TO SAVEPOINT \"des_part\"";
const RELEASE: &str = "RELEASE SAVEPOINT \"des_part\"";

/// A statement that refused a whole part: `Ok(Err(reason))` when the refusal is the
/// record's, `Err` for every other fault (the batch fails with it).
type Attempt = Result<Result<(), String>, SinkError>;

async fn attempt(tx: &Transaction<'_>, outcome: Result<(), SinkError>) -> Attempt {
    match outcome {
        Ok(()) => {
            tx.batch_execute(RELEASE).await.map_err(db_error)?;
            Ok(Ok(()))
        }
        Err(e) if e.class() == ErrorClass::Record => {
            tx.batch_execute(ROLLBACK).await.map_err(db_error)?;
            tx.batch_execute(RELEASE).await.map_err(db_error)?;
            Ok(Err(format!("The target refused the record: {e}")))
        }
        Err(e) => Err(e),
    }
}

/// Writes `rows` as [`Writer::upsert`] does, isolating refused rows; their failures are
/// appended to `failures`.
pub(super) async fn upsert(
    tx: &Transaction<'_>,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    rows: &Staged,
    (seq, now): (i64, OffsetDateTime),
    failures: &mut Vec<RecordFailure>,
) -> Result<(), SinkError> {
    let part = Part {
        rows,
        range: 0..rows.ids.len(),
        split: false,
    };
    upsert_part(tx, writer, layout, part, (seq, now), failures).await
}

/// A run of a batch's staged rows; `split` once it is less than the whole batch.
struct Part<'r> {
    rows: &'r Staged,
    range: Range<usize>,
    split: bool,
}

impl<'r> Part<'r> {
    fn halves(self) -> [Self; 2] {
        let mid = self.range.start + self.range.len() / 2;
        let half = |range| Self {
            rows: self.rows,
            range,
            split: true,
        };
        [half(self.range.start..mid), half(mid..self.range.end)]
    }
}

async fn upsert_part(
    tx: &Transaction<'_>,
    writer: &Writer<'_>,
    layout: &Layout<'_>,
    part: Part<'_>,
    (seq, now): (i64, OffsetDateTime),
    failures: &mut Vec<RecordFailure>,
) -> Result<(), SinkError> {
    if part.range.is_empty() {
        return Ok(());
    }
    tx.batch_execute(SAVEPOINT).await.map_err(db_error)?;
    let range = part.range.clone();
    let written = writer
        .upsert(tx, layout, part.rows, range.clone(), seq, now)
        .await;
    // The staging table keeps a part's rows until commit; the next part must not see them
    // (a whole batch is one part: it leaves the table to the commit).
    if written.is_ok() && part.split {
        let clear = format!("DELETE FROM {}", sql::stage_table(&layout.stage_name()));
        tx.batch_execute(&clear).await.map_err(db_error)?;
    }
    let reason = match attempt(tx, written).await? {
        Ok(()) => return Ok(()),
        Err(reason) => reason,
    };
    if let [id] = part.rows.ids[range] {
        let refused = [(id, reason)];
        failures.extend(writer.failures(tx, &refused).await?);
        return Ok(());
    }
    let at = (seq, now);
    for half in part.halves() {
        Box::pin(upsert_part(tx, writer, layout, half, at, failures)).await?;
    }
    Ok(())
}

/// Deletes `ids` as [`Writer::delete`] does, isolating refused deletes.
pub(super) async fn delete(
    tx: &Transaction<'_>,
    writer: &Writer<'_>,
    ids: &[Uuid],
    (seq, now): (i64, OffsetDateTime),
    failures: &mut Vec<RecordFailure>,
) -> Result<(), SinkError> {
    if ids.is_empty() {
        return Ok(());
    }
    tx.batch_execute(SAVEPOINT).await.map_err(db_error)?;
    let written = writer.delete(tx, ids, seq, now).await;
    let reason = match attempt(tx, written).await? {
        Ok(()) => return Ok(()),
        Err(reason) => reason,
    };
    if let [id] = ids {
        failures.push(RecordFailure {
            id: *id,
            change_type: ChangeType::Delete,
            reason,
        });
        return Ok(());
    }
    let (left, right) = ids.split_at(ids.len() / 2);
    Box::pin(delete(tx, writer, left, (seq, now), failures)).await?;
    Box::pin(delete(tx, writer, right, (seq, now), failures)).await
}

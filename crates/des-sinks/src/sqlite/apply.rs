//! The transactions of a batch and of a retried change, run on the blocking thread.

use des_core::ports::{BatchOutcome, RecordFailure, RetryOutcome, SinkError};
use des_core::{BatchKind, ChangeType, ErrorClass};
use rusqlite::{
    CachedStatement, Connection, OptionalExtension, Transaction, TransactionBehavior, params,
};
use tokio::sync::mpsc::Receiver;

use super::client::{class_of, db_error};
use super::encoding::Param;
use super::rows::Encoded;
use super::writer::{Sql, TableWriter, seq_param};

fn immediate(conn: &mut Connection) -> Result<Transaction<'_>, SinkError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)
}

/// A part of a batch's changes, encoded while earlier parts are written.
pub enum Chunk {
    Changes(Vec<Encoded>),
    /// Every change was sent; without it the batch was abandoned and is rolled back.
    End,
}

/// One batch of one table's ordered stream.
pub struct BatchJob {
    pub writer: TableWriter,
    pub seq: u64,
    pub kind: BatchKind,
    pub chunks: Receiver<Chunk>,
    pub now: String,
}

/// The per-row statements of a batch, prepared once.
struct Statements<'t> {
    upsert: CachedStatement<'t>,
    lift: Option<CachedStatement<'t>>,
    seen: Option<(i64, CachedStatement<'t>)>,
}

impl BatchJob {
    /// Checks the watermark, writes the changes and moves the watermark, in one transaction.
    /// A duplicate or early batch returns at once; its sender sees the channel closed.
    pub fn run(mut self, conn: &mut Connection) -> Result<BatchOutcome, SinkError> {
        let tx = immediate(conn)?;
        let watermark = self.writer.watermark(&tx).map_err(db_error)?;
        if self.seq <= watermark {
            return Ok(BatchOutcome::Duplicate);
        }
        if self.seq > watermark + 1 {
            return Ok(BatchOutcome::OutOfOrder { watermark });
        }
        let outcome = self.write(&tx)?;
        let set = self.writer.state.set_watermark();
        tx.execute(&set, params![self.writer.key, seq_param(self.seq)])
            .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
        Ok(outcome)
    }

    fn statements<'t>(&self, tx: &'t Transaction<'_>) -> Sql<Statements<'t>> {
        let w = &self.writer;
        // Lifting tombstones costs a statement per row; skip it when the table has none.
        let any_tombstone: bool = tx.query_row(&w.state.any_tombstone(), [&w.key], |r| r.get(0))?;
        let seen = match self.kind {
            // The last batch of a resync carries ids too (an id counts as seen when the
            // source returned it).
            BatchKind::Resync { first_seq } | BatchKind::ResyncComplete { first_seq } => {
                Some((seq_param(first_seq), tx.prepare_cached(&w.seen)?))
            }
            _ => None,
        };
        Ok(Statements {
            upsert: tx.prepare_cached(&w.upsert)?,
            lift: any_tombstone
                .then(|| tx.prepare_cached(&w.lift))
                .transpose()?,
            seen,
        })
    }

    fn write(&mut self, tx: &Transaction<'_>) -> Result<BatchOutcome, SinkError> {
        let mut stmts = self.statements(tx).map_err(db_error)?;
        let (mut applied, mut failures) = (0, Vec::new());
        loop {
            match self.chunks.blocking_recv() {
                Some(Chunk::Changes(changes)) => {
                    for change in &changes {
                        match self.change(tx, &mut stmts, change).map_err(db_error)? {
                            Some(failure) => failures.push(failure),
                            None => applied += 1,
                        }
                    }
                }
                Some(Chunk::End) => break,
                // The caller stopped feeding the batch (cancelled): trying again is right.
                None => return Err(SinkError::Unavailable("the batch was abandoned".into())),
            }
        }
        if let BatchKind::ResyncComplete { first_seq } = self.kind {
            self.writer
                .sweep(tx, first_seq, self.seq, &self.now)
                .map_err(db_error)?;
        }
        Ok(BatchOutcome::Applied { applied, failures })
    }

    /// Writes one change; a rejected one comes back as its failure.
    fn change(
        &self,
        tx: &Transaction<'_>,
        stmts: &mut Statements<'_>,
        change: &Encoded,
    ) -> Sql<Option<RecordFailure>> {
        let w = &self.writer;
        let id = Param::guid(change.id());
        if let Some((first_seq, seen)) = &mut stmts.seen {
            seen.execute(params![w.key, *first_seq, id])?;
        }
        match change {
            Encoded::Upsert { params, .. } => {
                // One statement: when the target refuses the row, SQLite backs out just
                // that statement and the transaction goes on with the next change.
                if let Err(e) = TableWriter::upsert(&mut stmts.upsert, &self.now, params) {
                    return refused(tx, w, change.id(), ChangeType::New, e).map(Some);
                }
                if let Some(lift) = &mut stmts.lift {
                    lift.execute(params![w.key, id, seq_param(self.seq)])?;
                }
            }
            Encoded::Delete(id) => {
                let deleted = isolated(tx, || w.delete(tx, *id, self.seq, &self.now))?;
                if let Err(e) = deleted {
                    return refused(tx, w, *id, ChangeType::Delete, e).map(Some);
                }
            }
            Encoded::Rejected { id, reason } => return w.failure(tx, *id, reason).map(Some),
        }
        Ok(None)
    }
}

/// A change the target refused for a record-class reason (a constraint, a trigger's
/// `RAISE`, a conversion) becomes its failure; any other error, or a refusal that ended the
/// whole transaction (`RAISE(ROLLBACK)`), stays an error of the batch.
fn refused(
    tx: &Transaction<'_>,
    w: &TableWriter,
    id: uuid::Uuid,
    change_type: ChangeType,
    e: rusqlite::Error,
) -> Sql<RecordFailure> {
    if class_of(&e) != ErrorClass::Record || tx.is_autocommit() {
        return Err(e);
    }
    let reason = format!("The target refused the record: {e}");
    let failure = w.failure(tx, id, &reason)?;
    Ok(match change_type {
        ChangeType::Delete => RecordFailure {
            change_type,
            ..failure
        },
        _ => failure,
    })
}

/// Runs the statements of `work` under a savepoint, so a refusal in the middle undoes
/// exactly its own writes. The outer error is the savepoint's own failing.
fn isolated<T>(tx: &Transaction<'_>, work: impl FnOnce() -> Sql<T>) -> Sql<Sql<T>> {
    tx.execute_batch("SAVEPOINT \"des_change\"")?;
    let outcome = work();
    if outcome.is_err() && !tx.is_autocommit() {
        tx.execute_batch("ROLLBACK TO \"des_change\"")?;
    }
    if !tx.is_autocommit() {
        tx.execute_batch("RELEASE \"des_change\"")?;
    }
    Ok(outcome)
}

/// One retried change, applied out of band and guarded by tombstones and versions.
pub struct RetryJob {
    pub writer: TableWriter,
    pub origin_seq: u64,
    /// The retried row's version (`None` for a delete).
    pub version: Option<i64>,
    pub change: Encoded,
    pub now: String,
}

impl RetryJob {
    pub fn run(mut self, conn: &mut Connection) -> Result<RetryOutcome, SinkError> {
        let tx = immediate(conn)?;
        let outcome = self.write(&tx).map_err(db_error)?;
        if outcome == RetryOutcome::Applied {
            tx.commit().map_err(db_error)?;
        }
        Ok(outcome)
    }

    /// A tombstone from the change's own batch or a later one wins: within a batch, deletes
    /// come after upserts, so such a delete is newer than the retried change.
    fn write(&mut self, tx: &Transaction<'_>) -> Sql<RetryOutcome> {
        let w = &self.writer;
        let id = self.change.id();
        let id_text = id.hyphenated().to_string();
        let tombstone: Option<i64> = tx
            .query_row(&w.state.select_tombstone(), params![w.key, id_text], |r| {
                r.get(0)
            })
            .optional()?;
        if tombstone.is_some_and(|t| t >= seq_param(self.origin_seq)) {
            return Ok(RetryOutcome::Superseded);
        }
        let current = w.version_of(tx, id)?;
        let newer = matches!((current, self.version), (Some(Some(have)), Some(v)) if have >= v);
        match &self.change {
            Encoded::Delete(_) => {
                if let Err(e) = w.delete(tx, id, self.origin_seq, &self.now) {
                    return refused(tx, w, id, ChangeType::Delete, e).map(RetryOutcome::Failed);
                }
            }
            _ if newer => return Ok(RetryOutcome::Superseded),
            Encoded::Rejected { reason, .. } => {
                return Ok(RetryOutcome::Failed(w.failure(tx, id, reason)?));
            }
            Encoded::Upsert { params, .. } => {
                let mut upsert = tx.prepare_cached(&w.upsert)?;
                if let Err(e) = TableWriter::upsert(&mut upsert, &self.now, params) {
                    return refused(tx, w, id, ChangeType::New, e).map(RetryOutcome::Failed);
                }
                tx.execute(
                    &w.lift,
                    params![w.key, id_text, seq_param(self.origin_seq) + 1],
                )?;
            }
        }
        Ok(RetryOutcome::Applied)
    }
}

//! The transactions of a batch and of a retried change, run on the blocking thread.

use des_core::ports::{BatchOutcome, RecordFailure, RetryOutcome, SinkError};
use des_core::schema::{SchemaPlan, TableDef};
use des_core::{BatchKind, ChangeType};
use rusqlite::{
    CachedStatement, Connection, OptionalExtension, Transaction, TransactionBehavior, params,
};
use std::sync::mpsc::Receiver;

use uuid::Uuid;

use super::client::db_error;
use super::encoding::Param;
use super::rows::Encoded;
use super::sql::{self, StateTables};

type Sql<T> = rusqlite::Result<T>;

fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Statement text and names for writing one table, owned so it can move to the blocking pool.
pub struct TableWriter {
    /// The table's name: its key in the state tables.
    key: String,
    /// The entity's logical name, as `DeleteLog.EntityName`.
    entity: String,
    quoted: String,
    state: StateTables,
    upsert: String,
    delete: String,
    select_version: String,
    delete_log: Option<(String, String)>,
    lift: String,
    seen: String,
    tombstone: String,
}

impl TableWriter {
    pub fn new(
        plan: &SchemaPlan,
        table: &TableDef,
        entity: &str,
        columns: &[(&str, usize)],
    ) -> Self {
        let state = StateTables::for_prefix(&plan.prefix);
        let log = plan.delete_log.as_ref();
        Self {
            key: table.name.clone(),
            entity: entity.to_owned(),
            quoted: sql::quote(&table.name),
            upsert: sql::upsert(table, columns),
            delete: sql::delete_row(table),
            select_version: sql::select_version(table),
            delete_log: log.map(|l| (sql::insert_delete_log(l), sql::quote(&l.name))),
            lift: state.lift_tombstone(),
            seen: state.mark_seen(),
            tombstone: state.put_tombstone(),
            state,
        }
    }

    /// Binds the write time as `?1` and the row's own values from `?2` on.
    fn upsert(stmt: &mut CachedStatement<'_>, now: &str, params: &[Param]) -> Sql<()> {
        stmt.raw_bind_parameter(1, now)?;
        for (i, p) in params.iter().enumerate() {
            stmt.raw_bind_parameter(i + 2, p)?;
        }
        stmt.raw_execute().map(drop)
    }

    /// Removes the row, logs it when it existed, and tombstones its id at `seq`.
    fn delete(&self, tx: &Transaction<'_>, id: Uuid, seq: u64, now: &str) -> Sql<()> {
        let id = id.hyphenated().to_string();
        let mut delete = tx.prepare_cached(&self.delete)?;
        let removed: Option<Option<i64>> = delete.query_row([&id], |r| r.get(0)).optional()?;
        if let (Some(version), Some((log, _))) = (removed, &self.delete_log) {
            tx.prepare_cached(log)?
                .execute(params![self.entity, id, now, version])?;
        }
        tx.prepare_cached(&self.tombstone)?
            .execute(params![self.key, id, seq_param(seq)])?;
        Ok(())
    }

    fn version_of(&self, tx: &Transaction<'_>, id: Uuid) -> Sql<Option<Option<i64>>> {
        let mut stmt = tx.prepare_cached(&self.select_version)?;
        stmt.query_row([id.hyphenated().to_string()], |r| r.get(0))
            .optional()
    }

    fn failure(&self, tx: &Transaction<'_>, id: Uuid, reason: &str) -> Sql<RecordFailure> {
        let exists = self.version_of(tx, id)?.is_some();
        let change_type = if exists {
            ChangeType::Update
        } else {
            ChangeType::New
        };
        Ok(RecordFailure {
            id,
            change_type,
            reason: reason.to_owned(),
        })
    }

    pub fn watermark(&self, conn: &Connection) -> Sql<u64> {
        let exists =
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)";
        if !conn.query_row(exists, [&self.state.watermark_name], |r| {
            r.get::<_, bool>(0)
        })? {
            return Ok(0);
        }
        let seq: Option<i64> = conn
            .query_row(&self.state.select_watermark(), [&self.key], |r| r.get(0))
            .optional()?;
        Ok(seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
    }

    /// Deletes, logs and tombstones every row the resync did not carry, then forgets it.
    fn sweep(&self, tx: &Transaction<'_>, first_seq: u64, seq: u64, now: &str) -> Sql<()> {
        let (first, seq) = (seq_param(first_seq), seq_param(seq));
        if let Some((_, log)) = &self.delete_log {
            let sql = self.state.log_unseen(&self.quoted, log);
            tx.execute(&sql, params![self.key, first, self.entity, now])?;
        }
        tx.execute(
            &self.state.tombstone_unseen(&self.quoted),
            params![self.key, first, seq],
        )?;
        tx.execute(
            &self.state.delete_unseen(&self.quoted),
            params![self.key, first],
        )?;
        tx.execute(&self.state.clear_seen(), [&self.key])?;
        Ok(())
    }
}

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
    pub fn run(self, conn: &mut Connection) -> Result<BatchOutcome, SinkError> {
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
            BatchKind::Resync { first_seq } => {
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

    fn write(&self, tx: &Transaction<'_>) -> Result<BatchOutcome, SinkError> {
        let mut stmts = self.statements(tx).map_err(db_error)?;
        let (mut applied, mut failures) = (0, Vec::new());
        loop {
            match self.chunks.recv() {
                Ok(Chunk::Changes(changes)) => {
                    for change in &changes {
                        match self.change(tx, &mut stmts, change).map_err(db_error)? {
                            Some(failure) => failures.push(failure),
                            None => applied += 1,
                        }
                    }
                }
                Ok(Chunk::End) => break,
                Err(_) => return Err(SinkError::Database("the batch was abandoned".into())),
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
        let id = change.id().hyphenated().to_string();
        if let Some((first_seq, seen)) = &mut stmts.seen {
            seen.execute(params![w.key, *first_seq, id])?;
        }
        match change {
            Encoded::Upsert { params, .. } => {
                TableWriter::upsert(&mut stmts.upsert, &self.now, params)?;
                if let Some(lift) = &mut stmts.lift {
                    lift.execute(params![w.key, id, seq_param(self.seq)])?;
                }
            }
            Encoded::Delete(id) => w.delete(tx, *id, self.seq, &self.now)?,
            Encoded::Rejected { id, reason } => return w.failure(tx, *id, reason).map(Some),
        }
        Ok(None)
    }
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
    pub fn run(self, conn: &mut Connection) -> Result<RetryOutcome, SinkError> {
        let tx = immediate(conn)?;
        let outcome = self.write(&tx).map_err(db_error)?;
        if outcome == RetryOutcome::Applied {
            tx.commit().map_err(db_error)?;
        }
        Ok(outcome)
    }

    /// A tombstone from the change's own batch or a later one wins: within a batch, deletes
    /// come after upserts, so such a delete is newer than the retried change.
    fn write(&self, tx: &Transaction<'_>) -> Sql<RetryOutcome> {
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
            Encoded::Delete(_) => w.delete(tx, id, self.origin_seq, &self.now)?,
            _ if newer => return Ok(RetryOutcome::Superseded),
            Encoded::Rejected { reason, .. } => {
                return Ok(RetryOutcome::Failed(w.failure(tx, id, reason)?));
            }
            Encoded::Upsert { params, .. } => {
                TableWriter::upsert(&mut tx.prepare_cached(&w.upsert)?, &self.now, params)?;
                tx.execute(
                    &w.lift,
                    params![w.key, id_text, seq_param(self.origin_seq) + 1],
                )?;
            }
        }
        Ok(RetryOutcome::Applied)
    }
}

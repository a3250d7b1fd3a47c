//! Statements for one data table, run inside the caller's transaction: the watermark lock,
//! the staged upsert, deletes with `DeleteLog` and tombstones, and the resync sweep.

use std::ops::Range;

use des_core::ChangeType;
use des_core::ports::{RecordFailure, SinkError};
use des_core::schema::{SchemaPlan, TableDef};
use time::OffsetDateTime;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, Transaction};
use uuid::Uuid;

use super::client::db_error;
use super::rows::{Layout, Staged};
use super::sql::{self, StateTables};
use crate::tables;

type Params<'a> = [&'a (dyn ToSql + Sync)];

pub(super) fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Names for writing one data table.
pub(super) struct Writer<'a> {
    /// The table's name: its key in the state tables.
    key: &'a str,
    /// The entity's logical name, as `DeleteLog.EntityName`.
    entity: &'a str,
    table: String,
    state: StateTables,
    delete_log: Option<String>,
}

impl<'a> Writer<'a> {
    pub(super) fn new(
        profile: Uuid,
        plan: &SchemaPlan,
        table: &'a TableDef,
    ) -> Result<Self, SinkError> {
        let delete_log = plan.delete_log.as_ref().map(sql::table_name);
        Ok(Self {
            delete_log,
            ..Self::without_plan(profile, table)?
        })
    }

    /// For reading the watermark: the state of `profile`.
    pub(super) fn without_plan(profile: Uuid, table: &'a TableDef) -> Result<Self, SinkError> {
        let entity = tables::entity_of(table)?;
        Ok(Self {
            key: &table.name,
            entity,
            table: sql::table_name(table),
            state: StateTables::for_profile(profile),
            delete_log: None,
        })
    }

    /// The applied `seq`; 0 before the first batch or before the schema exists.
    pub(super) async fn watermark(&self, client: &Client) -> Result<u64, SinkError> {
        match client
            .query_opt(&self.state.select_watermark(), &[&self.key])
            .await
        {
            Ok(row) => Ok(row.map_or(0, |r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))),
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(0),
            Err(e) => Err(db_error(e)),
        }
    }

    /// Locks the table's watermark row until commit, creating it at 0 the first time.
    pub(super) async fn lock_watermark(&self, tx: &Transaction<'_>) -> Result<i64, SinkError> {
        let lock = self.state.lock_watermark();
        if let Some(row) = tx.query_opt(&lock, &[&self.key]).await.map_err(db_error)? {
            return Ok(row.get(0));
        }
        tx.execute(&self.state.init_watermark(), &[&self.key])
            .await
            .map_err(db_error)?;
        let row = tx.query_one(&lock, &[&self.key]).await.map_err(db_error)?;
        Ok(row.get(0))
    }

    /// Moves the watermark to `seq`; the caller commits.
    pub(super) async fn set_watermark(
        &self,
        tx: &Transaction<'_>,
        seq: i64,
    ) -> Result<(), SinkError> {
        self.run(tx, &self.state.set_watermark(), &[&self.key, &seq])
            .await
            .map(drop)
    }

    async fn run(
        &self,
        tx: &Transaction<'_>,
        statement: &str,
        params: &Params<'_>,
    ) -> Result<u64, SinkError> {
        tx.execute(statement, params).await.map_err(db_error)
    }

    /// Stages the rows with a binary COPY, upserts them in one statement and lifts their
    /// tombstones older than `seq`.
    pub(super) async fn upsert(
        &self,
        tx: &Transaction<'_>,
        layout: &Layout<'_>,
        rows: &Staged,
        range: Range<usize>,
        seq: i64,
        now: OffsetDateTime,
    ) -> Result<(), SinkError> {
        if range.is_empty() {
            return Ok(());
        }
        let stage = sql::stage_table(&layout.stage_name());
        let copy = sql::copy_in(&stage, &layout.staged_names());
        rows.copy.send(tx, &copy, range.clone()).await?;
        let upsert = sql::upsert_from_stage(
            &self.table,
            &stage,
            &layout.target_columns(),
            &layout.selects(),
        );
        self.run(tx, &upsert, &[&now]).await?;
        let ids = &rows.ids[range];
        self.run(tx, &self.state.lift_tombstones(), &[&self.key, &ids, &seq])
            .await?;
        Ok(())
    }

    /// Deletes the rows, logs those that existed and tombstones every id at `seq`.
    pub(super) async fn delete(
        &self,
        tx: &Transaction<'_>,
        ids: &[Uuid],
        seq: i64,
        now: OffsetDateTime,
    ) -> Result<(), SinkError> {
        if ids.is_empty() {
            return Ok(());
        }
        let delete = sql::delete_rows(&self.table, self.delete_log.as_deref());
        match self.delete_log {
            Some(_) => self.run(tx, &delete, &[&ids, &self.entity, &now]).await?,
            None => self.run(tx, &delete, &[&ids]).await?,
        };
        self.run(tx, &self.state.put_tombstones(), &[&self.key, &ids, &seq])
            .await?;
        Ok(())
    }

    /// Deletes, logs and tombstones every row the resync did not carry, then forgets it.
    pub(super) async fn sweep(
        &self,
        tx: &Transaction<'_>,
        first_seq: i64,
        seq: i64,
        now: OffsetDateTime,
    ) -> Result<(), SinkError> {
        let sweep = self
            .state
            .sweep_unseen(&self.table, self.delete_log.as_deref());
        match self.delete_log {
            Some(_) => {
                self.run(
                    tx,
                    &sweep,
                    &[&self.key, &first_seq, &seq, &self.entity, &now],
                )
                .await?
            }
            None => self.run(tx, &sweep, &[&self.key, &first_seq, &seq]).await?,
        };
        self.run(tx, &self.state.clear_seen(), &[&self.key]).await?;
        Ok(())
    }

    pub(super) async fn mark_seen(
        &self,
        tx: &Transaction<'_>,
        first_seq: u64,
        ids: &[Uuid],
    ) -> Result<(), SinkError> {
        let first = seq_param(first_seq);
        self.run(tx, &self.state.mark_seen(), &[&self.key, &first, &ids])
            .await?;
        Ok(())
    }

    /// `New` when the target has no row for the id yet, else `Update` (as DES reported).
    pub(super) async fn failures(
        &self,
        client: &impl GenericClient,
        rejected: &[(Uuid, String)],
    ) -> Result<Vec<RecordFailure>, SinkError> {
        if rejected.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rejected.iter().map(|(id, _)| *id).collect();
        let existing = format!("SELECT \"Id\" FROM {} WHERE \"Id\" = ANY($1)", self.table);
        let rows = client.query(&existing, &[&ids]).await.map_err(db_error)?;
        let present: Vec<Uuid> = rows.iter().map(|r| r.get(0)).collect();
        let failure = |(id, reason): &(Uuid, String)| RecordFailure {
            id: *id,
            change_type: if present.contains(id) {
                ChangeType::Update
            } else {
                ChangeType::New
            },
            reason: reason.clone(),
        };
        Ok(rejected.iter().map(failure).collect())
    }

    pub(super) async fn version_of(
        &self,
        tx: &Transaction<'_>,
        id: Uuid,
    ) -> Result<Option<Option<i64>>, SinkError> {
        let row = tx
            .query_opt(&sql::select_version(&self.table), &[&id])
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| r.get(0)))
    }

    pub(super) async fn tombstone(
        &self,
        tx: &Transaction<'_>,
        id: Uuid,
    ) -> Result<Option<i64>, SinkError> {
        let row = tx
            .query_opt(&self.state.select_tombstone(), &[&self.key, &id])
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| r.get(0)))
    }
}

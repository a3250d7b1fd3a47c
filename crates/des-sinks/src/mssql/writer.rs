//! Statements for one data table, run inside the caller's transaction: the watermark lock,
//! the staged upsert, deletes with `DeleteLog` and tombstones, and the resync sweep.

use des_core::ChangeType;
use des_core::ports::{RecordFailure, SinkError};
use des_core::schema::{SchemaPlan, TableDef};
use tiberius::TokenRow;
use time::PrimitiveDateTime;
use uuid::Uuid;

use super::client::{Connection, column, db_error, run, scalar};
use super::encoding::Cell;
use super::rows::Layout;
use super::sql::{self, GONE, KEYS, STAGE};
use super::state::{StateTables, Tombstoned};
use crate::tables;

/// SQL Server's "Invalid object name": the state tables do not exist yet.
const INVALID_OBJECT: u32 = 208;

pub(super) fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Bulk-loads `rows` into a session temp table through TDS (no parameter limit, no parsing).
pub(super) async fn bulk_load<'r>(
    conn: &mut Connection,
    table: &'static str,
    rows: Vec<Vec<Cell<'r>>>,
) -> Result<(), SinkError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut request = conn.bulk_insert(table).await.map_err(db_error)?;
    for cells in rows {
        let mut row = TokenRow::with_capacity(cells.len());
        cells.into_iter().for_each(|c| row.push(c));
        request.send(row).await.map_err(db_error)?;
    }
    request.finalize().await.map_err(db_error)?;
    Ok(())
}

/// Drops a temp table left by an earlier batch on this session, then creates it afresh.
pub(super) async fn recreate(
    conn: &mut Connection,
    name: &str,
    ddl: &str,
) -> Result<(), SinkError> {
    run(conn, &sql::drop_temp(name), &[]).await?;
    run(conn, ddl, &[]).await
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
        Ok(Self {
            delete_log: plan.delete_log.as_ref().map(sql::table_name),
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
    pub(super) async fn watermark(&self, conn: &mut Connection) -> Result<u64, SinkError> {
        let sql = self.state.select_watermark();
        // The error can come with the request or with the first row, depending on when the
        // server reports it.
        let row = async {
            conn.query(sql.as_str(), &[&self.key])
                .await?
                .into_row()
                .await
        };
        match row.await {
            Err(e) if e.code() == Some(INVALID_OBJECT) => Ok(0),
            Err(e) => Err(db_error(e)),
            Ok(row) => {
                let seq = row.and_then(|r| r.get::<i64, _>(0)).unwrap_or(0);
                Ok(u64::try_from(seq).unwrap_or(0))
            }
        }
    }

    /// Locks the table's watermark row until commit, creating it at 0 the first time.
    pub(super) async fn lock_watermark(&self, conn: &mut Connection) -> Result<i64, SinkError> {
        run(conn, &self.state.init_watermark(), &[&self.key]).await?;
        let seq = scalar::<i64>(conn, &self.state.lock_watermark(), &[&self.key]).await?;
        Ok(seq.flatten().unwrap_or(0))
    }

    pub(super) async fn set_watermark(
        &self,
        conn: &mut Connection,
        seq: i64,
    ) -> Result<(), SinkError> {
        run(conn, &self.state.set_watermark(), &[&self.key, &seq]).await
    }

    /// Loads every id of the batch into `#DesKeys` and readies `#DesGone`.
    pub(super) async fn stage_keys(
        &self,
        conn: &mut Connection,
        keys: &[(Uuid, u8)],
    ) -> Result<(), SinkError> {
        recreate(conn, KEYS, &sql::create_keys()).await?;
        recreate(conn, GONE, &sql::create_gone()).await?;
        let rows: Vec<Vec<Cell<'static>>> = keys
            .iter()
            .map(|(id, kind)| vec![Cell::Guid(Some(*id)), Cell::U8(Some(*kind))])
            .collect();
        bulk_load(conn, KEYS, rows).await
    }

    /// Stages the rows, upserts them in one statement and lifts their tombstones older than
    /// `seq`.
    pub(super) async fn upsert(
        &self,
        conn: &mut Connection,
        layout: &Layout<'_>,
        rows: Vec<Vec<Cell<'_>>>,
        seq: i64,
        now: PrimitiveDateTime,
    ) -> Result<(), SinkError> {
        if rows.is_empty() {
            return Ok(());
        }
        recreate(conn, STAGE, &layout.create_stage()).await?;
        bulk_load(conn, STAGE, rows).await?;
        run(conn, &layout.merge(), &[&now]).await?;
        run(conn, &self.state.lift_tombstones(), &[&self.key, &seq]).await?;
        Ok(())
    }

    /// Deletes the batch's deleted ids, logs the rows that existed and tombstones every id.
    pub(super) async fn delete(
        &self,
        conn: &mut Connection,
        seq: i64,
        now: PrimitiveDateTime,
    ) -> Result<(), SinkError> {
        run(conn, &sql::delete_rows(&self.table), &[]).await?;
        self.log_gone(conn, now).await?;
        let tombstones = self.state.put_tombstones(Tombstoned::Deleted);
        run(conn, &tombstones, &[&self.key, &seq]).await
    }

    async fn log_gone(
        &self,
        conn: &mut Connection,
        now: PrimitiveDateTime,
    ) -> Result<(), SinkError> {
        if let Some(log) = &self.delete_log {
            run(conn, &sql::log_gone(log), &[&self.entity, &now]).await?;
        }
        run(conn, &sql::clear_gone(), &[]).await
    }

    /// Deletes, logs and tombstones every row the resync did not carry, then forgets it.
    pub(super) async fn sweep(
        &self,
        conn: &mut Connection,
        first_seq: i64,
        seq: i64,
        now: PrimitiveDateTime,
    ) -> Result<(), SinkError> {
        let sweep = self.state.sweep_unseen(&self.table);
        run(conn, &sweep, &[&self.key, &first_seq]).await?;
        let tombstones = self.state.put_tombstones(Tombstoned::Gone);
        run(conn, &tombstones, &[&self.key, &seq]).await?;
        self.log_gone(conn, now).await?;
        run(conn, &self.state.clear_seen(), &[&self.key]).await
    }

    pub(super) async fn mark_seen(
        &self,
        conn: &mut Connection,
        first_seq: u64,
    ) -> Result<(), SinkError> {
        let first = seq_param(first_seq);
        run(conn, &self.state.mark_seen(), &[&self.key, &first]).await
    }

    /// `New` when the target has no row for the id yet, else `Update` (as DES reported).
    pub(super) async fn failures(
        &self,
        conn: &mut Connection,
        rejected: &[(Uuid, String)],
    ) -> Result<Vec<RecordFailure>, SinkError> {
        if rejected.is_empty() {
            return Ok(Vec::new());
        }
        let present = column::<Uuid>(conn, &sql::existing_rejected(&self.table), &[]).await?;
        let failure = |(id, reason): &(Uuid, String)| RecordFailure {
            id: *id,
            change_type: if present.contains(&Some(*id)) {
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
        conn: &mut Connection,
        id: Uuid,
    ) -> Result<Option<Option<i64>>, SinkError> {
        scalar::<i64>(conn, &sql::select_version(&self.table), &[&id]).await
    }

    pub(super) async fn tombstone(
        &self,
        conn: &mut Connection,
        id: Uuid,
    ) -> Result<Option<i64>, SinkError> {
        let seq = scalar::<i64>(conn, &self.state.select_tombstone(), &[&self.key, &id]).await?;
        Ok(seq.flatten())
    }
}

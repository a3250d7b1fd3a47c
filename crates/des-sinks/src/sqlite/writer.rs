//! Statement text and the per-row writes of one table: upsert, delete with log and tombstone,
//! version look-up, resync sweep and watermark.

use des_core::ChangeType;
use des_core::ports::RecordFailure;
use des_core::schema::{SchemaPlan, TableDef};
use rusqlite::{CachedStatement, Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;

use super::encoding::Param;
use super::sql::{self, StateTables};

pub type Sql<T> = rusqlite::Result<T>;

pub fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Statement text and names for writing one table, owned so it can move to the blocking pool.
pub struct TableWriter {
    /// The table's name: its key in the state tables.
    pub(super) key: String,
    /// The entity's logical name, as `DeleteLog.EntityName`.
    entity: String,
    quoted: String,
    pub(super) state: StateTables,
    pub(super) upsert: String,
    delete: String,
    select_version: String,
    delete_log: Option<(String, String)>,
    pub(super) lift: String,
    pub(super) seen: String,
    tombstone: String,
}

impl TableWriter {
    pub fn new(
        profile: Uuid,
        plan: &SchemaPlan,
        table: &TableDef,
        entity: &str,
        columns: &[(&str, usize)],
    ) -> Self {
        let state = StateTables::for_profile(profile);
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
    pub(super) fn upsert(stmt: &mut CachedStatement<'_>, now: &str, params: &[Param]) -> Sql<()> {
        stmt.raw_bind_parameter(1, now)?;
        for (i, p) in params.iter().enumerate() {
            stmt.raw_bind_parameter(i + 2, p)?;
        }
        stmt.raw_execute().map(drop)
    }

    /// Removes the row, logs it when it existed, and tombstones its id at `seq`.
    pub(super) fn delete(&self, tx: &Transaction<'_>, id: Uuid, seq: u64, now: &str) -> Sql<()> {
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

    pub(super) fn version_of(&self, tx: &Transaction<'_>, id: Uuid) -> Sql<Option<Option<i64>>> {
        let mut stmt = tx.prepare_cached(&self.select_version)?;
        stmt.query_row([id.hyphenated().to_string()], |r| r.get(0))
            .optional()
    }

    pub(super) fn failure(
        &self,
        tx: &Transaction<'_>,
        id: Uuid,
        reason: &str,
    ) -> Sql<RecordFailure> {
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
        if !conn.query_row(exists, [super::state::WATERMARK], |r| r.get::<_, bool>(0))? {
            return Ok(0);
        }
        let seq: Option<i64> = conn
            .query_row(&self.state.select_watermark(), [&self.key], |r| r.get(0))
            .optional()?;
        Ok(seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
    }

    /// Deletes, logs and tombstones every row the resync did not carry, then forgets it.
    pub(super) fn sweep(
        &self,
        tx: &Transaction<'_>,
        first_seq: u64,
        seq: u64,
        now: &str,
    ) -> Sql<()> {
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

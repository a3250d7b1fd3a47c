//! Per-entity counters, one row per (profile, entity), moved by a single upsert so concurrent
//! updates add up without a read-modify-write.

use des_core::ports::StoreError;
use des_core::sync::{EntityStats, StatsDelta};
use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::database::Database;

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS "stats" (
    "profile_id" TEXT NOT NULL, "entity" TEXT NOT NULL,
    "total" INTEGER NOT NULL, "success" INTEGER NOT NULL, "failure" INTEGER NOT NULL,
    "last_export_date" TEXT, "last_export_status" TEXT,
    "metadata_state" TEXT, "initial_sync_state" TEXT, "hint" TEXT,
    PRIMARY KEY ("profile_id", "entity"));
"#;

/// The operator hint came after the first release: a `control.db` from before gets it.
pub(super) fn migrate(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    let has_hint: bool = conn.query_row(
        r#"SELECT count(*) FROM pragma_table_info('stats') WHERE "name" = 'hint'"#,
        [],
        |row| row.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_hint {
        conn.execute_batch(r#"ALTER TABLE "stats" ADD COLUMN "hint" TEXT"#)?;
    }
    Ok(())
}

/// Counters add; the other fields replace only when the delta sets them (`EntityStats::apply`).
const UPSERT: &str = r#"
INSERT INTO "stats" ("profile_id", "entity", "total", "success", "failure",
    "last_export_date", "last_export_status", "metadata_state", "initial_sync_state", "hint")
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11)
ON CONFLICT ("profile_id", "entity") DO UPDATE SET
    "total" = "total" + excluded."total",
    "success" = "success" + excluded."success",
    "failure" = "failure" + excluded."failure",
    "last_export_date" = coalesce(excluded."last_export_date", "last_export_date"),
    "last_export_status" = coalesce(excluded."last_export_status", "last_export_status"),
    "metadata_state" = coalesce(excluded."metadata_state", "metadata_state"),
    "initial_sync_state" = coalesce(excluded."initial_sync_state", "initial_sync_state"),
    "hint" = CASE WHEN ?10 THEN excluded."hint" ELSE "hint" END
"#;

const SELECT: &str = r#"
SELECT "total", "success", "failure", "last_export_date", "last_export_status",
    "metadata_state", "initial_sync_state", "hint"
FROM "stats" WHERE "profile_id" = ?1 AND "entity" = ?2
"#;

/// Every stats row.
pub(super) const SELECT_ALL: &str = r#"
SELECT "total", "success", "failure", "last_export_date", "last_export_status",
    "metadata_state", "initial_sync_state", "hint", "profile_id", "entity"
FROM "stats"
"#;

/// The stats rows of the profile `?1`.
pub(super) const SELECT_ONE: &str = r#"
SELECT "total", "success", "failure", "last_export_date", "last_export_status",
    "metadata_state", "initial_sync_state", "hint", "profile_id", "entity"
FROM "stats" WHERE "profile_id" = ?1
"#;

/// The stats rows of the profiles in the JSON array `?1`, found through the key's index (an
/// `?1 IS NULL OR ...` form of one statement would scan every row).
pub(super) const SELECT_OF: &str = r#"
SELECT "total", "success", "failure", "last_export_date", "last_export_status",
    "metadata_state", "initial_sync_state", "hint", "profile_id", "entity"
FROM "stats" WHERE "profile_id" IN (SELECT "value" FROM json_each(?1))
"#;

/// The stats row as stored; the date stays text until it is parsed outside the connection.
pub(super) struct StoredStats {
    stats: EntityStats,
    last_export_date: Option<String>,
}

impl StoredStats {
    /// The counters, with the date parsed.
    pub(super) fn parse(self, profile_id: Uuid, entity: &str) -> Result<EntityStats, StoreError> {
        let mut stats = self.stats;
        if let Some(text) = self.last_export_date {
            let parsed =
                OffsetDateTime::parse(&text, &Rfc3339).map_err(|e| StoreError::Corrupt {
                    key: format!("stats {profile_id}/{entity}"),
                    reason: e.to_string(),
                })?;
            stats.last_export_date = Some(parsed);
        }
        Ok(stats)
    }
}

pub(super) async fn read(
    db: &Database,
    profile_id: Uuid,
    entity: &str,
) -> Result<EntityStats, StoreError> {
    let params = (profile_id.to_string(), entity.to_owned());
    let stored = db
        .read(move |conn| Ok(conn.query_row(SELECT, params, stored_stats).optional()?))
        .await?;
    match stored {
        Some(stored) => stored.parse(profile_id, entity),
        None => Ok(EntityStats::default()),
    }
}

pub(super) async fn update(
    db: &Database,
    profile_id: Uuid,
    entity: &str,
    delta: &StatsDelta,
) -> Result<(), StoreError> {
    let key = format!("stats {profile_id}/{entity}");
    let date = delta
        .last_export_date
        .map(|d| d.format(&Rfc3339))
        .transpose();
    let date = date.map_err(|e| StoreError::Corrupt {
        key,
        reason: e.to_string(),
    })?;
    let counters = [delta.total, delta.success, delta.failure].map(to_sql_count);
    let texts = [
        date,
        delta.last_export_status.clone(),
        delta.metadata_state.clone(),
        delta.initial_sync_state.clone(),
    ];
    let (profile_id, entity) = (profile_id.to_string(), entity.to_owned());
    let (set_hint, hint) = match &delta.hint {
        Some(hint) => (true, hint.clone()),
        None => (false, None),
    };
    db.call(move |conn| {
        let [total, success, failure] = counters;
        let [date, status, metadata, initial] = texts;
        let values = params![
            profile_id, entity, total, success, failure, date, status, metadata, initial, set_hint,
            hint
        ];
        Ok(conn.execute(UPSERT, values)?)
    })
    .await?;
    Ok(())
}

pub(super) fn stored_stats(row: &Row<'_>) -> rusqlite::Result<StoredStats> {
    let stats = EntityStats {
        total: from_sql_count(row.get(0)?),
        success: from_sql_count(row.get(1)?),
        failure: from_sql_count(row.get(2)?),
        last_export_date: None,
        last_export_status: row.get(4)?,
        metadata_state: row.get(5)?,
        initial_sync_state: row.get(6)?,
        hint: row.get(7)?,
    };
    Ok(StoredStats {
        stats,
        last_export_date: row.get(3)?,
    })
}

/// SQLite integers are signed; counters never get near `i64::MAX`, so saturate rather than fail.
fn to_sql_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn from_sql_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

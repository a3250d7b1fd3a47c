//! [`SqliteControlStore`]: organizations, profiles, cursors and counters in one SQLite file.
//!
//! Profiles, cursors and organizations are stored as JSON documents. Each profile and cursor
//! row carries a version taken from a store-wide revision counter, and its [`Etag`] is that
//! number: a conditional write is one `UPDATE ... WHERE version = ?` (or an
//! `INSERT ... ON CONFLICT DO NOTHING`) inside an immediate transaction, so two writers can
//! never both succeed against the same version. The counter never goes back, so an etag from
//! a deleted and re-created row can never match the new one.

mod profiles;
mod progress;
mod stats;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use des_core::ports::{
    ControlStore, Etag, Organization, Precondition, StoreError, StreamProgress, Versioned,
};
use des_core::profile::Profile;
use des_core::sync::{EntityCursor, EntityStats, StatsDelta};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params, params_from_iter};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::database::{self, Database, DatabaseError};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS "revision" ("id" INTEGER PRIMARY KEY CHECK ("id" = 1), "n" INTEGER NOT NULL);
INSERT OR IGNORE INTO "revision" ("id", "n") VALUES (1, 0);
CREATE TABLE IF NOT EXISTS "organizations" ("id" TEXT PRIMARY KEY, "doc" TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS "profiles" (
    "id" TEXT PRIMARY KEY, "doc" TEXT NOT NULL, "version" INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS "cursors" (
    "profile_id" TEXT NOT NULL, "entity" TEXT NOT NULL,
    "doc" TEXT NOT NULL, "version" INTEGER NOT NULL,
    PRIMARY KEY ("profile_id", "entity"));
CREATE TABLE IF NOT EXISTS "target_tokens" ("profile_id" TEXT PRIMARY KEY, "token" TEXT NOT NULL);
"#;

/// Read-only connections beside the writer: the API reads profiles, organizations and
/// progress on every request, concurrently.
const READERS: usize = 4;

/// The statements of one versioned table. Key columns come first (`?1`, ...), then the
/// document, the new version and, for `update`, the expected version.
struct VersionedTable {
    insert: &'static str,
    upsert: &'static str,
    update: &'static str,
}

const PROFILES: VersionedTable = VersionedTable {
    insert: r#"INSERT INTO "profiles" ("id", "doc", "version") VALUES (?1, ?2, ?3)
               ON CONFLICT DO NOTHING"#,
    upsert: r#"INSERT INTO "profiles" ("id", "doc", "version") VALUES (?1, ?2, ?3)
               ON CONFLICT ("id") DO UPDATE SET "doc" = excluded."doc", "version" = excluded."version""#,
    update: r#"UPDATE "profiles" SET "doc" = ?2, "version" = ?3 WHERE "id" = ?1 AND "version" = ?4"#,
};

const CURSORS: VersionedTable = VersionedTable {
    insert: r#"INSERT INTO "cursors" ("profile_id", "entity", "doc", "version")
               VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"#,
    upsert: r#"INSERT INTO "cursors" ("profile_id", "entity", "doc", "version")
               VALUES (?1, ?2, ?3, ?4) ON CONFLICT ("profile_id", "entity")
               DO UPDATE SET "doc" = excluded."doc", "version" = excluded."version""#,
    update: r#"UPDATE "cursors" SET "doc" = ?3, "version" = ?4
               WHERE "profile_id" = ?1 AND "entity" = ?2 AND "version" = ?5"#,
};

/// The local [`ControlStore`]: one SQLite file, safe to share between processes.
#[derive(Debug, Clone)]
pub struct SqliteControlStore {
    db: Database,
    profiles: Arc<profiles::ProfileCache>,
}

impl SqliteControlStore {
    /// Opens the store at `path`, creating the file and its tables if needed.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let schema = &[SCHEMA, stats::SCHEMA];
        let db = database::open_with_readers(path.as_ref(), schema, READERS).await?;
        db.call(|conn| Ok(stats::migrate(conn)?)).await?;
        let profiles = Arc::default();
        Ok(Self { db, profiles })
    }

    async fn write_versioned(
        &self,
        table: &'static VersionedTable,
        key: Vec<String>,
        doc: String,
        when: Precondition,
    ) -> Result<Option<Etag>, StoreError> {
        let version = self
            .db
            .call(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let written = write_row(&tx, table, key, doc, &when)?;
                if written.is_some() {
                    tx.commit()?;
                }
                Ok(written)
            })
            .await?;
        Ok(version.map(|v| Etag(v.to_string())))
    }
}

/// Writes one versioned row if `when` holds; returns the new version, or `None` on conflict.
fn write_row(
    tx: &Transaction<'_>,
    table: &VersionedTable,
    key: Vec<String>,
    doc: String,
    when: &Precondition,
) -> Result<Option<i64>, DatabaseError> {
    let version: i64 = tx.query_row(
        r#"UPDATE "revision" SET "n" = "n" + 1 WHERE "id" = 1 RETURNING "n""#,
        [],
        |row| row.get(0),
    )?;
    let mut values: Vec<Value> = key.into_iter().map(Value::Text).collect();
    values.extend([Value::Text(doc), Value::Integer(version)]);
    let sql = match when {
        Precondition::None => table.upsert,
        Precondition::MustNotExist => table.insert,
        Precondition::Match(etag) => match etag.0.parse::<i64>() {
            Ok(expected) => {
                values.push(Value::Integer(expected));
                table.update
            }
            // Not an etag this store handed out: it cannot match.
            Err(_) => return Ok(None),
        },
    };
    let changed = tx.execute(sql, params_from_iter(values))?;
    Ok((changed == 1).then_some(version))
}

fn to_doc<T: Serialize>(value: &T, key: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

fn from_doc<T: DeserializeOwned>(doc: &str, key: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

fn versioned<T: DeserializeOwned>(
    (doc, version): (String, i64),
    key: &str,
) -> Result<Versioned<T>, StoreError> {
    Ok(Versioned {
        value: from_doc(&doc, key)?,
        etag: Etag(version.to_string()),
    })
}

fn profile_key(id: Uuid) -> String {
    format!("profile {id}")
}

fn cursor_key(profile_id: Uuid, entity: &str) -> String {
    format!("cursor {profile_id}/{entity}")
}

#[async_trait]
impl ControlStore for SqliteControlStore {
    async fn put_organization(&self, org: &Organization) -> Result<(), StoreError> {
        let id = org.organization_id.to_string();
        let doc = to_doc(org, &format!("organization {id}"))?;
        let sql = r#"INSERT INTO "organizations" ("id", "doc") VALUES (?1, ?2)
                     ON CONFLICT ("id") DO UPDATE SET "doc" = excluded."doc""#;
        self.db
            .call(move |conn| Ok(conn.execute(sql, params![id, doc])?))
            .await?;
        Ok(())
    }

    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        let sql = r#"SELECT "id", "doc" FROM "organizations" ORDER BY "id""#;
        let rows: Vec<(String, String)> = self
            .db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(sql)?;
                let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await?;
        rows.iter()
            .map(|(id, doc)| from_doc(doc, &format!("organization {id}")))
            .collect()
    }

    async fn profile(&self, id: Uuid) -> Result<Option<Versioned<Profile>>, StoreError> {
        let sql = r#"SELECT "doc", "version" FROM "profiles" WHERE "id" = ?1"#;
        let key = id.to_string();
        let row: Option<(String, i64)> = self
            .db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(sql)?;
                let row = stmt.query_row([key], |row| Ok((row.get(0)?, row.get(1)?)));
                Ok(row.optional()?)
            })
            .await?;
        row.map(|row| versioned(row, &profile_key(id))).transpose()
    }

    async fn profiles(&self) -> Result<Vec<Versioned<Profile>>, StoreError> {
        profiles::read(&self.db, &self.profiles).await
    }

    async fn put_profile(&self, profile: &Profile, when: Precondition) -> Result<Etag, StoreError> {
        let key = profile_key(profile.id);
        let doc = to_doc(profile, &key)?;
        let written = self.write_versioned(&PROFILES, vec![profile.id.to_string()], doc, when);
        written.await?.ok_or(StoreError::Conflict(key))
    }

    async fn delete_profile(&self, id: Uuid) -> Result<(), StoreError> {
        let key = id.to_string();
        self.db
            .call(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.execute(r#"DELETE FROM "cursors" WHERE "profile_id" = ?1"#, [&key])?;
                tx.execute(r#"DELETE FROM "stats" WHERE "profile_id" = ?1"#, [&key])?;
                tx.execute(
                    r#"DELETE FROM "target_tokens" WHERE "profile_id" = ?1"#,
                    [&key],
                )?;
                tx.execute(r#"DELETE FROM "profiles" WHERE "id" = ?1"#, [&key])?;
                Ok(tx.commit()?)
            })
            .await?;
        Ok(())
    }

    async fn cursor(
        &self,
        profile_id: Uuid,
        entity: &str,
    ) -> Result<Option<Versioned<EntityCursor>>, StoreError> {
        let sql = r#"SELECT "doc", "version" FROM "cursors"
                     WHERE "profile_id" = ?1 AND "entity" = ?2"#;
        let params = (profile_id.to_string(), entity.to_owned());
        let row: Option<(String, i64)> = self
            .db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(sql)?;
                let row = stmt.query_row(params, |row| Ok((row.get(0)?, row.get(1)?)));
                Ok(row.optional()?)
            })
            .await?;
        row.map(|row| versioned(row, &cursor_key(profile_id, entity)))
            .transpose()
    }

    async fn put_cursor(
        &self,
        cursor: &EntityCursor,
        when: Precondition,
    ) -> Result<Etag, StoreError> {
        let stream = &cursor.stream;
        let key = cursor_key(stream.profile_id, &stream.entity);
        let doc = to_doc(cursor, &key)?;
        let row_key = vec![stream.profile_id.to_string(), stream.entity.clone()];
        let written = self.write_versioned(&CURSORS, row_key, doc, when);
        written.await?.ok_or(StoreError::Conflict(key))
    }

    async fn stats(&self, profile_id: Uuid, entity: &str) -> Result<EntityStats, StoreError> {
        stats::read(&self.db, profile_id, entity).await
    }

    async fn update_stats(
        &self,
        profile_id: Uuid,
        entity: &str,
        delta: &StatsDelta,
    ) -> Result<(), StoreError> {
        stats::update(&self.db, profile_id, entity, delta).await
    }

    async fn progress(&self, profile_id: Option<Uuid>) -> Result<Vec<StreamProgress>, StoreError> {
        progress::read(&self.db, profile_id.as_ref().map(std::slice::from_ref)).await
    }

    async fn progress_of(&self, profile_ids: &[Uuid]) -> Result<Vec<StreamProgress>, StoreError> {
        progress::read(&self.db, Some(profile_ids)).await
    }

    async fn target_token(&self, profile_id: Uuid) -> Result<Option<String>, StoreError> {
        let sql = r#"SELECT "token" FROM "target_tokens" WHERE "profile_id" = ?1"#;
        let key = profile_id.to_string();
        self.db
            .read(move |conn| Ok(conn.query_row(sql, [key], |r| r.get(0)).optional()?))
            .await
            .map_err(Into::into)
    }

    async fn put_target_token(&self, profile_id: Uuid, token: &str) -> Result<(), StoreError> {
        let sql = r#"INSERT INTO "target_tokens" ("profile_id", "token") VALUES (?1, ?2)
                     ON CONFLICT ("profile_id") DO UPDATE SET "token" = excluded."token""#;
        let params = (profile_id.to_string(), token.to_owned());
        self.db
            .call(move |conn| Ok(conn.execute(sql, params)?))
            .await?;
        Ok(())
    }
}

//! [`SqlitePayloadStore`]: write-once blobs for batches too big for a queue message.

use std::path::Path;

use async_trait::async_trait;
use des_core::ports::{PayloadStore, QueueError};
use rusqlite::{OptionalExtension, TransactionBehavior};

use crate::database::{self, Database};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS "payloads" ("key" TEXT PRIMARY KEY, "bytes" BLOB NOT NULL);
"#;

/// The local [`PayloadStore`]; may share its file with a [`crate::SqliteWorkQueue`].
#[derive(Debug, Clone)]
pub struct SqlitePayloadStore {
    db: Database,
}

impl SqlitePayloadStore {
    /// Opens the store in the file at `path`, creating its table if needed.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, QueueError> {
        let db = database::open(path.as_ref(), &[SCHEMA]).await?;
        Ok(Self { db })
    }

    /// Whether any payload is stored.
    pub async fn holds_any(&self) -> Result<bool, QueueError> {
        let sql = r#"SELECT EXISTS (SELECT 1 FROM "payloads")"#;
        let any = self
            .db
            .call(move |conn| Ok(conn.query_row(sql, [], |row| row.get(0))?))
            .await?;
        Ok(any)
    }
}

#[async_trait]
impl PayloadStore for SqlitePayloadStore {
    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Vec<u8>, QueueError> {
        let stored = self.put_new(key, bytes.to_vec()).await?;
        Ok(stored.unwrap_or_else(|| bytes.to_vec()))
    }

    async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<Option<Vec<u8>>, QueueError> {
        let insert = r#"INSERT INTO "payloads" ("key", "bytes") VALUES (?1, ?2)
                        ON CONFLICT DO NOTHING"#;
        let select = r#"SELECT "bytes" FROM "payloads" WHERE "key" = ?1"#;
        let key = key.to_owned();
        let stored = self
            .db
            .call(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                // A fresh insert stored exactly `bytes`: nothing to hand back.
                let stored = match tx.prepare_cached(insert)?.execute((&key, &bytes))? {
                    0 => Some(tx.query_row(select, [&key], |row| row.get(0))?),
                    _ => None,
                };
                tx.commit()?;
                Ok(stored)
            })
            .await?;
        Ok(stored)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, QueueError> {
        let sql = r#"SELECT "bytes" FROM "payloads" WHERE "key" = ?1"#;
        let key = key.to_owned();
        let bytes = self
            .db
            .call(move |conn| Ok(conn.query_row(sql, [key], |row| row.get(0)).optional()?))
            .await?;
        Ok(bytes)
    }

    async fn delete(&self, key: &str) -> Result<(), QueueError> {
        let sql = r#"DELETE FROM "payloads" WHERE "key" = ?1"#;
        let key = key.to_owned();
        self.db
            .call(move |conn| Ok(conn.execute(sql, [key])?))
            .await?;
        Ok(())
    }
}

//! [`SqliteWorkQueue`]: an at-least-once queue with delayed visibility in a SQLite file.
//!
//! A message is a row with its body, the time it becomes visible and the receipt of its
//! current holder. `receive` claims rows in one immediate transaction, pushing `visible_at`
//! forward and writing a fresh random receipt, so concurrent receivers (threads or processes)
//! never claim the same row in one visibility window and an older receipt stops working.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use des_core::ports::{Clock, Delivery, QueueError, SystemClock, WorkQueue};
use rusqlite::{Connection, Row, TransactionBehavior, params};
use uuid::Uuid;

use crate::database::{self, Database, DatabaseError, unix_millis};

/// The largest body accepted, as Azure Storage Queues allow (64 KiB once base64-encoded), so
/// local runs exercise the same offload-to-payload-store path as Azure ones.
pub const MAX_MESSAGE_BYTES: usize = 48 * 1024;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS "queue_messages" (
    "seq" INTEGER PRIMARY KEY AUTOINCREMENT,
    "queue" TEXT NOT NULL,
    "id" TEXT NOT NULL UNIQUE,
    "body" BLOB NOT NULL,
    "visible_at" INTEGER NOT NULL,
    "dequeue_count" INTEGER NOT NULL DEFAULT 0,
    "receipt" TEXT);
CREATE INDEX IF NOT EXISTS "queue_messages_due" ON "queue_messages" ("queue", "visible_at", "seq");
"#;

const PICK: &str = r#"SELECT "seq" FROM "queue_messages" WHERE "queue" = ?1 AND "visible_at" <= ?2
                      ORDER BY "visible_at", "seq" LIMIT ?3"#;

const CLAIM: &str = r#"UPDATE "queue_messages"
    SET "visible_at" = ?2, "dequeue_count" = "dequeue_count" + 1,
        "receipt" = lower(hex(randomblob(16)))
    WHERE "seq" = ?1
    RETURNING "id", "receipt", "body", "dequeue_count""#;

/// The local [`WorkQueue`]. Several named queues may share one file, and the file may be
/// shared with a [`crate::SqlitePayloadStore`].
#[derive(Debug, Clone)]
pub struct SqliteWorkQueue {
    db: Database,
    name: String,
}

impl SqliteWorkQueue {
    /// Opens the queue `name` in the file at `path`, creating both if needed. Messages survive
    /// restarts: reopening the file finds them with their visibility and dequeue counts.
    pub async fn open(path: impl AsRef<Path>, name: &str) -> Result<Self, QueueError> {
        let db = database::open(path.as_ref(), &[SCHEMA]).await?;
        Ok(Self {
            db,
            name: name.to_owned(),
        })
    }

    /// The queue name, message id and receipt that identify a held message.
    fn lease(&self, delivery: &Delivery) -> (String, String, String) {
        (
            self.name.clone(),
            delivery.id.clone(),
            delivery.receipt.clone(),
        )
    }
}

fn now_millis() -> i64 {
    unix_millis(SystemClock.now())
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Claims up to `max` due messages of `queue`, hiding them for `visibility`.
fn claim(
    conn: &mut Connection,
    queue: &str,
    max: usize,
    visibility: Duration,
) -> Result<Vec<Delivery>, DatabaseError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read the clock once the write lock is held, so claims are ordered like their times.
    let now = now_millis();
    let hide_until = now.saturating_add(millis(visibility));
    let limit = i64::try_from(max).unwrap_or(i64::MAX);
    let picked: Vec<i64> = {
        let mut stmt = tx.prepare_cached(PICK)?;
        let rows = stmt.query_map(params![queue, now, limit], |row| row.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut deliveries = Vec::with_capacity(picked.len());
    {
        let mut stmt = tx.prepare_cached(CLAIM)?;
        for seq in picked {
            deliveries.push(stmt.query_row(params![seq, hide_until], delivery)?);
        }
    }
    tx.commit()?;
    Ok(deliveries)
}

/// `Ok` when the statement matched the held message, `LostLease` when the receipt was stale.
fn held(changed: usize, delivery: &Delivery) -> Result<(), QueueError> {
    if changed == 0 {
        return Err(QueueError::LostLease(delivery.id.clone()));
    }
    Ok(())
}

fn delivery(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: row.get(0)?,
        receipt: row.get(1)?,
        body: row.get(2)?,
        dequeue_count: row.get(3)?,
    })
}

#[async_trait]
impl WorkQueue for SqliteWorkQueue {
    async fn send(&self, body: &[u8], delay: Duration) -> Result<(), QueueError> {
        if body.len() > MAX_MESSAGE_BYTES {
            return Err(QueueError::TooLarge(body.len()));
        }
        let sql = r#"INSERT INTO "queue_messages" ("queue", "id", "body", "visible_at")
                     VALUES (?1, ?2, ?3, ?4)"#;
        let visible_at = now_millis().saturating_add(millis(delay));
        let values = (
            self.name.clone(),
            Uuid::new_v4().to_string(),
            body.to_vec(),
            visible_at,
        );
        self.db
            .call(move |conn| Ok(conn.execute(sql, values)?))
            .await?;
        Ok(())
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError> {
        let queue = self.name.clone();
        let received = self
            .db
            .call(move |conn| claim(conn, &queue, max, visibility))
            .await?;
        tracing::trace!(queue = %self.name, count = received.len(), "Received messages.");
        Ok(received)
    }

    async fn delete(&self, delivery: &Delivery) -> Result<(), QueueError> {
        let sql = r#"DELETE FROM "queue_messages"
                     WHERE "queue" = ?1 AND "id" = ?2 AND "receipt" = ?3"#;
        let (queue, id, receipt) = self.lease(delivery);
        let deleted = self
            .db
            .call(move |conn| Ok(conn.execute(sql, (queue, id, receipt))?));
        held(deleted.await?, delivery)
    }

    async fn release(&self, delivery: &Delivery, delay: Duration) -> Result<(), QueueError> {
        // Clearing the receipt makes the one the caller holds stale, as Azure does when it
        // updates a message's visibility.
        let sql = r#"UPDATE "queue_messages" SET "visible_at" = ?4, "receipt" = NULL
                     WHERE "queue" = ?1 AND "id" = ?2 AND "receipt" = ?3"#;
        let (queue, id, receipt) = self.lease(delivery);
        let visible_at = now_millis().saturating_add(millis(delay));
        let values = (queue, id, receipt, visible_at);
        let released = self.db.call(move |conn| Ok(conn.execute(sql, values)?));
        held(released.await?, delivery)
    }

    async fn approximate_len(&self) -> Result<u64, QueueError> {
        let sql = r#"SELECT count(*) FROM "queue_messages" WHERE "queue" = ?1"#;
        let queue = self.name.clone();
        let len = self
            .db
            .call(move |conn| Ok(conn.query_row(sql, [queue], |r| r.get(0))?));
        let len: i64 = len.await?;
        Ok(u64::try_from(len).unwrap_or(0))
    }
}

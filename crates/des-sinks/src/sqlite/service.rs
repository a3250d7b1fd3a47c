//! The SQLite [`Sink`].

use std::sync::Arc;

use async_trait::async_trait;
use des_core::ports::{BatchOutcome, PermissionCheck, RetryOutcome, Sink, SinkError};
use des_core::schema::{SchemaPlan, TableDef};
use des_core::{Batch, Change, RetryChange};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::apply::{BatchJob, Chunk, RetryJob};
use super::client::{self, Client, db_error};
use super::config::SqliteConfig;
use super::decimal::with_exact_columns;
use super::encoding::iso_datetime;
use super::permissions;
use super::rows::{Encoded, Layout};
use super::schema;
use super::state;
use super::writer::TableWriter;
use crate::prepared::{Prepared, StateKey};
use crate::tables;

/// A SQLite file as a DES target.
#[derive(Clone)]
pub struct SqliteSink {
    client: Client,
    /// The profiles (with prefix) whose state this sink has prepared (`state::prepare`).
    prepared: Arc<Prepared>,
}

impl SqliteSink {
    /// Opens the target file, creating it when missing.
    pub fn open(config: &SqliteConfig) -> Result<Self, SinkError> {
        Ok(Self {
            client: client::open(config)?,
            prepared: Arc::default(),
        })
    }

    /// Creates the state tables and moves the old layout's state of the table's prefix to
    /// `profile`, once per sink and profile: the first call for a profile finds its state
    /// where it was left, whichever layout left it.
    async fn prepare(&self, profile: Uuid, table: &TableDef) -> Result<(), SinkError> {
        let key = StateKey::of(profile, table)?;
        if self.prepared.contains(&key) {
            return Ok(());
        }
        let prefix = key.prefix.clone();
        self.client
            .call(move |conn| state::prepare(conn, profile, &prefix))
            .await?;
        self.prepared.insert(key);
        Ok(())
    }
}

fn now() -> String {
    iso_datetime(OffsetDateTime::now_utc())
}

/// Rows per encoded chunk: small enough that encoding never holds an async worker for long,
/// large enough that the channel costs nothing next to the rows.
const CHUNK_ROWS: usize = 500;

/// Encoded chunks waiting for the writer: encoding outruns SQLite, and an unbounded channel
/// would hold a second, encoded copy of the whole page.
const CHUNKS_AHEAD: usize = 2;

/// Applies a batch while encoding it: the blocking thread opens the transaction and writes
/// each chunk as soon as this task has encoded it, so the two overlap and the batch itself
/// is never copied.
async fn apply_batch(
    client: &Client,
    plan: &SchemaPlan,
    table: &TableDef,
    batch: &Batch,
) -> Result<BatchOutcome, SinkError> {
    let table = &*with_exact_columns(table);
    let layout = Layout::new(table, &batch.columns)?;
    let (sender, chunks) = mpsc::channel(CHUNKS_AHEAD);
    let job = BatchJob {
        writer: TableWriter::new(
            batch.stream.profile_id,
            plan,
            table,
            tables::entity_of(table)?,
            &layout.placeholders(),
        ),
        seq: batch.seq,
        kind: batch.kind,
        chunks,
        now: now(),
    };
    let pending = client.spawn(move |conn| job.run(conn));
    for part in batch.changes.chunks(CHUNK_ROWS) {
        let encoded = part.iter().map(|c| Encoded::new(&layout, c)).collect();
        if sender.send(Chunk::Changes(encoded)).await.is_err() {
            break; // A duplicate or early batch: the writer has already answered.
        }
    }
    // Fails only when the writer has already answered; its answer says why.
    let _ = sender.send(Chunk::End).await;
    pending.wait().await
}

fn retry_job(
    plan: &SchemaPlan,
    table: &TableDef,
    retry: &RetryChange,
) -> Result<RetryJob, SinkError> {
    let table = &*with_exact_columns(table);
    let layout = Layout::new(table, &retry.columns)?;
    let now = now();
    let version = match &retry.change {
        Change::Upsert(row) => Some(row.version),
        Change::Delete(_) => None,
    };
    Ok(RetryJob {
        writer: TableWriter::new(
            retry.stream.profile_id,
            plan,
            table,
            tables::entity_of(table)?,
            &layout.placeholders(),
        ),
        origin_seq: retry.origin_seq,
        version,
        change: Encoded::new(&layout, &retry.change),
        now,
    })
}

#[async_trait]
impl Sink for SqliteSink {
    async fn ping(&self) -> Result<(), SinkError> {
        self.client
            .call(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(db_error))
            .await
    }

    async fn apply_schema(&self, plan: &SchemaPlan) -> Result<(), SinkError> {
        let plan = plan.clone();
        self.client
            .call(move |conn| schema::apply(conn, &plan))
            .await
    }

    async fn apply_batch(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        batch: &Batch,
    ) -> Result<BatchOutcome, SinkError> {
        self.prepare(batch.stream.profile_id, table).await?;
        apply_batch(&self.client, plan, table, batch).await
    }

    async fn apply_retry(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        retry: &RetryChange,
    ) -> Result<RetryOutcome, SinkError> {
        self.prepare(retry.stream.profile_id, table).await?;
        let job = retry_job(plan, table, retry)?;
        self.client.call(move |conn| job.run(conn)).await
    }

    async fn watermark(&self, profile_id: Uuid, table: &TableDef) -> Result<u64, SinkError> {
        self.prepare(profile_id, table).await?;
        let plan = SchemaPlan {
            schema: table.schema.clone(),
            prefix: tables::prefix_of(table)?.to_owned(),
            tables: Vec::new(),
            metadata: Vec::new(),
            delete_log: None,
        };
        let entity = tables::entity_of(table)?;
        let writer = TableWriter::new(profile_id, &plan, table, entity, &[("Id", 2)]);
        self.client
            .call(move |conn| writer.watermark(conn).map_err(db_error))
            .await
    }

    async fn has_table(&self, table: &TableDef) -> Result<bool, SinkError> {
        let name = table.name.clone();
        self.client
            .call(move |conn| {
                let sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1";
                let n: i64 = conn
                    .query_row(sql, [&name], |r| r.get(0))
                    .map_err(db_error)?;
                Ok(n > 0)
            })
            .await
    }

    async fn identify(&self, profile_id: Uuid, token: &str) -> Result<Option<String>, SinkError> {
        let token = token.to_owned();
        self.client
            .call(move |conn| state::identify(conn, profile_id, &token))
            .await
    }

    async fn check_permissions(
        &self,
        plan: &SchemaPlan,
    ) -> Result<Vec<PermissionCheck>, SinkError> {
        let prefix = plan.prefix.clone();
        self.client
            .call(move |conn| permissions::check(conn, &prefix))
            .await
    }
}

//! The PostgreSQL [`Sink`].

use async_trait::async_trait;
use des_core::ports::{BatchOutcome, PermissionCheck, RetryOutcome, Sink, SinkError};
use des_core::schema::{SchemaPlan, TableDef};
use des_core::{Batch, RetryChange};
use uuid::Uuid;

use super::apply;
use super::client::{Pool, db_error};
use super::config::PostgresConfig;
use super::permissions;
use super::rows::Layout;
use super::schema;
use super::sql;
use super::state;
use super::writer::Writer;
use crate::prepared::{Prepared, StateKey};

/// A PostgreSQL database as a DES target. Connections are opened on demand and pooled, so
/// batches of different tables run in parallel, each on its own connection.
pub struct PostgresSink {
    pool: Pool,
    /// The profiles (with schema and prefix) whose state this sink has prepared.
    prepared: Prepared,
}

impl PostgresSink {
    /// A sink that connects on first use.
    pub fn new(config: &PostgresConfig) -> Self {
        Self {
            pool: Pool::new(config),
            prepared: Prepared::default(),
        }
    }

    /// Creates the state schema and moves the old layout's state of the table's schema and
    /// prefix to `profile`, once per sink and profile (`state::prepare`): the first call for a
    /// profile finds its state where it was left, whichever layout left it.
    async fn prepare(&self, profile: Uuid, table: &TableDef) -> Result<(), SinkError> {
        let key = StateKey::of(profile, table)?;
        if self.prepared.contains(&key) {
            return Ok(());
        }
        let mut client = self.pool.get().await?;
        state::prepare(&mut client, profile, &key.schema, &key.prefix).await?;
        self.prepared.insert(key);
        Ok(())
    }

    /// A sink whose server has answered once: fails early when the target is unreachable.
    pub async fn connect(config: &PostgresConfig) -> Result<Self, SinkError> {
        let sink = Self::new(config);
        sink.pool
            .get()
            .await?
            .simple_query("SELECT 1")
            .await
            .map_err(db_error)?;
        Ok(sink)
    }
}

#[async_trait]
impl Sink for PostgresSink {
    async fn ping(&self) -> Result<(), SinkError> {
        let client = self.pool.get().await?;
        client.simple_query("SELECT 1").await.map_err(db_error)?;
        Ok(())
    }

    async fn apply_schema(&self, plan: &SchemaPlan) -> Result<(), SinkError> {
        let mut client = self.pool.get().await?;
        schema::apply(&mut client, plan).await
    }

    async fn apply_batch(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        batch: &Batch,
    ) -> Result<BatchOutcome, SinkError> {
        self.prepare(batch.stream.profile_id, table).await?;
        let writer = Writer::new(batch.stream.profile_id, plan, table)?;
        let layout = Layout::new(table, &batch.columns)?;
        let mut client = self.pool.get_for(&layout.stage_name()).await?;
        apply::apply_batch(&mut client, &writer, &layout, batch).await
    }

    async fn apply_retry(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        retry: &RetryChange,
    ) -> Result<RetryOutcome, SinkError> {
        self.prepare(retry.stream.profile_id, table).await?;
        let writer = Writer::new(retry.stream.profile_id, plan, table)?;
        let layout = Layout::new(table, &retry.columns)?;
        let mut client = self.pool.get_for(&layout.stage_name()).await?;
        apply::apply_retry(&mut client, &writer, &layout, retry).await
    }

    async fn watermark(&self, profile_id: Uuid, table: &TableDef) -> Result<u64, SinkError> {
        self.prepare(profile_id, table).await?;
        Writer::without_plan(profile_id, table)?
            .watermark(&*self.pool.get().await?)
            .await
    }

    async fn has_table(&self, table: &TableDef) -> Result<bool, SinkError> {
        let name = format!("{}.{}", sql::quote(&table.schema), sql::quote(&table.name));
        let client = self.pool.get().await?;
        let row = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
            .await
            .map_err(db_error)?;
        Ok(row.get(0))
    }

    async fn identify(&self, profile_id: Uuid, token: &str) -> Result<Option<String>, SinkError> {
        let mut client = self.pool.get().await?;
        state::identify(&mut client, profile_id, token).await
    }

    async fn check_permissions(
        &self,
        plan: &SchemaPlan,
    ) -> Result<Vec<PermissionCheck>, SinkError> {
        permissions::check_all(&*self.pool.get().await?, plan).await
    }
}

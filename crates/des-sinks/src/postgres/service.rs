//! The PostgreSQL [`Sink`].

use async_trait::async_trait;
use des_core::ports::{BatchOutcome, PermissionCheck, RetryOutcome, Sink, SinkError};
use des_core::schema::{SchemaPlan, TableDef};
use des_core::{Batch, RetryChange};

use super::apply;
use super::client::{Pool, db_error};
use super::config::PostgresConfig;
use super::permissions;
use super::rows::Layout;
use super::schema;
use super::sql;
use super::writer::Writer;

/// A PostgreSQL database as a DES target. Connections are opened on demand and pooled, so
/// batches of different tables run in parallel, each on its own connection.
pub struct PostgresSink {
    pool: Pool,
}

impl PostgresSink {
    /// A sink that connects on first use.
    pub fn new(config: &PostgresConfig) -> Self {
        Self {
            pool: Pool::new(config),
        }
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
        let writer = Writer::new(plan, table)?;
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
        let writer = Writer::new(plan, table)?;
        let layout = Layout::new(table, &retry.columns)?;
        let mut client = self.pool.get_for(&layout.stage_name()).await?;
        apply::apply_retry(&mut client, &writer, &layout, retry).await
    }

    async fn watermark(&self, table: &TableDef) -> Result<u64, SinkError> {
        Writer::without_plan(table)?
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

    async fn check_permissions(
        &self,
        plan: &SchemaPlan,
    ) -> Result<Vec<PermissionCheck>, SinkError> {
        permissions::check_all(&*self.pool.get().await?, plan).await
    }
}

//! The SQL Server [`Sink`].

use async_trait::async_trait;
use des_core::ports::{BatchOutcome, PermissionCheck, RetryOutcome, Sink, SinkError};
use des_core::schema::{SchemaPlan, TableDef};
use des_core::{Batch, RetryChange};

use super::apply;
use super::client::{Pool, run, scalar};
use super::config::MssqlConfig;
use super::permissions;
use super::rows::Layout;
use super::schema;
use super::sql;
use super::writer::Writer;

/// A SQL Server or Azure SQL database as a DES target. Connections are opened on demand and
/// pooled, so batches of different tables run in parallel, each on its own connection.
pub struct MssqlSink {
    pool: Pool,
}

impl MssqlSink {
    /// A sink that connects on first use.
    pub fn new(config: &MssqlConfig) -> Self {
        Self {
            pool: Pool::new(config),
        }
    }

    /// A sink whose server has answered once: fails early when the target is unreachable.
    pub async fn connect(config: &MssqlConfig) -> Result<Self, SinkError> {
        let sink = Self::new(config);
        let mut conn = sink.pool.get().await?;
        run(&mut conn, "SELECT 1", &[]).await?;
        conn.release();
        Ok(sink)
    }
}

#[async_trait]
impl Sink for MssqlSink {
    async fn ping(&self) -> Result<(), SinkError> {
        let mut conn = self.pool.get().await?;
        run(&mut conn, "SELECT 1", &[]).await?;
        conn.release();
        Ok(())
    }

    async fn apply_schema(&self, plan: &SchemaPlan) -> Result<(), SinkError> {
        let mut conn = self.pool.get().await?;
        schema::apply(&mut conn, plan).await?;
        conn.release();
        Ok(())
    }

    async fn apply_batch(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        batch: &Batch,
    ) -> Result<BatchOutcome, SinkError> {
        let writer = Writer::new(plan, table)?;
        let layout = Layout::new(table, &batch.columns)?;
        let mut conn = self.pool.get().await?;
        let outcome = apply::apply_batch(&mut conn, &writer, &layout, batch).await?;
        conn.release();
        Ok(outcome)
    }

    async fn apply_retry(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        retry: &RetryChange,
    ) -> Result<RetryOutcome, SinkError> {
        let writer = Writer::new(plan, table)?;
        let layout = Layout::new(table, &retry.columns)?;
        let mut conn = self.pool.get().await?;
        let outcome = apply::apply_retry(&mut conn, &writer, &layout, retry).await?;
        conn.release();
        Ok(outcome)
    }

    async fn watermark(&self, table: &TableDef) -> Result<u64, SinkError> {
        let mut conn = self.pool.get().await?;
        let seq = Writer::without_plan(table)?.watermark(&mut conn).await?;
        conn.release();
        Ok(seq)
    }

    async fn has_table(&self, table: &TableDef) -> Result<bool, SinkError> {
        let mut conn = self.pool.get().await?;
        let name = sql::table_name(table);
        let found = scalar::<i32>(&mut conn, "SELECT OBJECT_ID(@P1, 'U')", &[&name]).await?;
        conn.release();
        Ok(found.flatten().is_some())
    }

    async fn check_permissions(
        &self,
        plan: &SchemaPlan,
    ) -> Result<Vec<PermissionCheck>, SinkError> {
        let mut conn = self.pool.get().await?;
        let checks = permissions::check_all(&mut conn, plan).await?;
        conn.release();
        Ok(checks)
    }
}

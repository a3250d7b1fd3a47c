//! The SQL Server [`Sink`].

use async_trait::async_trait;
use des_core::ports::{BatchOutcome, PermissionCheck, RetryOutcome, Sink, SinkError};
use des_core::schema::{SchemaPlan, TableDef};
use des_core::{Batch, RetryChange};
use uuid::Uuid;

use super::apply;
use super::client::{Connection, Finish, Pool, begin, db_error, end, run, scalar};
use super::config::MssqlConfig;
use super::permissions;
use super::rows::Layout;
use super::schema;
use super::sql;
use super::state;
use super::writer::Writer;
use crate::prepared::{Prepared, StateKey};

/// A SQL Server or Azure SQL database as a DES target. Connections are opened on demand and
/// pooled, so batches of different tables run in parallel, each on its own connection.
pub struct MssqlSink {
    pool: Pool,
    /// The profiles (with schema and prefix) whose state this sink has prepared.
    prepared: Prepared,
}

impl MssqlSink {
    /// A sink that connects on first use.
    pub fn new(config: &MssqlConfig) -> Self {
        Self {
            pool: Pool::new(config),
            prepared: Prepared::default(),
        }
    }

    /// Creates the state schema and moves the old layout's state of the table's schema and
    /// prefix to `profile` (`state::migrate`), in one transaction, once per sink and profile:
    /// the first call for a profile finds its state where it was left, whichever layout left it.
    async fn prepare(&self, profile: Uuid, table: &TableDef) -> Result<(), SinkError> {
        let key = StateKey::of(profile, table)?;
        if self.prepared.contains(&key) {
            return Ok(());
        }
        let mut conn = self.pool.get().await?;
        begin(&mut conn).await?;
        let outcome = async {
            schema::create_state(&mut conn).await?;
            let migrate = state::migrate(profile, &key.schema, &key.prefix);
            run(&mut conn, &migrate, &[]).await?;
            Ok(Finish::Commit(()))
        }
        .await;
        end(&mut conn, outcome).await?;
        conn.release();
        self.prepared.insert(key);
        Ok(())
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

/// The profile's identity token in the target, if it has one.
async fn token_of(conn: &mut Connection, profile: Uuid) -> Result<Option<String>, SinkError> {
    let row = conn
        .query(state::select_token(profile).as_str(), &[])
        .await
        .map_err(db_error)?
        .into_row()
        .await
        .map_err(db_error)?;
    Ok(row.and_then(|r| r.get::<&str, _>(0).map(str::to_owned)))
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
        self.prepare(batch.stream.profile_id, table).await?;
        let writer = Writer::new(batch.stream.profile_id, plan, table)?;
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
        self.prepare(retry.stream.profile_id, table).await?;
        let writer = Writer::new(retry.stream.profile_id, plan, table)?;
        let layout = Layout::new(table, &retry.columns)?;
        let mut conn = self.pool.get().await?;
        let outcome = apply::apply_retry(&mut conn, &writer, &layout, retry).await?;
        conn.release();
        Ok(outcome)
    }

    async fn watermark(&self, profile_id: Uuid, table: &TableDef) -> Result<u64, SinkError> {
        self.prepare(profile_id, table).await?;
        let mut conn = self.pool.get().await?;
        let seq = Writer::without_plan(profile_id, table)?
            .watermark(&mut conn)
            .await?;
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

    async fn identify(&self, profile_id: Uuid, token: &str) -> Result<Option<String>, SinkError> {
        let mut conn = self.pool.get().await?;
        begin(&mut conn).await?;
        let outcome = async {
            schema::create_state(&mut conn).await?;
            let before = token_of(&mut conn, profile_id).await?;
            run(&mut conn, &state::put_token(profile_id), &[&token]).await?;
            Ok(Finish::Commit(before))
        }
        .await;
        let before = end(&mut conn, outcome).await?;
        conn.release();
        Ok(before)
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

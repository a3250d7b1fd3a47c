//! A whole local deployment in a temp dir: the emulator over real HTTP, the real
//! `DataverseClient`, the real sink of the chosen [`crate::target::TargetKind`] (`SqliteSink`
//! or `PostgresSink`, behind [`FaultySink`]), the real des-local control store, queue
//! (optionally behind [`ChaosQueue`]), payload store and failure log.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataverse::{CachedToken, ClientConfig, ClientCredentials, DataverseClient, TokenProvider};
use dataverse_emulator::{Emulator, EmulatorConfig};
use des_core::ports::{Source, SystemClock, WorkQueue};
use des_core::profile::Profile;
use des_core::schema::{Naming, TableDef, plan_entity_table};
use des_core::{EntityMetadata, Secret};
use des_engine::{EnginePorts, Mode, Runtime, RuntimeHandle, SingleSink, SingleSource};
use des_local::{FileFailureLog, FilePayloadStore, SqliteControlStore, SqliteWorkQueue};
use url::Url;

use crate::chaos_queue::ChaosQueue;
use crate::compare::{by_id, compare_rows};
use crate::faulty_sink::FaultySink;
use crate::options::profile;
pub use crate::options::{Options, fast_runtime};
use crate::target::TargetDb;

/// A running emulator plus the adapters of one local deployment.
pub struct Harness {
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
    pub client: Arc<DataverseClient>,
    pub sink: Arc<FaultySink>,
    pub target: TargetDb,
    pub queue: Arc<dyn WorkQueue>,
    pub ports: EnginePorts,
    pub profile: Profile,
    pub options: Options,
}

impl Harness {
    /// Starts the emulator, opens the adapters and creates an inactive profile.
    pub async fn start(options: Options) -> Self {
        let config = EmulatorConfig {
            port: 0,
            records: options.records,
            limits: options.limits.clone(),
            ..Default::default()
        };
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let client = Arc::new(client_for(&emulator, &options));
        let dir = tempfile::tempdir().expect("temp dir");
        let target = TargetDb::create(&options.target, dir.path()).await;
        let sink = Arc::new(FaultySink::new(target.open_sink().await));
        let (ports, queue) = open_ports(dir.path(), &client, &sink, &options).await;
        let profile = des_engine::admin::create_profile(&ports, profile(&options))
            .await
            .expect("profile is created");
        Self {
            emulator,
            dir,
            client,
            sink,
            target,
            queue,
            ports,
            profile,
            options,
        }
    }

    /// The SQLite target file; panics on another target.
    pub fn target_db(&self) -> PathBuf {
        let path = self.target.sqlite_path().expect("the target is SQLite");
        path.to_path_buf()
    }

    /// Re-opens every adapter from its files, as a restarted process would. Records that
    /// were set to fail keep failing.
    pub async fn reopen(&mut self) {
        let sink = Arc::new(FaultySink::new(self.target.open_sink().await));
        sink.fail_records(self.sink.heal());
        let (ports, queue) = open_ports(self.dir.path(), &self.client, &sink, &self.options).await;
        (self.sink, self.ports, self.queue) = (sink, ports, queue);
    }

    /// The control store is lost (an operator deletes a corrupt `control.db`): the adapters
    /// reopen on a new, empty one, and a new profile like the first, activated, takes over
    /// the same source and target. The queue and the target keep what they hold.
    pub async fn lose_control_store(&mut self, mode: Mode) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(self.dir.path().join(format!("control.db{suffix}")));
        }
        self.reopen().await;
        self.profile = des_engine::admin::create_profile(&self.ports, profile(&self.options))
            .await
            .expect("profile is created");
        self.activate(mode).await;
    }

    pub async fn activate(&self, mode: Mode) {
        des_engine::admin::activate(&self.ports, self.profile.id, mode)
            .await
            .expect("activates");
    }

    pub fn run(&self) -> RuntimeHandle {
        Runtime::start(self.ports.clone(), self.options.runtime.clone())
    }

    /// The planned table and metadata of an entity, as the engine plans them.
    pub async fn table(&self, entity: &str) -> (TableDef, EntityMetadata) {
        let metadata = self.client.entity_metadata(entity).await.expect("metadata");
        let table = plan_entity_table(&Naming::from_profile(&self.profile), &metadata);
        (table, metadata)
    }

    /// `Ok` when every exported table equals the source; otherwise the first difference.
    pub async fn diff(&self) -> Result<(), String> {
        for entity in &self.options.entities {
            let (table, metadata) = self.table(entity).await;
            let rows = by_id(&metadata, self.emulator.control().annotated_rows(entity));
            compare_rows(&self.target.rows(&table).await?, &table, &metadata, &rows)?;
        }
        for relationship in &self.options.relationships {
            self.relationship_diff(relationship).await?;
        }
        Ok(())
    }

    /// `Ok` when the M:N table of `relationship` equals the source's intersect rows.
    pub async fn relationship_diff(&self, relationship: &str) -> Result<(), String> {
        let all = self
            .client
            .relationships()
            .await
            .map_err(|e| e.to_string())?;
        let rel = all
            .iter()
            .find(|r| r.schema_name == relationship)
            .ok_or_else(|| format!("no relationship {relationship}"))?;
        let intersect = &rel.intersect_entity_name;
        let metadata = self
            .client
            .entity_metadata(intersect)
            .await
            .map_err(|e| e.to_string())?;
        let naming = Naming::from_profile(&self.profile);
        let table = des_core::schema::plan_relationship_table(&naming, rel, &metadata);
        let rows = by_id(&metadata, self.emulator.control().rows(intersect));
        compare_rows(&self.target.rows(&table).await?, &table, &metadata, &rows)
    }

    /// Waits until the queue is drained and every table equals the source.
    pub async fn converged(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let pending = self
                .queue
                .approximate_len()
                .await
                .map_err(|e| e.to_string())?;
            let diff = match pending {
                0 => self.diff().await,
                n => Err(format!("{n} messages still queued")),
            };
            match diff {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!("{e}; {}", self.cursor_summary().await));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// `entity: phase next_seq=…` per exported entity, for divergence reports.
    pub async fn cursor_summary(&self) -> String {
        let mut parts = Vec::new();
        for entity in &self.options.entities {
            let cursor = self.ports.control.cursor(self.profile.id, entity).await;
            let text = match cursor {
                Ok(Some(c)) => format!(
                    "{entity}: {:?} next_seq={}",
                    c.value.phase, c.value.next_seq
                ),
                other => format!("{entity}: {other:?}"),
            };
            parts.push(text);
        }
        parts.join(", ")
    }

    pub async fn failure_lines(&self) -> Vec<String> {
        self.ports
            .failures
            .read_all(self.profile.id)
            .await
            .expect("failure log")
    }

    /// Removes what outlives the temp dir: a server target's database. Call after the
    /// runtime has stopped; a diverged run skips it so its database can be inspected.
    pub async fn dispose(self) {
        match self.target {
            TargetDb::Postgres(db) => db.drop_database().await,
            TargetDb::Mssql(db) => db.drop_database().await,
            TargetDb::Sqlite(_) => {}
        }
    }
}

/// Polls `check` every 50 ms until it holds; `false` at the timeout.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}

fn client_for(emulator: &Emulator, options: &Options) -> DataverseClient {
    let org_url = Url::parse(&emulator.base_url()).expect("emulator url");
    let mut config = ClientConfig::new(org_url.clone());
    config.page_size = options.page_size;
    config.retry.base_backoff = Duration::from_millis(20);
    config.max_concurrency = config.max_concurrency.min(options.limits.concurrent);
    let users = (0..options.app_users.max(1))
        .map(|n| app_user(emulator, &org_url, n))
        .collect();
    DataverseClient::with_app_users(config, users).expect("client")
}

/// The emulator's own app user first; each further one registered with its own budget.
fn app_user(emulator: &Emulator, org_url: &Url, n: usize) -> Arc<dyn TokenProvider> {
    let (client_id, secret) = if n == 0 {
        let id = emulator.client_id().to_owned();
        (id, emulator.client_secret().to_owned())
    } else {
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let secret = format!("app-user-{n}-secret");
        emulator.control().register_confidential_app(&id, &secret);
        (id, secret)
    };
    let token_url = Url::parse(&emulator.token_url()).expect("token url");
    let scope = ClientCredentials::scope_for(org_url);
    let credentials = ClientCredentials::new(token_url, &client_id, Secret::new(secret), &scope);
    Arc::new(CachedToken::new(credentials))
}

async fn open_ports(
    dir: &std::path::Path,
    client: &Arc<DataverseClient>,
    sink: &Arc<FaultySink>,
    options: &Options,
) -> (EnginePorts, Arc<dyn WorkQueue>) {
    let queue_db = dir.join("queue.db");
    let real: Arc<dyn WorkQueue> = Arc::new(
        SqliteWorkQueue::open(&queue_db, "work")
            .await
            .expect("queue opens"),
    );
    let queue: Arc<dyn WorkQueue> = match options.chaos {
        Some((chaos, seed)) => Arc::new(ChaosQueue::new(Arc::clone(&real), chaos, seed)),
        None => Arc::clone(&real),
    };
    let source: Arc<dyn Source> = Arc::clone(client) as Arc<dyn Source>;
    let ports = EnginePorts {
        control: Arc::new(
            SqliteControlStore::open(dir.join("control.db"))
                .await
                .expect("control"),
        ),
        queue,
        payloads: Arc::new(
            FilePayloadStore::open(dir.join("payloads"))
                .await
                .expect("payloads"),
        ),
        failures: Arc::new(FileFailureLog::new(dir.join("failures"))),
        clock: Arc::new(SystemClock),
        sources: Arc::new(SingleSource(source)),
        sinks: Arc::new(SingleSink(
            Arc::clone(sink) as Arc<dyn des_core::ports::Sink>
        )),
    };
    (ports, real)
}

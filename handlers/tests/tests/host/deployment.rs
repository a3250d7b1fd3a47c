//! One deployment as the test sees it: the Dataverse emulator (tokens and data), an Azurite
//! account, the organization in the control store, SQLite targets in a temp dir, and the
//! app settings the three handlers get.
//!
//! Target secrets without Key Vault: a profile's `DestinationKeyVaultUri` is `local:<name>`,
//! which a handler resolves from its app setting `DES_SECRET_<NAME>` (here: the SQLite
//! path). The organization's `ClientSecretRef` is `local:dataverse` the same way. Each
//! process has its own settings, which is how the applier alone is given an unreachable
//! target below.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dataverse::{CachedToken, ClientConfig, ClientCredentials, DataverseClient};
use dataverse_emulator::{Emulator, EmulatorConfig};
use des_azure::StorageAccount;
use des_azure::names::{CONTROL_CONTAINER, FAILURE_CONTAINER, POISON_QUEUE, WORK_QUEUE};
use des_azure::{AppendBlobFailureLog, BlobControlStore, StorageQueue};
use des_core::Secret;
use des_core::ports::{ControlStore, FailureLog, Organization, WorkQueue};
use serde_json::{Value, json};
use uuid::Uuid;

/// The `aud` of the API's tokens.
pub const AUDIENCE: &str = "api://data-export-service";

pub struct Deployment {
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
    pub connection: String,
    pub account: StorageAccount,
    pub org: Organization,
    pub admin: Uuid,
}

impl Deployment {
    pub async fn start(connection: String) -> Self {
        let account =
            StorageAccount::from_connection_string(&connection).expect("connection string");
        forget_earlier_runs(&account).await;
        let config = EmulatorConfig {
            records: 12,
            ..Default::default()
        };
        let emulator = Emulator::start(config).await.expect("emulator");
        let org = organization(&emulator).await;
        let control = BlobControlStore::open(&account, CONTROL_CONTAINER)
            .await
            .expect("control");
        control.put_organization(&org).await.expect("organization");
        let admin = Uuid::new_v4();
        emulator.control().add_user(admin, "Ada Admin", true);
        let dir = tempfile::tempdir().expect("temp dir");
        // A regular file where the broken target's folder should be: no one can open it.
        std::fs::write(dir.path().join("not-a-folder"), b"").expect("file");
        Self {
            emulator,
            dir,
            connection,
            account,
            org,
            admin,
        }
    }

    pub fn target(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.db"))
    }

    pub fn unreachable_target(&self) -> PathBuf {
        self.dir.path().join("not-a-folder").join("target.db")
    }

    /// The app settings every handler gets, with `second` as the `local:second` target.
    pub fn settings(&self, second: &Path) -> Vec<(String, String)> {
        let pairs = [
            ("AzureWebJobsStorage", self.connection.clone()),
            ("FUNCTIONS_WORKER_RUNTIME", "custom".into()),
            ("DES_POLL_BUDGET_SECONDS", "10".into()),
            ("DES_MAX_DEQUEUE_COUNT", "3".into()),
            ("DES_API_AUTHORITY", self.emulator.issuer()),
            ("DES_API_AUDIENCE", AUDIENCE.into()),
            ("DES_PUBLIC_BASE_URL", "http://127.0.0.1:7071".into()),
            ("DES_ENTRA_AUTHORITY", self.emulator.base_url()),
            ("DES_SECRET_DATAVERSE", self.emulator.client_secret().into()),
            (
                "DES_SECRET_TARGET",
                self.target("target").display().to_string(),
            ),
            ("DES_SECRET_SECOND", second.display().to_string()),
            ("RUST_LOG", "warn".into()),
        ];
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    pub fn token(&self) -> String {
        self.emulator
            .control()
            .mint_user_token(self.admin, AUDIENCE)
    }

    pub async fn queue(&self, name: &str) -> StorageQueue {
        StorageQueue::open(&self.account, name)
            .await
            .expect("queue")
    }

    pub async fn failure_lines(&self, profile: Uuid) -> Vec<String> {
        let log = AppendBlobFailureLog::open(&self.account, FAILURE_CONTAINER)
            .await
            .expect("failure log");
        log.read_all(profile).await.expect("lines")
    }

    /// A profile body for the organization: `entities`, into `local:<secret>`.
    pub fn profile(&self, name: &str, entities: &[&str], secret: &str) -> Value {
        let entities: Vec<Value> = entities.iter().map(|e| json!({"Type": e})).collect();
        json!({
            "Name": name,
            "OrganizationId": self.org.organization_id,
            "Entities": entities,
            "DestinationType": "sqlite",
            "DestinationKeyVaultUri": format!("local:{secret}"),
            "DestinationPrefix": "crm",
            "RetryPolicy": {"MaxRetryCount": 0, "IntervalInSeconds": 0},
            "WriteDeleteLog": true
        })
    }

    /// Makes one account unwritable the way DES documents it: its name is longer than the
    /// column the table gets (widen, create, narrow back before the profile plans it).
    pub fn make_one_account_fail(&self) -> Uuid {
        let control = self.emulator.control();
        control
            .set_max_length("account", "name", 400)
            .expect("widen");
        let mut fields = serde_json::Map::new();
        fields.insert("name".into(), json!("N".repeat(300)));
        let id = control.create("account", fields).expect("create");
        control
            .set_max_length("account", "name", 160)
            .expect("narrow");
        id
    }
}

/// The handlers use fixed names (`des-apply`, `des-control`, ...), so a reused Azurite may
/// hold an earlier run's profiles and messages: they go first.
async fn forget_earlier_runs(account: &StorageAccount) {
    let control = BlobControlStore::open(account, CONTROL_CONTAINER)
        .await
        .expect("control");
    for profile in control.profiles().await.expect("profiles") {
        control
            .delete_profile(profile.value.id)
            .await
            .expect("delete profile");
    }
    for name in [WORK_QUEUE, POISON_QUEUE] {
        let queue = StorageQueue::open(account, name).await.expect("queue");
        loop {
            let deliveries = queue
                .receive(32, Duration::from_secs(60))
                .await
                .expect("receive");
            if deliveries.is_empty() {
                break;
            }
            for delivery in deliveries {
                queue.delete(&delivery).await.expect("delete");
            }
        }
    }
}

async fn organization(emulator: &Emulator) -> Organization {
    let url = url::Url::parse(&emulator.base_url()).expect("url");
    let token_url = url::Url::parse(&emulator.token_url()).expect("url");
    let secret = Secret::new(emulator.client_secret());
    let scope = ClientCredentials::scope_for(&url);
    let grant = ClientCredentials::new(token_url, emulator.client_id(), secret, &scope);
    let client = DataverseClient::new(ClientConfig::new(url), Arc::new(CachedToken::new(grant)))
        .expect("client");
    let who = client.who_am_i().await.expect("WhoAmI");
    Organization {
        organization_id: who.organization_id,
        organization_name: "Contoso".into(),
        organization_url: emulator.base_url(),
        tenant_id: emulator.tenant_id().to_owned(),
        client_id: emulator.client_id().to_owned(),
        client_secret_ref: "local:dataverse".into(),
        privacy_terms_accepted: false,
    }
}

/// Rows of `table` in the SQLite file `db` (0 while it or the table does not exist).
pub fn rows(db: &Path, table: &str) -> usize {
    let Ok(conn) = read_only(db) else {
        return 0;
    };
    conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
        r.get::<_, i64>(0)
    })
    .map_or(0, |n| n as usize)
}

/// Whether the SQLite file `db` has an account named `name`.
pub fn has_account_named(db: &Path, name: &str) -> bool {
    let Ok(conn) = read_only(db) else {
        return false;
    };
    conn.query_row(
        "SELECT count(*) FROM \"crm_account\" WHERE \"name\" = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .is_ok_and(|n| n == 1)
}

/// Opens without creating: a check must not make the target's file.
fn read_only(db: &Path) -> rusqlite::Result<rusqlite::Connection> {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
}

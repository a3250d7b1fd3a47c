//! A local deployment for API tests: the emulator (token issuer and Dataverse) over real
//! HTTP, the real des-local control store, queue, payload store and failure log, and the real
//! SQLite sink resolved through the local secret store, all in a temp dir.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use dataverse::{CachedToken, ClientConfig, ClientCredentials, DataverseClient};
use dataverse_emulator::{Emulator, EmulatorConfig};
use des_api::{
    AdminChecker, ApiSettings, ApiState, AuthSettings, Authenticator, LinkKey, OrgClients,
};
use des_core::Secret;
use des_core::ports::{Organization, Sink, SystemClock};
use des_core::profile::DestinationType;
use des_engine::{CachedSinks, EngineError, EnginePorts};
use des_local::{
    FileFailureLog, LocalSecrets, SqliteControlStore, SqlitePayloadStore, SqliteWorkQueue,
};
use des_sinks::sqlite::{SqliteConfig, SqliteSink};
use serde_json::{Value, json};
use tower::ServiceExt;
use url::Url;
use uuid::Uuid;

/// The `aud` tokens for this API carry.
pub const AUDIENCE: &str = "api://data-export-service";
/// The emulator's signing key: a committed, public test fixture (see its README).
pub const SIGNING_PEM: &str =
    include_str!("../../dataverse-emulator/src/keys/emulator-signing.pem");

/// An answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The DES error `Message`, after checking the error body has DES's three fields.
    pub fn message(&self) -> String {
        let body = self.json();
        assert!(
            body["CorrelationId"]
                .as_str()
                .is_some_and(|c| c.parse::<Uuid>().is_ok()),
            "{body}"
        );
        assert!(body["Details"].is_string(), "{body}");
        body["Message"].as_str().expect("Message").to_owned()
    }
}

/// Users the emulator knows.
pub struct Users {
    pub admin: Uuid,
    /// The admin's `systemuserid` in the emulator.
    pub admin_user: Uuid,
    pub plain: Uuid,
    pub team_admin: Uuid,
}

pub struct Env {
    pub emulator: Emulator,
    /// A second organization's Dataverse, where the test users are not admins.
    pub other: Emulator,
    pub dir: tempfile::TempDir,
    pub ports: EnginePorts,
    pub state: ApiState,
    pub router: Router,
    pub org: Organization,
    pub other_org: Organization,
    pub users: Users,
    clients: Arc<OrgClients>,
    secrets: Arc<LocalSecrets>,
}

fn client_for(emulator: &Emulator) -> Arc<DataverseClient> {
    let org_url = Url::parse(&emulator.base_url()).expect("url");
    let token_url = Url::parse(&emulator.token_url()).expect("url");
    let scope = ClientCredentials::scope_for(&org_url);
    let secret = Secret::new(emulator.client_secret());
    let grant = ClientCredentials::new(token_url, emulator.client_id(), secret, &scope);
    let mut config = ClientConfig::new(org_url);
    config.retry.max_attempts = 2;
    let client = DataverseClient::new(config, Arc::new(CachedToken::new(grant)));
    Arc::new(client.expect("client"))
}

async fn organization(emulator: &Emulator, client: &DataverseClient, name: &str) -> Organization {
    let who = client.who_am_i().await.expect("WhoAmI");
    Organization {
        organization_id: who.organization_id,
        organization_name: name.to_owned(),
        organization_url: emulator.base_url(),
        tenant_id: emulator.tenant_id().to_owned(),
        client_id: emulator.client_id().to_owned(),
        client_secret_ref: "local:dataverse".to_owned(),
        privacy_terms_accepted: false,
    }
}

fn sink_factory() -> Box<des_engine::resolve::SinkFactory> {
    Box::new(|kind, secret: &Secret| match kind {
        DestinationType::Sqlite => {
            let sink = SqliteSink::open(&SqliteConfig::new(secret.expose()))?;
            Ok(Arc::new(sink) as Arc<dyn Sink>)
        }
        other => Err(EngineError::UnsupportedDestination(format!("{other:?}"))),
    })
}

async fn ports(
    dir: &std::path::Path,
    clients: Arc<OrgClients>,
    secrets: Arc<LocalSecrets>,
) -> EnginePorts {
    let control = SqliteControlStore::open(dir.join("control.db"))
        .await
        .expect("control");
    let queue = SqliteWorkQueue::open(dir.join("queue.db"), "batches")
        .await
        .expect("queue");
    let payloads = SqlitePayloadStore::open(dir.join("queue.db"))
        .await
        .expect("payloads");
    EnginePorts {
        control: Arc::new(control),
        queue: Arc::new(queue),
        payloads: Arc::new(payloads),
        failures: Arc::new(FileFailureLog::new(dir.join("failures"))),
        clock: Arc::new(SystemClock),
        sources: clients,
        sinks: Arc::new(CachedSinks::new(secrets, sink_factory())),
    }
}

impl Env {
    pub async fn start() -> Self {
        Self::start_on(Url::parse("http://127.0.0.1:7071").expect("url")).await
    }

    /// `base_url` is what `ConnectorUrl` and failure links name.
    pub async fn start_on(base_url: Url) -> Self {
        let config = || EmulatorConfig {
            records: 12,
            ..Default::default()
        };
        let emulator = Emulator::start(config()).await.expect("emulator");
        let other = Emulator::start(EmulatorConfig {
            tenant_id: "2c5f0b8e-4a51-4a0c-9f5e-0d6f0b7a1e11".into(),
            ..config()
        })
        .await
        .expect("second emulator");
        let (client, other_client) = (client_for(&emulator), client_for(&other));
        let org = organization(&emulator, &client, "Contoso").await;
        let other_org = organization(&other, &other_client, "Fabrikam").await;
        let clients = Arc::new(
            OrgClients::new()
                .with_client(org.organization_id, client)
                .with_client(other_org.organization_id, other_client),
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("target.db").display().to_string();
        let secrets = Arc::new(LocalSecrets::new().with_vars([("DES_SECRET_TARGET", target)]));
        let ports = ports(dir.path(), Arc::clone(&clients), Arc::clone(&secrets)).await;
        ports.control.put_organization(&org).await.expect("org");
        ports
            .control
            .put_organization(&other_org)
            .await
            .expect("org");
        let users = add_users(&emulator);
        let state = api_state(&emulator, &ports, &clients, &secrets, base_url);
        let router = des_api::router(state.clone());
        Self {
            emulator,
            other,
            dir,
            ports,
            state,
            router,
            org,
            other_org,
            users,
            clients,
            secrets,
        }
    }

    /// The API over other engine ports (e.g. a failing double around the control store).
    pub fn router_with(&self, ports: EnginePorts) -> Router {
        let base = Url::parse("http://127.0.0.1:7071").expect("url");
        des_api::router(api_state(
            &self.emulator,
            &ports,
            &self.clients,
            &self.secrets,
            base,
        ))
    }

    /// The API with other authentication and API settings (and optionally another admin
    /// checker), over the same ports.
    pub fn router_tuned(
        &self,
        admins: Option<Arc<dyn AdminChecker>>,
        tune: impl FnOnce(&mut AuthSettings, &mut ApiSettings),
    ) -> Router {
        let authority = Url::parse(&self.emulator.issuer()).expect("issuer");
        let mut auth = AuthSettings::new(authority, AUDIENCE);
        let base = Url::parse("http://127.0.0.1:7071").expect("url");
        let mut settings = ApiSettings::new(base, LinkKey::random());
        tune(&mut auth, &mut settings);
        let authenticator = Authenticator::new(auth).expect("auth");
        let admins = admins.unwrap_or_else(|| Arc::clone(&self.clients) as _);
        let secrets = Arc::clone(&self.secrets) as _;
        let state = ApiState::new(self.ports.clone(), secrets, authenticator, admins, settings);
        des_api::router(state)
    }

    /// The real admin checker (the organizations' Dataverse clients), without the cache.
    pub fn admin_checker(&self) -> Arc<dyn AdminChecker> {
        Arc::clone(&self.clients) as _
    }

    /// Takes every directly held role from the admin, through the emulator, as an
    /// administrator would in Dataverse.
    pub async fn remove_admin_roles(&self) {
        let user = self.users.admin_user;
        let url = format!(
            "{}/api/data/v9.2/systemusers({user})/systemuserroles_association?$select=roleid",
            self.emulator.base_url()
        );
        let token = self
            .emulator
            .control()
            .mint_user_token(Uuid::new_v4(), &self.emulator.base_url());
        let roles: Value = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("roles")
            .json()
            .await
            .expect("json");
        let roles = roles["value"].as_array().expect("value").clone();
        assert!(!roles.is_empty(), "the admin holds roles");
        for role in roles {
            let role: Uuid = role["roleid"]
                .as_str()
                .expect("roleid")
                .parse()
                .expect("guid");
            self.emulator
                .control()
                .disassociate("systemuserroles_association", user, role)
                .expect("role removed");
        }
    }

    /// Disables (or enables) the admin in the emulator's Dataverse, as an administrator would.
    pub fn set_admin_disabled(&self, disabled: bool) {
        let fields = json!({ "isdisabled": disabled });
        let fields = fields.as_object().expect("object").clone();
        let control = self.emulator.control();
        control
            .update("systemuser", self.users.admin_user, fields)
            .expect("user updated");
    }

    pub fn target_db(&self) -> std::path::PathBuf {
        self.dir.path().join("target.db")
    }

    pub fn token(&self, oid: Uuid) -> String {
        self.emulator.control().mint_user_token(oid, AUDIENCE)
    }

    pub fn admin_token(&self) -> String {
        self.token(self.users.admin)
    }

    /// Calls the router in process with an optional bearer token and body.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        call(&self.router, method, uri, token, body).await
    }

    /// A call as the admin.
    pub async fn admin(&self, method: Method, uri: &str, body: Option<Value>) -> Answer {
        let token = self.admin_token();
        self.call(method, uri, Some(&token), body.map(|b| b.to_string()))
            .await
    }

    /// `organizationUrl=…&organizationId=…` of the main organization.
    pub fn org_query(&self) -> String {
        format!(
            "organizationUrl={}&organizationId={}",
            self.org.organization_url, self.org.organization_id
        )
    }

    /// A valid profile body for the main organization.
    pub fn profile_body(&self, name: &str) -> Value {
        json!({
            "Name": name,
            "OrganizationId": self.org.organization_id,
            "Entities": [{"Type": "account"}, {"Type": "contact", "Settings": {}}],
            "DestinationType": "sqlite",
            "DestinationKeyVaultUri": "local:target",
            "DestinationPrefix": "crm",
            "RetryPolicy": {"MaxRetryCount": 0, "IntervalInSeconds": 0},
            "WriteDeleteLog": true
        })
    }

    /// Creates a profile as the admin; returns its id.
    pub async fn create_profile(&self, name: &str) -> String {
        let answer = self
            .admin(
                Method::POST,
                "/crm/exporter/profiles",
                Some(self.profile_body(name)),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
        answer.json()["Id"].as_str().expect("Id").to_owned()
    }

    /// The names the profile list answers, in order.
    pub async fn list_names(&self) -> Vec<String> {
        let uri = format!("/crm/exporter/profiles?{}", self.org_query());
        let answer = self.admin(Method::GET, &uri, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let listed = answer.json();
        let listed = listed.as_array().expect("array");
        listed
            .iter()
            .map(|p| p["Name"].as_str().expect("Name").to_owned())
            .collect()
    }

    pub async fn accept_privacy_terms(&self) {
        let uri = format!(
            "/crm/exporter/metadata/acceptprivacyterms?{}",
            self.org_query()
        );
        let answer = self.admin(Method::POST, &uri, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }

    /// Signs arbitrary claims with the emulator's key (expired, wrong issuer, …).
    pub fn sign(&self, claims: &Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(SIGNING_PEM.as_bytes()).expect("key");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(dataverse_emulator::SIGNING_KEY_ID.to_owned());
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    /// Claims of a good token for `oid`; tests spoil one of them.
    pub fn claims(&self, oid: Uuid) -> Value {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        json!({
            "aud": AUDIENCE, "iss": self.emulator.issuer(), "iat": now, "nbf": now,
            "exp": now + 600, "oid": oid, "sub": oid, "tid": self.emulator.tenant_id(), "ver": "2.0",
            "scp": "user_impersonation"
        })
    }
}

/// Calls `router` in process with an optional bearer token and body.
pub async fn call(
    router: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header("Content-Type", "application/json");
    }
    let request = request
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        body: body.to_vec(),
    }
}

fn api_state(
    emulator: &Emulator,
    ports: &EnginePorts,
    clients: &Arc<OrgClients>,
    secrets: &Arc<LocalSecrets>,
    base_url: Url,
) -> ApiState {
    let authority = Url::parse(&emulator.issuer()).expect("issuer");
    let authenticator = Authenticator::new(AuthSettings::new(authority, AUDIENCE)).expect("auth");
    let settings = ApiSettings::new(base_url, LinkKey::random());
    let (clients, secrets) = (Arc::clone(clients), Arc::clone(secrets));
    ApiState::new(ports.clone(), secrets, authenticator, clients, settings)
}

fn add_users(emulator: &Emulator) -> Users {
    let control = emulator.control();
    let admin = Uuid::new_v4();
    let admin_user = control.add_user(admin, "Ada Admin", true);
    let users = Users {
        admin,
        admin_user,
        plain: Uuid::new_v4(),
        team_admin: Uuid::new_v4(),
    };
    control.add_user(users.plain, "Pat Plain", false);
    control.add_team_admin(users.team_admin);
    users
}

/// Engine options for tests: quick polls, short visibility and back-off.
pub fn fast_runtime() -> des_engine::RuntimeOptions {
    let mut options = des_engine::RuntimeOptions {
        poll_interval: std::time::Duration::from_millis(100),
        visibility: std::time::Duration::from_secs(2),
        ..des_engine::RuntimeOptions::default()
    };
    options.applier.error_backoff = std::time::Duration::from_millis(50);
    options.applier.max_backoff = std::time::Duration::from_millis(300);
    options
}

/// The log lines tracing events on this thread write (info and above) while a capture lives
/// (the plain `fmt` format: each line names its spans' fields, e.g. `request{correlation_id=…}`).
///
/// One global subscriber serves every test: it writes each event into the buffer of the
/// thread that emitted it, if that thread captures, and drops it otherwise. (A subscriber per
/// test, `set_default`, loses spans: tracing caches whether a call site is enabled across
/// threads, and tests without a subscriber running beside it make it cache "never".)
#[derive(Clone, Default)]
pub struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURING: std::cell::RefCell<Option<Logs>> = const { std::cell::RefCell::new(None) };
}

/// Ends this thread's capture when dropped.
pub struct Capture(());

impl Drop for Capture {
    fn drop(&mut self) {
        CAPTURING.with(|c| c.borrow_mut().take());
    }
}

impl Logs {
    /// Captures this thread's events (a `#[tokio::test]` runs the router on its thread) until
    /// the guard drops.
    pub fn capture() -> (Self, Capture) {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(ThreadWriter::current)
                .with_ansi(false)
                .with_max_level(tracing::Level::DEBUG)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        });
        let logs = Self::default();
        CAPTURING.with(|c| *c.borrow_mut() = Some(logs.clone()));
        (logs, Capture(()))
    }

    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The lines containing every one of `parts`.
    pub fn lines_with(&self, parts: &[&str]) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| parts.iter().all(|part| line.contains(part)))
            .map(str::to_owned)
            .collect()
    }
}

/// Writes into the emitting thread's capture, or nowhere.
struct ThreadWriter(Option<Logs>);

impl ThreadWriter {
    fn current() -> Self {
        Self(CAPTURING.with(|c| c.borrow().clone()))
    }
}

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(logs) = &self.0 {
            let mut bytes = logs.0.lock().unwrap_or_else(|p| p.into_inner());
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

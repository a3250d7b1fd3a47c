//! The running emulator: its state (`ServerState`), the accept loop and graceful shutdown.

use crate::auth::Authority;
use crate::control::Control;
use crate::cost::Cost;
use crate::error::EmulatorError;
use crate::faults::Faults;
use crate::limits::Limiter;
use crate::routes::{API_PREFIX, router};
use crate::schema::{Catalog, metadata_id};
use crate::store::{Store, default_counts};
use crate::{EmulatorConfig, persist};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;
use uuid::Uuid;

/// State every handler sees.
pub struct ServerState {
    pub store: RwLock<Store>,
    pub authority: Authority,
    pub faults: Faults,
    pub limits: Limiter,
    pub cost: Cost,
    pub base_url: String,
    pub api_url: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    /// The application user of the configured client id (what `WhoAmI` returns).
    pub app_user: Uuid,
    pub organization_id: Uuid,
    pub retention: Option<Duration>,
    pub state_file: Option<PathBuf>,
    /// Serialises state-file writes so an older snapshot never lands after a newer one.
    pub save_lock: tokio::sync::Mutex<()>,
    /// Interactive sign-in: registered single-page apps, accounts, authorization codes.
    pub sign_in: crate::signin::SignIn,
}

impl ServerState {
    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The service principal's object id (`oid` of app tokens).
    pub fn app_user_object_id(&self) -> Uuid {
        Self::object_id_of(&self.client_id)
    }

    /// The service principal of any app: each client id is its own user, with its own
    /// service-protection budget.
    pub fn object_id_of(client_id: &str) -> Uuid {
        metadata_id(&["service-principal", client_id])
    }

    /// The secret `client_id` signs in with, if it is a registered confidential app.
    pub fn secret_of(&self, client_id: &str) -> Option<String> {
        if client_id == self.client_id {
            return Some(self.client_secret.clone());
        }
        self.sign_in.confidential_secret(client_id)
    }

    pub fn business_unit(&self) -> Uuid {
        let store = self.read();
        store
            .entity_index("businessunit")
            .map(|e| store.generated_id(e, 0))
            .unwrap_or_default()
    }
}

/// A running emulator on 127.0.0.1.
pub struct Emulator {
    state: Arc<ServerState>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    port: u16,
}

impl Emulator {
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let port = listener.local_addr()?.port();
        let base_url = format!("http://127.0.0.1:{port}");
        let store = match config.state_file.as_deref().filter(|p| p.exists()) {
            Some(path) => persist::load(path)?,
            None => {
                let catalog = Catalog::sample();
                let counts = default_counts(&catalog, config.records, &config.records_per_entity);
                Store::new(catalog, counts, config.seed)
            }
        };
        let mut store = store;
        store.actor = metadata_id(&["application-user", &config.client_id]);
        let app_user = store.actor;
        let state = Arc::new(ServerState {
            store: RwLock::new(store),
            authority: Authority::new(&base_url, &config.tenant_id)?,
            faults: Faults::default(),
            limits: Limiter::new(config.limits.clone()),
            cost: Cost::new(config.cost),
            api_url: format!("{base_url}{API_PREFIX}"),
            base_url,
            tenant: config.tenant_id.clone(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            app_user,
            organization_id: metadata_id(&["organization", &config.tenant_id]),
            retention: config.change_token_retention,
            state_file: config.state_file.clone(),
            save_lock: tokio::sync::Mutex::new(()),
            sign_in: crate::signin::SignIn::default(),
        });
        crate::control::ensure_application_user(&state)?;
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state), rx));
        if state.state_file.is_some() {
            tokio::spawn(persist::autosave(Arc::clone(&state), shutdown.subscribe()));
        }
        Ok(Emulator {
            state,
            shutdown,
            task,
            port,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn api_url(&self) -> String {
        format!("{}{API_PREFIX}", self.base_url())
    }
    pub fn tenant_id(&self) -> &str {
        &self.state.tenant
    }
    pub fn client_id(&self) -> &str {
        &self.state.client_id
    }
    pub fn client_secret(&self) -> &str {
        &self.state.client_secret
    }
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.base_url(),
            self.state.tenant
        )
    }
    pub fn issuer(&self) -> String {
        self.state.authority.issuer.clone()
    }
    pub fn control(&self) -> Control {
        Control::new(Arc::clone(&self.state))
    }

    pub async fn save_state(&self) -> Result<(), EmulatorError> {
        persist::save_now(&self.state).await
    }

    /// Stops accepting, lets open connections finish, and saves state when configured.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        if let Err(e) = persist::save_now(&self.state).await {
            tracing::warn!(error = %e, "could not save emulator state");
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<ServerState>,
    mut stop: watch::Receiver<bool>,
) {
    let app = router(Arc::clone(&state));
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                conns.spawn(serve_connection(stream, app.clone(), state.faults.clone(), stop.clone()));
            }
        }
    }
    drop(listener);
    // Give in-flight requests a moment, then cut the rest.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: axum::Router,
    faults: Faults,
    mut stop: watch::Receiver<bool>,
) {
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let drop_it = req.uri().path().starts_with("/api/data/") && faults.take_drop();
        let mut app = app.clone();
        async move {
            if drop_it {
                // A service error makes hyper close the connection without writing a response.
                return Err(Dropped);
            }
            app.call(req.map(axum::body::Body::new))
                .await
                .map_err(|never| match never {})
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

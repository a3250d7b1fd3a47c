//! The handler's HTTP side: listen on `FUNCTIONS_CUSTOMHANDLER_PORT` (loopback) and answer
//! the host's readiness probe (`GET /`) at once. The host waits for that first answer before
//! it sends invocations, and gives up after its initialization timeout, so everything slow
//! (storage containers, metadata, Key Vault) is wired in the background behind [`Wired`]:
//! invocations that arrive first wait for it, and a failed wiring is tried again on the next
//! invocation instead of leaving the process unusable.

use std::future::Future;
use std::net::Ipv4Addr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::OnceCell;

/// The port setting the host gives its worker.
pub const PORT_SETTING: &str = "FUNCTIONS_CUSTOMHANDLER_PORT";
/// Used when the handler runs without a host (by hand, for a quick look).
pub const DEFAULT_PORT: u16 = 8080;

/// Why the handler's dependencies could not be wired (tried again on the next invocation).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct WiringError(pub String);

impl WiringError {
    pub fn new(what: &str, error: impl std::fmt::Display) -> Self {
        Self(format!("{what}: {error}"))
    }
}

type Build<T> =
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, WiringError>> + Send>> + Send + Sync;

/// A value built once in the background; callers wait for it.
pub struct Wired<T> {
    cell: OnceCell<T>,
    build: Box<Build<T>>,
}

impl<T: Send + Sync + 'static> Wired<T> {
    pub fn new<F, Fut>(build: F) -> Arc<Self>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, WiringError>> + Send + 'static,
    {
        Arc::new(Self {
            cell: OnceCell::new(),
            build: Box::new(move || Box::pin(build())),
        })
    }

    /// The value, building it now if no build succeeded yet.
    pub async fn get(&self) -> Result<&T, WiringError> {
        self.cell.get_or_try_init(|| (self.build)()).await
    }

    /// Starts building in the background, so the first invocation rarely waits.
    pub fn warm(self: &Arc<Self>) {
        let wired = Arc::clone(self);
        tokio::spawn(async move {
            match wired.get().await {
                Ok(_) => tracing::info!("Wired; ready for invocations."),
                Err(error) => {
                    tracing::error!(%error, "Wiring failed; the next invocation tries again.");
                }
            }
        });
    }
}

/// Binds the host's port on loopback. Bind before wiring, so the probe is answered at once.
pub async fn bind() -> std::io::Result<TcpListener> {
    let port = match std::env::var(PORT_SETTING) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| std::io::Error::other(format!("{PORT_SETTING} is not a port number")))?,
        Err(_) => DEFAULT_PORT,
    };
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await
}

/// Adds the readiness answer (`GET /`) to `router`.
pub fn with_readiness<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.route("/", get(|| async { "ready" }))
}

/// Serves `router` on `listener` until the process ends, each request in a span that
/// names the host's invocation.
pub async fn serve(listener: TcpListener, router: Router) -> std::io::Result<()> {
    let router = prepare(&listener, router);
    axum::serve(listener, router).await
}

/// Says where the handler listens and wraps each request in a span naming the host's
/// invocation; every app's server does this, whoever serves the router.
pub fn prepare(listener: &TcpListener, router: Router) -> Router {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "Listening for the Functions host.");
    }
    router.layer(axum::middleware::from_fn(crate::logs::invocation_span))
}

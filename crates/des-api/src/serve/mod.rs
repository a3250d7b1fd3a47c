//! [`serve`]: the API over HTTP/1.1 on a listener, so every refusal carries DES's error body.
//!
//! Requests whose head is too large are refused by the router's own limits
//! ([`crate::MAX_URI_BYTES`], [`crate::MAX_HEADER_BYTES`]) with a DES body. Heads beyond what
//! hyper buffers ([`HYPER_BUFFER_BYTES`]), URLs beyond hyper's own limit (64 KiB) and
//! unparsable requests are refused by hyper itself with an empty 431, 414 or 400; those
//! answers are given DES's body by [`head_guard::HeadGuard`] on their way out.

mod head_guard;

use std::future::Future;

use axum::Router;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use head_guard::HeadGuard;

/// How large a request head hyper buffers before refusing it itself (431).
pub const HYPER_BUFFER_BYTES: usize = 128 * 1024;

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish (connections stop taking new requests) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let mut connections = JoinSet::new();
    let mut until_stop = stopped.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, router.clone(), stopped.clone()));
                }
                // Out of file descriptors and the like: the next accept may succeed.
                Err(error) => {
                    tracing::warn!(%error, "Could not accept a connection.");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = until_stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn connection(stream: TcpStream, router: Router, mut stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        router.clone().oneshot(request.map(axum::body::Body::new))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .max_buf_size(HYPER_BUFFER_BYTES)
        .serve_connection(TokioIo::new(HeadGuard::new(stream)), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => log_end(result),
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            log_end(conn.await);
        }
    }
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        tracing::debug!(%error, "A connection ended with an error.");
    }
}

//! Ctrl-C and SIGTERM both mean "stop cleanly"; a second one means "stop now".

use tokio::sync::watch;

/// Listens from now on: the receiver turns true on the first Ctrl-C (SIGINT) or SIGTERM, and
/// a second signal exits at once with status 130, for a shutdown that hangs.
pub fn listen() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        signal().await;
        let _ = tx.send(true);
        signal().await;
        eprintln!("second signal: exiting without a clean stop");
        std::process::exit(130);
    });
    rx
}

/// Resolves on the next Ctrl-C (SIGINT) or SIGTERM.
async fn signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "Cannot listen for Ctrl-C.");
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = sigterm() => {}
    }
}

#[cfg(unix)]
async fn sigterm() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut stream) => {
            stream.recv().await;
        }
        Err(error) => {
            tracing::warn!(%error, "Cannot listen for SIGTERM.");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(not(unix))]
async fn sigterm() {
    std::future::pending::<()>().await;
}

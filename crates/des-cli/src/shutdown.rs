//! Ctrl-C and SIGTERM both mean "stop cleanly"; a second one means "stop now".

use tokio::sync::watch;

/// Listens from now on: the receiver turns true on the first Ctrl-C (SIGINT) or SIGTERM, and
/// a second signal exits at once with status 130, for a shutdown that hangs.
///
/// The signals are taken over before this returns, not when the listening task first runs:
/// a signal in between was otherwise left to the disposition `des` inherited, and a shell
/// starting it in the background without job control sets SIGINT to be ignored, so such a
/// Ctrl-C was lost and `des` ran on.
pub fn listen() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    let mut signals = Signals::new();
    tokio::spawn(async move {
        signals.next().await;
        let _ = tx.send(true);
        signals.next().await;
        eprintln!("second signal: exiting without a clean stop");
        std::process::exit(130);
    });
    rx
}

#[cfg(unix)]
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let take = |kind: SignalKind, name: &str| match signal(kind) {
            Ok(stream) => Some(stream),
            Err(error) => {
                tracing::warn!(%error, "Cannot listen for {name}.");
                None
            }
        };
        Self {
            interrupt: take(SignalKind::interrupt(), "Ctrl-C"),
            terminate: take(SignalKind::terminate(), "SIGTERM"),
        }
    }

    /// Resolves on the next Ctrl-C (SIGINT) or SIGTERM.
    async fn next(&mut self) {
        tokio::select! {
            () = received(self.interrupt.as_mut()) => {}
            () = received(self.terminate.as_mut()) => {}
        }
    }
}

#[cfg(unix)]
async fn received(stream: Option<&mut tokio::signal::unix::Signal>) {
    match stream {
        Some(stream) => {
            stream.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Self {
        Self
    }

    /// Resolves on the next Ctrl-C.
    async fn next(&mut self) {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "Cannot listen for Ctrl-C.");
            std::future::pending::<()>().await;
        }
    }
}

//! Start-up as patient as steady state. Once replicating, a source that keeps throttling is
//! simply read again at the next poll; before that, the same faults used to end `des run`
//! ("cannot sign in" after eight 429s, although nothing was refused). Each start-up call to
//! Dataverse is tried again while the fault is transient (the client already waits each
//! 429's `Retry-After` between its own tries), saying whether it is throttled or unavailable;
//! the first Ctrl-C or SIGTERM stops at once, even in the middle of a wait.

use std::future::Future;
use std::time::Duration;

use des_core::ports::SourceError;
use des_engine::EngineError;
use tokio::sync::watch;

/// The longest pause between two start-up tries of ours (the client's own waits come on top).
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Start-up was stopped by a signal: not a failure, the process exits cleanly.
#[derive(Debug)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped during start-up")
    }
}

impl std::error::Error for Stopped {}

/// Runs `attempt` until it succeeds, fails for a reason that is not transient, or `stop`
/// turns true. `what` names the call in the lines printed between tries.
pub async fn patiently<T, F, Fut>(
    what: &str,
    stop: &watch::Receiver<bool>,
    mut attempt: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut stop = stop.clone();
    let mut pause = Duration::from_secs(1);
    loop {
        if *stop.borrow_and_update() {
            return Err(Stopped.into());
        }
        let result = tokio::select! {
            result = attempt() => result,
            Ok(()) = stop.changed() => return Err(Stopped.into()),
        };
        let error = match result {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let Some(kind) = transient_kind(&error) else {
            return Err(error);
        };
        println!(
            "Dataverse is {kind} ({what}); trying again in {}s: {error:#}",
            pause.as_secs()
        );
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            Ok(()) = stop.changed() => return Err(Stopped.into()),
        }
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// "throttled" or "unavailable" when the error is a transient fault of the source that
/// outlasted the client's retries; `None` for anything else (refused credentials included).
fn transient_kind(error: &anyhow::Error) -> Option<&'static str> {
    let reason = error.chain().find_map(|cause| {
        let source = cause.downcast_ref::<SourceError>().or_else(|| {
            match cause.downcast_ref::<EngineError>() {
                Some(EngineError::Source(source)) => Some(source),
                _ => None,
            }
        });
        match source {
            Some(SourceError::Unavailable(reason)) => Some(reason.as_str()),
            _ => None,
        }
    })?;
    // The client names a 429 so (`dataverse::transport`).
    Some(if reason.contains("HTTP 429") {
        "throttled"
    } else {
        "unavailable"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_outages_are_transient_and_refusals_are_not() {
        let throttled = anyhow::Error::from(SourceError::Unavailable(
            "throttled (HTTP 429) (after 8 attempts)".into(),
        ))
        .context("cannot sign in");
        assert_eq!(transient_kind(&throttled), Some("throttled"));
        let engine = EngineError::Source(SourceError::Unavailable("HTTP 503".into()));
        let wrapped = anyhow::Error::from(engine).context("cannot activate the profile");
        assert_eq!(transient_kind(&wrapped), Some("unavailable"));
        let refused = anyhow::Error::from(SourceError::Auth("401".into()));
        assert_eq!(transient_kind(&refused), None);
    }

    #[tokio::test]
    async fn a_stop_ends_the_wait_at_once() {
        let (tx, rx) = watch::channel(false);
        let waiting = patiently("test", &rx, std::future::pending::<anyhow::Result<()>>);
        let stopper = async {
            tx.send(true).unwrap();
        };
        let (result, ()) = tokio::join!(waiting, stopper);
        assert!(result.unwrap_err().downcast_ref::<Stopped>().is_some());
    }
}

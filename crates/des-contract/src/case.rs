//! How a suite runs: each case on its own task, every case run, failures named at the end.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinError;
use tokio::time::Instant;

/// How often [`eventually`] probes.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Runs each named case against a fresh adapter from `make`, then fails naming the failed ones.
macro_rules! run_cases {
    ($port:literal, $make:ident, [$($case:ident),* $(,)?]) => {{
        let mut suite = $crate::case::Suite::new($port);
        $(suite.case(stringify!($case), $case($make().await)).await;)*
        suite.finish();
    }};
}
pub(crate) use run_cases;

/// The cases of one port's suite that have failed so far.
pub(crate) struct Suite {
    port: &'static str,
    failures: Vec<String>,
}

impl Suite {
    pub(crate) fn new(port: &'static str) -> Self {
        Self {
            port,
            failures: Vec::new(),
        }
    }

    /// Runs one case to completion; a panic inside it is recorded under `name`.
    pub(crate) async fn case<Fut>(&mut self, name: &'static str, case: Fut)
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        if let Err(error) = tokio::spawn(case).await {
            let text = panic_text(error).replace('\n', "\n    ");
            self.failures.push(format!("{name}: {text}"));
        }
    }

    /// Panics listing every failed case, if any.
    pub(crate) fn finish(self) {
        let count = self.failures.len();
        assert!(
            self.failures.is_empty(),
            "{} contract: {count} case(s) failed:\n  {}",
            self.port,
            self.failures.join("\n  ")
        );
    }
}

fn panic_text(error: JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => match payload.downcast::<String>() {
            Ok(text) => *text,
            Err(payload) => payload
                .downcast_ref::<&str>()
                .map_or("panicked", |s| s)
                .to_owned(),
        },
        Err(error) => error.to_string(),
    }
}

/// Polls `probe` until it yields a value; panics naming `what` if `within` passes first.
pub(crate) async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

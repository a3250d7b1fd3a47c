//! Logging as the Functions host reads it. The host turns every line a custom handler
//! writes into a log entry of category `Host.Function.Console`, and picks the level by
//! stream (`WorkerProcess.ParseErrorMessageAndLog` in Azure/azure-functions-host, for HTTP
//! workers, which only use stderr for errors):
//!
//! | the handler writes | the host logs it as |
//! |---|---|
//! | a line on stdout | Information |
//! | a line on stderr containing "warn" (any case) | Warning |
//! | any other line on stderr | Error |
//!
//! So errors and warnings go to stderr (a warning's level prefix `WARN` carries the word the
//! host looks for) and everything else to stdout. Lines carry the invocation id the host
//! sends (`X-Azure-Functions-InvocationId`), which is how a line in Application Insights is
//! matched with its invocation: the host drops the `Logs` of an invocation that does not
//! answer 2xx, so a failed invocation's reasons reach the log only as these lines.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::{Instrument, Level};
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// The header that carries the host's invocation id.
pub const INVOCATION_ID_HEADER: &str = "x-azure-functions-invocationid";

/// Logs by level to the stream the host reads that level from; `RUST_LOG` filters
/// (default `info`).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let streams = std::io::stderr
        .with_max_level(Level::WARN)
        .or_else(std::io::stdout);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(streams)
        .try_init();
}

/// Middleware: runs the request inside a span named after the host's invocation id, so
/// every line logged for it names the invocation.
pub async fn invocation_span(request: Request, next: Next) -> Response {
    let invocation = request
        .headers()
        .get(INVOCATION_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    // At error level so that it is on whenever any line is (`RUST_LOG=warn` would turn an
    // info span off, and its id with it).
    let span = tracing::error_span!("invocation", id = %invocation);
    next.run(request).instrument(span).await
}

/// Logs the reasons of an invocation that fails, before it answers: a warning when the host
/// will try again, an error otherwise. One line, so the host makes one entry of it.
pub fn failure(level: Level, reasons: &[String]) {
    let text = one_line(reasons);
    if level == Level::WARN {
        tracing::warn!("Invocation failed; the host tries again: {text}");
    } else {
        tracing::error!("Invocation failed: {text}");
    }
}

/// The reasons joined on one line (a line break would make the host log the rest of the
/// text as a separate entry, at error level).
fn one_line(reasons: &[String]) -> String {
    reasons
        .iter()
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_become_one_line() {
        let reasons = vec!["first\nsecond".to_owned(), "  third\r\n".to_owned()];
        assert_eq!(one_line(&reasons), "first second | third");
    }
}

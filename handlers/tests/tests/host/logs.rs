//! What the handlers' log lines become in the host's log (see `processes::HostLevel`):
//! every failure reason reaches it as an Error or Warning line naming the invocation, and
//! nothing that is not a warning or an error is written where the host reads errors.

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::processes::{Handler, HostLevel, HostLine};

/// The header the host sends with every invocation (`HttpWorkerConstants`).
pub const INVOCATION_ID: &str = "X-Azure-Functions-InvocationId";

/// Sends one invocation with a fresh invocation id; the status, the answer and the id.
pub async fn invoke(
    client: &reqwest::Client,
    handler: &Handler,
    method: Method,
    path: &str,
    body: &str,
) -> (u16, Value, String) {
    let id = Uuid::new_v4().to_string();
    let answer = client
        .request(method, handler.url(path))
        .header(INVOCATION_ID, &id)
        .body(body.to_owned())
        .send()
        .await
        .expect("the handler answers");
    let status = answer.status().as_u16();
    let text = answer.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value, id)
}

/// Waits for the line of `level` that names invocation `id` and says `reason`.
pub async fn logged(handler: &Handler, level: HostLevel, id: &str, reason: &str) -> HostLine {
    handler
        .wait_for_line(|l| l.level == level && l.text.contains(id) && l.text.contains(reason))
        .await
}

/// Every line went to the stream of its level: warnings and errors to stderr (and the host
/// reads each at the level it was written), everything else to stdout.
pub fn assert_streams_follow_levels(handler: &Handler) {
    for line in handler.lines() {
        let written = line.written_level();
        let expected = match written {
            Some("ERROR") => Some(HostLevel::Error),
            Some("WARN") => Some(HostLevel::Warning),
            Some(_) => Some(HostLevel::Information),
            // Not a log line (none are expected); the host's reading is what it is.
            None => None,
        };
        if let Some(expected) = expected {
            assert_eq!(line.level, expected, "{}: {line:?}", handler.name);
        }
    }
}

//! The Functions host's custom-handler protocol for functions it does not forward as plain
//! HTTP (timer and queue triggers): it POSTs `{"Data": {...}, "Metadata": {...}}` to
//! `/<function name>` and expects `{"Outputs": {...}, "Logs": [...], "ReturnValue": ...}`.
//! A non-2xx answer fails the invocation, which is how a queue message is NACKed.
//!
//! `Data` is keyed by binding name; `Metadata` holds the trigger's binding data. The host
//! builds both in `ScriptInvocationContextExtensions.ToHttpScriptInvocationContext`
//! (Azure/azure-functions-host): a value that serialises to a JSON object (the timer's
//! `TimerInfo`) is sent as that object; anything else is first serialised to JSON text and
//! sent as a string holding that text. So a queue message arrives as a string holding the
//! message text as a JSON string (see [`crate::queue_message`]), `Metadata.DequeueCount` as
//! the string `"3"` and `Metadata.Id` as the string `"\"<id>\""`; the readers here take
//! those shapes (and plain numbers and strings, as the documentation shows them).

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tracing::Level;

/// An invocation the host could not have meant.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("the invocation body is not JSON: {0}")]
    NotJson(String),
    #[error("the invocation has no '{0}' binding data")]
    Missing(String),
    #[error("binding '{name}' does not hold a message: {reason}")]
    BadMessage { name: String, reason: String },
}

/// What the host POSTs for a non-HTTP trigger.
#[derive(Debug, Default, Deserialize)]
pub struct InvocationRequest {
    #[serde(rename = "Data", default)]
    data: HashMap<String, Box<RawValue>>,
    #[serde(rename = "Metadata", default)]
    metadata: Map<String, Value>,
}

impl InvocationRequest {
    /// Parses a body; an empty body is an invocation without data (a timer needs none).
    pub fn parse(body: &[u8]) -> Result<Self, ProtocolError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice(body).map_err(|e| ProtocolError::NotJson(e.to_string()))
    }

    /// The raw JSON of binding `name`'s data.
    pub fn data(&self, name: &str) -> Option<&RawValue> {
        self.data.get(name).map(AsRef::as_ref)
    }

    /// A metadata value as text (numbers and strings alike, as the host varies).
    pub fn metadata_text(&self, name: &str) -> Option<String> {
        match self.metadata.get(name)? {
            Value::String(s) => Some(s.trim_matches('"').to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// `Metadata.DequeueCount` of a queue trigger.
    pub fn dequeue_count(&self) -> Option<u32> {
        self.metadata_text("DequeueCount")?.parse().ok()
    }

    /// The queue message text of binding `name` (see [`crate::queue_message`]).
    pub fn queue_message(&self, name: &str) -> Result<Vec<u8>, ProtocolError> {
        let raw = self
            .data(name)
            .ok_or_else(|| ProtocolError::Missing(name.to_owned()))?;
        crate::queue_message::message_text(raw).map_err(|reason| ProtocolError::BadMessage {
            name: name.to_owned(),
            reason,
        })
    }

    /// `IsPastDue` of a timer binding, when the host sent one that parses.
    pub fn timer_past_due(&self, name: &str) -> Option<bool> {
        let timer: Value = serde_json::from_str(self.data(name)?.get()).ok()?;
        let timer = match timer {
            // Some hosts send the timer info as a JSON string.
            Value::String(text) => serde_json::from_str(&text).ok()?,
            other => other,
        };
        timer.get("IsPastDue")?.as_bool()
    }
}

/// What the handler answers: the host's shape, with `Logs` going to the invocation log.
#[derive(Debug, Clone, Serialize)]
pub struct InvocationResponse {
    #[serde(rename = "Outputs")]
    pub outputs: Map<String, Value>,
    #[serde(rename = "Logs")]
    pub logs: Vec<String>,
    #[serde(rename = "ReturnValue")]
    pub return_value: Value,
}

/// An answer with its status: 2xx completes the invocation, anything else fails it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub status: StatusCode,
    pub body: InvocationResponse,
    /// How a failure is logged: the host drops `Logs` unless the answer is 2xx.
    failure: Option<Level>,
}

impl Invocation {
    pub fn ok(logs: Vec<String>) -> Self {
        Self::with_status(StatusCode::OK, logs, None)
    }

    /// A failed invocation that needs a look: the host retries a queue message, then
    /// poisons it. Its reasons are logged as an error.
    pub fn failed(logs: Vec<String>) -> Self {
        Self::with_status(StatusCode::INTERNAL_SERVER_ERROR, logs, Some(Level::ERROR))
    }

    /// A failed try that the host tries again (a queue message before its last try): the
    /// reasons are logged as a warning.
    pub fn retried(logs: Vec<String>) -> Self {
        Self::with_status(StatusCode::INTERNAL_SERVER_ERROR, logs, Some(Level::WARN))
    }

    fn with_status(status: StatusCode, logs: Vec<String>, failure: Option<Level>) -> Self {
        Self {
            status,
            body: InvocationResponse {
                outputs: Map::new(),
                logs,
                return_value: Value::Null,
            },
            failure,
        }
    }
}

impl IntoResponse for Invocation {
    fn into_response(self) -> Response {
        if let Some(level) = self.failure {
            crate::logs::failure(level, &self.body.logs);
        }
        (self.status, axum::Json(self.body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> InvocationRequest {
        InvocationRequest::parse(body.as_bytes()).expect("parses")
    }

    const MSG: &str = r#"{"Batch":{"seq":1}}"#;

    /// The body the host source builds for a queue trigger: every value that is not a JSON
    /// object is serialised to JSON text first, then sent as a string.
    fn host_body(message: &str, dequeue: u32, id: &str) -> String {
        let text = |v: &str| serde_json::to_string(v).unwrap();
        serde_json::json!({
            "Data": {"msg": text(message)},
            "Metadata": {"DequeueCount": dequeue.to_string(), "Id": text(id)}
        })
        .to_string()
    }

    #[test]
    fn a_queue_invocation_reads_as_the_host_source_builds_it() {
        let invocation = request(&host_body(MSG, 2, "6f0c"));
        let bytes = invocation.queue_message("msg").expect("message");
        assert_eq!(String::from_utf8(bytes).unwrap(), MSG);
        assert_eq!(invocation.dequeue_count(), Some(2));
        assert_eq!(invocation.metadata_text("Id").as_deref(), Some("6f0c"));
    }

    #[test]
    fn metadata_numbers_may_come_as_strings() {
        let invocation = request(r#"{"Data":{},"Metadata":{"DequeueCount":"5","Id":"abc"}}"#);
        assert_eq!(invocation.dequeue_count(), Some(5));
        assert_eq!(invocation.metadata_text("Id").as_deref(), Some("abc"));
        let documented = request(r#"{"Data":{},"Metadata":{"DequeueCount":1}}"#);
        assert_eq!(documented.dequeue_count(), Some(1));
    }

    #[test]
    fn missing_or_null_messages_are_refused() {
        let invocation = request(r#"{"Data":{"msg":null}}"#);
        assert!(invocation.queue_message("msg").is_err());
        assert!(invocation.queue_message("other").is_err());
        assert!(InvocationRequest::parse(b"not json").is_err());
    }

    #[test]
    fn timer_payloads_parse_leniently() {
        let timer = r#"{"Data":{"myTimer":{"Schedule":{},"ScheduleStatus":{"Last":"junk"},"IsPastDue":true}},"Metadata":{}}"#;
        assert_eq!(request(timer).timer_past_due("myTimer"), Some(true));
        let as_text = r#"{"Data":{"myTimer":"{\"IsPastDue\":false}"}}"#;
        assert_eq!(request(as_text).timer_past_due("myTimer"), Some(false));
        assert_eq!(request("").timer_past_due("myTimer"), None);
        assert_eq!(
            request(r#"{"Data":{"myTimer":7}}"#).timer_past_due("myTimer"),
            None
        );
    }

    #[test]
    fn the_response_has_the_hosts_field_names() {
        let answer = serde_json::to_value(Invocation::ok(vec!["hi".into()]).body).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({"Outputs": {}, "Logs": ["hi"], "ReturnValue": null})
        );
    }
}

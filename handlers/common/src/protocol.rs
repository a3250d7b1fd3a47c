//! The Functions host's custom-handler protocol for functions it does not forward as plain
//! HTTP (timer and queue triggers): it POSTs `{"Data": {...}, "Metadata": {...}}` to
//! `/<function name>` and expects `{"Outputs": {...}, "Logs": [...], "ReturnValue": ...}`.
//! A non-2xx answer fails the invocation, which is how a queue message is NACKed.
//!
//! `Data` is keyed by binding name. Values that are JSON objects arrive as objects; strings
//! arrive JSON-serialised, sometimes once more (a queue message can come with extra quotes),
//! and bytes as base64. The decoders here accept all of these; the host's exact shape is an
//! open item to verify on a real host (docs/functions.md).

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

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

    /// The queue message body of binding `name`, decoded tolerantly (see [`message_bytes`]).
    pub fn queue_message(&self, name: &str) -> Result<Vec<u8>, ProtocolError> {
        let raw = self
            .data(name)
            .ok_or_else(|| ProtocolError::Missing(name.to_owned()))?;
        message_bytes(raw).map_err(|reason| ProtocolError::BadMessage {
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

/// A queue message's bytes from its binding value: a JSON object (or array) is the message
/// text itself; a string is unwrapped (once more if it is itself a quoted JSON string), then
/// taken as JSON text when it looks like JSON, else as base64 when it decodes, else as is.
pub fn message_bytes(raw: &RawValue) -> Result<Vec<u8>, String> {
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'{' | b'[') => Ok(text.as_bytes().to_vec()),
        Some(b'"') => {
            let inner: String = serde_json::from_str(text).map_err(|e| e.to_string())?;
            Ok(string_message(&inner))
        }
        _ => Err(format!(
            "expected a string or an object, got {}",
            kind(text)
        )),
    }
}

fn string_message(text: &str) -> Vec<u8> {
    let trimmed = text.trim();
    if trimmed.starts_with('"')
        && let Ok(inner) = serde_json::from_str::<String>(trimmed)
    {
        return plain_message(&inner);
    }
    plain_message(text)
}

fn plain_message(text: &str) -> Vec<u8> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return trimmed.as_bytes().to_vec();
    }
    BASE64
        .decode(trimmed)
        .unwrap_or_else(|_| text.as_bytes().to_vec())
}

fn kind(text: &str) -> &'static str {
    match text.as_bytes().first() {
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        None => "nothing",
        _ => "a number",
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
}

impl Invocation {
    pub fn ok(logs: Vec<String>) -> Self {
        Self::with_status(StatusCode::OK, logs)
    }

    /// A failed invocation: the host retries a queue message, then poisons it.
    pub fn failed(logs: Vec<String>) -> Self {
        Self::with_status(StatusCode::INTERNAL_SERVER_ERROR, logs)
    }

    fn with_status(status: StatusCode, logs: Vec<String>) -> Self {
        Self {
            status,
            body: InvocationResponse {
                outputs: Map::new(),
                logs,
                return_value: Value::Null,
            },
        }
    }
}

impl IntoResponse for Invocation {
    fn into_response(self) -> Response {
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

    #[test]
    fn a_queue_message_decodes_from_every_shape_the_host_may_send() {
        let quoted = serde_json::to_string(MSG).unwrap();
        let twice = serde_json::to_string(&quoted).unwrap();
        let base64 = serde_json::to_string(&BASE64.encode(MSG)).unwrap();
        for data in [MSG.to_owned(), quoted, twice, base64] {
            let body = format!(r#"{{"Data":{{"msg":{data}}},"Metadata":{{"DequeueCount":2}}}}"#);
            let invocation = request(&body);
            let bytes = invocation.queue_message("msg").expect("message");
            assert_eq!(String::from_utf8(bytes).unwrap(), MSG, "from {data}");
            assert_eq!(invocation.dequeue_count(), Some(2));
        }
    }

    #[test]
    fn metadata_numbers_may_come_as_strings() {
        let invocation = request(r#"{"Data":{},"Metadata":{"DequeueCount":"5","Id":"abc"}}"#);
        assert_eq!(invocation.dequeue_count(), Some(5));
        assert_eq!(invocation.metadata_text("Id").as_deref(), Some("abc"));
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

//! Error bodies: Dataverse's `{"error":{"code","message"}}` and Entra ID's token errors.

use des_core::ports::SourceError;
use serde::Deserialize;

/// `ExpiredVersionStamp`: the change token is too old; a full resync is needed.
pub const EXPIRED_VERSION_STAMP: &str = "0x80044352";
/// The same code in the SDK's decimal form.
const EXPIRED_VERSION_STAMP_DECIMAL: &str = "-2147204270";
/// The message text, matched when the code is missing.
const EXPIRED_MESSAGE: &str = "version stamp associated with the client has expired";

/// The `error` object of a Dataverse error response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServiceErrorBody {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct Envelope {
    error: ServiceErrorBody,
}

impl ServiceErrorBody {
    /// Parses a well-formed error body.
    pub fn parse(body: &[u8]) -> Result<Self, SourceError> {
        serde_json::from_slice::<Envelope>(body)
            .map(|e| e.error)
            .map_err(|e| SourceError::Protocol(format!("error body is not a Dataverse error: {e}")))
    }

    /// Parses the body, or when it is not valid JSON (the docs show a plug-in error missing a
    /// comma) picks `code` and `message` out of the text. `None` when neither is there.
    pub fn salvage(body: &[u8]) -> Option<Self> {
        if let Ok(parsed) = Self::parse(body) {
            return Some(parsed);
        }
        let text = String::from_utf8_lossy(body);
        let code = string_after(&text, "code");
        let message = string_after(&text, "message");
        if code.is_none() && message.is_none() {
            return None;
        }
        Some(Self {
            code: code.unwrap_or_default(),
            message: message.unwrap_or_default(),
        })
    }

    /// True for `ExpiredVersionStamp`, by code or, failing that, by message.
    pub fn is_expired_token(&self) -> bool {
        let code = self.code.trim();
        code.eq_ignore_ascii_case(EXPIRED_VERSION_STAMP)
            || code == EXPIRED_VERSION_STAMP_DECIMAL
            || self.message.to_ascii_lowercase().contains(EXPIRED_MESSAGE)
    }
}

/// The JSON string value that follows `"key":` in `text`, if any.
fn string_after(text: &str, key: &str) -> Option<String> {
    let pattern = format!("\"{key}\"");
    let start = text.find(&pattern)? + pattern.len();
    let rest = text[start..].trim_start().strip_prefix(':')?;
    serde_json::Deserializer::from_str(rest)
        .into_iter::<String>()
        .next()?
        .ok()
}

/// Turns a non-retryable error response into the port's error.
pub(crate) fn service_error(status: u16, body: &[u8]) -> SourceError {
    match ServiceErrorBody::salvage(body) {
        Some(error) if error.is_expired_token() => SourceError::ExpiredToken {
            message: error.message,
        },
        Some(error) => SourceError::Service {
            status,
            code: error.code,
            message: error.message,
        },
        None => SourceError::Service {
            status,
            code: String::new(),
            message: format!(
                "HTTP {status} without a readable error body ({} bytes)",
                body.len()
            ),
        },
    }
}

/// An Entra ID token endpoint error (`invalid_client`, `invalid_scope`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: String,
    #[serde(default)]
    pub error_codes: Vec<i64>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
}

impl TokenErrorBody {
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }

    /// The first line of the description (the rest repeats trace and correlation ids).
    pub fn summary(&self) -> String {
        let first = self.error_description.lines().next().unwrap_or_default();
        format!("{}: {first}", self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salvage_reads_code_and_message_from_broken_json() {
        let body = br#"{"error":{"code":"0x1","message":"Bad \"thing\"." "x": 1}}"#;
        let error = ServiceErrorBody::salvage(body).expect("salvaged");
        assert_eq!(error.code, "0x1");
        assert_eq!(error.message, "Bad \"thing\".");
    }

    #[test]
    fn expired_token_is_found_by_code_decimal_or_message() {
        let by_code = ServiceErrorBody {
            code: "0X80044352".into(),
            message: String::new(),
        };
        let by_decimal = ServiceErrorBody {
            code: "-2147204270".into(),
            message: String::new(),
        };
        let by_text = ServiceErrorBody {
            code: String::new(),
            message: "Version stamp associated with the client has expired. Please...".into(),
        };
        assert!(by_code.is_expired_token() && by_decimal.is_expired_token());
        assert!(by_text.is_expired_token());
        let other = ServiceErrorBody {
            code: "0x80040265".into(),
            message: "x".into(),
        };
        assert!(!other.is_expired_token());
    }

    #[test]
    fn unreadable_body_still_gives_a_service_error() {
        match service_error(502, b"<html>bad gateway</html>") {
            SourceError::Service {
                status,
                code,
                message,
            } => {
                assert_eq!((status, code.as_str()), (502, ""));
                assert!(message.contains("24 bytes"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

//! The JSON body extractor: every bad body becomes a 400 DES error naming the problem.
//!
//! Any content type is accepted, because DES's own sample client posted JSON as
//! `text/plain` (`new StringContent(content)`). Serde errors carry the path of the bad field
//! (`RetryPolicy.MaxRetryCount`), found with `serde_path_to_error`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON request body of type `T`.
pub struct DesJson<T>(pub T);

impl<S, T> FromRequest<S> for DesJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let too_large = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .is_some_and(|n| n > MAX_BODY_BYTES);
        if too_large {
            return Err(oversized());
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE => oversized(),
                    _ => ApiError::bad_request("body: the request body could not be read"),
                })?;
        parse(&bytes).map(DesJson)
    }
}

fn oversized() -> ApiError {
    ApiError::bad_request(format!(
        "body: the request body is larger than {} KiB",
        MAX_BODY_BYTES / 1024
    ))
}

/// Parses `bytes` as the JSON object `T`, naming the field of the first problem.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("body: a JSON body is required"));
    }
    let json: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("body: {}", without_position(&e))))?;
    if !json.is_object() {
        return Err(ApiError::bad_request("body: must be a JSON object"));
    }
    let value: T = serde_path_to_error::deserialize(json).map_err(describe)?;
    Ok(value)
}

fn describe(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let problem = without_position(&inner);
    let field = if path == "." { "body".to_owned() } else { path };
    // A missing field is reported by its parent: name the field itself.
    let message = match missing_field(&problem) {
        Some(name) if field == "body" => format!("{name}: is required"),
        Some(name) => format!("{field}.{name}: is required"),
        None => format!("{field}: {problem}"),
    };
    ApiError::bad_request(message)
}

fn missing_field(problem: &str) -> Option<String> {
    let rest = problem.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// serde_json appends "at line 1 column 17"; the field path says more.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

//! The request span: every request's correlation id, and the one place requests are logged.
//!
//! [`request_span`] is the router's outermost layer. Up front it draws a fresh correlation id
//! (UUID v4), puts it in the request's extensions ([`CorrelationId`]) and opens a `request`
//! span with `correlation_id`, `method` and `route` (the route template, or the path when no
//! route matched; never the query string, headers or body, which may carry values and
//! tokens). The rest of the stack and the handler run inside that span, so every line they
//! log carries the id. Then it logs the outcome once: status and latency at debug, a
//! refusal's message (`error`) at info, a 5xx's at warn and its `cause` at error. The error
//! conversions log nothing.
//!
//! An [`ApiError`] answer carries its error in the response's extensions; this layer writes
//! the request's id into its body (`CorrelationId`), so the body, the
//! [`CORRELATION_HEADER`] it adds to every answer and the log lines all name the same id.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::ApiError;

/// The response header naming the request's correlation id (as Azure Resource Manager's).
pub const CORRELATION_HEADER: &str = "x-ms-correlation-request-id";

/// How much of an unmatched path the span records.
const PATH_BYTES: usize = 256;

/// The request's correlation id, in its extensions while it is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationId(pub Uuid);

/// The layer's function (`axum::middleware::from_fn`).
pub async fn request_span(mut request: Request, next: Next) -> Response {
    let id = Uuid::new_v4();
    let route = match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_owned(),
        None => truncated(request.uri().path(), PATH_BYTES).to_owned(),
    };
    let span = tracing::info_span!(
        "request",
        correlation_id = %id,
        method = %request.method(),
        route = %route,
    );
    request.extensions_mut().insert(CorrelationId(id));
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (mut parts, body) = response.into_parts();
    let error = parts.extensions.remove::<ApiError>();
    let body = match &error {
        Some(error) if error.correlation_id != id => {
            let error = ApiError {
                correlation_id: id,
                ..error.clone()
            };
            parts.headers.remove(header::CONTENT_LENGTH);
            Body::from(error.body_json())
        }
        _ => body,
    };
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        parts.headers.insert(CORRELATION_HEADER, value);
    }
    span.in_scope(|| log_outcome(parts.status.as_u16(), latency_ms, error.as_ref()));
    Response::from_parts(parts, body)
}

fn log_outcome(status: u16, latency_ms: u64, error: Option<&ApiError>) {
    let message = error.map_or("", |e| e.message.as_str());
    match error.and_then(|e| e.cause.as_deref()) {
        Some(cause) if status >= 500 => {
            tracing::error!(
                status,
                latency_ms,
                error = message,
                cause,
                "Answered with an error."
            );
        }
        _ if status >= 500 => {
            tracing::warn!(
                status,
                latency_ms,
                error = message,
                "Answered with an error."
            );
        }
        // A refusal is the API working: an operator's console and the Functions host (which
        // counts warnings) are not flooded by whoever sends bad requests.
        _ if status >= 400 => {
            tracing::info!(
                status,
                latency_ms,
                error = message,
                "Answered with an error."
            );
        }
        _ => tracing::debug!(status, latency_ms, "Answered."),
    }
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn truncated(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

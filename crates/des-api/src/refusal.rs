//! The router's outer layer: every refusal carries DES's error body and a correlation id.
//!
//! - Request heads over the limits are refused before routing: a URL (path and query) over
//!   [`MAX_URI_BYTES`] with 414, headers over [`MAX_HEADER_BYTES`] in all with 431.
//! - An error answer not made by [`ApiError`] (an extractor's plain-text rejection, a route
//!   added without it) is given DES's body with the same status and the rejection's text.
//! - A handler that panics is answered 500 with DES's body; the panic is its cause, which the
//!   request span (`crate::span`, the layer outside this one) logs with the correlation id.
//!
//! Heads too large for hyper itself never reach the router: see `serve::head_guard`.

use std::panic::AssertUnwindSafe;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;

use crate::error::{ApiError, DesBody};

/// The longest URL (path and query) accepted, as Kestrel's request-line limit.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) accepted, as Kestrel's limit.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// How much of a plain-text rejection is repeated in the error message.
const REJECTION_TEXT_BYTES: usize = 512;

/// The DES error for a request head refused for its size (or as unparsable).
pub fn head_refusal(status: StatusCode) -> ApiError {
    let message = match status {
        StatusCode::URI_TOO_LONG => format!("The URL is longer than {} KiB.", MAX_URI_BYTES / 1024),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => format!(
            "The request headers are larger than {} KiB.",
            MAX_HEADER_BYTES / 1024
        ),
        _ => "The request is not valid HTTP/1.1.".to_owned(),
    };
    ApiError::new(
        status,
        message,
        "The request was refused before it was read.",
    )
}

/// The layer's function (`axum::middleware::from_fn`).
pub async fn guard(request: Request, next: Next) -> Response {
    if let Some(status) = oversized(&request) {
        return head_refusal(status).into_response();
    }
    let response = match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => return ApiError::internal(&PanicText(panic)).into_response(),
    };
    let is_error = response.status().is_client_error() || response.status().is_server_error();
    if !is_error || response.extensions().get::<DesBody>().is_some() {
        return response;
    }
    with_des_body(response).await
}

fn oversized(request: &Request) -> Option<StatusCode> {
    let uri = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri > MAX_URI_BYTES {
        return Some(StatusCode::URI_TOO_LONG);
    }
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    (headers > MAX_HEADER_BYTES).then_some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
}

async fn with_des_body(response: Response) -> Response {
    let status = response.status();
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b[..b.len().min(REJECTION_TEXT_BYTES)]).into_owned())
        .unwrap_or_default();
    let message = match text.trim() {
        "" => status.canonical_reason().unwrap_or("Refused").to_owned(),
        text => text.to_owned(),
    };
    let details = "The request was refused.";
    ApiError::new(status, message, details).into_response()
}

struct PanicText(Box<dyn std::any::Any + Send>);

impl std::fmt::Display for PanicText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self
            .0
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| self.0.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic");
        write!(f, "handler panicked: {text}")
    }
}

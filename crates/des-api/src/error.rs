//! DES's error body, `{"CorrelationId", "Details", "Message"}`, with the right status.
//!
//! Messages name the field or the rule a request broke. Internal causes (store, sink and
//! Dataverse errors) ride in the response's extensions to the request span
//! (`crate::span`), which logs them under the request's correlation id; they are never
//! sent: a 500 says only "Internal server error". Nothing here logs.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use des_core::ports::{SourceError, StoreError};
use des_engine::EngineError;
use serde::Serialize;
use uuid::Uuid;

/// Marks a response whose body is DES's error body (the outer layer gives one to the rest).
#[derive(Debug, Clone, Copy)]
pub struct DesBody;

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub details: String,
    /// `WWW-Authenticate` value for 401s.
    pub challenge: Option<String>,
    /// Fresh when made; the request span writes its own id into the body it answers.
    pub correlation_id: Uuid,
    /// What went wrong inside (5xx): logged by the request span, never sent.
    pub(crate) cause: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    correlation_id: Uuid,
    details: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>, details: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            details: details.into(),
            challenge: None,
            correlation_id: Uuid::new_v4(),
            cause: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            message,
            "The request is not valid.",
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            message,
            "The resource does not exist.",
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            message,
            "The request conflicts with the current state.",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            message,
            "Only System Administrators of the organization may call this operation.",
        )
    }

    /// A 503 for a dependency that did not answer (Dataverse, the token issuer).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message, "Try again later.")
    }

    /// A 500 that carries `cause` for the log and answers without it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
            "",
        )
        .with_cause(cause)
    }

    /// Keeps `cause` for the request span's log line (never for the answer).
    pub(crate) fn with_cause(mut self, cause: &dyn std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub fn with_challenge(mut self, challenge: String) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// DES's error body as JSON bytes.
    pub fn body_json(&self) -> Vec<u8> {
        let body = Body {
            correlation_id: self.correlation_id,
            details: &self.details,
            message: &self.message,
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            correlation_id: self.correlation_id,
            details: &self.details,
            message: &self.message,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        response.extensions_mut().insert(DesBody);
        let challenge = self.challenge.as_deref().map(HeaderValue::from_str);
        if let Some(Ok(value)) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        // For the request span: it logs the error and writes its id into the body.
        response.extensions_mut().insert(self);
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => {
                Self::conflict("The profile was changed by another request; read it and retry.")
            }
            other => Self::internal(&other),
        }
    }
}

impl From<SourceError> for ApiError {
    fn from(e: SourceError) -> Self {
        Self::unavailable("The organization's Dataverse could not be reached or refused the call.")
            .with_cause(&e)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Invalid(problem) => Self::bad_request(problem.to_string()),
            EngineError::ProfileNotFound(id) => Self::not_found(format!("Profile {id} not found.")),
            EngineError::OrganizationNotFound(id) => {
                Self::not_found(format!("Organization {id} is not configured."))
            }
            EngineError::UnknownEntity { entity, .. } => {
                Self::bad_request(format!("entity: the profile does not export '{entity}'"))
            }
            EngineError::Store(store) => store.into(),
            EngineError::Source(source) => source.into(),
            other => Self::internal(&other),
        }
    }
}

/// Handler results.
pub type ApiResult<T> = Result<T, ApiError>;

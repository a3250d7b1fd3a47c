//! DES's error body, `{"CorrelationId", "Details", "Message"}`, with the right status.
//!
//! Messages name the field or the rule a request broke. Internal causes (store, sink and
//! Dataverse errors) are logged with the correlation id and never sent: a 500 says only
//! "Internal server error".

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
    pub correlation_id: Uuid,
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

    /// Logs `cause` under a fresh correlation id and answers 500 without it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
            "",
        );
        tracing::error!(correlation_id = %error.correlation_id, %cause, "Request failed.");
        error
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
        let correlation_id = self.correlation_id;
        if self.status.is_server_error() && self.status != StatusCode::INTERNAL_SERVER_ERROR {
            tracing::warn!(%correlation_id, status = self.status.as_u16(), message = %self.message, "Answered with an error.");
        }
        let body = Body {
            correlation_id,
            details: &self.details,
            message: &self.message,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        response.extensions_mut().insert(DesBody);
        if let Some(value) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
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
        tracing::warn!(error = %e, "Dataverse call failed.");
        Self::unavailable("The organization's Dataverse could not be reached or refused the call.")
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

//! Errors: the library's error type, which also carries Web API error responses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A Web API error: HTTP status plus the `{"error":{"code","message"}}` body.
    #[error("{status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("state file: {0}")]
    State(String),
    #[error("signing key: {0}")]
    Key(String),
}

impl EmulatorError {
    pub fn api(status: u16, code: &str, message: impl Into<String>) -> Self {
        EmulatorError::Api {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::api(400, code, message)
    }

    /// The 404 of `error-404-not-found.json`.
    pub fn not_found(entity: &str, id: &uuid::Uuid) -> Self {
        Self::api(404, "", format!("{entity} With Id = {id} Does Not Exist"))
    }

    pub fn no_resource(path: &str) -> Self {
        Self::api(
            404,
            "0x80060888",
            format!("Resource not found for the segment '{path}'."),
        )
    }

    pub fn unknown_property(name: &str, entity: &str) -> Self {
        Self::bad_request(
            "0x80060888",
            format!(
                "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{entity}'."
            ),
        )
    }

    pub fn expired_token() -> Self {
        Self::bad_request(
            "0x80044352",
            "Version stamp associated with the client has expired. Please perform a full sync.",
        )
    }

    pub fn duplicate() -> Self {
        Self::api(412, "", "A record with matching key values already exists.")
    }

    pub fn row_version() -> Self {
        Self::api(
            412,
            "",
            "The version of the existing record doesn't match the RowVersion property provided.",
        )
    }

    pub fn status(&self) -> u16 {
        match self {
            EmulatorError::Api { status, .. } => *status,
            _ => 500,
        }
    }
}

/// The Dataverse error body, with keys in the documented order.
pub fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({"error": {"code": code, "message": message}}).to_string()
}

impl IntoResponse for EmulatorError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            EmulatorError::Api {
                status,
                code,
                message,
            } => (*status, error_body(code, message)),
            other => (500, error_body("0x80040216", &other.to_string())),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [
                ("content-type", "application/json; odata.metadata=minimal"),
                ("odata-version", "4.0"),
            ],
            body,
        )
            .into_response()
    }
}

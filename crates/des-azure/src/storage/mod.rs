//! The storage account: settings, Shared Key signing, SAS links and the clients built from
//! them.

mod account;
mod config;
mod delegation_key;
mod delegation_keys;
mod sas;
mod shared_key;

use azure_core::error::ErrorKind;

pub use account::{AZURITE_SERVICE_VERSION, StorageAccount};
pub use config::{DEV_ACCOUNT, DEV_KEY, StorageAuth, StorageConfig};
pub use delegation_key::{
    DelegationKeyError, KEY_REQUEST_VERSION, KeyFetcher, RestKeyFetcher, UserDelegationKey,
    key_request_body,
};
pub use delegation_keys::{
    DelegationKeys, EXPIRY_MARGIN, KEY_LIFETIME, MAX_KEY_LIFETIME, START_SKEW,
};
pub use sas::SAS_VERSION;
pub use shared_key::AccountKey;

pub(crate) use account::{STORAGE_SCOPE, is_loopback};
pub(crate) use sas::{delegated_read_blob_url, read_blob_url};

/// The storage settings could not be read, or a client could not be made from them. The
/// message names the problem, never a key.
#[derive(Debug, thiserror::Error)]
#[error("storage configuration: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub(crate) fn from_azure(error: azure_core::Error) -> Self {
        Self(error.to_string())
    }
}

/// The HTTP status and storage error code of a failed call, if the service answered.
pub(crate) fn answer(error: &azure_core::Error) -> Option<(u16, Option<&str>)> {
    match error.kind() {
        ErrorKind::HttpResponse {
            status, error_code, ..
        } => Some((u16::from(*status), error_code.as_deref())),
        _ => None,
    }
}

/// The status of a failed call, if the service answered.
pub(crate) fn status(error: &azure_core::Error) -> Option<u16> {
    answer(error).map(|(status, _)| status)
}

/// A short description of a failed call for error values and logs: status and code only, so
/// no response body (which may echo request content) reaches a log line.
pub(crate) fn describe(error: &azure_core::Error) -> String {
    match answer(error) {
        Some((status, Some(code))) => format!("storage answered {status} {code}"),
        Some((status, None)) => format!("storage answered {status}"),
        None => format!("storage unreachable: {error}"),
    }
}

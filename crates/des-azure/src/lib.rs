//! Azure adapters behind the des-core ports, for the Functions deployment:
//!
//! | port | adapter | where |
//! |---|---|---|
//! | `ControlStore` | [`BlobControlStore`] | JSON blobs in `des-control`, ETag preconditions |
//! | `WorkQueue` | [`StorageQueue`] | Storage Queue `des-apply`, base64 messages |
//! | `PayloadStore` | [`BlobPayloadStore`] | write-once blobs in `des-payloads` |
//! | `FailureLog` | [`AppendBlobFailureLog`] | hourly append blobs in `des-failures`, SAS read links |
//! | `Secrets` | [`KeyVaultSecrets`] | Key Vault secret URLs, cached 5 minutes |
//!
//! plus the Entra ID [`credential`] chain and [`EntraTokens`], which hands its tokens to the
//! Dataverse client and the SQL Server sink. Every adapter passes its port's contract suite
//! (crate `des-contract`) against Azurite, as the local adapters do against SQLite and files.
//!
//! Storage is reached with a [`StorageAccount`] made from the `AzureWebJobsStorage` settings
//! ([`StorageConfig`]): Shared Key for Azurite and key-based connection strings, tokens from
//! the managed identity in Azure.

pub mod credential;
pub mod names;
pub mod storage;

mod container;
mod control_store;
mod failure_links;
mod failure_log;
mod payload_store;
mod secrets;
mod token;
mod work_queue;

pub use control_store::BlobControlStore;
pub use failure_links::LINK_LIFETIME;
pub use failure_log::AppendBlobFailureLog;
pub use payload_store::BlobPayloadStore;
pub use secrets::{
    CACHE_LIFETIME, KeyVaultFetcher, KeyVaultSecrets, SecretFetcher, SecretReference,
};
pub use storage::{ConfigError, StorageAccount, StorageAuth, StorageConfig};
pub use token::EntraTokens;
pub use work_queue::{MAX_ENCODED_BYTES, MAX_MESSAGE_BYTES, StorageQueue};

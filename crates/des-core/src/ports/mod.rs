//! Ports: the traits adapters implement. The control store, queue, payload store, failure log,
//! secrets and sink ports each have one contract test suite (crate `des-contract`) that every
//! adapter runs, local and Azure alike.
//! The token and failure-link ports are seams between two adapters (the Azure credential
//! chain and the Dataverse client or SQL Server sink; the Azure failure log and the API), kept
//! here so that neither adapter crate depends on the other.

mod clock;
mod control;
mod failure_log;
mod links;
mod queue;
mod secrets;
mod sink;
mod source;
mod token;

pub use clock::{Clock, SystemClock};
pub use control::{
    ControlStore, Etag, Organization, Precondition, StoreError, StreamProgress, Versioned,
};
pub use failure_log::{FailureLog, FailureLogError};
pub use links::{FailureLinks, LinkError};
pub use queue::{Delivery, PayloadStore, QueueError, WorkQueue};
pub use secrets::{SecretError, Secrets};
pub use sink::{BatchOutcome, PermissionCheck, RecordFailure, RetryOutcome, Sink, SinkError};
pub use source::{NextLink, Page, PageRequest, Source, SourceError};
pub use token::{
    AZURE_SQL_SCOPE, AccessToken, AccessTokenSource, SqlTokenError, TokenError, TokenProvider,
};

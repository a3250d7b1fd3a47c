//! Ports: the traits adapters implement. Each has one contract test suite (crate
//! `des-contract`) that every adapter runs, local and Azure alike.

mod clock;
mod control;
mod failure_log;
mod queue;
mod secrets;
mod sink;
mod source;

pub use clock::{Clock, SystemClock};
pub use control::{
    ControlStore, Etag, Organization, Precondition, StoreError, StreamProgress, Versioned,
};
pub use failure_log::{FailureLog, FailureLogError};
pub use queue::{Delivery, PayloadStore, QueueError, WorkQueue};
pub use secrets::{SecretError, Secrets};
pub use sink::{BatchOutcome, PermissionCheck, RecordFailure, RetryOutcome, Sink, SinkError};
pub use source::{NextLink, Page, PageRequest, Source, SourceError};

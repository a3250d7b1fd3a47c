//! Domain core of the open Data Export Service.
//!
//! Everything here is pure: the Dataverse metadata model, records and batches, the DES profile
//! model, the DES schema mapping, failure lines, and the ports (traits) that adapters implement.
//! Nothing in this crate performs I/O; adapters live in other crates and are wired by the thin
//! entry points (`des`, the Functions handlers).

pub mod failure;
pub mod fault;
pub mod metadata;
pub mod ports;
pub mod profile;
pub mod record;
pub mod schema;
pub mod secret;
pub mod sync;

pub use failure::{ChangeType, FailureLine};
pub use fault::ErrorClass;
pub use metadata::{
    AttributeKind, AttributeMetadata, DateTimeBehavior, EntityMetadata, EntitySummary,
    LocalizedLabel, LookupPart, ManyToManyRelationship, OptionMetadata, OptionSetMetadata,
};
pub use record::{Batch, BatchKind, Change, RetryChange, Row, StreamId, TableName, Value};
pub use secret::Secret;

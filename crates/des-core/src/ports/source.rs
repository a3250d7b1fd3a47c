use async_trait::async_trait;

use crate::metadata::{EntityMetadata, EntitySummary, ManyToManyRelationship, OptionSetMetadata};
use crate::record::Change;

/// What to read: the first page of a full (change-tracked) read, or a saved link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// `GET <entity_set>?$select=...` with `Prefer: odata.track-changes`.
    Start {
        entity_set: String,
        select: Vec<String>,
    },
    /// A `nextLink` or `deltaLink` exactly as the service returned it.
    Follow { link: String },
}

/// How a page ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextLink {
    /// More pages of the same read follow (`@odata.nextLink`).
    More(String),
    /// The read is complete; changes after it come from this `@odata.deltaLink`.
    Done(String),
}

/// One page: rows in `select` order (upserts), then deletes, and the link to go on with.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub changes: Vec<Change>,
    pub next: NextLink,
}

/// Errors a source surfaces after its own retries (429s, 5xx and timeouts are retried inside).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The change token expired (`ExpiredVersionStamp`, 0x80044352): answer with a full resync.
    #[error("change token expired: {message}")]
    ExpiredToken { message: String },
    /// Credentials were refused.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The service answered with a non-retryable error.
    #[error("Dataverse error {status} (code {code:?}): {message}")]
    Service {
        status: u16,
        code: String,
        message: String,
    },
    /// Retries were exhausted on a transient fault.
    #[error("Dataverse unavailable after retries: {0}")]
    Unavailable(String),
    /// The response did not have the expected shape.
    #[error("unexpected response: {0}")]
    Protocol(String),
}

/// A Dataverse environment, read through the Web API.
#[async_trait]
pub trait Source: Send + Sync {
    /// Every entity with its change-tracking flag (exportable = change-tracked).
    async fn entities(&self) -> Result<Vec<EntitySummary>, SourceError>;
    /// One entity with its attributes, option sets and lookup targets.
    async fn entity_metadata(&self, logical_name: &str) -> Result<EntityMetadata, SourceError>;
    /// Every M:N relationship.
    async fn relationships(&self) -> Result<Vec<ManyToManyRelationship>, SourceError>;
    /// Global option sets referenced by choice attributes.
    async fn global_option_sets(&self) -> Result<Vec<OptionSetMetadata>, SourceError>;
    /// Reads one page. `select` names attributes by logical name; row values follow that
    /// order, and lookups come back as `Value::Lookup` with their target table.
    async fn read_page(
        &self,
        request: &PageRequest,
        select: &[String],
    ) -> Result<Page, SourceError>;
}

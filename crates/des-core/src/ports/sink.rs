use async_trait::async_trait;
use uuid::Uuid;

use crate::failure::ChangeType;
use crate::fault::ErrorClass;
use crate::record::{Batch, RetryChange};
use crate::schema::{SchemaPlan, TableDef};

/// A change the sink could not write; the rest of its batch was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFailure {
    pub id: Uuid,
    pub change_type: ChangeType,
    /// DES-style reason, e.g. `String length in source longer than destination schema for
    /// [name, 160]`. Never contains record values.
    pub reason: String,
}

/// What happened to a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Applied in one transaction with the watermark moved to `batch.seq`.
    Applied {
        applied: usize,
        failures: Vec<RecordFailure>,
    },
    /// `batch.seq` is at or below the watermark: a duplicate delivery, nothing written.
    Duplicate,
    /// An earlier batch has not been applied yet; nothing written. Try again later.
    OutOfOrder { watermark: u64 },
}

/// What happened to a retried change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    Applied,
    /// A newer version or a later delete is already in the target; the retry is dropped.
    Superseded,
    Failed(RecordFailure),
}

/// One DES permission check (`test` operation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionCheck {
    pub permission: String,
    pub granted: bool,
    pub detail: Option<String>,
}

/// Errors that fail a whole operation, each of one [`ErrorClass`] (see [`SinkError::class`]).
/// Changes the sink could isolate and refuse on their own are [`RecordFailure`]s instead.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Transient: the target cannot be reached or asked to wait (lost connection, timeout,
    /// deadlock, serialization failure, lock wait, throttling).
    #[error("cannot reach the target database: {0}")]
    Unavailable(String),
    /// Record: the target refused a record's values (constraint, trigger, conversion,
    /// length, row size). Never contains the values.
    #[error("the target refused a record: {0}")]
    Refused(String),
    /// Target: a schema change failed.
    #[error("schema change failed for {table}: {reason}")]
    Schema { table: String, reason: String },
    /// Target: the plan has no such table.
    #[error("no table is planned for {0}")]
    UnknownTable(String),
    /// Target: a table or column the applied plan has is not in the target (dropped by
    /// hand, a database restored from before it): applying the plan again recreates it.
    #[error("the target lost part of its schema: {0}")]
    Missing(String),
    /// Target: the target is not as the stream needs it (missing table, column or
    /// permission), or failed in a way no retry fixes.
    #[error("target database error: {0}")]
    Database(String),
    /// Configuration: the connection string is wrong or sign-in failed. Names the problem,
    /// never the password.
    #[error("target configuration error: {0}")]
    Configuration(String),
}

impl SinkError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Unavailable(_) => ErrorClass::Transient,
            Self::Refused(_) => ErrorClass::Record,
            Self::Schema { .. } | Self::UnknownTable(_) | Self::Missing(_) | Self::Database(_) => {
                ErrorClass::Target
            }
            Self::Configuration(_) => ErrorClass::Configuration,
        }
    }

    /// The same fault as an error of `class`, keeping its message.
    pub fn of_class(class: ErrorClass, message: String) -> Self {
        match class {
            ErrorClass::Transient => Self::Unavailable(message),
            ErrorClass::Record => Self::Refused(message),
            ErrorClass::Target => Self::Database(message),
            ErrorClass::Configuration => Self::Configuration(message),
        }
    }
}

/// A SQL target.
///
/// Contract (tested by `des-contract::sink`):
/// - Batches of one table are applied strictly in `seq` order, each in one transaction that
///   also stores `seq` as the table's watermark; a batch at or below the watermark is a
///   `Duplicate`, one above `watermark + 1` is `OutOfOrder`. Both write nothing.
/// - An upsert never replaces a row whose `versionnumber` is higher (no stale overwrite).
/// - A delete removes the row, writes `DeleteLog` when planned, and leaves a tombstone at the
///   batch's `seq`, so an older retry cannot re-create the row (no resurrection).
/// - `Resync` batches record the ids they carry (refused ones included: an id counts as seen
///   when the source returned it); `ResyncComplete` deletes every other row.
/// - A change the target refuses for a record-class reason (constraint, trigger, conversion)
///   is isolated: the batch's other changes are applied and the refused one comes back as a
///   [`RecordFailure`]. A retried change the target refuses is [`RetryOutcome::Failed`].
/// - Calls for different tables may run concurrently; calls for one table are serialised by
///   the caller.
/// - The engine's state in the target (watermarks, tombstones, resync marks, the identity
///   token) belongs to one profile: the profile of `batch.stream` and `retry.stream`, or the
///   one named. Two profiles writing one target never read each other's state. It lives
///   apart from the DES tables (a schema of its own where the database has schemas), and a
///   target written by the layout before (state tables named with the profile's prefix beside
///   the DES tables) is moved there for the first profile that touches it, losing nothing.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Creates or evolves the planned tables (add columns, widen strings, never drop) and
    /// replaces the metadata-table rows. Idempotent.
    async fn apply_schema(&self, plan: &SchemaPlan) -> Result<(), SinkError>;
    /// Applies one batch of the table's ordered stream.
    async fn apply_batch(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        batch: &Batch,
    ) -> Result<BatchOutcome, SinkError>;
    /// Applies one retried change, guarded by version and tombstones.
    async fn apply_retry(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        retry: &RetryChange,
    ) -> Result<RetryOutcome, SinkError>;
    /// Opens a real connection and runs a trivial query (`SELECT 1`): the target is
    /// reachable and the credentials work. The error's class says why not.
    async fn ping(&self) -> Result<(), SinkError>;
    /// The last applied `seq` of the table by `profile_id` (0 when none).
    async fn watermark(&self, profile_id: Uuid, table: &TableDef) -> Result<u64, SinkError>;
    /// Whether the table exists in the target. The start-up check asks before it applies
    /// the plan again: a table that was gone lost its rows but not its watermark (kept in the
    /// engine's own state), so its stream needs a resync. A stream's first read asks too: a
    /// table already there may hold rows its source lacks, so that read sweeps.
    async fn has_table(&self, table: &TableDef) -> Result<bool, SinkError>;
    /// Stores `token` as the target's identity token for `profile_id` and returns the one it
    /// held before (`None` when it held none: a new, replaced or restored target). The engine
    /// keeps the same token in its control store and compares the two at start.
    async fn identify(&self, profile_id: Uuid, token: &str) -> Result<Option<String>, SinkError>;
    /// Checks the DES permission set on the target.
    async fn check_permissions(&self, plan: &SchemaPlan)
    -> Result<Vec<PermissionCheck>, SinkError>;
}

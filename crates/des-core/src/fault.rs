//! What kind a fault is. Every error that reaches the engine says which of these it is, and
//! the engine decides from the class alone what to do (see `des_engine::decision`).

use serde::{Deserialize, Serialize};

/// The four kinds of fault, from the point of view of what fixes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorClass {
    /// Time fixes it: a lost connection, a timeout, a deadlock, a serialization failure, a
    /// lock wait, throttling, a full disk being cleaned. Retried with back-off.
    Transient,
    /// The target refuses this record's values: a constraint, a trigger, a conversion, a
    /// length or row size. The other records go on; this one is retried per the profile's
    /// `RetryPolicy`, then logged, and comes again with its next change in the source.
    Record,
    /// The target itself is not as the stream needs it: a missing table or column, a missing
    /// permission. Only the operator fixes it; the stream waits, losing nothing.
    Target,
    /// The profile cannot work as configured: a bad connection string, a failed sign-in.
    /// Only the operator fixes it; the stream waits, losing nothing.
    Configuration,
}

impl ErrorClass {
    /// The lower-case name used in logs and operator hints.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Record => "record",
            Self::Target => "target",
            Self::Configuration => "configuration",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

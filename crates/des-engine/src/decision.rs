//! The one place where a fault's class becomes what the engine does about it.
//!
//! | class         | batch message                           | retry message                    |
//! |---------------|-----------------------------------------|----------------------------------|
//! | transient     | back off and retry; poison after `max_dequeue_count` | the same         |
//! | record        | poison now (the sink could not isolate the record) | a failed attempt of the record, per `RetryPolicy` |
//! | target        | stop: wait at the longest back-off, never poison, operator hint | the same |
//! | configuration | stop: wait at the longest back-off, never poison, operator hint | the same |
//!
//! One target-class fault the engine heals itself ([`decide_error`]): a table or column the
//! plan has is missing (dropped while running). The applier applies the stream's plan again
//! and resyncs the stream (`check::repair_stream`), then tries the message again; a second
//! such failure of the same message stops the stream as above.
//!
//! A sink isolates record refusals inside a batch itself (the batch commits with the other
//! changes and the refused ones come back as record failures), so a record-class error of a
//! whole batch is rare: a refusal that ended the transaction (SQLite's `RAISE(ROLLBACK)`).
//! Stopping never loses anything: the message stays in the queue and the stream's later
//! batches wait behind it, so fixing the target resumes the stream where it stood.

use des_core::ErrorClass;
use des_core::ports::{
    FailureLogError, QueueError, SecretError, SinkError, SourceError, StoreError,
};

use crate::error::EngineError;

/// What a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Batch,
    Retry,
}

/// What to do about a failed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Release with exponential back-off; poison after `max_dequeue_count` failures.
    Backoff,
    /// The record's own failure: one more attempt per the profile's `RetryPolicy`.
    RecordAttempt,
    /// Poison now: retrying the same message cannot help.
    Poison,
    /// Wait for the operator at the longest back-off, never poisoned; the hint says what to do.
    Stop { hint: String },
    /// A table or column the plan has is gone from the target (a target-class fault the
    /// engine can heal): apply the stream's plan again, resync the stream, try again now.
    /// Once per message: when the write fails the same way after that, [`Decision::Stop`].
    Repair,
}

/// Maps a class to a decision.
pub fn decide(class: ErrorClass, subject: Subject) -> Decision {
    match (class, subject) {
        (ErrorClass::Transient, _) => Decision::Backoff,
        (ErrorClass::Record, Subject::Retry) => Decision::RecordAttempt,
        (ErrorClass::Record, Subject::Batch) => Decision::Poison,
        (ErrorClass::Target, _) => Decision::Stop {
            hint: "the target database needs its operator (a missing table, column or \
                   permission); the stream waits and resumes once it is fixed"
                .into(),
        },
        (ErrorClass::Configuration, _) => Decision::Stop {
            hint: "check the profile's target connection string and credentials; the \
                   stream waits and resumes once they work"
                .into(),
        },
    }
}

/// [`decide`] for one error: a missing table or column (`SinkError::Missing`) is the one
/// target-class fault the engine repairs itself, as the start-up check does.
pub fn decide_error(error: &EngineError, subject: Subject) -> Decision {
    match error {
        EngineError::Sink(SinkError::Missing(_)) => Decision::Repair,
        _ => decide(error.class(), subject),
    }
}

impl EngineError {
    /// The class of the fault, whichever port it came from.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Sink(e) => e.class(),
            Self::Source(e) => source_class(e),
            Self::Store(StoreError::Corrupt { .. }) | Self::Corrupt { .. } => ErrorClass::Record,
            Self::Store(_)
            | Self::Queue(QueueError::Unavailable(_) | QueueError::LostLease(_))
            | Self::FailureLog(FailureLogError::Unavailable(_))
            | Self::Secret(SecretError::Unavailable(_)) => ErrorClass::Transient,
            Self::Queue(QueueError::TooLarge(_)) => ErrorClass::Record,
            Self::Plan { .. } => ErrorClass::Target,
            Self::Secret(_)
            | Self::Invalid(_)
            | Self::ProfileNotFound(_)
            | Self::OrganizationNotFound(_)
            | Self::UnknownEntity { .. }
            | Self::UnsupportedDestination(_) => ErrorClass::Configuration,
        }
    }
}

fn source_class(e: &SourceError) -> ErrorClass {
    match e {
        SourceError::Auth(_) => ErrorClass::Configuration,
        SourceError::Service { .. } => ErrorClass::Target,
        SourceError::ExpiredToken { .. }
        | SourceError::Unavailable(_)
        | SourceError::Protocol(_) => ErrorClass::Transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_has_one_decision_per_subject() {
        use ErrorClass::*;
        for subject in [Subject::Batch, Subject::Retry] {
            assert_eq!(decide(Transient, subject), Decision::Backoff);
            for class in [Target, Configuration] {
                assert!(matches!(decide(class, subject), Decision::Stop { .. }));
            }
        }
        assert_eq!(decide(Record, Subject::Batch), Decision::Poison);
        assert_eq!(decide(Record, Subject::Retry), Decision::RecordAttempt);
    }

    #[test]
    fn a_missing_table_is_repaired_and_other_target_faults_stop() {
        for subject in [Subject::Batch, Subject::Retry] {
            let missing = EngineError::Sink(SinkError::Missing("no such table".into()));
            assert_eq!(missing.class(), ErrorClass::Target);
            assert_eq!(decide_error(&missing, subject), Decision::Repair);
            let denied = EngineError::Sink(SinkError::Database("permission".into()));
            assert!(matches!(
                decide_error(&denied, subject),
                Decision::Stop { .. }
            ));
        }
    }

    #[test]
    fn sink_errors_keep_their_class_through_the_engine() {
        use ErrorClass::*;
        let cases = [
            (SinkError::Unavailable("x".into()), Transient),
            (SinkError::Refused("x".into()), Record),
            (SinkError::Database("x".into()), Target),
            (SinkError::UnknownTable("x".into()), Target),
            (SinkError::Configuration("x".into()), Configuration),
        ];
        for (error, class) in cases {
            assert_eq!(EngineError::Sink(error).class(), class);
        }
    }
}

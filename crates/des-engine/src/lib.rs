//! The sync engine of the open Data Export Service.
//!
//! # Streams and order
//!
//! A *stream* is one exported entity (or M:N intersect entity) of one profile. The poller
//! turns each page it reads into a [`Batch`](des_core::Batch) with a dense `seq` (1, 2, 3…);
//! the sink applies a stream's batches strictly in `seq` order and stores the applied `seq`
//! in the target database in the same transaction, so a duplicate delivery is skipped and
//! an early one waits. That is how convergence, no stale overwrite and no resurrection hold
//! over an at-least-once, reordering queue.
//!
//! # Roles
//!
//! - [`poller`]: one step per stream: schema, then pages (initial read, deltas, resyncs),
//!   written through an outbox in the payload store and checkpointed after every page.
//! - [`applier`]: one delivery at a time: batches, per-record retries, failure lines, poison.
//! - [`admin`]: profile operations (create, activate, deactivate, resync, status).
//! - [`check`]: at start, the target is checked against what the control store believes it
//!   holds (tables, watermark per stream) and repaired with a resync where it lost batches.
//! - [`monitor`]: per-stream figures for monitoring, with the lag and the pending batches.
//! - [`runtime`]: the local single-process loops (`des run`); the Functions handlers call the
//!   same [`Poller::step`](poller::Poller::step) and [`Applier::apply_one`](applier::Applier::apply_one).
//!
//! # Schema work
//!
//! The poller applies a stream's schema to the sink itself before it sends batch 1, and
//! stores the plan in the payload store under its fingerprint; every batch message names
//! that plan, so the applier writes with exactly the columns the page was read with. Schema
//! changes are additive (add a column, widen a type), so batches still queued under an older
//! plan stay valid. Metadata is re-read at most every `metadata_refresh` per stream; a new
//! column evolves the table and resyncs the stream so the column gets values.
//!
//! # Failures
//!
//! Per record (the seed's rules): a change the sink rejects is retried after the profile's
//! `IntervalInSeconds`, up to `MaxRetryCount` times, then written as one failure line and
//! counted; the rest of its batch is applied, and the record comes back when it changes in
//! the source. Retries are guarded by the sink (versions, tombstones) and dropped when the
//! stream resynced after they were read, so they can never undo a newer change or a delete.
//! The sink isolates a change the target refuses (a constraint, a trigger), so it fails
//! alone. Per batch, the fault's class decides ([`decision`]): transient faults release the
//! message with back-off and after `max_dequeue_count` deliveries the batch is poisoned,
//! skipped with an empty batch at its `seq` and healed by a resync of the stream (requested
//! first, so the interrupted resync never sweeps); target and configuration faults make the
//! stream wait for the operator, never poisoned. Per entity: a failed schema application is one
//! `RecordId: N/A` line with `ChangeType: Trigger Initial Export`, retried every round.
//!
//! # Entry points
//!
//! The local [`runtime`] runs both loops in one process. A Functions timer poller calls
//! [`Poller::streams`](poller::Poller::streams) and
//! [`Poller::poll_stream`](poller::Poller::poll_stream) for each active profile; a queue
//! triggered applier calls [`Applier::apply_one`](applier::Applier::apply_one) and on `Err`
//! lets the host retry (its `maxDequeueCount` and poison queue play the role of
//! [`Applier::settle_error`](applier::Applier::settle_error)).
//!
//! # Known limits
//!
//! - Counters are best effort across crashes (a page re-sent after a crash is not counted
//!   twice, but a crash between send and count leaves it uncounted).
//! - A refusal the sink cannot isolate (SQL Server triggers, SQLite's `RAISE(ROLLBACK)`)
//!   poisons its batch, which is resynced and poisoned again while the refusal lasts: the
//!   stream keeps converging everything else, and the failure log says why.
//! - The target is checked ([`check`]) when `des run` starts; the Azure apps do not run the
//!   check yet, and a table dropped while the engine runs is only recreated at the next start
//!   (its applies fail and are retried until then).
//!
//! Logs carry stream ids, seqs and counts, never record values or secrets.

pub mod admin;
pub mod applier;
pub mod check;
pub mod decision;
mod error;
pub mod identity;
pub mod message;
pub mod monitor;
pub mod plan;
pub mod poller;
mod ports;
pub mod resolve;
pub mod runtime;
mod shared_tables;
pub mod streams;

pub use admin::Mode;
pub use error::EngineError;
pub use ports::EnginePorts;
pub use resolve::{CachedSinks, SingleSink, SingleSource, SinkResolver, SourceResolver};
pub use runtime::{Runtime, RuntimeHandle, RuntimeOptions, StreamStatus};

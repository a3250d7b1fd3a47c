//! Local adapters for single-machine runs (`des run`): the SQLite control store and work
//! queue, the payload files (and the SQLite payload store earlier versions wrote), the file
//! failure log and env/file secrets.
//!
//! Each implements a des-core port and passes that port's contract suite (crate
//! `des-contract`), the same suite the Azure adapters run.

mod control_store;
mod database;
mod failure_log;
mod payload_files;
mod payload_store;
mod secrets;
mod work_queue;

pub use control_store::SqliteControlStore;
pub use failure_log::FileFailureLog;
pub use payload_files::FilePayloadStore;
pub use payload_store::SqlitePayloadStore;
pub use secrets::LocalSecrets;
pub use work_queue::{MAX_MESSAGE_BYTES, SqliteWorkQueue};

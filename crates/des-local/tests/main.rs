//! The des-local adapters against their port contracts (crate `des-contract`), plus what is
//! local only: durability across reopening, file layout, secret sources.

mod control_store;
mod failure_log;
mod payload_files;
mod secrets;
mod work_queue;

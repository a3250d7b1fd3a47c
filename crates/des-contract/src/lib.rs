//! One contract test suite per des-core port. Every adapter (local, Azure, each SQL sink) runs
//! the same suite, so they all keep the promises written on the port traits.
//!
//! Each module has a `run_all(make)` that runs every case against a fresh adapter from `make`
//! and names the cases that failed; each case is also a public function of its own. Cases spawn
//! concurrent tasks, so run them on a multi-thread runtime to race for real.

mod case;
pub mod control;
pub mod failure_log;
pub mod queue;
pub mod secrets;
pub mod sink;

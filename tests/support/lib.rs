//! Helpers for system tests: a whole local deployment in a temp dir ([`harness`]), test
//! doubles that wrap the real adapters to inject faults ([`faulty_sink`], [`chaos_queue`]),
//! and an exact table-versus-source comparison ([`compare`]).

pub mod chaos_queue;
pub mod compare;
pub mod faulty_sink;
pub mod harness;

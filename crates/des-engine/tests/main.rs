//! Engine tests against real things: the emulator over HTTP, the real `DataverseClient`, the
//! real `SqliteSink` and the real des-local adapters in temp dirs. The harness and the fault
//! doubles are shared with the system tests (`tests/support`), included here by path because
//! that crate depends on this one.

#[path = "../../../tests/support/backup.rs"]
#[allow(dead_code)]
mod backup;
#[path = "../../../tests/support/chaos_queue.rs"]
#[allow(dead_code)]
mod chaos_queue;
#[path = "../../../tests/support/compare.rs"]
#[allow(dead_code)]
mod compare;
#[path = "../../../tests/support/faulty_sink.rs"]
#[allow(dead_code)]
mod faulty_sink;
#[path = "../../../tests/support/harness.rs"]
#[allow(dead_code, unused_imports)]
mod harness;
#[path = "../../../tests/support/mssql.rs"]
#[allow(dead_code)]
mod mssql;
#[path = "../../../tests/support/options.rs"]
#[allow(dead_code)]
mod options;
#[path = "../../../tests/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;
#[path = "../../../tests/support/target.rs"]
#[allow(dead_code)]
mod target;

mod cases;

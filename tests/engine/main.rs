//! Engine tests against real things: the emulator over HTTP, the real `DataverseClient`, the
//! real sinks (SQLite; PostgreSQL on `DES_TEST_PG`) and the real des-local adapters in temp
//! dirs, run by the same harness as the system tests (`des_tests`). They live here, not in
//! des-engine, because this crate depends on des-engine.

mod cases;

//! Tests only: see `tests/host.rs`.

//! Where the SQLite target lives and how its connection is tuned.

use std::path::PathBuf;
use std::time::Duration;

/// Settings of a SQLite target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    /// The database file; created when missing.
    pub path: PathBuf,
    /// How long a write waits for another process's lock before failing as unavailable.
    pub busy_timeout: Duration,
    /// Prepared statements kept per connection: a few per table (upsert, delete, sweep).
    pub statement_cache: usize,
    /// Page cache size in KiB. 16 MiB: a 64 MiB cache was the largest single holder of an
    /// end-to-end run's memory and wrote 1,000,000 records no faster (crates/des-cli/README.md).
    pub cache_kib: u32,
    /// Page size of a new file (an existing file keeps its own). Entity rows are wide, so
    /// 16 KiB pages mean fewer splits and WAL frames than SQLite's 4 KiB: about 10% less CPU
    /// per row in the throughput example.
    pub page_size: u32,
}

impl SqliteConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            busy_timeout: Duration::from_secs(30),
            statement_cache: 256,
            cache_kib: 16_384,
            page_size: 16_384,
        }
    }
}

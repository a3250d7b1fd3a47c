//! Helpers for system tests: a whole local deployment in a temp dir ([`harness`]) exporting
//! into SQLite, PostgreSQL or SQL Server ([`target`]), test doubles that wrap the real adapters to inject
//! faults ([`faulty_sink`], [`chaos_queue`]), and an exact table-versus-source comparison
//! ([`compare`]).

pub mod backup;
pub mod chaos_queue;
pub mod compare;
pub mod faulty_sink;
pub mod harness;
pub mod mssql;
pub mod options;
pub mod postgres;
pub mod refusing;
pub mod target;

/// Logs to stderr when `DES_LOG` is set (an `EnvFilter` directive such as `des_engine=debug`).
pub fn init_logging() {
    if let Ok(filter) = std::env::var("DES_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
}

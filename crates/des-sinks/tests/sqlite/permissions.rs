//! DES's `test` operation against SQLite files.

use des_contract::sink::account_plan;
use des_core::ports::Sink;
use des_sinks::sqlite::{SqliteConfig, SqliteSink};

use super::target::fresh;

const CHECKS: [&str; 7] = [
    "WRITE FILE",
    "CREATE TABLE",
    "ALTER",
    "INSERT",
    "UPDATE",
    "SELECT",
    "DELETE",
];

#[tokio::test]
async fn a_writable_file_grants_everything_and_keeps_no_probe() {
    let (sink, file) = fresh();
    let checks = sink
        .check_permissions(&account_plan(160, 2, false))
        .await
        .expect("checks run");
    let names: Vec<&str> = checks.iter().map(|c| c.permission.as_str()).collect();
    assert_eq!(names, CHECKS);
    assert!(
        checks.iter().all(|c| c.granted && c.detail.is_none()),
        "{checks:?}"
    );
    let tables = file.read_sql("SELECT name FROM sqlite_master WHERE name LIKE '%Probe%'");
    assert!(tables.is_empty(), "the probe table was rolled back");
}

#[tokio::test]
async fn a_read_only_file_is_reported_not_writable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("target.db");
    let writable = SqliteSink::open(&SqliteConfig::new(&path)).expect("creates the file");
    writable
        .apply_schema(&account_plan(160, 2, false))
        .await
        .expect("schema applies");
    drop(writable);
    let read_only = SqliteConfig::new(format!("file:{}?mode=ro", path.display()));
    let sink = SqliteSink::open(&read_only).expect("opens read-only");
    let checks = sink.check_permissions(&account_plan(160, 2, false)).await;
    let denied: Vec<String> = match checks {
        Ok(checks) => checks
            .into_iter()
            .filter(|c| !c.granted)
            .map(|c| c.permission)
            .collect(),
        Err(e) => panic!("a read-only file is a report, not an error: {e}"),
    };
    assert_eq!(denied.first().map(String::as_str), Some("WRITE FILE"));
}

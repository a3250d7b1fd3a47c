//! DES's `test` operation for SQLite: can this file be written and its tables managed?
//!
//! SQLite has no users or grants, so the checks are the operations DES needed (create and
//! alter tables, insert, update, delete, select) tried on a probe table inside a transaction
//! that is rolled back, plus whether the file is writable at all. DES's type, view, procedure
//! and user permissions have no SQLite counterpart and are not listed.

use des_core::ports::{PermissionCheck, SinkError};
use rusqlite::{Connection, MAIN_DB, TransactionBehavior};

use super::client::db_error;
use super::sql::quote;

fn outcome(permission: &str, result: rusqlite::Result<()>) -> PermissionCheck {
    PermissionCheck {
        permission: permission.to_owned(),
        granted: result.is_ok(),
        detail: result.err().map(|e| e.to_string()),
    }
}

pub fn check(conn: &mut Connection, prefix: &str) -> Result<Vec<PermissionCheck>, SinkError> {
    let writable = match conn.is_readonly(MAIN_DB) {
        Ok(false) => Ok(()),
        Ok(true) => Err(rusqlite::Error::InvalidQuery),
        Err(e) => Err(e),
    };
    let mut checks = vec![outcome("WRITE FILE", writable)];
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let probe = quote(&if prefix.is_empty() {
        "DesProbe".to_owned()
    } else {
        format!("{prefix}_DesProbe")
    });
    let steps = [
        (
            "CREATE TABLE",
            format!("CREATE TABLE {probe} (\"Id\" TEXT PRIMARY KEY)"),
        ),
        (
            "ALTER",
            format!("ALTER TABLE {probe} ADD COLUMN \"name\" TEXT"),
        ),
        (
            "INSERT",
            format!("INSERT INTO {probe} (\"Id\") VALUES ('probe')"),
        ),
        ("UPDATE", format!("UPDATE {probe} SET \"name\" = 'probe'")),
        ("SELECT", format!("SELECT count(*) FROM {probe}")),
        ("DELETE", format!("DELETE FROM {probe}")),
    ];
    for (permission, sql) in steps {
        checks.push(outcome(permission, tx.execute_batch(&sql)));
    }
    tx.rollback().map_err(db_error)?;
    Ok(checks)
}

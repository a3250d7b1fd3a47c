//! Reads the target SQLite file the way a report would, read-only.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// The quoted name of the table exporting `entity` (`account` or `<prefix>_account`).
pub fn entity_table(conn: &Connection, entity: &str) -> Option<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .ok()?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .ok()?
        .filter_map(Result::ok)
        .collect();
    let wanted = |n: &String| {
        n == entity || n.ends_with(&format!("_{entity}")) || n.ends_with(&format!(".{entity}"))
    };
    names.into_iter().find(wanted).map(|n| format!("\"{n}\""))
}

pub fn open(db: &Path) -> Option<Connection> {
    db.exists()
        .then(|| Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).ok())?
}

/// Rows of the entity's table, and how many distinct ids they carry.
pub fn counts(db: &Path, entity: &str) -> Option<(u64, u64)> {
    let conn = open(db)?;
    let table = entity_table(&conn, entity)?;
    let sql = format!("SELECT COUNT(*), COUNT(DISTINCT \"Id\") FROM {table}");
    let (rows, ids): (i64, i64) = conn
        .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .ok()?;
    Some((rows as u64, ids as u64))
}

/// How many rows of the entity's table have `name` = `value`.
pub fn rows_named(db: &Path, entity: &str, value: &str) -> Option<u64> {
    let conn = open(db)?;
    let table = entity_table(&conn, entity)?;
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE \"name\" = ?1");
    let n: i64 = conn.query_row(&sql, [value], |r| r.get(0)).ok()?;
    Some(n as u64)
}

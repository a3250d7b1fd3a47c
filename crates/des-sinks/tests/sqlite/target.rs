//! A fresh SQLite target in a temporary directory, and a reader for it.

use std::path::PathBuf;

use des_contract::sink::Inspect;
use des_sinks::sqlite::{SqliteConfig, SqliteSink};
use rusqlite::types::ValueRef;
use tempfile::TempDir;

/// Reads the target file over its own connection, as a reporting tool would.
pub struct File {
    pub path: PathBuf,
    /// Removes the directory when the case is done.
    _dir: TempDir,
}

pub fn fresh() -> (SqliteSink, File) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("target.db");
    let sink = SqliteSink::open(&SqliteConfig::new(&path)).expect("opens");
    (sink, File { path, _dir: dir })
}

fn cell(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

impl File {
    /// The given columns of every row of a table, each cell as text.
    pub fn read(&self, table: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        self.read_sql(&format!("SELECT {} FROM {}", list.join(", "), quote(table)))
    }

    /// Any query's rows, each cell as text.
    pub fn read_sql(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let conn = rusqlite::Connection::open(&self.path).expect("opens for reading");
        let mut stmt = conn.prepare(sql).expect("query prepares");
        let width = stmt.column_count();
        let rows = stmt.query_map([], |r| (0..width).map(|i| r.get_ref(i).map(cell)).collect());
        rows.expect("query runs")
            .collect::<Result<_, _>>()
            .expect("rows read")
    }
}

impl Inspect for File {
    async fn rows(&self, table: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        self.read(table, columns)
    }
}

//! An operator's backup and restore of the target, under the running sink: a consistent copy
//! of every table, and later every table put back as the copy had it (tables made since
//! stay, as after restoring the rows of a database whose schema moved on). For the steps
//! where the target goes back in time and the engine must notice (`des_engine::check`).

use std::path::{Path, PathBuf};

use crate::postgres::PgDatabase;
use crate::target::TargetDb;

/// Where a copy lives: a file beside a SQLite target, a schema in the PostgreSQL database.
const PG_BACKUP_SCHEMA: &str = "des_backup";

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl TargetDb {
    /// Copies every table now (one snapshot), replacing an earlier copy.
    pub async fn back_up(&self) {
        match self {
            Self::Sqlite(path) => blocking(path, sqlite_back_up).await,
            Self::Postgres(db) => pg_back_up(db).await,
            Self::Mssql(_) => panic!("no backup step for SQL Server"),
        }
    }

    /// Puts every copied table back as it was copied, in one transaction.
    pub async fn restore(&self) {
        match self {
            Self::Sqlite(path) => blocking(path, sqlite_restore).await,
            Self::Postgres(db) => pg_restore(db).await,
            Self::Mssql(_) => panic!("no restore step for SQL Server"),
        }
    }
}

/// Runs a SQLite step off the async workers: it may wait for the runtime's writes, and
/// those must go on meanwhile.
async fn blocking(path: &Path, step: fn(&Path)) {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || step(&path))
        .await
        .expect("the SQLite step");
}

fn sqlite_backup_path(db: &Path) -> PathBuf {
    db.with_extension("backup.db")
}

fn sqlite_back_up(db: &Path) {
    let backup = sqlite_backup_path(db);
    let _ = std::fs::remove_file(&backup);
    let conn = rusqlite::Connection::open(db).expect("target opens");
    let target = backup.to_str().expect("UTF-8 path");
    conn.execute("VACUUM INTO ?1", [target]).expect("backup");
}

fn sqlite_restore(db: &Path) {
    let mut conn = rusqlite::Connection::open(db).expect("target opens");
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .expect("busy timeout");
    let backup = sqlite_backup_path(db);
    let source = backup.to_str().expect("UTF-8 path");
    conn.execute("ATTACH ?1 AS b", [source]).expect("attach");
    let tables: Vec<String> = {
        let sql = "SELECT name FROM b.sqlite_master WHERE type = 'table'";
        let mut stmt = conn.prepare(sql).expect("list");
        let names = stmt.query_map([], |r| r.get(0)).expect("list");
        names.map(|n| n.expect("name")).collect()
    };
    // Immediate: it reads before it writes, and a deferred transaction would then fail with
    // "database is locked" instead of waiting for a write still under way.
    let behavior = rusqlite::TransactionBehavior::Immediate;
    // A write of the aborted runtime may still be finishing on a blocking thread.
    for _ in 0..50 {
        if conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;").is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let tx = conn.transaction_with_behavior(behavior).expect("begin");
    for table in tables {
        let columns: Vec<String> = {
            let sql = "SELECT name FROM pragma_table_info(?1, 'b')";
            let mut stmt = tx.prepare(sql).expect("columns");
            let names = stmt.query_map([&table], |r| r.get::<_, String>(0));
            names
                .expect("columns")
                .map(|n| quote(&n.expect("name")))
                .collect()
        };
        let (t, list) = (quote(&table), columns.join(", "));
        tx.execute(&format!("DELETE FROM main.{t}"), [])
            .expect("empty");
        let copy = format!("INSERT INTO main.{t} ({list}) SELECT {list} FROM b.{t}");
        tx.execute(&copy, []).expect("copy back");
    }
    tx.commit().expect("commit");
}

/// The database's own tables, as (schema, table).
async fn pg_tables(db: &PgDatabase, schema_filter: &str) -> Vec<(String, String)> {
    let sql = format!(
        "SELECT table_schema, table_name FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' AND {schema_filter}"
    );
    let rows = db.reader().query(&sql, &[]).await.expect("list tables");
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

async fn pg_back_up(db: &PgDatabase) {
    let own =
        format!("table_schema NOT IN ('pg_catalog', 'information_schema', '{PG_BACKUP_SCHEMA}')");
    let tables = pg_tables(db, &own).await;
    let schema = quote(PG_BACKUP_SCHEMA);
    let mut sql = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ; DROP SCHEMA IF EXISTS {schema} CASCADE; \
         CREATE SCHEMA {schema};"
    );
    for (s, t) in tables {
        let copy = quote(&format!("{s}.{t}"));
        sql += &format!(
            " CREATE TABLE {schema}.{copy} AS TABLE {}.{};",
            quote(&s),
            quote(&t)
        );
    }
    sql += " COMMIT;";
    db.reader().batch_execute(&sql).await.expect("backup");
}

async fn pg_restore(db: &PgDatabase) {
    let copies = pg_tables(db, &format!("table_schema = '{PG_BACKUP_SCHEMA}'")).await;
    // A lock still held by an aborted write fails the step instead of hanging it.
    let mut sql = String::from("SET lock_timeout = '30s'; BEGIN;");
    for (_, copy) in copies {
        let (s, t) = copy.split_once('.').expect("schema.table");
        let target = format!("{}.{}", quote(s), quote(t));
        let columns = db
            .reader()
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                &[&PG_BACKUP_SCHEMA, &copy],
            )
            .await
            .expect("columns");
        let list: Vec<String> = columns.iter().map(|r| quote(r.get(0))).collect();
        let list = list.join(", ");
        let from = format!("{}.{}", quote(PG_BACKUP_SCHEMA), quote(&copy));
        sql += &format!(
            " DELETE FROM {target}; INSERT INTO {target} ({list}) SELECT {list} FROM {from};"
        );
    }
    sql += " COMMIT;";
    db.reader().batch_execute(&sql).await.expect("restore");
}

//! The one connection of a SQLite sink, used from blocking threads, and the class of each
//! driver error.

use des_core::ErrorClass;
use des_core::ports::SinkError;
use rusqlite::{Connection, ErrorCode};

use super::config::SqliteConfig;

/// The connection; every call runs on tokio's blocking pool (`des_sqlite`) so SQLite's
/// synchronous I/O never stalls the async workers.
pub type Client = des_sqlite::Database<SinkError>;

/// Opens (creating when missing) the file in WAL mode with `synchronous=NORMAL`: a commit
/// survives a process crash, and only an OS crash can lose the last commits, which the
/// watermark then re-applies.
pub fn open(config: &SqliteConfig) -> Result<Client, SinkError> {
    let conn = Connection::open(&config.path).map_err(db_error)?;
    conn.busy_timeout(config.busy_timeout).map_err(db_error)?;
    conn.set_prepared_statement_cache_capacity(config.statement_cache);
    let pragmas = format!(
        "PRAGMA page_size = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{};",
        config.page_size, config.cache_kib
    );
    conn.execute_batch(&pragmas).map_err(db_error)?;
    Ok(Client::new(conn))
}

/// Maps a driver error to its class by SQLite's primary result code. SQLite's messages name
/// tables, columns and constraints, never bound values (a trigger's `RAISE` text is the
/// operator's own).
pub fn db_error(e: rusqlite::Error) -> SinkError {
    let text = e.to_string();
    if missing_schema(&e, &text) {
        return SinkError::Missing(text);
    }
    SinkError::of_class(class_of(&e), text)
}

/// A table or column that is not there: SQLite says so only in its message (SQLITE_ERROR).
fn missing_schema(e: &rusqlite::Error, text: &str) -> bool {
    let generic = matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::Unknown)
        || matches!(e, rusqlite::Error::SqlInputError { .. });
    generic
        && ["no such table", "no such column", "has no column named"]
            .iter()
            .any(|m| text.contains(m))
}

pub fn class_of(e: &rusqlite::Error) -> ErrorClass {
    match e {
        rusqlite::Error::SqliteFailure(failure, _) => code_class(failure.code),
        // A value the driver could not convert is this record's problem.
        rusqlite::Error::ToSqlConversionFailure(_)
        | rusqlite::Error::IntegralValueOutOfRange(..) => ErrorClass::Record,
        _ => ErrorClass::Target,
    }
}

fn code_class(code: ErrorCode) -> ErrorClass {
    match code {
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_NOMEM,
        // SQLITE_INTERRUPT, SQLITE_PROTOCOL: the same statement may well work later.
        ErrorCode::DatabaseBusy
        | ErrorCode::DatabaseLocked
        | ErrorCode::SystemIoFailure
        | ErrorCode::DiskFull
        | ErrorCode::OutOfMemory
        | ErrorCode::OperationInterrupted
        | ErrorCode::FileLockingProtocolFailed => ErrorClass::Transient,
        // SQLITE_CONSTRAINT (NOT NULL, CHECK, UNIQUE, FOREIGN KEY, and a trigger's
        // RAISE(ABORT|FAIL|ROLLBACK)), SQLITE_MISMATCH, SQLITE_TOOBIG: this row's values.
        ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch | ErrorCode::TooBig => {
            ErrorClass::Record
        }
        // SQLITE_CANTOPEN, SQLITE_NOTADB: the configured path is not a usable database.
        ErrorCode::CannotOpen | ErrorCode::NotADatabase => ErrorClass::Configuration,
        // SQLITE_ERROR (no such table or column), SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH,
        // SQLITE_CORRUPT and the rest: the target needs the operator.
        _ => ErrorClass::Target,
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::*;

    fn class(code: i32) -> ErrorClass {
        let e = rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some("m".into()));
        db_error(e).class()
    }

    #[test]
    fn each_result_code_has_its_class() {
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_BUSY_SNAPSHOT,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_IOERR,
            ffi::SQLITE_IOERR_WRITE,
            ffi::SQLITE_FULL,
            ffi::SQLITE_NOMEM,
            ffi::SQLITE_INTERRUPT,
            ffi::SQLITE_PROTOCOL,
        ] {
            assert_eq!(class(code), ErrorClass::Transient, "code {code}");
        }
        for code in [
            ffi::SQLITE_CONSTRAINT,
            ffi::SQLITE_CONSTRAINT_TRIGGER,
            ffi::SQLITE_CONSTRAINT_NOTNULL,
            ffi::SQLITE_CONSTRAINT_CHECK,
            ffi::SQLITE_CONSTRAINT_UNIQUE,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
            ffi::SQLITE_MISMATCH,
            ffi::SQLITE_TOOBIG,
        ] {
            assert_eq!(class(code), ErrorClass::Record, "code {code}");
        }
        for code in [ffi::SQLITE_CANTOPEN, ffi::SQLITE_NOTADB] {
            assert_eq!(class(code), ErrorClass::Configuration, "code {code}");
        }
        for code in [
            ffi::SQLITE_ERROR,
            ffi::SQLITE_READONLY,
            ffi::SQLITE_PERM,
            ffi::SQLITE_AUTH,
            ffi::SQLITE_CORRUPT,
        ] {
            assert_eq!(class(code), ErrorClass::Target, "code {code}");
        }
    }

    #[test]
    fn a_missing_table_or_column_says_so() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (name TEXT);").unwrap();
        for sql in [
            "INSERT INTO gone (name) VALUES ('x')",
            "INSERT INTO t (gone) VALUES ('x')",
            "SELECT gone FROM t",
        ] {
            let e = conn.execute_batch(sql).unwrap_err();
            let mapped = db_error(e);
            assert!(matches!(mapped, SinkError::Missing(_)), "{sql}: {mapped:?}");
            assert_eq!(mapped.class(), ErrorClass::Target);
        }
        // Another SQLITE_ERROR is the operator's, not a table to recreate.
        let e = conn
            .execute_batch("SELECT no_such_function(1)")
            .unwrap_err();
        assert!(matches!(db_error(e), SinkError::Database(_)));
    }

    #[test]
    fn a_trigger_that_raises_abort_is_a_record_refusal() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (name TEXT);
             CREATE TRIGGER refuse BEFORE INSERT ON t WHEN NEW.name = 'Refuse'
             BEGIN SELECT RAISE(ABORT, 'refused by policy'); END;",
        )
        .unwrap();
        let e = conn
            .execute("INSERT INTO t VALUES ('Refuse')", [])
            .unwrap_err();
        let error = db_error(e);
        assert_eq!(error.class(), ErrorClass::Record);
        assert!(error.to_string().contains("refused by policy"), "{error}");
        let missing = conn.execute("INSERT INTO nope VALUES (1)", []).unwrap_err();
        assert_eq!(db_error(missing).class(), ErrorClass::Target);
    }
}

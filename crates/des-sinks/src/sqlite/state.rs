//! The engine's own state in a SQLite target, apart from the DES tables.
//!
//! SQLite has no schemas. An attached database would be one, but a commit that spans two
//! files is not atomic in WAL mode, and the watermark must commit with the batch's rows. So
//! the state stays in the target file, in tables whose names say they are not data and match
//! no DES prefix: `_des_state_watermark`, `_des_state_tombstone`, `_des_state_resync_seen`
//! and `_des_state_target` (a leading underscore, which DES's prefixes, validated as
//! identifiers that start with a letter, never have; DES's clean-up script drops only tables
//! `LIKE '<prefix>_%'`).
//!
//! Every row belongs to a profile (`"Profile"`, the profile's id) beside the table it is
//! about, so two profiles (two data folders, or a control store recreated) writing one target
//! never share a watermark. The id is written into the statement text as a literal: it is a
//! [`Uuid`] formatted here (hex digits and hyphens only), never a value from the source, and
//! it leaves the statements' parameter numbers as they were.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use uuid::Uuid;

use super::client::db_error;
use super::sql::quote;
use des_core::ports::SinkError;

pub const WATERMARK: &str = "_des_state_watermark";
pub const TOMBSTONE: &str = "_des_state_tombstone";
pub const SEEN: &str = "_des_state_resync_seen";
pub const TARGET: &str = "_des_state_target";

/// The state tables:
/// - watermark `("Profile", "Table", "Seq")`: the last applied batch of each table, written
///   in the same transaction as the batch's rows (duplicate and early batches are detected
///   with it);
/// - tombstone `("Profile", "Table", "Id", "Seq")`: the batch that deleted a row, so an older
///   retried upsert cannot resurrect it; a later batch that writes the row lifts it;
/// - resync seen `("Profile", "Table", "FirstSeq", "Id")`: ids a resync has carried, so its
///   final batch can delete every row the source no longer has;
/// - target `("Profile", "Token")`: the identity token the engine also keeps in its control
///   store; a target without it (or with another) is not the one the engine wrote.
pub fn state_ddl() -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\"Profile\" TEXT NOT NULL, \"Table\" TEXT NOT NULL, \
             \"Seq\" INTEGER NOT NULL, PRIMARY KEY (\"Profile\", \"Table\")) WITHOUT ROWID",
            quote(WATERMARK)
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\"Profile\" TEXT NOT NULL, \"Table\" TEXT NOT NULL, \
             \"Id\" TEXT NOT NULL, \"Seq\" INTEGER NOT NULL, PRIMARY KEY (\"Profile\", \"Table\", \"Id\")) WITHOUT ROWID",
            quote(TOMBSTONE)
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\"Profile\" TEXT NOT NULL, \"Table\" TEXT NOT NULL, \
             \"FirstSeq\" INTEGER NOT NULL, \"Id\" TEXT NOT NULL, \
             PRIMARY KEY (\"Profile\", \"Table\", \"FirstSeq\", \"Id\")) WITHOUT ROWID",
            quote(SEEN)
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\"Profile\" TEXT NOT NULL PRIMARY KEY, \
             \"Token\" TEXT NOT NULL)",
            quote(TARGET)
        ),
    ]
}

/// `'<uuid>'`: see the module's comment.
pub fn profile_literal(profile: Uuid) -> String {
    format!("'{}'", profile.hyphenated())
}

fn exists(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)";
    tx.query_row(sql, [name], |r| r.get(0))
}

/// Creates the state tables and moves the state of the old layout for `prefix` (if the
/// target has it) to `profile`: copied, then the old tables dropped, in one transaction, so
/// no watermark is lost. The old layout had one set of tables per prefix and refused a
/// second profile on them, so the profile that now writes that prefix is their owner.
pub fn prepare(conn: &mut Connection, profile: Uuid, prefix: &str) -> Result<bool, SinkError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    for ddl in state_ddl() {
        tx.execute_batch(&ddl).map_err(db_error)?;
    }
    let moved = migrate(&tx, profile, prefix).map_err(db_error)?;
    tx.commit().map_err(db_error)?;
    Ok(moved)
}

fn migrate(tx: &Transaction<'_>, profile: Uuid, prefix: &str) -> rusqlite::Result<bool> {
    let [watermark, tombstone, seen] = crate::tables::old_state_names(prefix);
    if !exists(tx, &watermark)? {
        return Ok(false);
    }
    let p = profile_literal(profile);
    tx.execute_batch(&format!(
        "INSERT OR REPLACE INTO {} (\"Profile\", \"Table\", \"Seq\") \
         SELECT {p}, \"Table\", \"Seq\" FROM {}",
        quote(WATERMARK),
        quote(&watermark)
    ))?;
    if exists(tx, &tombstone)? {
        tx.execute_batch(&format!(
            "INSERT OR REPLACE INTO {} (\"Profile\", \"Table\", \"Id\", \"Seq\") \
             SELECT {p}, \"Table\", \"Id\", \"Seq\" FROM {}",
            quote(TOMBSTONE),
            quote(&tombstone)
        ))?;
    }
    if exists(tx, &seen)? {
        tx.execute_batch(&format!(
            "INSERT OR IGNORE INTO {} (\"Profile\", \"Table\", \"FirstSeq\", \"Id\") \
             SELECT {p}, \"Table\", \"FirstSeq\", \"Id\" FROM {}",
            quote(SEEN),
            quote(&seen)
        ))?;
    }
    for old in [watermark, tombstone, seen] {
        tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote(&old)))?;
    }
    tracing::info!(
        profile = %profile,
        "Moved the engine's state from the tables named with the profile's prefix to the _des_state_ tables."
    );
    Ok(true)
}

/// Stores `token` for `profile`, returning the one stored before.
pub fn identify(
    conn: &mut Connection,
    profile: Uuid,
    token: &str,
) -> Result<Option<String>, SinkError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    for ddl in state_ddl() {
        tx.execute_batch(&ddl).map_err(db_error)?;
    }
    let id = profile.hyphenated().to_string();
    let select = format!(
        "SELECT \"Token\" FROM {} WHERE \"Profile\" = ?1",
        quote(TARGET)
    );
    let before: Option<String> = tx
        .query_row(&select, [&id], |r| r.get(0))
        .optional()
        .map_err(db_error)?;
    let put = format!(
        "INSERT INTO {} (\"Profile\", \"Token\") VALUES (?1, ?2) \
         ON CONFLICT (\"Profile\") DO UPDATE SET \"Token\" = excluded.\"Token\"",
        quote(TARGET)
    );
    tx.execute(&put, params![id, token]).map_err(db_error)?;
    tx.commit().map_err(db_error)?;
    Ok(before)
}

//! DDL rendering and schema evolution for SQLite.
//!
//! Type mapping: `Guid` → `TEXT` (lower-case hyphenated), `DateTime` → `TEXT` (ISO-8601 UTC,
//! `2024-01-02T03:04:05Z`, which SQLite's date functions read and which sorts in time
//! order), `Int`/`BigInt`/`Bit` → `INTEGER`, `Text` → `TEXT`, and `Decimal` →
//! `DECIMAL(38,s)` holding a number, with a `<column>_exact` `TEXT` column beside it for the
//! values a float cannot hold (`decimal.rs` says how). SQLite does not enforce declared
//! lengths, so DES's `nvarchar(n)` and `decimal(38, s)` limits are checked when values are
//! encoded.
//!
//! Evolution adds missing columns with `ALTER TABLE ... ADD COLUMN` and never drops. Widening
//! needs no DDL: every text column is unbounded `TEXT`, declared decimal precision is not
//! enforced by SQLite, and the new limits apply as soon as the wider plan is used for writing.

use des_core::ports::SinkError;
use des_core::schema::{
    ColumnDef, ColumnSource, SchemaChange, SchemaPlan, SqlType, TableDef, TableKind, diff,
};
use rusqlite::{Connection, Transaction, TransactionBehavior, params_from_iter};

use super::client::db_error;
use super::decimal::with_exact_columns;
use super::encoding::plain;
use super::sql::{delete_where_in, insert_row, quote};
use super::views;
use crate::metadata::replaced_keys;
use crate::tables;

/// The declared type. `DECIMAL(p,s)` gives the column SQLite's NUMERIC affinity (numbers
/// stay numbers) and shows DES's precision; its exact-text companion is plain `TEXT`, which
/// SQLite never turns into a (rounded) number.
pub fn sqlite_type(col: &ColumnDef) -> String {
    match (col.ty, &col.source) {
        (_, ColumnSource::ExactDecimal(_)) => "TEXT".to_owned(),
        (SqlType::Int | SqlType::BigInt | SqlType::Bit, _) => "INTEGER".to_owned(),
        (SqlType::Decimal { precision, scale }, _) => format!("DECIMAL({precision},{scale})"),
        (SqlType::Guid | SqlType::DateTime | SqlType::Text { .. }, _) => "TEXT".to_owned(),
    }
}

fn column_ddl(col: &ColumnDef) -> String {
    let null = if col.nullable { "" } else { " NOT NULL" };
    format!("{} {}{null}", quote(&col.name), sqlite_type(col))
}

/// `CREATE TABLE IF NOT EXISTS`. Data tables name their key like DES did (`EPK[dbo].[t]`);
/// `DeleteLog`'s `INTEGER` key becomes SQLite's rowid, which numbers rows like an identity.
pub fn create_table(table: &TableDef) -> String {
    let table = &*with_exact_columns(table);
    let mut parts: Vec<String> = table.columns.iter().map(column_ddl).collect();
    if !table.primary_key.is_empty() {
        let key: Vec<String> = table.primary_key.iter().map(|c| quote(c)).collect();
        let constraint = match table.kind {
            TableKind::Entity(_) | TableKind::Relationship(_) => {
                format!(
                    "CONSTRAINT {} ",
                    quote(&format!("EPK[{}].[{}]", table.schema, table.name))
                )
            }
            _ => String::new(),
        };
        parts.push(format!("{constraint}PRIMARY KEY ({})", key.join(", ")));
    }
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    {}\n)",
        quote(&table.name),
        parts.join(",\n    ")
    )
}

/// Every `CREATE TABLE IF NOT EXISTS` of the plan, the sink's state tables last.
pub fn render_ddl(plan: &SchemaPlan) -> Vec<String> {
    let mut ddl: Vec<String> = tables::all(plan).map(create_table).collect();
    ddl.extend(super::state::state_ddl());
    ddl.extend(views::statements(plan));
    ddl
}

fn schema_error(table: &TableDef) -> impl Fn(rusqlite::Error) -> SinkError + '_ {
    move |e| SinkError::Schema {
        table: table.name.clone(),
        reason: e.to_string(),
    }
}

/// The columns SQLite has for a table, or `None` when it does not exist. Declared types are
/// all SQLite knows, so lengths come back unbounded and only missing columns show in a diff.
fn existing_table(tx: &Transaction<'_>, table: &TableDef) -> rusqlite::Result<Option<TableDef>> {
    let mut stmt = tx.prepare("SELECT name, type FROM pragma_table_info(?1)")?;
    let rows = stmt.query_map([&table.name], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut columns = Vec::new();
    for row in rows {
        let (name, declared) = row?;
        let ty = if declared == "INTEGER" {
            SqlType::BigInt
        } else {
            SqlType::Text { max_len: None }
        };
        columns.push(ColumnDef {
            name,
            ty,
            nullable: true,
            source: ColumnSource::Metadata,
        });
    }
    Ok((!columns.is_empty()).then(|| TableDef {
        columns,
        ..table.clone()
    }))
}

fn create_or_evolve(tx: &Transaction<'_>, table: &TableDef) -> Result<(), SinkError> {
    let table = &*with_exact_columns(table);
    let error = schema_error(table);
    let Some(existing) = existing_table(tx, table).map_err(&error)? else {
        return tx.execute_batch(&create_table(table)).map_err(error);
    };
    for change in diff(&existing, table) {
        if let SchemaChange::AddColumn(col) = change {
            let mut col = col.clone();
            col.nullable = true; // SQLite cannot add a NOT NULL column without a default.
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN {}",
                quote(&table.name),
                column_ddl(&col)
            );
            tx.execute_batch(&sql).map_err(&error)?;
        }
    }
    Ok(())
}

/// Creates or evolves every planned table, the state tables, and replaces metadata rows, all
/// in one transaction so a failure leaves the previous schema intact.
pub fn apply(conn: &mut Connection, plan: &SchemaPlan) -> Result<(), SinkError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    for table in tables::all(plan) {
        create_or_evolve(&tx, table)?;
    }
    for ddl in super::state::state_ddl() {
        tx.execute_batch(&ddl).map_err(db_error)?;
    }
    replace_metadata_rows(&tx, plan)?;
    for ddl in views::statements(plan) {
        tx.execute_batch(&ddl).map_err(db_error)?;
    }
    tx.commit().map_err(db_error)
}

/// Deletes the rows of every entity (or global option set) the plan covers, then inserts
/// the planned rows: entities that lost all their options lose their old rows too.
fn replace_metadata_rows(tx: &Transaction<'_>, plan: &SchemaPlan) -> Result<(), SinkError> {
    for meta in &plan.metadata {
        let error = schema_error(&meta.table);
        let keys = replaced_keys(plan, meta);
        for chunk in keys.chunks(500) {
            let sql = delete_where_in(&meta.table, &meta.replace_key, chunk.len());
            tx.execute(&sql, params_from_iter(chunk)).map_err(&error)?;
        }
        let mut insert = tx.prepare(&insert_row(&meta.table)).map_err(&error)?;
        for row in &meta.rows {
            insert
                .execute(params_from_iter(row.iter().map(plain)))
                .map_err(&error)?;
        }
    }
    Ok(())
}

//! Schema evolution: what to change so an existing table holds a newer plan.
//!
//! DES added and widened columns but never dropped anything (`des-original.md` §2.8); we do
//! the same, so a column that disappears from the source keeps its data and a narrower type
//! in the plan leaves the wider existing one alone.

use super::types::{ColumnDef, SqlType, TableDef};

/// One additive change to an existing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaChange {
    /// A planned column the table lacks; sinks append it (`ALTER TABLE ... ADD`).
    AddColumn(ColumnDef),
    /// A column whose planned type holds more than the existing one.
    WidenColumn {
        column: String,
        from: SqlType,
        to: SqlType,
    },
}

/// The changes that bring `existing` up to `planned`. Column names compare case-insensitively,
/// as SQL Server and SQLite do.
pub fn diff(existing: &TableDef, planned: &TableDef) -> Vec<SchemaChange> {
    let mut changes = Vec::new();
    for col in &planned.columns {
        let current = existing
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&col.name));
        match current {
            None => changes.push(SchemaChange::AddColumn(col.clone())),
            Some(cur) if widens(cur.ty, col.ty) => changes.push(SchemaChange::WidenColumn {
                column: cur.name.clone(),
                from: cur.ty,
                to: col.ty,
            }),
            Some(_) => {}
        }
    }
    changes
}

/// True when `to` is a longer or unbounded text, or a decimal with more fraction digits.
/// DES fixed the precision at 38, so a larger scale trades integer digits for fraction digits;
/// Dataverse only raises an attribute's precision, so the planned scale is the one to follow.
pub fn widens(from: SqlType, to: SqlType) -> bool {
    match (from, to) {
        (SqlType::Text { max_len: Some(a) }, SqlType::Text { max_len: Some(b) }) => b > a,
        (SqlType::Text { max_len: Some(_) }, SqlType::Text { max_len: None }) => true,
        (
            SqlType::Decimal {
                precision: p1,
                scale: s1,
            },
            SqlType::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => s2 > s1 && p2 >= p1,
        _ => false,
    }
}

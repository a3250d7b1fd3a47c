//! The rows of DES's six metadata tables, replaced whenever a plan is applied.

use des_core::ports::SinkError;
use des_core::schema::SchemaPlan;
use tokio_postgres::Transaction;

use super::client::schema_error;
use super::copy::CopyEncoder;
use super::encoding::{encode, wire_type};
use super::sql::{copy_in, quote, table_name};
use crate::metadata::replaced_keys;

/// Deletes the rows of every entity (or global option set) the plan covers, then copies in
/// the planned rows: entities that lost all their options lose their old rows too.
pub(super) async fn replace_rows(tx: &Transaction<'_>, plan: &SchemaPlan) -> Result<(), SinkError> {
    for meta in &plan.metadata {
        let table = &meta.table;
        let error = |reason: String| SinkError::Schema {
            table: table.name.clone(),
            reason,
        };
        let keys = replaced_keys(plan, meta);
        let delete = format!(
            "DELETE FROM {} WHERE {} = ANY($1)",
            table_name(table),
            quote(&meta.replace_key)
        );
        tx.execute(&delete, &[&keys])
            .await
            .map_err(schema_error(&table.name))?;
        let types = table.columns.iter().map(|c| wire_type(c.ty).0).collect();
        let mut rows = CopyEncoder::new(types);
        for row in &meta.rows {
            let cells = row.iter().zip(&table.columns).map(|(v, c)| encode(v, c));
            rows.row(cells).map_err(error)?;
        }
        let rows = rows.finish();
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let copy = copy_in(&table_name(table), &names);
        rows.send(tx, &copy, 0..rows.len()).await?;
    }
    Ok(())
}

//! DES's DDL in T-SQL, and schema evolution.
//!
//! Types are DES's own: `uniqueidentifier`, `datetime`, `decimal(38,p)` for Decimal, Double
//! and Money, `nvarchar(n)`/`nvarchar(max)`, `bit`, `int`, `bigint`. A data table's key is
//! clustered and named as DES named it, `EPK[dbo].[contact]`; `DeleteLog.[Id]` is a
//! `bigint IDENTITY` key. Evolution adds missing columns (`ALTER TABLE ... ADD`) and widens
//! strings and decimal scales (`ALTER TABLE ... ALTER COLUMN`); nothing is ever dropped or
//! narrowed.

use des_core::ports::SinkError;
use des_core::schema::{
    ColumnDef, ColumnSource, MetadataTable, SchemaChange, SchemaPlan, SqlType, TableDef, TableKind,
    diff,
};
use tiberius::ToSql;

use super::client::{Connection, Finish, begin, db_error, end, run, scalar, schema_error};
use super::encoding::encode;
use super::sql::{self, STAGE, primary_key_name, quote, table_name, tsql_type};
use super::state::{self, STATE_SCHEMA};
use super::views;
use super::writer::{bulk_load, recreate};
use crate::metadata;
pub use crate::metadata::replaced_keys;
use crate::tables;

/// SQL Server takes at most 2,100 parameters per request.
const MAX_PARAMS: usize = 2000;

fn column_ddl(col: &ColumnDef, identity: bool) -> String {
    let identity = if identity { " IDENTITY(1,1)" } else { "" };
    let null = if col.nullable { "NULL" } else { "NOT NULL" };
    format!(
        "{} {}{identity} {null}",
        quote(&col.name),
        tsql_type(col.ty)
    )
}

/// `CREATE TABLE`, with DES's clustered key name on data tables.
pub fn create_table(table: &TableDef) -> String {
    let is_log = table.kind == TableKind::DeleteLog;
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .map(|c| column_ddl(c, is_log && table.primary_key.contains(&c.name)))
        .collect();
    if !table.primary_key.is_empty() {
        let key: Vec<String> = table.primary_key.iter().map(|c| quote(c)).collect();
        let constraint = match table.kind {
            TableKind::Entity(_) | TableKind::Relationship(_) => {
                format!("CONSTRAINT {} ", quote(&primary_key_name(table)))
            }
            _ => String::new(),
        };
        parts.push(format!(
            "{constraint}PRIMARY KEY CLUSTERED ({})",
            key.join(", ")
        ));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        table_name(table),
        parts.join(",\n    ")
    )
}

/// `ALTER TABLE ... ADD` (always nullable: the table may have rows) or `... ALTER COLUMN`.
pub fn alter(table: &TableDef, change: &SchemaChange) -> String {
    let name = table_name(table);
    match change {
        SchemaChange::AddColumn(col) => {
            let col = ColumnDef {
                nullable: true,
                ..col.clone()
            };
            format!("ALTER TABLE {name} ADD {}", column_ddl(&col, false))
        }
        SchemaChange::WidenColumn { column, to, .. } => {
            let nullable = table.column(column).is_none_or(|c| c.nullable);
            let null = if nullable { "NULL" } else { "NOT NULL" };
            format!(
                "ALTER TABLE {name} ALTER COLUMN {} {} {null}",
                quote(column),
                tsql_type(*to)
            )
        }
    }
}

/// The schema, every table of the plan and the sink's state tables as a re-runnable script:
/// each statement creates its object only when it is missing.
pub fn render_ddl(plan: &SchemaPlan) -> Vec<String> {
    let create_schema = sql::nstring(&sql::create_schema(&plan.schema));
    let mut ddl = vec![format!(
        "IF SCHEMA_ID({}) IS NULL EXEC({create_schema})",
        sql::nstring(&plan.schema)
    )];
    ddl.extend(tables::all(plan).map(|t| {
        let name = sql::nstring(&table_name(t));
        format!("IF OBJECT_ID({name}, N'U') IS NULL {}", create_table(t))
    }));
    let state_schema = sql::nstring(&sql::create_schema(STATE_SCHEMA));
    ddl.push(format!(
        "IF SCHEMA_ID({}) IS NULL EXEC({state_schema})",
        sql::nstring(STATE_SCHEMA)
    ));
    ddl.extend(state::ddl());
    ddl.extend(views::statements(plan));
    ddl
}

/// A column type as `sys.columns` describes it. Types this sink never creates read as
/// unbounded text, which no plan widens, so a column an operator changed by hand is left alone.
pub fn parse_type(type_name: &str, max_length: i16, precision: u8, scale: u8) -> SqlType {
    match type_name {
        "uniqueidentifier" => SqlType::Guid,
        "datetime" => SqlType::DateTime,
        "int" => SqlType::Int,
        "bigint" => SqlType::BigInt,
        "bit" => SqlType::Bit,
        "decimal" | "numeric" => SqlType::Decimal { precision, scale },
        "nvarchar" if max_length > 0 => SqlType::Text {
            max_len: Some(u32::from(max_length.unsigned_abs() / 2)),
        },
        _ => SqlType::Text { max_len: None },
    }
}

/// The columns the database has for a table, or `None` when it does not exist.
async fn existing_table(
    conn: &mut Connection,
    table: &TableDef,
) -> Result<Option<TableDef>, SinkError> {
    let name = table_name(table);
    let rows = conn
        .query(sql::select_columns(), &[&name.as_str()])
        .await
        .map_err(db_error)?
        .into_first_result()
        .await
        .map_err(db_error)?;
    let column = |r: &tiberius::Row| -> Option<ColumnDef> {
        let ty = parse_type(r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        Some(ColumnDef {
            name: r.get::<&str, _>(0)?.to_owned(),
            ty,
            nullable: r.get(5)?,
            source: ColumnSource::Metadata,
        })
    };
    let columns: Vec<ColumnDef> = rows.iter().filter_map(column).collect();
    Ok((!columns.is_empty()).then(|| TableDef {
        columns,
        ..table.clone()
    }))
}

async fn create_or_evolve(conn: &mut Connection, table: &TableDef) -> Result<(), SinkError> {
    let error = schema_error(&table.name);
    let Some(existing) = existing_table(conn, table).await? else {
        return run(conn, &create_table(table), &[]).await.map_err(error);
    };
    for change in diff(&existing, table) {
        run(conn, &alter(table, &change), &[])
            .await
            .map_err(&error)?;
    }
    Ok(())
}

/// Creates the engine's state schema and tables when missing, in the caller's transaction,
/// after taking the state schema's lock (always after a data schema's: one order, no
/// deadlock). The schema is created as the data schema is, with the same permission check.
pub(super) async fn create_state(conn: &mut Connection) -> Result<(), SinkError> {
    let resource = format!("des-schema:{STATE_SCHEMA}");
    run(conn, sql::schema_lock(), &[&resource.as_str()]).await?;
    ensure_schema(conn, STATE_SCHEMA).await?;
    for ddl in state::ddl() {
        run(conn, &ddl, &[]).await?;
    }
    Ok(())
}

async fn ensure_schema(conn: &mut Connection, schema: &str) -> Result<(), SinkError> {
    let id = scalar::<i32>(conn, sql::select_schema_id(), &[&schema]).await?;
    if id.flatten().is_none() {
        run(conn, &sql::create_schema(schema), &[])
            .await
            .map_err(schema_error(schema))?;
    }
    Ok(())
}

/// Creates or evolves every planned table and the state tables and replaces the metadata
/// rows, in one transaction (SQL Server's DDL is transactional), so a failure leaves the
/// previous schema intact. An application lock per schema serialises concurrent callers.
pub(super) async fn apply(conn: &mut Connection, plan: &SchemaPlan) -> Result<(), SinkError> {
    begin(conn).await?;
    let outcome = write_schema(conn, plan).await;
    end(conn, outcome).await
}

async fn write_schema(conn: &mut Connection, plan: &SchemaPlan) -> Result<Finish<()>, SinkError> {
    let resource = format!("des-schema:{}", plan.schema);
    {
        run(conn, sql::schema_lock(), &[&resource.as_str()]).await?;
        ensure_schema(conn, &plan.schema).await?;
        for table in tables::all(plan) {
            create_or_evolve(conn, table).await?;
        }
        create_state(conn).await?;
        for meta in &plan.metadata {
            replace_metadata_rows(conn, plan, meta).await?;
        }
        for ddl in views::statements(plan) {
            run(conn, &ddl, &[]).await?;
        }
        Ok(Finish::Commit(()))
    }
}

/// Deletes the rows of every entity (or global option set) the plan covers, then loads the
/// planned rows: entities that lost all their options lose their old rows too.
async fn replace_metadata_rows(
    conn: &mut Connection,
    plan: &SchemaPlan,
    meta: &MetadataTable,
) -> Result<(), SinkError> {
    let table = &meta.table;
    let name = table_name(table);
    let error = |reason: String| SinkError::Schema {
        table: table.name.clone(),
        reason,
    };
    for chunk in replaced_keys(plan, meta).chunks(MAX_PARAMS) {
        let params: Vec<&dyn ToSql> = chunk.iter().map(|k| k as &dyn ToSql).collect();
        let delete = sql::delete_metadata(&name, &meta.replace_key, chunk.len());
        run(conn, &delete, &params)
            .await
            .map_err(schema_error(&table.name))?;
    }
    if meta.rows.is_empty() {
        return Ok(());
    }
    let rows = metadata::encoded_rows(meta, encode).map_err(error)?;
    let types: Vec<SqlType> = table.columns.iter().map(|c| c.ty).collect();
    recreate(conn, STAGE, &sql::create_stage(&types, false)).await?;
    bulk_load(conn, STAGE, rows).await?;
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    run(conn, &sql::insert_metadata(&name, &names), &[]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_types_read_back() {
        assert_eq!(
            parse_type("nvarchar", 320, 0, 0),
            SqlType::Text { max_len: Some(160) }
        );
        assert_eq!(
            parse_type("nvarchar", -1, 0, 0),
            SqlType::Text { max_len: None }
        );
        assert_eq!(
            parse_type("decimal", 17, 38, 4),
            SqlType::Decimal {
                precision: 38,
                scale: 4
            }
        );
        assert_eq!(parse_type("datetime", 8, 23, 3), SqlType::DateTime);
        assert_eq!(parse_type("xml", -1, 0, 0), SqlType::Text { max_len: None });
    }
}

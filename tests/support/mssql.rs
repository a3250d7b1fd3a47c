//! A fresh SQL Server database per harness, and a reader that returns its rows normalised
//! the way [`crate::compare`] normalises SQLite cells. No SQL Server can run on the machines
//! this project is built on: this runs only when `DES_TEST_MSSQL` names a server.

use std::collections::BTreeMap;
use std::sync::Arc;

use des_core::ports::Sink;
use des_core::schema::{ColumnSource, SqlType, TableDef};
use des_sinks::mssql::{Connection, MssqlConfig, MssqlSink, connect};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::compare::{Cell, TargetRows, normal_text};

/// A database created for one run, with a reading connection of its own.
pub struct MssqlDatabase {
    pub name: String,
    server: MssqlConfig,
    config: MssqlConfig,
    reader: Mutex<Connection>,
}

/// `[name]`, with `]` doubled.
pub fn quote(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

async fn open(config: &MssqlConfig) -> Connection {
    Box::pin(connect(config))
        .await
        .expect("test SQL Server reachable")
}

async fn run(conn: &mut Connection, sql: String) -> Result<(), String> {
    let stream = conn.simple_query(sql).await.map_err(|e| e.to_string())?;
    stream.into_results().await.map_err(|e| e.to_string())?;
    Ok(())
}

impl MssqlDatabase {
    /// Creates `des_conv_<uuid>` on the server the ADO.NET connection string names.
    pub async fn create(connection_string: &str) -> Self {
        let server = MssqlConfig::parse(connection_string).expect("DES_TEST_MSSQL parses");
        let name = format!("des_conv_{}", Uuid::new_v4().simple());
        let mut admin = open(&server).await;
        run(&mut admin, format!("CREATE DATABASE {}", quote(&name)))
            .await
            .expect("creates database");
        let config = server.clone().with_database(&name).with_pool_size(2);
        Self {
            reader: Mutex::new(open(&config).await),
            name,
            server,
            config,
        }
    }

    /// A new real sink on this database; it connects on first use, like a restarted process.
    pub async fn open_sink(&self) -> Arc<dyn Sink> {
        Arc::new(MssqlSink::new(&self.config))
    }

    /// Every row of `table` by lower-case `Id`.
    pub async fn rows(&self, table: &TableDef) -> Result<TargetRows, String> {
        let sql = select_rows(table);
        let mut reader = self.reader.lock().await;
        let stream = reader.simple_query(sql).await.map_err(|e| e.to_string())?;
        let rows = stream
            .into_first_result()
            .await
            .map_err(|e| e.to_string())?;
        let id_index = table
            .columns
            .iter()
            .position(|c| c.source == ColumnSource::Id)
            .unwrap_or(0);
        let mut out = BTreeMap::new();
        for row in rows {
            let cells: Vec<Cell> = table
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| cell(c.ty, row.get::<&str, _>(i)))
                .collect();
            let id = cells[id_index].clone().ok_or("Id is null")?;
            out.insert(id.to_lowercase(), cells);
        }
        Ok(out)
    }

    /// Drops the database (ending the sink's sessions first), so a shared server does not
    /// fill up.
    pub async fn drop_database(self) {
        drop(self.reader);
        let mut admin = open(&self.server).await;
        for sql in drop_statements(&self.name) {
            if let Err(error) = run(&mut admin, sql).await {
                tracing::warn!(database = %self.name, %error, "Could not drop test database.");
                return;
            }
        }
    }
}

/// Every column of `table` as text, converted by the server.
pub fn select_rows(table: &TableDef) -> String {
    let list: Vec<String> = table
        .columns
        .iter()
        .map(|c| select(c.ty, &c.name))
        .collect();
    format!(
        "SELECT {} FROM {}.{}",
        list.join(", "),
        quote(&table.schema),
        quote(&table.name)
    )
}

/// A column read as text; `datetime` as ISO 8601 (style 126) marked UTC, which is what the
/// sink stores (a null stays null: `NULL + N'Z'` is null).
fn select(ty: SqlType, name: &str) -> String {
    match ty {
        SqlType::DateTime => format!("CONVERT(nvarchar(30), {}, 126) + N'Z'", quote(name)),
        _ => format!("CONVERT(nvarchar(max), {})", quote(name)),
    }
}

/// SQL Server's text of a value, normalised like the other targets' cells (`bit` already
/// reads `1`/`0`, `uniqueidentifier` upper-case and lowered here).
pub fn cell(ty: SqlType, text: Option<&str>) -> Cell {
    text.map(|text| normal_text(ty, text))
}

pub fn drop_statements(name: &str) -> [String; 2] {
    let db = quote(name);
    [
        format!("ALTER DATABASE {db} SET SINGLE_USER WITH ROLLBACK IMMEDIATE"),
        format!("DROP DATABASE {db}"),
    ]
}

#[cfg(test)]
mod tests {
    use des_core::schema::{ColumnDef, ColumnSource, SqlType, TableDef, TableKind};

    use super::*;

    fn column(name: &str, ty: SqlType, source: ColumnSource) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            ty,
            nullable: true,
            source,
        }
    }

    #[test]
    fn rows_are_read_as_text_with_datetimes_in_iso_form() {
        let table = TableDef {
            schema: "dbo".into(),
            name: "acc]ount".into(),
            columns: vec![
                column("Id", SqlType::Guid, ColumnSource::Id),
                column(
                    "createdon",
                    SqlType::DateTime,
                    ColumnSource::Attribute("createdon".into()),
                ),
            ],
            kind: TableKind::Entity("account".into()),
            primary_key: vec!["Id".into()],
        };
        assert_eq!(
            select_rows(&table),
            "SELECT CONVERT(nvarchar(max), [Id]), CONVERT(nvarchar(30), [createdon], 126) + N'Z' \
             FROM [dbo].[acc]]ount]"
        );
    }

    #[test]
    fn cells_normalise_like_the_other_targets() {
        let id = "6F9619FF-8B86-D011-B42D-00C04FC964FF";
        assert_eq!(cell(SqlType::Guid, Some(id)), Some(id.to_lowercase()));
        assert_eq!(
            cell(SqlType::DateTime, Some("2023-04-07T21:59:01Z")),
            cell(SqlType::DateTime, Some("2023-04-07T21:59:01.000Z"))
        );
        assert_eq!(
            cell(SqlType::DateTime, Some("2023-04-07T21:59:01Z")),
            Some("1680904741000".into())
        );
        assert_eq!(cell(SqlType::Bit, Some("1")), Some("1".into()));
        assert_eq!(cell(SqlType::Int, None), None);
    }

    #[test]
    fn the_database_is_dropped_after_its_sessions_end() {
        assert_eq!(
            drop_statements("des_conv_1]"),
            [
                "ALTER DATABASE [des_conv_1]]] SET SINGLE_USER WITH ROLLBACK IMMEDIATE".to_owned(),
                "DROP DATABASE [des_conv_1]]]".to_owned()
            ]
        );
    }
}

//! The text of the bench's reads and clean-up in each target's SQL: identifiers are
//! double-quoted for SQLite and PostgreSQL and bracket-quoted for T-SQL, with the closing
//! quote doubled inside, since table and column names come from Dataverse metadata.

/// The primary key column of every DES data table.
const ID: &str = "Id";

/// The SQL spoken by a bench target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    Tsql,
}

impl Dialect {
    /// `"name"` (SQLite, PostgreSQL) or `[name]` (T-SQL).
    pub fn quote(self, identifier: &str) -> String {
        match self {
            Self::Sqlite | Self::Postgres => format!("\"{}\"", identifier.replace('"', "\"\"")),
            Self::Tsql => format!("[{}]", identifier.replace(']', "]]")),
        }
    }

    /// The table `name` in `schema`; SQLite tables have no schema part.
    pub fn table(self, schema: &str, name: &str) -> String {
        match self {
            Self::Sqlite => self.quote(name),
            Self::Postgres | Self::Tsql => format!("{}.{}", self.quote(schema), self.quote(name)),
        }
    }

    /// Counts the rows of `table` (quoted) as a 64-bit integer.
    pub fn count(self, table: &str) -> String {
        match self {
            Self::Sqlite | Self::Postgres => format!("SELECT COUNT(*) FROM {table}"),
            Self::Tsql => format!("SELECT COUNT_BIG(*) FROM {table}"),
        }
    }

    /// Up to `n` ids of `table` (quoted).
    pub fn sample_ids(self, table: &str, n: usize) -> String {
        let id = self.quote(ID);
        match self {
            Self::Sqlite | Self::Postgres => format!("SELECT {id} FROM {table} LIMIT {n}"),
            Self::Tsql => format!("SELECT TOP ({n}) {id} FROM {table}"),
        }
    }

    /// `column` (quoted) of the row whose id is the one parameter, as text.
    pub fn text(self, table: &str, column: &str) -> String {
        let id = self.quote(ID);
        match self {
            Self::Sqlite => format!("SELECT {column} FROM {table} WHERE {id} = ?1"),
            Self::Postgres => format!("SELECT {column}::text FROM {table} WHERE {id} = $1"),
            Self::Tsql => {
                format!("SELECT CAST({column} AS nvarchar(max)) FROM {table} WHERE {id} = @P1")
            }
        }
    }

    /// Drops `schema` (PostgreSQL: with everything in it; T-SQL: once its tables are gone).
    /// SQLite has no schemas: its files go with their temp folder.
    pub fn drop_schema(self, schema: &str) -> Option<String> {
        let quoted = self.quote(schema);
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some(format!("DROP SCHEMA IF EXISTS {quoted} CASCADE")),
            Self::Tsql => Some(format!("DROP SCHEMA IF EXISTS {quoted}")),
        }
    }
}

/// The names of the tables in the schema named by the one parameter. SQL Server has no
/// `DROP SCHEMA ... CASCADE`, so a bench schema's tables are dropped one by one first.
pub fn tsql_tables_in_schema() -> &'static str {
    "SELECT [name] FROM sys.tables WHERE [schema_id] = SCHEMA_ID(@P1)"
}

/// Drops one table of a bench schema (T-SQL).
pub fn tsql_drop_table(schema: &str, table: &str) -> String {
    format!(
        "DROP TABLE IF EXISTS {}",
        Dialect::Tsql.table(schema, table)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ODD: &str = "odd]name\"x";

    #[test]
    fn quotes_double_the_closing_quote_of_each_dialect() {
        assert_eq!(Dialect::Sqlite.quote(ODD), "\"odd]name\"\"x\"");
        assert_eq!(Dialect::Postgres.quote(ODD), "\"odd]name\"\"x\"");
        assert_eq!(Dialect::Tsql.quote(ODD), "[odd]]name\"x]");
        assert_eq!(Dialect::Tsql.table("s]", "t"), "[s]]].[t]");
        assert_eq!(Dialect::Sqlite.table("dbo", "account"), "\"account\"");
    }

    #[test]
    fn tsql_reads_render_as_expected() {
        let t = Dialect::Tsql;
        let table = t.table("desbenche2e0a1b2c3d", "acc]ount");
        assert_eq!(table, "[desbenche2e0a1b2c3d].[acc]]ount]");
        assert_eq!(
            t.count(&table),
            "SELECT COUNT_BIG(*) FROM [desbenche2e0a1b2c3d].[acc]]ount]"
        );
        assert_eq!(
            t.sample_ids(&table, 500),
            "SELECT TOP (500) [Id] FROM [desbenche2e0a1b2c3d].[acc]]ount]"
        );
        assert_eq!(
            t.text(&table, &t.quote("na]me")),
            "SELECT CAST([na]]me] AS nvarchar(max)) FROM [desbenche2e0a1b2c3d].[acc]]ount] \
             WHERE [Id] = @P1"
        );
    }

    #[test]
    fn sqlite_and_postgres_reads_render_as_before() {
        let pg = Dialect::Postgres;
        let table = pg.table("desbenchsink01234567", "account");
        assert_eq!(
            pg.count(&table),
            "SELECT COUNT(*) FROM \"desbenchsink01234567\".\"account\""
        );
        assert_eq!(
            pg.sample_ids(&table, 3),
            "SELECT \"Id\" FROM \"desbenchsink01234567\".\"account\" LIMIT 3"
        );
        assert_eq!(
            pg.text(&table, "\"name\""),
            "SELECT \"name\"::text FROM \"desbenchsink01234567\".\"account\" WHERE \"Id\" = $1"
        );
        assert_eq!(
            Dialect::Sqlite.text("\"account\"", "\"name\""),
            "SELECT \"name\" FROM \"account\" WHERE \"Id\" = ?1"
        );
    }

    #[test]
    fn clean_up_drops_tsql_tables_then_the_schema() {
        assert_eq!(
            tsql_tables_in_schema(),
            "SELECT [name] FROM sys.tables WHERE [schema_id] = SCHEMA_ID(@P1)"
        );
        assert_eq!(
            tsql_drop_table("desbench]x", "Des]Watermark"),
            "DROP TABLE IF EXISTS [desbench]]x].[Des]]Watermark]"
        );
        assert_eq!(
            Dialect::Tsql.drop_schema("desbench]x").as_deref(),
            Some("DROP SCHEMA IF EXISTS [desbench]]x]")
        );
        assert_eq!(
            Dialect::Postgres.drop_schema("desbench\"x").as_deref(),
            Some("DROP SCHEMA IF EXISTS \"desbench\"\"x\" CASCADE")
        );
        assert_eq!(Dialect::Sqlite.drop_schema("dbo"), None);
    }
}

//! T-SQL statement text. Every identifier comes from Dataverse metadata or the profile, so
//! each one is bracket-quoted with `]` doubled; values travel as `@Pn` parameters.
//!
//! Batches stage their rows in session temp tables whose columns carry our own positional
//! names (`[c0]`, `[c1]`, ...): the TDS bulk load builds its `INSERT BULK` text from those
//! names, so no Dataverse identifier ever reaches the driver's own SQL.

use des_core::schema::{SqlType, TableDef};

/// SQL Server's `sysname`: identifiers longer than this are refused.
const MAX_IDENTIFIER: usize = 128;

/// The rows of a batch (or of a metadata table), bulk-loaded before one set-based statement.
pub const STAGE: &str = "#DesStage";
/// Every id a batch carries, with what the batch does to it ([`KEY_UPSERT`], ...).
pub const KEYS: &str = "#DesKeys";
/// Rows a delete or a resync sweep removed: `[Id]`, `[VersionNumber]`.
pub const GONE: &str = "#DesGone";

/// `#DesKeys.[Kind]` of an id the batch upserts, deletes, or could not encode.
pub const KEY_UPSERT: u8 = 0;
pub const KEY_DELETE: u8 = 1;
pub const KEY_REJECTED: u8 = 2;

/// `[name]`, with any `]` inside doubled.
pub fn quote(ident: &str) -> String {
    format!("[{}]", ident.replace(']', "]]"))
}

/// `[schema].[name]`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote(schema), quote(name))
}

pub fn table_name(table: &TableDef) -> String {
    qualified(&table.schema, &table.name)
}

/// `N'text'`, with any `'` inside doubled.
pub fn nstring(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}

fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(quote).collect::<Vec<_>>().join(", ")
}

/// DES's SQL Server type of a column type.
pub fn tsql_type(ty: SqlType) -> String {
    match ty {
        SqlType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        // DES's failure reasons name types as T-SQL does.
        other => crate::checks::des_type_name(other),
    }
}

/// DES's key name, `EPK[dbo].[contact]` (the brackets are part of the name). A name longer
/// than `sysname` is cut and ends with a hash of the full name, so two never collide.
pub fn primary_key_name(table: &TableDef) -> String {
    let full = format!("EPK[{}].[{}]", table.schema, table.name);
    if full.chars().count() <= MAX_IDENTIFIER {
        return full;
    }
    let hash = format!("~{:08x}", fnv1a(&full));
    let kept: String = full.chars().take(MAX_IDENTIFIER - hash.len()).collect();
    format!("{kept}{hash}")
}

/// A stable 32-bit FNV-1a hash: the same name gives the same constraint on every run.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The positional name of stage column `i`.
pub fn stage_column(i: usize) -> String {
    format!("[c{i}]")
}

pub fn drop_temp(name: &str) -> String {
    format!("DROP TABLE IF EXISTS {name}")
}

/// The stage of a batch (`keyed`: `[c0]` is the row id and the key) or of metadata rows.
/// Text is staged as `nvarchar(max)` whatever its target length (lengths are checked while
/// encoding): tiberius declares an `nvarchar(n)` bulk column as `nvarchar(<n in bytes>)`, and
/// `nvarchar(max)` is the one text type it declares as the server describes it.
pub fn create_stage(types: &[SqlType], keyed: bool) -> String {
    let mut cols: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            let null = if keyed && i == 0 { "NOT NULL" } else { "NULL" };
            let ty = match ty {
                SqlType::Text { .. } => SqlType::Text { max_len: None },
                other => *other,
            };
            format!("{} {} {null}", stage_column(i), tsql_type(ty))
        })
        .collect();
    if keyed {
        cols.push(format!("PRIMARY KEY ({})", stage_column(0)));
    }
    format!("CREATE TABLE {STAGE} ({})", cols.join(", "))
}

pub fn create_keys() -> String {
    format!(
        "CREATE TABLE {KEYS} ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [Kind] tinyint NOT NULL)"
    )
}

pub fn create_gone() -> String {
    format!("CREATE TABLE {GONE} ([Id] uniqueidentifier NOT NULL, [VersionNumber] bigint NULL)")
}

pub fn clear_gone() -> String {
    format!("DELETE FROM {GONE}")
}

/// One set-based upsert from the stage, whose column `c<i>` holds `staged[i]` (`c0` the id);
/// `@P1` is the write time of the `stamped` sink columns. An existing row is replaced only by
/// an equal or newer `versionnumber` and keeps its `SinkCreatedOn`. `HOLDLOCK` makes the
/// match-then-insert atomic against any writer that does not take the watermark lock.
pub fn merge_from_stage(table: &str, staged: &[&str], stamped: &[&str]) -> String {
    let source = |i: usize| format!("s.{}", stage_column(i));
    let mut updates: Vec<String> = stamped
        .iter()
        .filter(|c| **c != "SinkCreatedOn")
        .map(|c| format!("{} = @P1", quote(c)))
        .collect();
    updates.extend(
        staged
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != "Id")
            .map(|(i, c)| format!("{} = {}", quote(c), source(i))),
    );
    let guard = staged
        .iter()
        .position(|c| *c == "versionnumber")
        .map_or_else(String::new, |i| {
            format!(
                " AND (t.[versionnumber] IS NULL OR {} >= t.[versionnumber])",
                source(i)
            )
        });
    let names = quoted_list(staged.iter().chain(stamped).copied());
    let values: Vec<String> = (0..staged.len())
        .map(source)
        .chain(stamped.iter().map(|_| "@P1".to_owned()))
        .collect();
    format!(
        "MERGE {table} WITH (HOLDLOCK) AS t USING {STAGE} AS s ON t.[Id] = s.{id} \
         WHEN MATCHED{guard} THEN UPDATE SET {updates} \
         WHEN NOT MATCHED BY TARGET THEN INSERT ({names}) VALUES ({values});",
        id = stage_column(0),
        updates = updates.join(", "),
        values = values.join(", ")
    )
}

/// Deletes the ids the batch deletes, keeping what they were in [`GONE`].
pub fn delete_rows(table: &str) -> String {
    format!(
        "DELETE FROM {table} OUTPUT deleted.[Id], deleted.[versionnumber] INTO {GONE} ([Id], [VersionNumber]) \
         WHERE [Id] IN (SELECT [Id] FROM {KEYS} WHERE [Kind] = {KEY_DELETE})"
    )
}

/// Logs the rows in [`GONE`]: `@P1` entity name, `@P2` delete time. `RecordId` is text, as
/// DES's own clean-up query converts it back with `CONVERT(uniqueidentifier, recordid)`.
pub fn log_gone(delete_log: &str) -> String {
    format!(
        "INSERT INTO {delete_log} ([EntityName], [RecordId], [SinkDeleteTime], [VersionNumber]) \
         SELECT @P1, CONVERT(nvarchar(64), [Id]), @P2, [VersionNumber] FROM {GONE}"
    )
}

/// The ids of rejected records that already have a row (`Update`, not `New`).
pub fn existing_rejected(table: &str) -> String {
    format!(
        "SELECT k.[Id] FROM {KEYS} AS k JOIN {table} AS t ON t.[Id] = k.[Id] WHERE k.[Kind] = {KEY_REJECTED}"
    )
}

pub fn select_version(table: &str) -> String {
    format!("SELECT [versionnumber] FROM {table} WHERE [Id] = @P1")
}

/// Replaces a metadata table's rows: deletes those whose `key` is one of `count` parameters.
pub fn delete_metadata(table: &str, key: &str, count: usize) -> String {
    let params: Vec<String> = (1..=count).map(|i| format!("@P{i}")).collect();
    format!(
        "DELETE FROM {table} WHERE {} IN ({})",
        quote(key),
        params.join(", ")
    )
}

/// Copies the staged metadata rows into their table.
pub fn insert_metadata(table: &str, columns: &[&str]) -> String {
    let sources: Vec<String> = (0..columns.len()).map(stage_column).collect();
    format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {STAGE}",
        quoted_list(columns.iter().copied()),
        sources.join(", ")
    )
}

pub fn select_schema_id() -> &'static str {
    "SELECT SCHEMA_ID(@P1)"
}

/// `CREATE SCHEMA` must be alone in its batch, so the sink asks [`select_schema_id`] first.
pub fn create_schema(schema: &str) -> String {
    format!("CREATE SCHEMA {}", quote(schema))
}

/// Serialises schema changes of one target schema (`@P1` the resource) until commit.
/// `sp_getapplock` reports a refused lock (a deadlock victim) by its return code, not by an
/// error, so the code is checked and turned into one.
pub fn schema_lock() -> &'static str {
    "DECLARE @Granted int; \
     EXEC @Granted = sp_getapplock @Resource = @P1, @LockMode = 'Exclusive', @LockOwner = 'Transaction'; \
     IF @Granted < 0 THROW 51000, N'The DES schema lock was not granted.', 1;"
}

/// Name, type, byte length, precision, scale and nullability of a table's columns (`@P1` the
/// quoted table name); no rows when the table does not exist.
pub fn select_columns() -> &'static str {
    "SELECT c.[name], t.[name], c.[max_length], c.[precision], c.[scale], c.[is_nullable] \
     FROM sys.columns AS c JOIN sys.types AS t ON t.[user_type_id] = c.[user_type_id] \
     WHERE c.[object_id] = OBJECT_ID(@P1) ORDER BY c.[column_id]"
}

#[cfg(test)]
mod tests {
    use super::*;
    use des_core::schema::TableKind;

    fn table(schema: &str, name: &str) -> TableDef {
        TableDef {
            schema: schema.into(),
            name: name.into(),
            kind: TableKind::Entity(name.into()),
            columns: Vec::new(),
            primary_key: vec!["Id".into()],
        }
    }

    #[test]
    fn brackets_are_doubled() {
        assert_eq!(quote("crm_account"), "[crm_account]");
        assert_eq!(quote("a]b[c"), "[a]]b[c]");
        assert_eq!(qualified("d]bo", "t"), "[d]]bo].[t]");
        assert_eq!(nstring("it's"), "N'it''s'");
    }

    #[test]
    fn primary_key_keeps_des_name() {
        let key = primary_key_name(&table("dbo", "contact"));
        assert_eq!(key, "EPK[dbo].[contact]");
        assert_eq!(quote(&key), "[EPK[dbo]].[contact]]]");
    }

    #[test]
    fn long_primary_key_names_stay_distinct_and_legal() {
        let long = "x".repeat(130);
        let a = primary_key_name(&table("dbo", &format!("{long}_a")));
        let b = primary_key_name(&table("dbo", &format!("{long}_b")));
        assert!(a.chars().count() <= MAX_IDENTIFIER && b.chars().count() <= MAX_IDENTIFIER);
        assert_ne!(a, b);
    }
}

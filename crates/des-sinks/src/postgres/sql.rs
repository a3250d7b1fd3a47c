//! Statement text. Every identifier comes from Dataverse metadata or the profile, so each one
//! is double-quoted with embedded quotes doubled; values always travel as parameters.

use des_core::schema::{SqlType, TableDef};

/// PostgreSQL keeps at most this many bytes of an identifier and silently cuts the rest.
const MAX_IDENTIFIER: usize = 63;

/// `"name"`, with any `"` inside doubled.
pub(super) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// `"schema"."name"`.
pub(super) fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote(schema), quote(name))
}

pub(super) fn table_name(table: &TableDef) -> String {
    qualified(&table.schema, &table.name)
}

fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(quote).collect::<Vec<_>>().join(", ")
}

/// The nearest PostgreSQL type of a DES column type.
pub(super) fn pg_type(ty: SqlType) -> String {
    match ty {
        SqlType::Guid => "uuid".into(),
        SqlType::DateTime => "timestamptz".into(),
        SqlType::Int => "integer".into(),
        SqlType::BigInt => "bigint".into(),
        SqlType::Bit => "boolean".into(),
        SqlType::Decimal { precision, scale } => format!("numeric({precision},{scale})"),
        SqlType::Text { max_len: Some(n) } => format!("varchar({n})"),
        SqlType::Text { max_len: None } => "text".into(),
    }
}

/// DES named a data table's key `EPK[dbo].[contact]`. PostgreSQL accepts that very name as a
/// quoted identifier, so we keep it whenever it fits the 63-byte limit; a longer one is cut at
/// a character boundary and ends with a hash of the full name, so two long names never share
/// a constraint (PostgreSQL would otherwise cut them itself, possibly to the same name).
pub(super) fn primary_key_name(table: &TableDef) -> String {
    let full = format!("EPK[{}].[{}]", table.schema, table.name);
    if full.len() <= MAX_IDENTIFIER {
        return full;
    }
    let hash = format!("~{:08x}", fnv1a(&full));
    let mut cut = MAX_IDENTIFIER - hash.len();
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{hash}", &full[..cut])
}

/// A stable 32-bit FNV-1a hash: the same name gives the same constraint on every run.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

pub(super) use super::state::StateTables;

/// Copies the rows of the `gone` CTE into `DeleteLog`.
pub(super) fn log_gone(delete_log: &str, entity: &str, time: &str) -> String {
    format!(
        "INSERT INTO {delete_log} (\"EntityName\", \"RecordId\", \"SinkDeleteTime\", \"VersionNumber\") \
         SELECT {entity}::text, \"Id\"::text, {time}::timestamptz, \"versionnumber\" FROM gone"
    )
}

/// Deletes the ids `$1` from `table`, logging each removed row when `delete_log` is given
/// (`$2` entity name, `$3` delete time).
pub(super) fn delete_rows(table: &str, delete_log: Option<&str>) -> String {
    let gone =
        format!("DELETE FROM {table} WHERE \"Id\" = ANY($1) RETURNING \"Id\", \"versionnumber\"");
    match delete_log {
        Some(log) => format!("WITH gone AS ({gone}) {}", log_gone(log, "$2", "$3")),
        None => gone,
    }
}

pub(super) fn select_version(table: &str) -> String {
    format!("SELECT \"versionnumber\" FROM {table} WHERE \"Id\" = $1")
}

/// The session's staging table for one column layout (see `stage.rs`): it lives as long as
/// the connection and empties itself at every commit.
pub(super) fn create_stage(name: &str, columns: &[(&str, &str)]) -> String {
    let cols: Vec<String> = columns
        .iter()
        .map(|(n, t)| format!("{} {t}", quote(n)))
        .collect();
    format!(
        "CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS",
        stage_table(name),
        cols.join(", ")
    )
}

pub(super) fn drop_stage(name: &str) -> String {
    format!("DROP TABLE IF EXISTS {}", stage_table(name))
}

/// `pg_temp."DesStage_..."`: always the session's own table, never a table of that name in a
/// schema of the search path (which a drop or a copy would otherwise reach when the temporary
/// one is missing).
pub(super) fn stage_table(name: &str) -> String {
    qualified("pg_temp", name)
}

/// `DesStage_<hash of the layout>`: a layout that changes (a new column) gets a table of its
/// own, and names stay short whatever the column names. The hash need only be stable within
/// one process, as long as the sessions that use it.
pub(super) fn stage_name(columns: &[(&str, &str)]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    columns.hash(&mut hasher);
    format!("DesStage_{:016x}", hasher.finish())
}

pub(super) fn copy_in(table: &str, columns: &[&str]) -> String {
    format!(
        "COPY {table} ({}) FROM STDIN (FORMAT binary)",
        quoted_list(columns.iter().copied())
    )
}

/// One set-based upsert from `stage` (a qualified table). `selects` are the stage expressions
/// in `columns` order; `$1` is the write time of the sink columns. An existing row is replaced only by an
/// equal or newer `versionnumber`, and keeps its `SinkCreatedOn`.
pub(super) fn upsert_from_stage(
    table: &str,
    stage: &str,
    columns: &[&str],
    selects: &[String],
) -> String {
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !matches!(**c, "Id" | "SinkCreatedOn"))
        .map(|c| format!("{0} = excluded.{0}", quote(c)))
        .collect();
    let guard = if columns.contains(&"versionnumber") {
        " WHERE t.\"versionnumber\" IS NULL OR excluded.\"versionnumber\" >= t.\"versionnumber\""
    } else {
        ""
    };
    format!(
        "INSERT INTO {table} AS t ({}) SELECT {} FROM {} \
         ON CONFLICT (\"Id\") DO UPDATE SET {}{guard}",
        quoted_list(columns.iter().copied()),
        selects.join(", "),
        stage,
        updates.join(", ")
    )
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
    fn quotes_are_doubled() {
        assert_eq!(quote("crm_account"), "\"crm_account\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(qualified("d\"bo", "t"), "\"d\"\"bo\".\"t\"");
    }

    #[test]
    fn primary_key_keeps_des_name_when_it_fits() {
        assert_eq!(
            primary_key_name(&table("dbo", "contact")),
            "EPK[dbo].[contact]"
        );
    }

    #[test]
    fn long_primary_key_names_stay_distinct_and_legal() {
        let long = "x".repeat(60);
        let a = primary_key_name(&table("dbo", &format!("{long}_a")));
        let b = primary_key_name(&table("dbo", &format!("{long}_b")));
        assert!(a.len() <= MAX_IDENTIFIER && b.len() <= MAX_IDENTIFIER);
        assert_ne!(a, b);
        let accented = primary_key_name(&table("dbo", &"é".repeat(40)));
        assert!(accented.len() <= MAX_IDENTIFIER);
    }

    #[test]
    fn types_are_the_nearest() {
        assert_eq!(
            pg_type(SqlType::Decimal {
                precision: 38,
                scale: 2
            }),
            "numeric(38,2)"
        );
        assert_eq!(
            pg_type(SqlType::Text { max_len: Some(160) }),
            "varchar(160)"
        );
        assert_eq!(pg_type(SqlType::Text { max_len: None }), "text");
        assert_eq!(pg_type(SqlType::Bit), "boolean");
    }

    #[test]
    fn the_stage_lives_with_the_session_and_is_named_by_its_layout() {
        let columns = [("Id", "uuid"), ("na\"me", "text")];
        let name = stage_name(&columns);
        assert!(name.starts_with("DesStage_") && name.len() == "DesStage_".len() + 16);
        assert_eq!(
            stage_name(&columns),
            name,
            "the same layout, the same table"
        );
        assert_ne!(stage_name(&columns[..1]), name, "a new layout, a new table");
        assert_eq!(
            create_stage(&name, &columns),
            format!(
                "CREATE TEMP TABLE IF NOT EXISTS \"pg_temp\".\"{name}\" (\"Id\" uuid, \"na\"\"me\" text) \
                 ON COMMIT DELETE ROWS"
            )
        );
        assert_eq!(
            drop_stage(&name),
            format!("DROP TABLE IF EXISTS \"pg_temp\".\"{name}\"")
        );
    }

    #[test]
    fn the_upsert_reads_the_qualified_stage_and_keeps_newer_versions() {
        let stage = stage_table("DesStage_0123456789abcdef");
        let columns = ["Id", "name", "versionnumber", "SinkCreatedOn"];
        let selects: Vec<String> = ["\"Id\"", "\"name\"", "\"versionnumber\"", "$1::timestamptz"]
            .map(String::from)
            .into();
        assert_eq!(
            upsert_from_stage("\"dbo\".\"account\"", &stage, &columns, &selects),
            "INSERT INTO \"dbo\".\"account\" AS t (\"Id\", \"name\", \"versionnumber\", \"SinkCreatedOn\") \
             SELECT \"Id\", \"name\", \"versionnumber\", $1::timestamptz \
             FROM \"pg_temp\".\"DesStage_0123456789abcdef\" ON CONFLICT (\"Id\") DO UPDATE SET \
             \"name\" = excluded.\"name\", \"versionnumber\" = excluded.\"versionnumber\" \
             WHERE t.\"versionnumber\" IS NULL OR excluded.\"versionnumber\" >= t.\"versionnumber\""
        );
        assert_eq!(
            copy_in(&stage, &["Id", "name"]),
            "COPY \"pg_temp\".\"DesStage_0123456789abcdef\" (\"Id\", \"name\") FROM STDIN (FORMAT binary)"
        );
    }
}

//! Statement text. Every identifier comes from Dataverse metadata or the profile, so each one
//! is double-quoted with embedded quotes doubled; values always travel as parameters.

use des_core::schema::TableDef;

/// `"name"`, with any `"` inside doubled.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(quote).collect::<Vec<_>>().join(", ")
}

fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sink's own tables for one prefix (see `schema::state_ddl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateTables {
    /// The watermark table's name unquoted, to look it up in `sqlite_master`.
    pub watermark_name: String,
    pub watermark: String,
    pub tombstone: String,
    pub seen: String,
}

impl StateTables {
    pub fn for_prefix(prefix: &str) -> Self {
        let raw = |base: &str| {
            if prefix.is_empty() {
                base.to_owned()
            } else {
                format!("{prefix}_{base}")
            }
        };
        let name = |base: &str| quote(&raw(base));
        Self {
            watermark_name: raw("DesWatermark"),
            watermark: name("DesWatermark"),
            tombstone: name("DesTombstone"),
            seen: name("DesResyncSeen"),
        }
    }

    pub fn select_watermark(&self) -> String {
        format!(
            "SELECT \"Seq\" FROM {} WHERE \"Table\" = ?1",
            self.watermark
        )
    }

    pub fn set_watermark(&self) -> String {
        format!(
            "INSERT INTO {} (\"Table\", \"Seq\") VALUES (?1, ?2) \
             ON CONFLICT (\"Table\") DO UPDATE SET \"Seq\" = excluded.\"Seq\"",
            self.watermark
        )
    }

    pub fn any_tombstone(&self) -> String {
        format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE \"Table\" = ?1)",
            self.tombstone
        )
    }

    pub fn select_tombstone(&self) -> String {
        format!(
            "SELECT \"Seq\" FROM {} WHERE \"Table\" = ?1 AND \"Id\" = ?2",
            self.tombstone
        )
    }

    /// Keeps the highest `seq` so a retried older delete never lowers a tombstone.
    pub fn put_tombstone(&self) -> String {
        format!(
            "INSERT INTO {} (\"Table\", \"Id\", \"Seq\") VALUES (?1, ?2, ?3) \
             ON CONFLICT (\"Table\", \"Id\") DO UPDATE SET \"Seq\" = max(\"Seq\", excluded.\"Seq\")",
            self.tombstone
        )
    }

    /// Lifts a tombstone older than the write that re-creates the row.
    pub fn lift_tombstone(&self) -> String {
        format!(
            "DELETE FROM {} WHERE \"Table\" = ?1 AND \"Id\" = ?2 AND \"Seq\" < ?3",
            self.tombstone
        )
    }

    pub fn mark_seen(&self) -> String {
        format!(
            "INSERT OR IGNORE INTO {} (\"Table\", \"FirstSeq\", \"Id\") VALUES (?1, ?2, ?3)",
            self.seen
        )
    }

    pub fn clear_seen(&self) -> String {
        format!("DELETE FROM {} WHERE \"Table\" = ?1", self.seen)
    }

    /// Rows of `table` not seen under a resync: `?1` the table's name, `?2` the resync.
    fn unseen(&self, table: &str) -> String {
        format!(
            "{table} WHERE \"Id\" NOT IN (SELECT \"Id\" FROM {} WHERE \"Table\" = ?1 AND \
             \"FirstSeq\" = ?2)",
            self.seen
        )
    }

    /// Tombstones every unseen row at `?3`.
    pub fn tombstone_unseen(&self, table: &str) -> String {
        format!(
            "INSERT INTO {} (\"Table\", \"Id\", \"Seq\") SELECT ?1, \"Id\", ?3 FROM {} \
             ON CONFLICT (\"Table\", \"Id\") DO UPDATE SET \"Seq\" = max(\"Seq\", excluded.\"Seq\")",
            self.tombstone,
            self.unseen(table)
        )
    }

    /// Logs every unseen row: `?3` entity name, `?4` delete time.
    pub fn log_unseen(&self, table: &str, delete_log: &str) -> String {
        format!(
            "INSERT INTO {delete_log} (\"EntityName\", \"RecordId\", \"SinkDeleteTime\", \
             \"VersionNumber\") SELECT ?3, \"Id\", ?4, \"versionnumber\" FROM {}",
            self.unseen(table)
        )
    }

    pub fn delete_unseen(&self, table: &str) -> String {
        format!("DELETE FROM {}", self.unseen(table))
    }
}

/// Insert-or-update guarded by version: an existing row is replaced only by an equal or newer
/// `versionnumber`, and keeps its `SinkCreatedOn`. `columns` pairs each name with its
/// placeholder number.
pub fn upsert(table: &TableDef, columns: &[(&str, usize)]) -> String {
    let name = quote(&table.name);
    let updates: Vec<String> = columns
        .iter()
        .filter(|(c, _)| !matches!(*c, "Id" | "SinkCreatedOn"))
        .map(|(c, _)| format!("{0} = excluded.{0}", quote(c)))
        .collect();
    let values: Vec<String> = columns.iter().map(|(_, n)| format!("?{n}")).collect();
    format!(
        "INSERT INTO {name} ({}) VALUES ({}) ON CONFLICT (\"Id\") DO UPDATE SET {} \
         WHERE {name}.\"versionnumber\" IS NULL OR excluded.\"versionnumber\" >= {name}.\"versionnumber\"",
        quoted_list(columns.iter().map(|(c, _)| *c)),
        values.join(", "),
        updates.join(", ")
    )
}

pub fn delete_row(table: &TableDef) -> String {
    format!(
        "DELETE FROM {} WHERE \"Id\" = ?1 RETURNING \"versionnumber\"",
        quote(&table.name)
    )
}

pub fn select_version(table: &TableDef) -> String {
    format!(
        "SELECT \"versionnumber\" FROM {} WHERE \"Id\" = ?1",
        quote(&table.name)
    )
}

pub fn insert_delete_log(delete_log: &TableDef) -> String {
    format!(
        "INSERT INTO {} (\"EntityName\", \"RecordId\", \"SinkDeleteTime\", \"VersionNumber\") \
         VALUES (?1, ?2, ?3, ?4)",
        quote(&delete_log.name)
    )
}

pub fn insert_row(table: &TableDef) -> String {
    let names = table.columns.iter().map(|c| c.name.as_str());
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quote(&table.name),
        quoted_list(names),
        placeholders(table.columns.len())
    )
}

pub fn delete_where_in(table: &TableDef, column: &str, count: usize) -> String {
    format!(
        "DELETE FROM {} WHERE {} IN ({})",
        quote(&table.name),
        quote(column),
        placeholders(count)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote("crm_account"), "\"crm_account\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn state_tables_follow_the_prefix() {
        assert_eq!(
            StateTables::for_prefix("crm").watermark,
            "\"crm_DesWatermark\""
        );
        assert_eq!(StateTables::for_prefix("").tombstone, "\"DesTombstone\"");
    }
}

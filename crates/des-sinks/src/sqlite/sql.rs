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

/// The engine's state of one profile (see `state.rs`): each statement reads and writes only
/// the rows of that profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateTables {
    /// `"Profile" = '<id>'`.
    mine: String,
    profile: String,
    pub watermark: String,
    pub tombstone: String,
    pub seen: String,
}

impl StateTables {
    pub fn for_profile(profile: uuid::Uuid) -> Self {
        let literal = super::state::profile_literal(profile);
        Self {
            mine: format!("\"Profile\" = {literal}"),
            profile: literal,
            watermark: quote(super::state::WATERMARK),
            tombstone: quote(super::state::TOMBSTONE),
            seen: quote(super::state::SEEN),
        }
    }

    pub fn select_watermark(&self) -> String {
        format!(
            "SELECT \"Seq\" FROM {} WHERE {} AND \"Table\" = ?1",
            self.watermark, self.mine
        )
    }

    pub fn set_watermark(&self) -> String {
        format!(
            "INSERT INTO {} (\"Profile\", \"Table\", \"Seq\") VALUES ({}, ?1, ?2) \
             ON CONFLICT (\"Profile\", \"Table\") DO UPDATE SET \"Seq\" = excluded.\"Seq\"",
            self.watermark, self.profile
        )
    }

    pub fn any_tombstone(&self) -> String {
        format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE {} AND \"Table\" = ?1)",
            self.tombstone, self.mine
        )
    }

    pub fn select_tombstone(&self) -> String {
        format!(
            "SELECT \"Seq\" FROM {} WHERE {} AND \"Table\" = ?1 AND \"Id\" = ?2",
            self.tombstone, self.mine
        )
    }

    /// Keeps the highest `seq` so a retried older delete never lowers a tombstone.
    pub fn put_tombstone(&self) -> String {
        format!(
            "INSERT INTO {} (\"Profile\", \"Table\", \"Id\", \"Seq\") VALUES ({}, ?1, ?2, ?3) \
             ON CONFLICT (\"Profile\", \"Table\", \"Id\") DO UPDATE SET \"Seq\" = max(\"Seq\", excluded.\"Seq\")",
            self.tombstone, self.profile
        )
    }

    /// Lifts a tombstone older than the write that re-creates the row.
    pub fn lift_tombstone(&self) -> String {
        format!(
            "DELETE FROM {} WHERE {} AND \"Table\" = ?1 AND \"Id\" = ?2 AND \"Seq\" < ?3",
            self.tombstone, self.mine
        )
    }

    pub fn mark_seen(&self) -> String {
        format!(
            "INSERT OR IGNORE INTO {} (\"Profile\", \"Table\", \"FirstSeq\", \"Id\") VALUES ({}, ?1, ?2, ?3)",
            self.seen, self.profile
        )
    }

    pub fn clear_seen(&self) -> String {
        format!(
            "DELETE FROM {} WHERE {} AND \"Table\" = ?1",
            self.seen, self.mine
        )
    }

    /// Rows of `table` not seen under a resync: `?1` the table's name, `?2` the resync.
    fn unseen(&self, table: &str) -> String {
        format!(
            "{table} WHERE \"Id\" NOT IN (SELECT \"Id\" FROM {} WHERE {} AND \"Table\" = ?1 AND \
             \"FirstSeq\" = ?2)",
            self.seen, self.mine
        )
    }

    /// Tombstones every unseen row at `?3`.
    pub fn tombstone_unseen(&self, table: &str) -> String {
        format!(
            "INSERT INTO {} (\"Profile\", \"Table\", \"Id\", \"Seq\") SELECT {}, ?1, \"Id\", ?3 FROM {} \
             ON CONFLICT (\"Profile\", \"Table\", \"Id\") DO UPDATE SET \"Seq\" = max(\"Seq\", excluded.\"Seq\")",
            self.tombstone,
            self.profile,
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
    fn state_statements_read_only_their_profiles_rows() {
        let profile = uuid::Uuid::from_u128(7);
        let state = StateTables::for_profile(profile);
        assert_eq!(state.watermark, "\"_des_state_watermark\"");
        let mine = format!("\"Profile\" = '{profile}'");
        assert!(state.select_watermark().contains(&mine));
        assert!(state.delete_unseen("\"t\"").contains(&mine));
    }
}

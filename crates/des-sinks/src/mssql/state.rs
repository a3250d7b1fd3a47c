//! The sink's own tables of one profile and their statements, named with the profile's
//! schema and prefix like the other sinks':
//! - `DesWatermark([Table], [Seq])`: the last applied batch of each table, written in the same
//!   transaction as the batch's rows; writers lock its row with `UPDLOCK, HOLDLOCK`;
//! - `DesTombstone([Table], [Id], [Seq])`: the batch that deleted a row, so an older retried
//!   upsert cannot resurrect it; a later write of the row lifts it;
//! - `DesResyncSeen([Table], [FirstSeq], [Id])`: ids a resync has carried, so its final batch
//!   can delete every row the source no longer has.

use super::sql::{GONE, KEY_DELETE, KEYS, STAGE, nstring, qualified, stage_column};

/// Where the tombstones of a step come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tombstoned {
    /// Every id the batch deletes, whether or not its row existed.
    Deleted,
    /// The rows a resync sweep removed.
    Gone,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateTables {
    pub watermark: String,
    pub tombstone: String,
    pub seen: String,
}

impl StateTables {
    pub fn new(schema: &str, prefix: &str) -> Self {
        let raw = |base: &str| {
            if prefix.is_empty() {
                base.to_owned()
            } else {
                format!("{prefix}_{base}")
            }
        };
        let name = |base: &str| qualified(schema, &raw(base));
        Self {
            watermark: name("DesWatermark"),
            tombstone: name("DesTombstone"),
            seen: name("DesResyncSeen"),
        }
    }

    /// `IF OBJECT_ID(...) IS NULL CREATE TABLE ...` for each state table.
    pub fn ddl(&self) -> Vec<String> {
        let bodies = [
            (
                &self.watermark,
                "[Table] nvarchar(128) NOT NULL PRIMARY KEY, [Seq] bigint NOT NULL",
            ),
            (
                &self.tombstone,
                "[Table] nvarchar(128) NOT NULL, [Id] uniqueidentifier NOT NULL, \
                 [Seq] bigint NOT NULL, PRIMARY KEY ([Table], [Id])",
            ),
            (
                &self.seen,
                "[Table] nvarchar(128) NOT NULL, [FirstSeq] bigint NOT NULL, \
                 [Id] uniqueidentifier NOT NULL, PRIMARY KEY ([Table], [FirstSeq], [Id])",
            ),
        ];
        bodies
            .iter()
            .map(|(name, body)| {
                format!(
                    "IF OBJECT_ID({}, N'U') IS NULL CREATE TABLE {name} ({body})",
                    nstring(name)
                )
            })
            .collect()
    }

    pub fn select_watermark(&self) -> String {
        format!("SELECT [Seq] FROM {} WHERE [Table] = @P1", self.watermark)
    }

    /// Creates the table's watermark row at 0 the first time; the key-range lock of
    /// `UPDLOCK, HOLDLOCK` keeps two first writers from both inserting it.
    pub fn init_watermark(&self) -> String {
        format!(
            "IF NOT EXISTS (SELECT 1 FROM {0} WITH (UPDLOCK, HOLDLOCK) WHERE [Table] = @P1) \
             INSERT INTO {0} ([Table], [Seq]) VALUES (@P1, 0)",
            self.watermark
        )
    }

    /// Reads the watermark and holds its row until commit: writers of one table, on any
    /// connection or process, are serialised here.
    pub fn lock_watermark(&self) -> String {
        format!(
            "SELECT [Seq] FROM {} WITH (UPDLOCK, HOLDLOCK) WHERE [Table] = @P1",
            self.watermark
        )
    }

    pub fn set_watermark(&self) -> String {
        format!(
            "UPDATE {} SET [Seq] = @P2 WHERE [Table] = @P1",
            self.watermark
        )
    }

    pub fn select_tombstone(&self) -> String {
        format!(
            "SELECT [Seq] FROM {} WHERE [Table] = @P1 AND [Id] = @P2",
            self.tombstone
        )
    }

    /// Tombstones ids at `@P2`, keeping the highest `seq` so a retried older delete never
    /// lowers one. No `HOLDLOCK`: the rows are keyed by table, whose writers the watermark
    /// lock already serialises, and range locks here would only let batches of different
    /// tables deadlock on the shared table.
    pub fn put_tombstones(&self, from: Tombstoned) -> String {
        let source = match from {
            Tombstoned::Deleted => format!("SELECT [Id] FROM {KEYS} WHERE [Kind] = {KEY_DELETE}"),
            Tombstoned::Gone => format!("SELECT DISTINCT [Id] FROM {GONE}"),
        };
        format!(
            "MERGE {} AS t USING ({source}) AS s ON t.[Table] = @P1 AND t.[Id] = s.[Id] \
             WHEN MATCHED AND t.[Seq] < @P2 THEN UPDATE SET [Seq] = @P2 \
             WHEN NOT MATCHED BY TARGET THEN INSERT ([Table], [Id], [Seq]) VALUES (@P1, s.[Id], @P2);",
            self.tombstone
        )
    }

    /// Lifts the tombstones older than `@P2` of the staged rows: a later write re-created them.
    pub fn lift_tombstones(&self) -> String {
        format!(
            "DELETE FROM {} WHERE [Table] = @P1 AND [Seq] < @P2 AND [Id] IN (SELECT {} FROM {STAGE})",
            self.tombstone,
            stage_column(0)
        )
    }

    /// Remembers every id of the batch as seen by the resync `@P2`.
    pub fn mark_seen(&self) -> String {
        format!(
            "INSERT INTO {0} ([Table], [FirstSeq], [Id]) SELECT @P1, @P2, k.[Id] FROM {KEYS} AS k \
             WHERE NOT EXISTS (SELECT 1 FROM {0} AS s WHERE s.[Table] = @P1 AND s.[FirstSeq] = @P2 \
             AND s.[Id] = k.[Id])",
            self.seen
        )
    }

    /// Deletes every row of `table` the resync `@P2` did not see, keeping them in `#DesGone`.
    pub fn sweep_unseen(&self, table: &str) -> String {
        format!(
            "DELETE FROM {table} OUTPUT deleted.[Id], deleted.[versionnumber] INTO {GONE} ([Id], [VersionNumber]) \
             WHERE [Id] NOT IN (SELECT [Id] FROM {} WHERE [Table] = @P1 AND [FirstSeq] = @P2)",
            self.seen
        )
    }

    pub fn clear_seen(&self) -> String {
        format!("DELETE FROM {} WHERE [Table] = @P1", self.seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_tables_follow_schema_and_prefix() {
        let state = StateTables::new("dbo", "crm");
        assert_eq!(state.watermark, "[dbo].[crm_DesWatermark]");
        assert_eq!(StateTables::new("dbo", "").seen, "[dbo].[DesResyncSeen]");
        assert!(state.ddl()[0].starts_with("IF OBJECT_ID(N'[dbo].[crm_DesWatermark]', N'U')"));
    }
}

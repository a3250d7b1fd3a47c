//! The engine's own state in a SQL Server target: the schema [`STATE_SCHEMA`], apart from
//! DES's tables, so DES's clean-up script (drop every table `LIKE @prefix + '_%'`) never
//! deletes the writer's progress and report writers see only DES's tables. Every row belongs
//! to a profile (`[Profile]`) beside the data table it is about (`[Table]`, its name; a
//! profile writes one schema), so two profiles writing one target never share a watermark.
//! The id is written into the statement text as a literal: a [`Uuid`] formatted here (hex
//! digits and hyphens only), never a value from the source, which leaves the statements'
//! parameter numbers as they were.
//! - `Watermark([Profile], [Table], [Seq])`: the last applied batch of each table, written in
//!   the same transaction as the batch's rows; writers lock its row with `UPDLOCK, HOLDLOCK`;
//! - `Tombstone([Profile], [Table], [Id], [Seq])`: the batch that deleted a row, so an older
//!   retried upsert cannot resurrect it; a later write of the row lifts it;
//! - `ResyncSeen([Profile], [Table], [FirstSeq], [Id])`: ids a resync has carried, so its
//!   final batch can delete every row the source no longer has;
//! - `Target([Profile], [Token])`: the identity token the engine also keeps in its control
//!   store; a target without it (or with another) is not the one the engine wrote.

use uuid::Uuid;

use super::sql::{GONE, KEY_DELETE, KEYS, STAGE, nstring, qualified, stage_column};

/// The one schema of the engine's state, named once.
pub const STATE_SCHEMA: &str = "des_state";

fn state_table(name: &str) -> String {
    qualified(STATE_SCHEMA, name)
}

/// `IF OBJECT_ID(...) IS NULL CREATE TABLE ...` for each state table (the schema itself is
/// created first, as the data schema is: see `schema::ensure_schema`).
pub fn ddl() -> Vec<String> {
    let bodies = [
        (
            "Watermark",
            "[Profile] uniqueidentifier NOT NULL, [Table] nvarchar(128) NOT NULL, [Seq] bigint NOT NULL, \
             PRIMARY KEY ([Profile], [Table])",
        ),
        (
            "Tombstone",
            "[Profile] uniqueidentifier NOT NULL, [Table] nvarchar(128) NOT NULL, \
             [Id] uniqueidentifier NOT NULL, [Seq] bigint NOT NULL, PRIMARY KEY ([Profile], [Table], [Id])",
        ),
        (
            "ResyncSeen",
            "[Profile] uniqueidentifier NOT NULL, [Table] nvarchar(128) NOT NULL, \
             [FirstSeq] bigint NOT NULL, [Id] uniqueidentifier NOT NULL, \
             PRIMARY KEY ([Profile], [Table], [FirstSeq], [Id])",
        ),
        (
            "Target",
            "[Profile] uniqueidentifier NOT NULL PRIMARY KEY, [Token] nvarchar(64) NOT NULL",
        ),
    ];
    bodies
        .iter()
        .map(|(name, body)| {
            let name = state_table(name);
            format!(
                "IF OBJECT_ID({}, N'U') IS NULL CREATE TABLE {name} ({body})",
                nstring(&name)
            )
        })
        .collect()
}

/// One batch that moves the state of the old layout (tables named with `prefix` in the data
/// `schema`) to `profile` when the target has it: copied, then the old tables dropped. Run in
/// the caller's transaction, so no watermark is lost. The old layout had one set of tables
/// per schema and prefix and refused a second profile on them, so the profile that now
/// writes them is their owner. Names of missing tables resolve when the batch runs (SQL
/// Server's deferred name resolution), so the batch compiles on a target without them.
pub fn migrate(profile: Uuid, schema: &str, prefix: &str) -> String {
    let [watermark, tombstone, seen] =
        crate::tables::old_state_names(prefix).map(|name| qualified(schema, &name));
    let p = profile_literal(profile);
    let exists = |t: &str| format!("OBJECT_ID({}, N'U') IS NOT NULL", nstring(t));
    format!(
        "IF {} BEGIN \
         INSERT INTO {} ([Profile], [Table], [Seq]) SELECT {p}, [Table], [Seq] FROM {watermark}; \
         IF {} INSERT INTO {} ([Profile], [Table], [Id], [Seq]) SELECT {p}, [Table], [Id], [Seq] FROM {tombstone}; \
         IF {} INSERT INTO {} ([Profile], [Table], [FirstSeq], [Id]) SELECT {p}, [Table], [FirstSeq], [Id] FROM {seen}; \
         DROP TABLE IF EXISTS {watermark}, {tombstone}, {seen}; \
         END",
        exists(&watermark),
        state_table("Watermark"),
        exists(&tombstone),
        state_table("Tombstone"),
        exists(&seen),
        state_table("ResyncSeen"),
    )
}

/// The profile's identity token (one row, `[Token]`), read before [`put_token`] replaces it.
pub fn select_token(profile: Uuid) -> String {
    format!(
        "SELECT [Token] FROM {} WHERE [Profile] = {}",
        state_table("Target"),
        profile_literal(profile)
    )
}

/// Stores `@P1` as the profile's identity token.
pub fn put_token(profile: Uuid) -> String {
    let p = profile_literal(profile);
    format!(
        "MERGE {} WITH (HOLDLOCK) AS t USING (SELECT {p} AS [Profile]) AS s ON t.[Profile] = s.[Profile] \
         WHEN MATCHED THEN UPDATE SET [Token] = @P1 \
         WHEN NOT MATCHED THEN INSERT ([Profile], [Token]) VALUES (s.[Profile], @P1);",
        state_table("Target")
    )
}

/// `'<uuid>'`: see the module's comment.
fn profile_literal(profile: Uuid) -> String {
    format!("CAST('{}' AS uniqueidentifier)", profile.hyphenated())
}

/// Where the tombstones of a step come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tombstoned {
    /// Every id the batch deletes, whether or not its row existed.
    Deleted,
    /// The rows a resync sweep removed.
    Gone,
}

/// The statements of one profile's state: each reads and writes only its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateTables {
    /// `[Profile] = '<id>'`.
    mine: String,
    profile: String,
    pub watermark: String,
    pub tombstone: String,
    pub seen: String,
}

impl StateTables {
    pub fn for_profile(profile: Uuid) -> Self {
        let literal = profile_literal(profile);
        Self {
            mine: format!("[Profile] = {literal}"),
            profile: literal,
            watermark: state_table("Watermark"),
            tombstone: state_table("Tombstone"),
            seen: state_table("ResyncSeen"),
        }
    }

    pub fn select_watermark(&self) -> String {
        format!(
            "SELECT [Seq] FROM {} WHERE {} AND [Table] = @P1",
            self.watermark, self.mine
        )
    }

    /// Creates the table's watermark row at 0 the first time; the key-range lock of
    /// `UPDLOCK, HOLDLOCK` keeps two first writers from both inserting it.
    pub fn init_watermark(&self) -> String {
        format!(
            "IF NOT EXISTS (SELECT 1 FROM {0} WITH (UPDLOCK, HOLDLOCK) WHERE {1} AND [Table] = @P1) \
             INSERT INTO {0} ([Profile], [Table], [Seq]) VALUES ({2}, @P1, 0)",
            self.watermark, self.mine, self.profile
        )
    }

    /// Reads the watermark and holds its row until commit: writers of one table, on any
    /// connection or process, are serialised here.
    pub fn lock_watermark(&self) -> String {
        format!(
            "SELECT [Seq] FROM {} WITH (UPDLOCK, HOLDLOCK) WHERE {} AND [Table] = @P1",
            self.watermark, self.mine
        )
    }

    pub fn set_watermark(&self) -> String {
        format!(
            "UPDATE {} SET [Seq] = @P2 WHERE {} AND [Table] = @P1",
            self.watermark, self.mine
        )
    }

    pub fn select_tombstone(&self) -> String {
        format!(
            "SELECT [Seq] FROM {} WHERE {} AND [Table] = @P1 AND [Id] = @P2",
            self.tombstone, self.mine
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
            "MERGE {} AS t USING ({source}) AS s ON t.{} AND t.[Table] = @P1 AND t.[Id] = s.[Id] \
             WHEN MATCHED AND t.[Seq] < @P2 THEN UPDATE SET [Seq] = @P2 \
             WHEN NOT MATCHED BY TARGET THEN INSERT ([Profile], [Table], [Id], [Seq]) VALUES ({}, @P1, s.[Id], @P2);",
            self.tombstone, self.mine, self.profile
        )
    }

    /// Lifts the tombstones older than `@P2` of the staged rows: a later write re-created them.
    pub fn lift_tombstones(&self) -> String {
        format!(
            "DELETE FROM {} WHERE {} AND [Table] = @P1 AND [Seq] < @P2 AND [Id] IN (SELECT {} FROM {STAGE})",
            self.tombstone,
            self.mine,
            stage_column(0)
        )
    }

    /// Remembers every id of the batch as seen by the resync `@P2`.
    pub fn mark_seen(&self) -> String {
        format!(
            "INSERT INTO {0} ([Profile], [Table], [FirstSeq], [Id]) SELECT {1}, @P1, @P2, k.[Id] FROM {KEYS} AS k \
             WHERE NOT EXISTS (SELECT 1 FROM {0} AS s WHERE s.{2} AND s.[Table] = @P1 AND s.[FirstSeq] = @P2 \
             AND s.[Id] = k.[Id])",
            self.seen, self.profile, self.mine
        )
    }

    /// Deletes every row of `table` the resync `@P2` did not see, keeping them in `#DesGone`.
    pub fn sweep_unseen(&self, table: &str) -> String {
        format!(
            "DELETE FROM {table} OUTPUT deleted.[Id], deleted.[versionnumber] INTO {GONE} ([Id], [VersionNumber]) \
             WHERE [Id] NOT IN (SELECT [Id] FROM {} WHERE {} AND [Table] = @P1 AND [FirstSeq] = @P2)",
            self.seen, self.mine
        )
    }

    pub fn clear_seen(&self) -> String {
        format!(
            "DELETE FROM {} WHERE {} AND [Table] = @P1",
            self.seen, self.mine
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_lives_in_its_own_schema_and_reads_only_its_profiles_rows() {
        let profile = Uuid::from_u128(7);
        let state = StateTables::for_profile(profile);
        assert_eq!(state.watermark, "[des_state].[Watermark]");
        assert!(
            state
                .select_watermark()
                .contains(&format!("[Profile] = CAST('{profile}'"))
        );
        assert!(ddl()[0].starts_with("IF OBJECT_ID(N'[des_state].[Watermark]', N'U')"));
        let moved = migrate(profile, "dbo", "crm");
        assert!(moved.starts_with("IF OBJECT_ID(N'[dbo].[crm_DesWatermark]', N'U') IS NOT NULL"));
        assert!(moved.contains("DROP TABLE IF EXISTS [dbo].[crm_DesWatermark]"));
    }
}

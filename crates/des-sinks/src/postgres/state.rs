//! The engine's own state in a PostgreSQL target: the schema [`STATE_SCHEMA`], apart from
//! DES's tables, so DES's clean-up script (drop every table `LIKE '<prefix>_%'` in the data
//! schema) never deletes the writer's progress and report writers see only DES's tables.
//!
//! Every row belongs to a profile (`"Profile"`, the profile's id) beside the data table it is
//! about (`"Table"`, its name; a profile writes one schema), so two profiles writing one
//! target never share a watermark. The id is written into the statement text as a literal:
//! it is a [`Uuid`] formatted here (hex digits and hyphens only), never a value from the
//! source, and it leaves the statements' parameter numbers as they were.

use des_core::ports::SinkError;
use tokio_postgres::{Client, Transaction};
use uuid::Uuid;

use super::client::db_error;
use super::sql::qualified;

/// The one schema of the engine's state, named once.
pub const STATE_SCHEMA: &str = "des_state";

fn state_table(name: &str) -> String {
    qualified(STATE_SCHEMA, name)
}

/// The state tables:
/// - `Watermark("Profile", "Table", "Seq")`: the last applied batch of each table, written in
///   the same transaction as the batch's rows; writers lock its row (`FOR UPDATE`);
/// - `Tombstone("Profile", "Table", "Id", "Seq")`: the batch that deleted a row, so an older
///   retried upsert cannot resurrect it; a later write of the row lifts it;
/// - `ResyncSeen("Profile", "Table", "FirstSeq", "Id")`: ids a resync has carried, so its
///   final batch can delete every row the source no longer has;
/// - `Target("Profile", "Token")`: the identity token the engine also keeps in its control
///   store; a target without it (or with another) is not the one the engine wrote.
pub(super) fn state_ddl() -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\"Profile\" uuid NOT NULL, \"Table\" text NOT NULL, \
             \"Seq\" bigint NOT NULL, PRIMARY KEY (\"Profile\", \"Table\"))",
            state_table("Watermark")
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\"Profile\" uuid NOT NULL, \"Table\" text NOT NULL, \
             \"Id\" uuid NOT NULL, \"Seq\" bigint NOT NULL, PRIMARY KEY (\"Profile\", \"Table\", \"Id\"))",
            state_table("Tombstone")
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\"Profile\" uuid NOT NULL, \"Table\" text NOT NULL, \
             \"FirstSeq\" bigint NOT NULL, \"Id\" uuid NOT NULL, \
             PRIMARY KEY (\"Profile\", \"Table\", \"FirstSeq\", \"Id\"))",
            state_table("ResyncSeen")
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\"Profile\" uuid NOT NULL PRIMARY KEY, \
             \"Token\" text NOT NULL)",
            state_table("Target")
        ),
    ]
}

/// Creates the state schema (with the data schema's permission check: see
/// `schema::ensure_schema`) and its tables, in the caller's transaction.
pub(super) async fn create(tx: &Transaction<'_>) -> Result<(), SinkError> {
    super::schema::ensure_schema(tx, STATE_SCHEMA).await?;
    for ddl in state_ddl() {
        tx.batch_execute(&ddl).await.map_err(db_error)?;
    }
    Ok(())
}

/// Serialises the callers that create or move state, across connections and processes.
pub(super) async fn lock(tx: &Transaction<'_>) -> Result<(), SinkError> {
    let lock = "SELECT pg_advisory_xact_lock(hashtext($1))";
    tx.execute(lock, &[&format!("des-schema:{STATE_SCHEMA}")])
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Creates the state and moves the state of the old layout (tables named with the prefix in
/// the data schema) to `profile`: copied, then the old tables dropped, in one transaction, so
/// no watermark is lost. The old layout had one set of tables per schema and prefix and
/// refused a second profile on them, so the profile that now writes them is their owner.
pub(super) async fn prepare(
    client: &mut Client,
    profile: Uuid,
    schema: &str,
    prefix: &str,
) -> Result<bool, SinkError> {
    let tx = client.transaction().await.map_err(db_error)?;
    lock(&tx).await?;
    create(&tx).await?;
    let moved = migrate(&tx, profile, schema, prefix).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(moved)
}

async fn exists(tx: &Transaction<'_>, table: &str) -> Result<bool, SinkError> {
    let row = tx
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .map_err(db_error)?;
    Ok(row.get(0))
}

async fn migrate(
    tx: &Transaction<'_>,
    profile: Uuid,
    schema: &str,
    prefix: &str,
) -> Result<bool, SinkError> {
    let [watermark, tombstone, seen] =
        crate::tables::old_state_names(prefix).map(|name| qualified(schema, &name));
    if !exists(tx, &watermark).await? {
        return Ok(false);
    }
    let p = profile_literal(profile);
    let mut copies = vec![format!(
        "INSERT INTO {} (\"Profile\", \"Table\", \"Seq\") SELECT {p}, \"Table\", \"Seq\" FROM {watermark} \
         ON CONFLICT (\"Profile\", \"Table\") DO UPDATE SET \"Seq\" = excluded.\"Seq\"",
        state_table("Watermark")
    )];
    if exists(tx, &tombstone).await? {
        copies.push(format!(
            "INSERT INTO {} (\"Profile\", \"Table\", \"Id\", \"Seq\") SELECT {p}, \"Table\", \"Id\", \"Seq\" \
             FROM {tombstone} ON CONFLICT (\"Profile\", \"Table\", \"Id\") DO UPDATE SET \"Seq\" = excluded.\"Seq\"",
            state_table("Tombstone")
        ));
    }
    if exists(tx, &seen).await? {
        copies.push(format!(
            "INSERT INTO {} (\"Profile\", \"Table\", \"FirstSeq\", \"Id\") SELECT {p}, \"Table\", \"FirstSeq\", \"Id\" \
             FROM {seen} ON CONFLICT DO NOTHING",
            state_table("ResyncSeen")
        ));
    }
    for sql in copies {
        tx.batch_execute(&sql).await.map_err(db_error)?;
    }
    for table in [watermark, tombstone, seen] {
        let drop = format!("DROP TABLE IF EXISTS {table}");
        tx.batch_execute(&drop).await.map_err(db_error)?;
    }
    tracing::info!(
        profile = %profile,
        "Moved the engine's state from the tables named with the profile's prefix to the des_state schema."
    );
    Ok(true)
}

/// Stores `token` for `profile`, returning the one stored before.
pub(super) async fn identify(
    client: &mut Client,
    profile: Uuid,
    token: &str,
) -> Result<Option<String>, SinkError> {
    let tx = client.transaction().await.map_err(db_error)?;
    lock(&tx).await?;
    create(&tx).await?;
    let target = state_table("Target");
    let select = format!("SELECT \"Token\" FROM {target} WHERE \"Profile\" = $1");
    let before = tx
        .query_opt(&select, &[&profile])
        .await
        .map_err(db_error)?
        .map(|r| r.get::<_, String>(0));
    let put = format!(
        "INSERT INTO {target} (\"Profile\", \"Token\") VALUES ($1, $2) \
         ON CONFLICT (\"Profile\") DO UPDATE SET \"Token\" = excluded.\"Token\""
    );
    tx.execute(&put, &[&profile, &token])
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(before)
}

/// `'<uuid>'::uuid`: see the module's comment.
fn profile_literal(profile: Uuid) -> String {
    format!("'{}'::uuid", profile.hyphenated())
}

/// The engine's state of one profile: each statement reads and writes only its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateTables {
    /// `"Profile" = '<id>'::uuid`.
    mine: String,
    profile: String,
    pub watermark: String,
    pub tombstone: String,
    pub seen: String,
}

impl StateTables {
    pub(crate) fn for_profile(profile: Uuid) -> Self {
        let literal = profile_literal(profile);
        Self {
            mine: format!("\"Profile\" = {literal}"),
            profile: literal,
            watermark: state_table("Watermark"),
            tombstone: state_table("Tombstone"),
            seen: state_table("ResyncSeen"),
        }
    }

    pub(crate) fn select_watermark(&self) -> String {
        format!(
            "SELECT \"Seq\" FROM {} WHERE {} AND \"Table\" = $1",
            self.watermark, self.mine
        )
    }

    /// Serialises writers of one table across connections and processes.
    pub(crate) fn lock_watermark(&self) -> String {
        format!("{} FOR UPDATE", self.select_watermark())
    }

    pub(crate) fn init_watermark(&self) -> String {
        format!(
            "INSERT INTO {} (\"Profile\", \"Table\", \"Seq\") VALUES ({}, $1, 0) \
             ON CONFLICT (\"Profile\", \"Table\") DO NOTHING",
            self.watermark, self.profile
        )
    }

    pub(crate) fn set_watermark(&self) -> String {
        format!(
            "UPDATE {} SET \"Seq\" = $2 WHERE {} AND \"Table\" = $1",
            self.watermark, self.mine
        )
    }

    pub(crate) fn select_tombstone(&self) -> String {
        format!(
            "SELECT \"Seq\" FROM {} WHERE {} AND \"Table\" = $1 AND \"Id\" = $2",
            self.tombstone, self.mine
        )
    }

    /// Tombstones the ids `$2` at `$3`, keeping the highest `seq` so a retried older delete
    /// never lowers one.
    pub(crate) fn put_tombstones(&self) -> String {
        format!(
            "INSERT INTO {0} AS t (\"Profile\", \"Table\", \"Id\", \"Seq\") \
             SELECT {1}, $1::text, unnest($2::uuid[]), $3::bigint \
             ON CONFLICT (\"Profile\", \"Table\", \"Id\") DO UPDATE SET \"Seq\" = GREATEST(t.\"Seq\", excluded.\"Seq\")",
            self.tombstone, self.profile
        )
    }

    /// Lifts the tombstones older than `$3` of the ids `$2`: a later write re-created them.
    pub(crate) fn lift_tombstones(&self) -> String {
        format!(
            "DELETE FROM {} WHERE {} AND \"Table\" = $1 AND \"Id\" = ANY($2) AND \"Seq\" < $3",
            self.tombstone, self.mine
        )
    }

    /// Remembers the ids `$3` as seen by the resync `$2`.
    pub(crate) fn mark_seen(&self) -> String {
        format!(
            "INSERT INTO {} (\"Profile\", \"Table\", \"FirstSeq\", \"Id\") \
             SELECT {}, $1::text, $2::bigint, unnest($3::uuid[]) ON CONFLICT DO NOTHING",
            self.seen, self.profile
        )
    }

    pub(crate) fn clear_seen(&self) -> String {
        format!(
            "DELETE FROM {} WHERE {} AND \"Table\" = $1",
            self.seen, self.mine
        )
    }

    /// Deletes every row of `table` the resync `$2` did not see and tombstones it at `$3`,
    /// logging it when `delete_log` is given (`$4` entity name, `$5` delete time), in one
    /// statement.
    pub(crate) fn sweep_unseen(&self, table: &str, delete_log: Option<&str>) -> String {
        let gone = format!(
            "DELETE FROM {table} AS d WHERE NOT EXISTS (SELECT 1 FROM {} AS s WHERE s.{} \
             AND s.\"Table\" = $1 AND s.\"FirstSeq\" = $2 AND s.\"Id\" = d.\"Id\") \
             RETURNING d.\"Id\", d.\"versionnumber\"",
            self.seen, self.mine
        );
        let logged = delete_log.map_or_else(String::new, |log| {
            format!(", logged AS ({})", super::sql::log_gone(log, "$4", "$5"))
        });
        format!(
            "WITH gone AS ({gone}){logged} INSERT INTO {} AS t (\"Profile\", \"Table\", \"Id\", \"Seq\") \
             SELECT {}, $1::text, \"Id\", $3::bigint FROM gone ON CONFLICT (\"Profile\", \"Table\", \"Id\") \
             DO UPDATE SET \"Seq\" = GREATEST(t.\"Seq\", excluded.\"Seq\")",
            self.tombstone, self.profile
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
        assert_eq!(state.watermark, "\"des_state\".\"Watermark\"");
        let mine = format!("\"Profile\" = '{profile}'::uuid");
        assert!(state.select_watermark().contains(&mine));
        assert!(state.sweep_unseen("\"dbo\".\"t\"", None).contains(&mine));
        assert_eq!(
            qualified(STATE_SCHEMA, "Target"),
            "\"des_state\".\"Target\""
        );
    }
}

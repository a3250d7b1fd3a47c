//! The engine's state lives in `_des_state_` tables, by profile; a target written by the
//! layout before (state tables named with the prefix beside the DES tables) is moved there on
//! start without losing a watermark.

use des_contract::sink::{account_plan, moved_state_is_only_the_first_profiles};
use des_core::ports::Sink;
use uuid::Uuid;

use super::target::fresh;

const PROFILE: Uuid = Uuid::from_u128(0xA);
const OTHER: Uuid = Uuid::from_u128(0xB);
const TOMBSTONED: &str = "00000000-0000-0000-0000-000000000009";

/// The state tables exactly as the layout before this one created them for prefix `des`,
/// with a watermark at 7, a tombstone and a resync's marks.
const OLD_LAYOUT: &str = r#"
CREATE TABLE IF NOT EXISTS "des_DesWatermark" ("Table" TEXT NOT NULL PRIMARY KEY, "Seq" INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS "des_DesTombstone" ("Table" TEXT NOT NULL, "Id" TEXT NOT NULL, "Seq" INTEGER NOT NULL, PRIMARY KEY ("Table", "Id")) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS "des_DesResyncSeen" ("Table" TEXT NOT NULL, "FirstSeq" INTEGER NOT NULL, "Id" TEXT NOT NULL, PRIMARY KEY ("Table", "FirstSeq", "Id")) WITHOUT ROWID;
INSERT INTO "des_DesWatermark" VALUES ('des_account', 7);
INSERT INTO "des_DesTombstone" VALUES ('des_account', '00000000-0000-0000-0000-000000000009', 6);
INSERT INTO "des_DesResyncSeen" VALUES ('des_account', 5, '00000000-0000-0000-0000-000000000001');
"#;

#[tokio::test]
async fn a_target_of_the_old_layout_is_moved_without_losing_a_watermark() {
    let (sink, file) = fresh();
    let conn = rusqlite::Connection::open(&file.path).expect("opens");
    conn.execute_batch(OLD_LAYOUT).expect("old layout");
    drop(conn);
    let plan = account_plan(160, 2, false);
    let table = plan.table_for("account").expect("planned");
    sink.apply_schema(&plan).await.expect("schema applies");

    let watermark = sink.watermark(PROFILE, table).await.expect("reads");
    assert_eq!(
        watermark, 7,
        "the first profile to start finds its watermark"
    );
    let old = file.read_sql("SELECT name FROM sqlite_master WHERE name LIKE 'des_Des%'");
    assert!(old.is_empty(), "the old tables are dropped: {old:?}");
    let tombstones = file.read_sql(
        "SELECT \"Profile\", \"Id\", \"Seq\" FROM \"_des_state_tombstone\" WHERE \"Table\" = 'des_account'",
    );
    let owner = Some(PROFILE.to_string());
    assert_eq!(
        tombstones,
        [[owner.clone(), Some(TOMBSTONED.into()), Some("6".into())]]
    );
    let seen = file.read_sql("SELECT \"Profile\", \"FirstSeq\" FROM \"_des_state_resync_seen\"");
    assert_eq!(seen, [[owner, Some("5".into())]]);

    moved_state_is_only_the_first_profiles(&sink, &plan, table, (PROFILE, OTHER), 8).await;

    // A new sink (the next start) finds the moved state and moves nothing again.
    let config = des_sinks::sqlite::SqliteConfig::new(&file.path);
    let again = des_sinks::sqlite::SqliteSink::open(&config).expect("opens");
    assert_eq!(again.watermark(PROFILE, table).await.expect("reads"), 8);
}

#[tokio::test]
async fn state_tables_are_not_named_like_data() {
    let (sink, file) = fresh();
    sink.apply_schema(&account_plan(160, 2, false))
        .await
        .expect("schema applies");
    let names = file.read_sql("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    let state: Vec<_> = names
        .iter()
        .filter_map(|r| r[0].as_deref())
        .filter(|n| !n.starts_with("des_"))
        .collect();
    assert_eq!(
        state,
        [
            "_des_state_resync_seen",
            "_des_state_target",
            "_des_state_tombstone",
            "_des_state_watermark"
        ]
    );
}

//! The engine's state lives in the `des_state` schema, by profile; a target written by the
//! layout before (state tables named with the prefix in the data schema) is moved there on
//! start, in one transaction, without losing a watermark.

use des_contract::sink::{account_plan, moved_state_is_only_the_first_profiles};
use des_core::ports::Sink;
use des_sinks::postgres::PostgresSink;
use uuid::Uuid;

use super::target::{fresh, server};

const PROFILE: Uuid = Uuid::from_u128(0xA);
const OTHER: Uuid = Uuid::from_u128(0xB);

/// The state tables exactly as the layout before this one created them for schema `dbo` and
/// prefix `des`, with a watermark at 7, a tombstone and a resync's marks.
const OLD_LAYOUT: &str = r#"
CREATE SCHEMA IF NOT EXISTS "dbo";
CREATE TABLE IF NOT EXISTS "dbo"."des_DesWatermark" ("Table" text NOT NULL PRIMARY KEY, "Seq" bigint NOT NULL);
CREATE TABLE IF NOT EXISTS "dbo"."des_DesTombstone" ("Table" text NOT NULL, "Id" uuid NOT NULL, "Seq" bigint NOT NULL, PRIMARY KEY ("Table", "Id"));
CREATE TABLE IF NOT EXISTS "dbo"."des_DesResyncSeen" ("Table" text NOT NULL, "FirstSeq" bigint NOT NULL, "Id" uuid NOT NULL, PRIMARY KEY ("Table", "FirstSeq", "Id"));
INSERT INTO "dbo"."des_DesWatermark" VALUES ('des_account', 7);
INSERT INTO "dbo"."des_DesTombstone" VALUES ('des_account', '00000000-0000-0000-0000-000000000009', 6);
INSERT INTO "dbo"."des_DesResyncSeen" VALUES ('des_account', 5, '00000000-0000-0000-0000-000000000001');
"#;

#[tokio::test]
async fn a_target_of_the_old_layout_is_moved_without_losing_a_watermark() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    db.client
        .batch_execute(OLD_LAYOUT)
        .await
        .expect("old layout");
    let plan = account_plan(160, 2, false);
    let table = plan.table_for("account").expect("planned");
    sink.apply_schema(&plan).await.expect("schema applies");

    let watermark = sink.watermark(PROFILE, table).await.expect("reads");
    assert_eq!(
        watermark, 7,
        "the first profile to start finds its watermark"
    );
    let old = db
        .client
        .query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'dbo' AND tablename LIKE 'des_Des%'",
            &[],
        )
        .await
        .expect("catalog");
    assert!(old.is_empty(), "the old tables are dropped");
    let moved = db
        .client
        .query_one(
            "SELECT (SELECT count(*) FROM des_state.\"Tombstone\" WHERE \"Profile\" = $1 AND \"Seq\" = 6), \
             (SELECT count(*) FROM des_state.\"ResyncSeen\" WHERE \"Profile\" = $1 AND \"FirstSeq\" = 5)",
            &[&PROFILE],
        )
        .await
        .expect("state read");
    assert_eq!((moved.get::<_, i64>(0), moved.get::<_, i64>(1)), (1, 1));

    moved_state_is_only_the_first_profiles(&sink, &plan, table, (PROFILE, OTHER), 8).await;
    let again = PostgresSink::connect(&db.config).await.expect("connects");
    assert_eq!(again.watermark(PROFILE, table).await.expect("reads"), 8);
}

#[tokio::test]
async fn the_data_schema_holds_only_des_tables() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    sink.apply_schema(&account_plan(160, 2, false))
        .await
        .expect("schema applies");
    let state = db
        .client
        .query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'des_state' ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog");
    let names: Vec<String> = state.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["ResyncSeen", "Target", "Tombstone", "Watermark"]);
    let data = db
        .client
        .query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'dbo' AND tablename NOT LIKE 'des\\_%'",
            &[],
        )
        .await
        .expect("catalog");
    assert!(
        data.is_empty(),
        "every table of the data schema has the prefix"
    );
}

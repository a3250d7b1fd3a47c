//! What the SQLite sink puts in the file: DES names, nearest types, additive evolution.

use des_contract::sink::account_plan;
use des_core::ports::Sink;
use des_sinks::{Dialect, render_ddl};

use super::target::fresh;

#[test]
fn ddl_keeps_des_names_and_key() {
    let ddl = render_ddl(&account_plan(160, 2, false), Dialect::Sqlite);
    assert_eq!(
        ddl[0],
        "CREATE TABLE IF NOT EXISTS \"des_account\" (\n    \"Id\" TEXT NOT NULL,\n    \
         \"SinkCreatedOn\" TEXT,\n    \"SinkModifiedOn\" TEXT,\n    \"industrycode\" INTEGER,\n    \
         \"primarycontactid\" TEXT,\n    \"primarycontactid_entitytype\" TEXT,\n    \
         \"revenue\" DECIMAL(38,2),\n    \"revenue_exact\" TEXT,\n    \"accountid\" TEXT,\n    \"name\" TEXT,\n    \
         \"versionnumber\" INTEGER,\n    CONSTRAINT \"EPK[dbo].[des_account]\" PRIMARY KEY (\"Id\")\n)"
    );
    let tables: Vec<&str> = ddl
        .iter()
        .map(|s| s.split('"').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        tables,
        [
            "des_account",
            "des_OptionSetMetadata",
            "des_GlobalOptionSetMetadata",
            "des_StateMetadata",
            "des_StatusMetadata",
            "des_TargetMetadata",
            "des_AttributeMetadata",
            "des_DeleteLog",
            "_des_state_watermark",
            "_des_state_tombstone",
            "_des_state_resync_seen",
            "_des_state_target",
            "des_account_Labeled", // DROP VIEW IF EXISTS
            "des_account_Labeled", // CREATE VIEW
        ]
    );
}

#[tokio::test]
async fn the_file_holds_the_planned_columns_in_order() {
    let (sink, file) = fresh();
    let plan = account_plan(160, 2, false);
    sink.apply_schema(&plan).await.expect("schema applies");
    let columns =
        file.read_sql("SELECT name, type, \"notnull\" FROM pragma_table_info('des_account')");
    let planned = &plan.table_for("account").expect("planned").columns;
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c[0].as_deref().unwrap_or_default())
        .collect();
    let mut expected: Vec<&str> = planned.iter().map(|c| c.name.as_str()).collect();
    let revenue = expected
        .iter()
        .position(|c| *c == "revenue")
        .expect("revenue");
    expected.insert(revenue + 1, "revenue_exact"); // the exact text beside the number
    assert_eq!(names, expected);
    assert_eq!(
        columns[0][1..],
        [Some("TEXT".into()), Some("1".into())],
        "Id is TEXT NOT NULL"
    );
    let log = file.read_sql("SELECT name, type FROM pragma_table_info('des_DeleteLog')");
    assert_eq!(log[0], [Some("Id".into()), Some("INTEGER".into())]);
}

#[tokio::test]
async fn evolution_appends_columns_and_never_drops() {
    let (sink, file) = fresh();
    sink.apply_schema(&account_plan(160, 2, false))
        .await
        .expect("v1");
    sink.apply_schema(&account_plan(300, 2, true))
        .await
        .expect("v2 adds new_score");
    sink.apply_schema(&account_plan(160, 2, false))
        .await
        .expect("an older plan drops nothing");
    let columns = file.read_sql("SELECT name FROM pragma_table_info('des_account')");
    assert_eq!(columns.last(), Some(&vec![Some("new_score".to_owned())]));
    assert_eq!(columns.len(), 12, "10 planned, new_score, revenue_exact");
}

#[tokio::test]
async fn watermark_is_zero_before_any_schema() {
    let (sink, _file) = fresh();
    let plan = account_plan(160, 2, false);
    let table = plan.table_for("account").expect("planned");
    assert_eq!(
        sink.watermark(uuid::Uuid::nil(), table)
            .await
            .expect("reads"),
        0
    );
}

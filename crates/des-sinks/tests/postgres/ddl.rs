//! The PostgreSQL rendering of DES's layout: native types, DES's key name, evolution.

use des_contract::sink::account_plan;
use des_core::ports::Sink;

use super::target::{Database, fresh, server};

/// `column → format_type` of a table in `dbo`.
async fn column_types(db: &Database, table: &str) -> Vec<(String, String)> {
    let sql = "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
               WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped \
               ORDER BY a.attnum";
    let name = format!("\"dbo\".\"{table}\"");
    let rows = db.client.query(sql, &[&name]).await.expect("catalog query");
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

fn type_of<'a>(columns: &'a [(String, String)], name: &str) -> &'a str {
    columns
        .iter()
        .find(|(n, _)| n == name)
        .map_or("missing", |(_, t)| t.as_str())
}

#[tokio::test]
async fn account_table_uses_native_types_and_des_key_name() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    sink.apply_schema(&account_plan(160, 2, false))
        .await
        .expect("schema applies");
    let columns = column_types(&db, "des_account").await;
    let first: Vec<&str> = columns.iter().take(3).map(|(n, _)| n.as_str()).collect();
    assert_eq!(first, ["Id", "SinkCreatedOn", "SinkModifiedOn"]);
    let expected = [
        ("Id", "uuid"),
        ("SinkCreatedOn", "timestamp with time zone"),
        ("name", "character varying(160)"),
        ("industrycode", "integer"),
        ("primarycontactid", "uuid"),
        ("primarycontactid_entitytype", "character varying(128)"),
        ("revenue", "numeric(38,2)"),
        ("versionnumber", "bigint"),
    ];
    for (name, ty) in expected {
        assert_eq!(type_of(&columns, name), ty, "{name}");
    }
    let key = "SELECT conname::text FROM pg_constraint WHERE conrelid = '\"dbo\".\"des_account\"'::regclass \
               AND contype = 'p'";
    let row = db.client.query_one(key, &[]).await.expect("a primary key");
    assert_eq!(row.get::<_, String>(0), "EPK[dbo].[des_account]");
    let identity = "SELECT attidentity::text FROM pg_attribute WHERE attrelid = \
                    '\"dbo\".\"des_DeleteLog\"'::regclass AND attname = 'Id'";
    let row = db
        .client
        .query_one(identity, &[])
        .await
        .expect("DeleteLog.Id");
    assert_eq!(row.get::<_, String>(0), "d", "a bigint identity");
}

#[tokio::test]
async fn evolution_widens_in_place_and_never_narrows() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    sink.apply_schema(&account_plan(160, 2, false))
        .await
        .expect("schema applies");
    sink.apply_schema(&account_plan(300, 2, true))
        .await
        .expect("evolves");
    let columns = column_types(&db, "des_account").await;
    assert_eq!(type_of(&columns, "name"), "character varying(300)");
    assert_eq!(type_of(&columns, "new_score"), "integer");
    sink.apply_schema(&account_plan(100, 2, false))
        .await
        .expect("a narrower plan is a no-op");
    let columns = column_types(&db, "des_account").await;
    assert_eq!(type_of(&columns, "name"), "character varying(300)");
    assert_eq!(
        type_of(&columns, "new_score"),
        "integer",
        "columns are never dropped"
    );
}

//! Microsoft's DES-era report SQL against a PostgreSQL target (queries in `crate::reports`).
//! The only change to the templates' SQL: PostgreSQL's boolean flag compares with
//! `false`/`true`, not `0`/`1`.

use crate::reports::{queries, view_follows_the_table, write_accounts};

use super::target::{fresh, server};

#[tokio::test]
async fn des_report_queries_find_their_rows() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    write_accounts(&sink).await;
    db.client
        .batch_execute("SET search_path TO dbo")
        .await
        .expect("schema dbo");
    for (sql, expected) in queries(|n| if n == 0 { "false" } else { "true" }) {
        let rows = db.client.query(&sql, &[]).await.expect("query runs");
        let got: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| (0..r.len()).map(|i| r.get(i)).collect())
            .collect();
        assert_eq!(got, expected, "{sql}");
    }
}

#[tokio::test]
async fn the_labeled_view_gains_the_columns_its_table_gains() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    let wanted = view_follows_the_table(&sink).await;
    let sql = "SELECT column_name::text FROM information_schema.columns \
               WHERE table_schema = 'dbo' AND table_name = 'account_Labeled'";
    let rows = db.client.query(sql, &[]).await.expect("catalog query");
    let columns: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    for column in wanted {
        assert!(
            columns.contains(&column),
            "{column} missing from {columns:?}"
        );
    }
}

/// The owner's name and type columns have the lengths their metadata gives (DES's
/// `nvarchar(100)` and `nvarchar(4000)`, as `character varying`).
#[tokio::test]
async fn lookup_name_and_type_columns_have_their_metadata_lengths() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    write_accounts(&sink).await;
    let sql = "SELECT column_name::text, data_type::text, character_maximum_length \
               FROM information_schema.columns WHERE table_schema = 'dbo' \
               AND table_name = 'account' AND column_name LIKE 'ownerid%' ORDER BY 1";
    let rows = db.client.query(sql, &[]).await.expect("catalog query");
    let got: Vec<(String, String, Option<i32>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let column = |name: &str, ty: &str, len| (name.to_owned(), ty.to_owned(), len);
    assert_eq!(
        got,
        [
            column("ownerid", "uuid", None),
            column("ownerid_entitytype", "character varying", Some(128)),
            column("owneridname", "character varying", Some(100)),
            column("owneridtype", "character varying", Some(4000)),
            column("owneridyominame", "character varying", Some(100)),
        ]
    );
}

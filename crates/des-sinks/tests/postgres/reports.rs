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

//! Microsoft's DES-era report SQL against a PostgreSQL target (queries in `crate::reports`).
//! The only change to the templates' SQL: PostgreSQL's boolean flag compares with
//! `false`/`true`, not `0`/`1`.

use crate::reports::{queries, write_accounts};

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

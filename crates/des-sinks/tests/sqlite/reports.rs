//! Microsoft's DES-era report SQL against a SQLite target (queries in `crate::reports`).

use crate::reports::{queries, view_follows_the_table, write_accounts};

use super::target::fresh;

#[tokio::test]
async fn des_report_queries_find_their_rows() {
    let (sink, file) = fresh();
    write_accounts(&sink).await;
    for (sql, expected) in queries(|n| if n == 0 { "0" } else { "1" }) {
        assert_eq!(file.read_sql(&sql), expected, "{sql}");
    }
}

#[tokio::test]
async fn the_labeled_view_gains_the_columns_its_table_gains() {
    let (sink, file) = fresh();
    let wanted = view_follows_the_table(&sink).await;
    let columns: Vec<String> = file
        .read_sql("SELECT name FROM pragma_table_info('account_Labeled')")
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect();
    for column in wanted {
        assert!(
            columns.contains(&column),
            "{column} missing from {columns:?}"
        );
    }
}

//! Microsoft's DES-era report SQL against a SQLite target (queries in `crate::reports`).

use crate::reports::{queries, write_accounts};

use super::target::fresh;

#[tokio::test]
async fn des_report_queries_find_their_rows() {
    let (sink, file) = fresh();
    write_accounts(&sink).await;
    for (sql, expected) in queries(|n| if n == 0 { "0" } else { "1" }) {
        assert_eq!(file.read_sql(&sql), expected, "{sql}");
    }
}

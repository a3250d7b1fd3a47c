//! A fresh database on the cluster named by `DES_TEST_PG`, read with a plain client.

use des_test_env::postgres::{connect, create_database, server_config};
use tokio_postgres::Client;

/// The server to test against (`des_test_env::postgres_server`: unset is an error, so CI
/// never skips silently; `skip` skips).
pub fn server() -> Option<String> {
    des_test_env::postgres_server("the PostgreSQL target tests of `des`")
}

/// A new, empty database and a blocking reader for it.
pub struct Database {
    /// The database's URL, the server's with another database name.
    pub url: String,
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl Database {
    pub fn create(server: &str) -> Self {
        let runtime = super::current_thread_runtime();
        let name = runtime.block_on(create_database(server, "des_cli"));
        let mut url = url::Url::parse(server).expect("DES_TEST_PG is a URL");
        url.set_path(&name);
        let url = url.to_string();
        let client = runtime.block_on(connect(&server_config(&url)));
        Self {
            url,
            runtime,
            client,
        }
    }

    /// Rows of `"dbo"."<entity>"` and how many distinct ids they carry; `None` before the
    /// table exists.
    pub fn counts(&self, entity: &str) -> Option<(u64, u64)> {
        let sql = format!("SELECT COUNT(*), COUNT(DISTINCT \"Id\") FROM \"dbo\".\"{entity}\"");
        let row = self
            .runtime
            .block_on(self.client.query_one(&sql, &[]))
            .ok()?;
        Some((row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64))
    }

    /// How many rows of `"dbo"."<entity>"` have `name` = `value`.
    pub fn rows_named(&self, entity: &str, value: &str) -> Option<u64> {
        let sql = format!("SELECT COUNT(*) FROM \"dbo\".\"{entity}\" WHERE \"name\" = $1");
        let row = self
            .runtime
            .block_on(self.client.query_one(&sql, &[&value]))
            .ok()?;
        Some(row.get::<_, i64>(0) as u64)
    }

    /// The SQL type of a column, as `information_schema` names it.
    pub fn column_type(&self, entity: &str, column: &str) -> Option<String> {
        let sql = "SELECT data_type FROM information_schema.columns \
                   WHERE table_schema = 'dbo' AND table_name = $1 AND column_name = $2";
        let row = self
            .runtime
            .block_on(self.client.query_opt(sql, &[&entity, &column]))
            .ok()??;
        Some(row.get(0))
    }
}

//! Real refusals in the target: a table of refused ids and, on every data table, triggers
//! that refuse inserts and updates of those ids (SQLite `RAISE(ABORT)`, PostgreSQL
//! `RAISE EXCEPTION`), the way a target's owner enforces a policy. The sink sees a genuine
//! driver error; nothing is faked around it.

use uuid::Uuid;

use crate::target::TargetDb;

const MESSAGE: &str = "refused by the target policy";

impl TargetDb {
    /// Installs the refusal table and the triggers on `tables` (which must exist).
    pub async fn install_refusals(&self, tables: &[String]) -> Result<(), String> {
        let sql = match self {
            Self::Sqlite(_) => sqlite_triggers(tables),
            Self::Postgres(_) => postgres_triggers(tables),
            Self::Mssql(_) => return Err("no refusing triggers for SQL Server yet".into()),
        };
        self.execute(&sql).await
    }

    /// From now on the target refuses every write of these records.
    pub async fn refuse(&self, ids: &[Uuid]) {
        for id in ids {
            let sql = match self {
                Self::Postgres(_) => {
                    format!(
                        "INSERT INTO \"dbo\".\"test_refused\" VALUES ('{id}') ON CONFLICT DO NOTHING"
                    )
                }
                _ => format!("INSERT OR IGNORE INTO \"test_refused\" VALUES ('{id}')"),
            };
            // The sink may hold the SQLite file's write lock for a moment: try again.
            let mut tries = 0;
            while let Err(e) = self.execute(&sql).await {
                tries += 1;
                assert!(tries < 50, "a refusal is recorded: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }

    /// The target accepts everything again.
    pub async fn allow_all(&self) {
        let sql = match self {
            Self::Postgres(_) => "DELETE FROM \"dbo\".\"test_refused\"",
            _ => "DELETE FROM \"test_refused\"",
        };
        self.execute(sql).await.expect("refusals are lifted");
    }

    async fn execute(&self, sql: &str) -> Result<(), String> {
        match self {
            Self::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .map_err(|e| e.to_string())?;
                conn.execute_batch(sql).map_err(|e| e.to_string())
            }
            Self::Postgres(db) => db.execute(sql).await,
            Self::Mssql(_) => Err("not supported".into()),
        }
    }
}

fn sqlite_triggers(tables: &[String]) -> String {
    let mut sql =
        String::from("CREATE TABLE IF NOT EXISTS \"test_refused\" (\"Id\" TEXT PRIMARY KEY);");
    for table in tables {
        for event in ["INSERT", "UPDATE"] {
            sql.push_str(&format!(
                "CREATE TRIGGER IF NOT EXISTS \"refuse_{event}_{table}\" BEFORE {event} ON \"{table}\"
                 WHEN lower(NEW.\"Id\") IN (SELECT lower(\"Id\") FROM \"test_refused\")
                 BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
            ));
        }
    }
    sql
}

fn postgres_triggers(tables: &[String]) -> String {
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS \"dbo\".\"test_refused\" (\"Id\" uuid PRIMARY KEY);
         CREATE OR REPLACE FUNCTION \"dbo\".\"test_refuse\"() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF EXISTS (SELECT 1 FROM \"dbo\".\"test_refused\" WHERE \"Id\" = NEW.\"Id\") THEN
             RAISE EXCEPTION '{MESSAGE}';
           END IF;
           RETURN NEW;
         END $$;"
    );
    for table in tables {
        sql.push_str(&format!(
            "CREATE OR REPLACE TRIGGER \"test_refuse\" BEFORE INSERT OR UPDATE ON \"dbo\".\"{table}\"
             FOR EACH ROW EXECUTE FUNCTION \"dbo\".\"test_refuse\"();"
        ));
    }
    sql
}

//! The SQLite sink against a real trigger that refuses records.

use des_contract::sink::{Refuse, target_refusals_are_isolated};

use super::target::{File, fresh};

impl Refuse for File {
    async fn refuse_name(&self, name: &str) {
        let conn = rusqlite::Connection::open(&self.path).expect("opens");
        let name = name.replace('\'', "''");
        let sql = format!(
            "CREATE TRIGGER \"refuse_insert\" BEFORE INSERT ON \"des_account\"
             WHEN NEW.\"name\" = '{name}' BEGIN SELECT RAISE(ABORT, 'refused by policy'); END;
             CREATE TRIGGER \"refuse_update\" BEFORE UPDATE ON \"des_account\"
             WHEN NEW.\"name\" = '{name}' BEGIN SELECT RAISE(ABORT, 'refused by policy'); END;"
        );
        conn.execute_batch(&sql).expect("triggers are created");
    }
}

#[tokio::test]
async fn sqlite_isolates_records_a_trigger_refuses() {
    let (sink, file) = fresh();
    target_refusals_are_isolated(sink, file).await;
}

//! The PostgreSQL sink against a real trigger that refuses records.

use des_contract::sink::{Refuse, target_refusals_are_isolated};

use super::target::{Database, fresh, server};

impl Refuse for Database {
    async fn refuse_name(&self, name: &str) {
        let name = name.replace('\'', "''");
        let sql = format!(
            "CREATE FUNCTION \"dbo\".\"refuse\"() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF NEW.\"name\" = '{name}' THEN RAISE EXCEPTION 'refused by policy'; END IF;
               RETURN NEW;
             END $$;
             CREATE TRIGGER \"refuse\" BEFORE INSERT OR UPDATE ON \"dbo\".\"des_account\"
             FOR EACH ROW EXECUTE FUNCTION \"dbo\".\"refuse\"();"
        );
        self.client
            .batch_execute(&sql)
            .await
            .expect("trigger is created");
    }
}

#[tokio::test]
async fn postgres_isolates_records_a_trigger_refuses() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    target_refusals_are_isolated(sink, db).await;
}

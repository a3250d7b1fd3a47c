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

/// A sink is built without connecting; `ping` is what tells a reachable target from one
/// that is not (the API's `TargetReachable`), and its error says which kind of fault.
#[tokio::test]
async fn ping_connects_for_real_and_classifies_why_it_failed() {
    use des_core::ErrorClass;
    use des_core::ports::Sink;
    use des_sinks::postgres::{PostgresConfig, PostgresSink};

    let Some(url) = server() else { return };
    let (sink, _db) = fresh(&url).await;
    sink.ping().await.expect("a live server answers");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let closed = PostgresConfig::parse(&format!("postgres://des:secret@127.0.0.1:{port}/t"))
        .expect("parses");
    let error = PostgresSink::new(&closed).ping().await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
    assert!(!error.to_string().contains("secret"), "{error}");
}

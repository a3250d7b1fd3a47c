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

/// A batch far larger than one COPY message (rows of 150-byte names, sent in 64 KiB runs),
/// with refused rows early, in the middle and last: isolation sends halves of the encoded
/// rows as they are, and every row but the refused lands exactly as sent.
#[tokio::test]
async fn a_large_batch_with_refused_rows_lands_every_other_row_exactly() {
    use des_contract::sink::account_plan;
    use des_core::ports::{BatchOutcome, Sink};
    use des_core::{Change, Value};
    use uuid::Uuid;

    use super::concurrency::{batch, table};

    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    let plan = account_plan(160, 2, false);
    sink.apply_schema(&plan).await.expect("schema applies");
    let name = |n: u128| format!("{n:0>150}");
    let refused = [3, 1_777, 2_999];
    let mut big = batch(1, 0..3_000);
    for (n, change) in (0u128..).zip(&mut big.changes) {
        let Change::Upsert(row) = change else {
            unreachable!()
        };
        row.values[0] = Value::Text(match refused.contains(&n) {
            true => "Refuse".into(),
            false => name(n),
        });
    }
    db.refuse_name("Refuse").await;
    let outcome = sink
        .apply_batch(&plan, table(&plan), &big)
        .await
        .expect("the batch commits");
    let BatchOutcome::Applied { applied, failures } = outcome else {
        panic!("applied, not {outcome:?}");
    };
    assert_eq!(applied, 2_997);
    let mut ids: Vec<Uuid> = failures.iter().map(|f| f.id).collect();
    ids.sort();
    assert_eq!(ids, refused.map(Uuid::from_u128));
    let rows = db
        .client
        .query("SELECT \"Id\", \"name\" FROM \"dbo\".\"des_account\"", &[])
        .await
        .expect("rows read");
    assert_eq!(rows.len(), 2_997);
    for row in rows {
        let n = row.get::<_, Uuid>(0).as_u128();
        assert_eq!(row.get::<_, String>(1), name(n), "row {n}");
    }
}

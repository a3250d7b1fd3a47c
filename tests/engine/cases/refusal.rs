//! A target that refuses a record (a real SQLite trigger): the rest of its batch lands at
//! once, the refused record is retried exactly per the profile's `RetryPolicy`, then logged
//! with its own id and change type and counted, and it lands with its next change once the
//! target accepts it.

use des_engine::Mode;

use super::{CONVERGE, count, ids, name_field};
use des_tests::harness::{Harness, Options, wait_until};

const TRIGGERS: &str = "
    CREATE TRIGGER \"refuse_insert\" BEFORE INSERT ON \"crm_contact\"
    WHEN NEW.\"lastname\" = 'Refuse' BEGIN SELECT RAISE(ABORT, 'refused by policy'); END;
    CREATE TRIGGER \"refuse_update\" BEFORE UPDATE ON \"crm_contact\"
    WHEN NEW.\"lastname\" = 'Refuse' BEGIN SELECT RAISE(ABORT, 'refused by policy'); END;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_target_refuses_holds_back_nothing_and_lands_after_its_next_change() {
    let mut options = Options {
        records: 3,
        entities: vec!["contact".into()],
        ..Options::default()
    };
    options.retry.max_retry_count = 1;
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    harness.converged(CONVERGE).await.expect("initial sync");
    let target = rusqlite::Connection::open(harness.target_db()).unwrap();
    target.execute_batch(TRIGGERS).unwrap();

    let control = harness.emulator.control();
    let victim = control
        .create("contact", name_field("contact", "Refuse"))
        .unwrap();
    for n in 0..5 {
        let good = name_field("contact", &format!("Good {n}"));
        control.create("contact", good).unwrap();
    }
    let landed = wait_until(CONVERGE, || async {
        count(&harness, "SELECT count(*) FROM \"crm_contact\"") == 3 + 5
    })
    .await;
    assert!(landed, "the five accepted contacts land");
    let logged = wait_until(CONVERGE, || async {
        let status = des_engine::admin::status(&harness.ports, harness.profile.id).await;
        let counted = status.is_ok_and(|s| s[0].failure_notifications == 1);
        !harness.failure_lines().await.is_empty() && counted
    })
    .await;
    assert!(logged, "the refused contact is logged and counted");
    let lines = harness.failure_lines().await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with(&format!("Entity: contact, RecordId: {victim}, ")),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("ChangeType: New"), "{}", lines[0]);
    assert!(lines[0].contains("refused by policy"), "{}", lines[0]);
    assert_eq!(
        harness.sink.retries_of(victim),
        1,
        "MaxRetryCount 1: one retry"
    );
    let status = des_engine::admin::status(&harness.ports, harness.profile.id)
        .await
        .unwrap();
    assert_eq!(status[0].last_export_status, "Failure");

    target
        .execute_batch("DROP TRIGGER \"refuse_insert\"; DROP TRIGGER \"refuse_update\";")
        .unwrap();
    control
        .update("contact", victim, name_field("contact", "Accepted"))
        .unwrap();
    harness
        .converged(CONVERGE)
        .await
        .expect("the refused contact lands after its next change");
    assert!(ids(&harness, "contact").contains(&victim));
    runtime.shutdown().await;
}

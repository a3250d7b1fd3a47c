//! Failure-line format and rules, end to end through the runtime.

use std::time::Duration;

use des_engine::Mode;
use des_tests::harness::{Harness, Options, wait_until};

/// `Entity: <name>, RecordId: <N/A|guid>, NotificationTime: <M/d/yyyy h:mm:ss AM|PM or
/// empty>, ChangeType: <type>, FailureReason: <text>`.
pub fn is_seed_format(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("Entity: ") else {
        return false;
    };
    let Some((entity, rest)) = rest.split_once(", RecordId: ") else {
        return false;
    };
    let Some((id, rest)) = rest.split_once(", NotificationTime: ") else {
        return false;
    };
    let Some((when, rest)) = rest.split_once(", ChangeType: ") else {
        return false;
    };
    let Some((change, reason)) = rest.split_once(", FailureReason: ") else {
        return false;
    };
    let id_ok = id == "N/A" || id.parse::<uuid::Uuid>().is_ok();
    let time_ok = when.is_empty() || is_des_time(when);
    let change_ok = ["Trigger Initial Export", "New", "Update", "Delete"].contains(&change);
    !entity.is_empty()
        && id_ok
        && time_ok
        && change_ok
        && !reason.is_empty()
        && !line.contains('\n')
}

fn is_des_time(text: &str) -> bool {
    let mut parts = text.split(' ');
    let (Some(date), Some(clock), Some(meridiem), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let numbers = |s: &str, sep: char, n: usize| {
        let fields: Vec<&str> = s.split(sep).collect();
        fields.len() == n
            && fields
                .iter()
                .all(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    };
    numbers(date, '/', 3) && numbers(clock, ':', 3) && matches!(meridiem, "AM" | "PM")
}

#[test]
fn the_seed_examples_are_in_the_seed_format() {
    assert!(is_seed_format(
        "Entity: account, RecordId: b2a19cdd-88df-e311-b8e5-6c3be5a8b200, NotificationTime: \
         8/31/2016 6:50:38 PM, ChangeType: New, FailureReason: Invalid object name 'dbo.x'."
    ));
    assert!(is_seed_format(
        "Entity: lead, RecordId: N/A, NotificationTime: , ChangeType: Trigger Initial Export, \
         FailureReason: There is already an object named 'hatest201_lead' in the database."
    ));
    assert!(!is_seed_format(
        "Entity: lead, RecordId: 12, NotificationTime: , ChangeType: New, FailureReason: x"
    ));
}

/// A record failing in the sink is retried `MaxRetryCount` times, then written to the log
/// exactly once; the rest of its batch lands; the counters say so; when the record changes
/// in the source it is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_record_is_logged_once_after_its_retries_then_applied_when_it_changes() {
    let options = Options {
        entities: vec!["account".into()],
        records: 12,
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    let id_attr = "accountid";
    let ids = crate::scenario::ids(&harness, "account", id_attr);
    let victim = ids[3];
    harness.sink.fail_records([victim]);
    let activated = std::time::Instant::now();
    harness.activate(Mode::All).await;
    let runtime = harness.run();

    let logged = wait_until(Duration::from_secs(20), || async {
        !harness.failure_lines().await.is_empty()
    })
    .await;
    assert!(logged, "no failure line was written");
    let interval = Duration::from_secs(u64::from(harness.options.retry.interval_in_seconds));
    assert!(
        activated.elapsed() >= 2 * interval,
        "each retry waited the profile's interval"
    );
    let rest_applied = wait_until(Duration::from_secs(10), || async {
        let status = des_engine::admin::status(&harness.ports, harness.profile.id)
            .await
            .unwrap();
        status[0].success_notifications == ids.len() as u64 - 1
    })
    .await;
    assert!(rest_applied, "the rest of the batch was not applied");
    // Let any stray retry arrive: still exactly one line for the record.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let lines = harness.failure_lines().await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with(&format!(
        "Entity: account, RecordId: {victim}, NotificationTime: "
    )));
    assert!(lines[0].contains("ChangeType: New, FailureReason: String length in source longer"));
    assert!(is_seed_format(&lines[0]));
    assert_eq!(
        harness.sink.retries_of(victim),
        2,
        "MaxRetryCount retries, then logged"
    );
    let status = des_engine::admin::status(&harness.ports, harness.profile.id)
        .await
        .unwrap();
    assert_eq!(status[0].failure_notifications, 1);
    assert_eq!(status[0].initial_sync_state, "CompletedWithFailures");
    assert!(
        harness.diff().await.is_err(),
        "the failed record must be missing for now"
    );

    harness.sink.heal();
    crate::scenario::touch(&harness, &[victim]).await;
    harness
        .converged(Duration::from_secs(15))
        .await
        .expect("the changed record is applied");
    runtime.shutdown().await;
}

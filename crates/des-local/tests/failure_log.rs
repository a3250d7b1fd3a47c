use std::sync::{Arc, Mutex};

use des_contract::failure_log;
use des_core::ports::{Clock, FailureLog};
use des_core::{ChangeType, FailureLine};
use des_local::FileFailureLog;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

/// A clock the test moves by hand.
struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    fn set(&self, at: OffsetDateTime) {
        *self.0.lock().expect("clock") = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock")
    }
}

fn line(reason: &str) -> FailureLine {
    FailureLine {
        entity: "account".to_owned(),
        record_id: Some(Uuid::new_v4()),
        notification_time: None,
        change_type: ChangeType::New,
        reason: reason.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_failure_log_passes_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    failure_log::run_all(|| {
        let root = dir.path().join(Uuid::new_v4().to_string());
        async move { FileFailureLog::new(root) }
    })
    .await;
}

/// Files follow DES's blob layout, one per hour, and read back in time order.
#[tokio::test]
async fn hourly_files_in_the_des_layout_read_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock(Mutex::new(datetime!(2026-12-31 23:59:59 UTC))));
    let log = FileFailureLog::with_clock(dir.path(), Arc::clone(&clock) as Arc<dyn Clock>);
    let profile = Uuid::new_v4();
    let (first, second) = (line("old year"), line("new year"));
    log.append(profile, std::slice::from_ref(&first))
        .await
        .expect("append");
    clock.set(datetime!(2027-01-01 00:00:01 UTC));
    log.append(profile, std::slice::from_ref(&second))
        .await
        .expect("append");

    let base = dir.path().join(profile.to_string()).join("failurelog");
    assert_eq!(log.profile_dir(profile), base);
    let old = std::fs::read_to_string(base.join("2026/12/31/23.log")).expect("old hour file");
    assert_eq!(old, format!("{}\n", first.format()));
    assert!(base.join("2027/01/01/00.log").is_file(), "new hour file");
    let lines = log.read_all(profile).await.expect("read");
    assert_eq!(lines, [first.format(), second.format()]);
}

/// A fragment left by a crash mid-append stays on its own line; later appends stay whole.
#[tokio::test]
async fn a_torn_last_line_does_not_swallow_the_next_append() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock(Mutex::new(datetime!(2026-05-06 07:08:09 UTC))));
    let log = FileFailureLog::with_clock(dir.path(), clock);
    let profile = Uuid::new_v4();
    let whole = line("whole");
    log.append(profile, std::slice::from_ref(&whole))
        .await
        .expect("append");
    let file = log.profile_dir(profile).join("2026/05/06/07.log");
    let mut text = std::fs::read_to_string(&file).expect("read file");
    text.push_str("Entity: account, RecordId: ");
    std::fs::write(&file, text).expect("tear the file");

    let next = line("next");
    log.append(profile, std::slice::from_ref(&next))
        .await
        .expect("append");
    let lines = log.read_all(profile).await.expect("read");
    assert_eq!(
        lines,
        [
            whole.format(),
            "Entity: account, RecordId: ".to_owned(),
            next.format()
        ]
    );
}

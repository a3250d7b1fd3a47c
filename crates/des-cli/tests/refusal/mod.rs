//! The scenario as a new user runs it: `des run` into SQLite, a trigger in the target
//! refuses accounts named `Refuse`, six accounts are created in one poll. The five others
//! land, the refused one is named in the failure log, and it lands after its next change
//! once the trigger is dropped.

use std::path::Path;
use std::time::Duration;

use crate::support::{Des, poll_until, target};
use crate::{SYNC_TIMEOUT, is_sync_done, sign_in};

/// Every line of the failure logs under the data folder.
fn failure_lines(data: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    let mut dirs = vec![data.join("failures")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                lines.extend(text.lines().map(str::to_owned));
            }
        }
    }
    lines
}

#[test]
fn a_record_the_target_refuses_is_logged_and_lands_after_its_next_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("des-data");
    let db = data.join("export.db");
    let args = ["run", "--records", "5", "--poll-interval", "0.2"];
    let mut des = Des::spawn(dir.path(), &args);
    des.wait_for(is_sync_done, SYNC_TIMEOUT);

    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let table = target::entity_table(&conn, "account").expect("the account table");
    conn.execute_batch(&format!(
        "CREATE TRIGGER \"refuse\" BEFORE INSERT ON {table} WHEN NEW.\"name\" = 'Refuse'
         BEGIN SELECT RAISE(ABORT, 'refused by policy'); END;"
    ))
    .unwrap();

    let api = sign_in(&mut des);
    let good = format!("Good {}", std::process::id());
    api.create_account("Refuse");
    for _ in 0..5 {
        api.create_account(&good);
    }
    poll_until(
        "the five accepted accounts",
        Duration::from_secs(30),
        || target::rows_named(&db, "account", &good).filter(|n| *n == 5),
    );
    // `des run`'s profile keeps DES's default RetryPolicy: 12 retries, 5 s apart.
    let line = poll_until(
        "the refused account's failure line",
        Duration::from_secs(150),
        || {
            failure_lines(&data)
                .into_iter()
                .find(|l| l.contains("refused by policy"))
        },
    );
    let id = line
        .split("RecordId: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("a record id")
        .to_owned();
    assert!(id.parse::<uuid::Uuid>().is_ok(), "a real id: {line}");
    assert!(line.contains("ChangeType: New"), "{line}");

    conn.execute_batch("DROP TRIGGER \"refuse\"").unwrap();
    api.rename_account(&id, "Accepted");
    poll_until(
        "the refused account after its next change",
        Duration::from_secs(60),
        || target::rows_named(&db, "account", "Accepted").filter(|n| *n == 1),
    );
    assert!(des.interrupt().success());
}

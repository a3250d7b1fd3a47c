//! `des run` and `des bench` against a real PostgreSQL server (`DES_TEST_PG`).

use std::time::Duration;

use crate::support::postgres::{Database, server};
use crate::support::{Des, poll_until, run_to_end, small_bench_args};
use crate::{SYNC_TIMEOUT, is_sync_done, sign_in};

/// A password the test server (trust authentication) ignores, to show where secrets go.
const PASSWORD: &str = "not-in-the-profile";

fn with_password(url: &str) -> String {
    let mut url = url::Url::parse(url).expect("URL");
    url.set_password(Some(PASSWORD)).expect("a URL with a host");
    url.to_string()
}

#[test]
fn run_into_postgres_lands_rows_resumes_and_keeps_the_password_out_of_the_profile() {
    let Some(server) = server() else { return };
    let db = Database::create(&server);
    let target = with_password(&db.url);
    let dir = tempfile::tempdir().unwrap();
    let common = [
        "run",
        "--records",
        "30",
        "--entity",
        "account",
        "--poll-interval",
        "0.2",
    ];

    let args: Vec<&str> = common
        .iter()
        .copied()
        .chain(["--target", &target])
        .collect();
    let mut des = Des::spawn(dir.path(), &args);
    let started = des.wait_for(|l| l.starts_with("starting export"), SYNC_TIMEOUT);
    assert!(
        !started.contains(PASSWORD),
        "the password is not printed: {started}"
    );
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    let marker = format!("des-cli pg {}", std::process::id());
    sign_in(&mut des).create_account(&marker);
    poll_until(
        "the new account in PostgreSQL",
        Duration::from_secs(60),
        || db.rows_named("account", &marker).filter(|n| *n == 1),
    );
    assert!(des.interrupt().success(), "clean exit on SIGINT");
    assert!(des.seen.iter().all(|l| !l.contains(PASSWORD)));

    // The second run names the target through DES_TARGET, as the README recommends.
    let mut again = Des::spawn_with_env(dir.path(), &common, &[("DES_TARGET", &target)]);
    again.wait_for(|l| l.starts_with("resuming export"), SYNC_TIMEOUT);
    again.wait_for(is_sync_done, SYNC_TIMEOUT);
    let api = sign_in(&mut again);
    api.create_account(&format!("{marker} again"));
    let source = api.count("accounts");
    assert_eq!(source, 32, "30 sample accounts and the two created");
    let (rows, ids) = poll_until(
        "PostgreSQL to equal the source",
        Duration::from_secs(60),
        || db.counts("account").filter(|(rows, _)| *rows == source),
    );
    assert_eq!(rows, ids, "no duplicate ids");
    assert_eq!(db.column_type("account", "Id").as_deref(), Some("uuid"));
    assert!(again.interrupt().success());

    for file in ["control.db", "control.db-wal"] {
        let bytes = std::fs::read(dir.path().join("des-data").join(file)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(PASSWORD), "{file} holds the target password");
    }
}

#[test]
fn bench_against_postgres_reports_every_figure_as_json() {
    let Some(server) = server() else { return };
    let db = Database::create(&server);
    let dir = tempfile::tempdir().unwrap();
    let args = small_bench_args(Some(&db.url));
    let (ok, out, err) = run_to_end(dir.path(), &args);
    assert!(ok, "des bench failed: {err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(report["target"], "postgresql");
    crate::assert_every_figure(&report, 2000.0);
    // A server on this machine has its CPU counted in the ceiling (scripts/pg starts one).
    let local = ["@127.0.0.1:", "@localhost:"]
        .iter()
        .any(|h| db.url.contains(h));
    if local {
        assert_eq!(report["server_cpu_counted"], true, "{report}");
        let measured = report["sink_write"]["measured_cpu_seconds"]
            .as_f64()
            .unwrap();
        let ours = report["sink_write"]["cpu_seconds"].as_f64().unwrap();
        assert!(measured >= ours, "{report}");
    }
}

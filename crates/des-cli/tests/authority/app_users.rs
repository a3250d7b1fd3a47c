//! `des run` with more than one app user (`more-app-users` in the config file): both users'
//! budgets are spent at the emulator, and a bad entry is refused by name, without its secret.

use super::{CLIENT_ID, EmulatorProcess, SECRET, TENANT};
use crate::support::{Des, current_thread_runtime, run_to_end_with_env};
use crate::{SYNC_TIMEOUT, is_sync_done};

const SECOND_APP: &str = "0b6f1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
const SECOND_SECRET: &str = "second-app-secret";

fn config_file(dir: &std::path::Path, secret_env: &str) -> String {
    let path = dir.join("des.json");
    let config = serde_json::json!({
        "more-app-users": [{"client-id": SECOND_APP, "secret-env": secret_env}]
    });
    std::fs::write(&path, config.to_string()).expect("config file");
    path.to_string_lossy().into_owned()
}

fn args<'a>(base: &'a str, config: &'a str) -> [&'a str; 13] {
    [
        "run",
        "--config",
        config,
        "--dataverse-url",
        base,
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--authority",
        base,
        "--entity",
        "account",
    ]
}

/// Every user's usage as `GET /_emulator/limits` reports it.
fn users_at(base: &str) -> Vec<serde_json::Value> {
    let url = format!("{base}/_emulator/limits");
    let body: serde_json::Value = current_thread_runtime().block_on(async {
        let answer = reqwest::get(url).await.expect("limits answer");
        answer.json().await.expect("limits JSON")
    });
    body["users"].as_array().expect("users").clone()
}

#[test]
fn run_spreads_reads_over_every_app_user() {
    let more = format!("{SECOND_APP}={SECOND_SECRET}");
    let emulator = EmulatorProcess::start_with(&["--more-app", &more]);
    let base = emulator.base_url.as_str();
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "DES_SECOND_SECRET");
    let vars = [
        ("DES_CLIENT_SECRET", SECRET),
        ("DES_SECOND_SECRET", SECOND_SECRET),
    ];
    let mut des = Des::spawn_with_env(dir.path(), &args(base, &config), &vars);
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    let users = users_at(base);
    assert_eq!(users.len(), 2, "each app user is its own user: {users:?}");
    for user in &users {
        let requests = user["total_requests"].as_u64().expect("total_requests");
        assert!(requests > 0, "{user} read some of it");
    }
    assert!(des.interrupt().success(), "clean exit on SIGINT");
}

#[test]
fn run_names_a_more_app_user_whose_secret_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "DES_SECOND_SECRET");
    let base = "https://org.crm.dynamics.com";
    let args = args(base, &config);
    let (ok, out, err) = run_to_end_with_env(dir.path(), &args, &[("DES_CLIENT_SECRET", SECRET)]);
    assert!(!ok, "des run must refuse: {out}");
    assert!(err.contains("more-app-users[0]"), "{err}");
    assert!(err.contains("DES_SECOND_SECRET is not set"), "{err}");
    assert!(!err.contains(SECRET), "no secret in the error: {err}");
}

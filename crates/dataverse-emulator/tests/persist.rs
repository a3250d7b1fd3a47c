//! Persistence across restarts with a state file.

use crate::support::app_token;
use dataverse_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

#[tokio::test]
async fn state_survives_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EmulatorConfig {
        records: 10,
        state_file: Some(dir.path().join("state.json")),
        ..EmulatorConfig::default()
    };
    let http = reqwest::Client::new();
    let emu = Emulator::start(config.clone()).await.expect("start");
    let c = emu.control();
    let token = app_token(&http, &emu).await;
    let initial: Value = http
        .get(format!("{}/accounts?$select=name", emu.api_url()))
        .header("Prefer", "odata.track-changes")
        .bearer_auth(&token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let link = initial["@odata.deltaLink"]
        .as_str()
        .expect("link")
        .to_owned();
    let delta_token = link.split("$deltatoken=").nth(1).expect("token").to_owned();
    let created = c
        .create(
            "account",
            json!({"name": "Persisted"})
                .as_object()
                .cloned()
                .expect("map"),
        )
        .expect("create");
    // Rows come in id order and the new row's id is random: pick one that is not it.
    let gone: uuid::Uuid = c
        .rows("account")
        .iter()
        .filter_map(|r| r["accountid"].as_str()?.parse().ok())
        .find(|id| *id != created)
        .expect("another account");
    c.delete("account", gone).expect("delete");
    c.add_attribute("account", "new_persisted", "Integer", None)
        .expect("schema");
    let rows_before = c.rows("account");
    emu.shutdown().await;

    let emu = Emulator::start(config).await.expect("restart");
    assert_eq!(
        emu.control().rows("account"),
        rows_before,
        "rows and versions survive"
    );
    let token = app_token(&http, &emu).await;
    let url = format!(
        "{}/accounts?$select=name&$deltatoken={delta_token}",
        emu.api_url()
    );
    let delta: Value = http
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let value = delta["value"].as_array().expect("value");
    assert!(
        value.iter().any(|v| v["accountid"] == created.to_string()),
        "old delta token still works: {delta}"
    );
    assert!(
        value
            .iter()
            .any(|v| v["id"] == gone.to_string() && v["reason"] == "deleted"),
        "delete log survives"
    );
    emu.shutdown().await;
}

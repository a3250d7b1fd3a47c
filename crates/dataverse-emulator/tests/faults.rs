//! Faults on demand: throttling, 5xx, dropped connections, latency, the control endpoint.

use crate::support::env;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn throttle_rotates_service_protection_errors() {
    let env = env().await;
    env.emu.control().faults().throttle_next(3, 2);
    let mut codes = Vec::new();
    for _ in 0..3 {
        let r = env.get("accounts?$select=name").await;
        assert_eq!(r.status, 429);
        assert_eq!(r.headers["retry-after"], "2");
        codes.push(r.body["error"]["code"].as_str().expect("code").to_owned());
    }
    assert_eq!(codes, ["0x80072322", "0x80072321", "0x80072326"]);
    assert_eq!(env.get("accounts?$select=name").await.status, 200);
}

#[tokio::test]
async fn transient_failures_then_recovery() {
    let env = env().await;
    env.emu.control().faults().fail_next(2, 503);
    assert_eq!(env.get("WhoAmI").await.status, 503);
    assert_eq!(env.get("WhoAmI").await.status, 503);
    assert_eq!(env.get("WhoAmI").await.status, 200);
}

#[tokio::test]
async fn dropped_connection_has_no_response() {
    let env = env().await;
    env.emu.control().faults().drop_next(1);
    let err = env
        .http
        .get(env.url("WhoAmI"))
        .bearer_auth(&env.token)
        .send()
        .await;
    assert!(err.is_err(), "the connection closes without a response");
    assert_eq!(env.get("WhoAmI").await.status, 200);
}

#[tokio::test]
async fn latency_slows_api_requests() {
    let env = env().await;
    env.emu
        .control()
        .faults()
        .set_latency(Duration::from_millis(300));
    let start = Instant::now();
    assert_eq!(env.get("WhoAmI").await.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
    env.emu.control().faults().clear();
    let start = Instant::now();
    env.get("WhoAmI").await;
    assert!(start.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn control_endpoint_drives_faults_and_changes() {
    let env = env().await;
    let base = env.emu.base_url();
    let r = env
        .http
        .post(format!("{base}/_emulator/faults"))
        .json(&json!({"throttle_next": 1, "retry_after_secs": 3}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    let t = env.get("WhoAmI").await;
    assert_eq!(
        (
            t.status.as_u16(),
            t.headers["retry-after"].to_str().expect("h")
        ),
        (429, "3")
    );
    let before = max_version(&env);
    let r: serde_json::Value = env
        .http
        .post(format!("{base}/_emulator/changes"))
        .json(&json!({"count": 25}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["applied"], 25);
    assert!(max_version(&env) > before);
    let r = env
        .http
        .post(format!("{base}/_emulator/expire-tokens"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn control_endpoint_changes_the_schema() {
    let env = env().await;
    let base = env.emu.base_url();
    let post = |path: &str, body: serde_json::Value| {
        env.http
            .post(format!("{base}/_emulator/{path}"))
            .json(&body)
            .send()
    };
    let added = post(
        "attributes",
        json!({"entity": "account", "logical_name": "new_tier", "kind": "String", "max_length": 20}),
    )
    .await
    .expect("send");
    assert_eq!(added.status(), 204);
    let meta = env
        .get("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='new_tier')/Microsoft.Dynamics.CRM.StringAttributeMetadata")
        .await;
    assert_eq!(
        (
            meta.body["AttributeType"].as_str(),
            meta.body["MaxLength"].as_i64()
        ),
        (Some("String"), Some(20))
    );
    let widened = post(
        "attributes/max-length",
        json!({"entity": "account", "attribute": "new_tier", "max_length": 50}),
    )
    .await
    .expect("send");
    assert_eq!(widened.status(), 204);
    let meta = env
        .get("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='new_tier')/Microsoft.Dynamics.CRM.StringAttributeMetadata")
        .await;
    assert_eq!(meta.body["MaxLength"], 50);
    let unknown = post(
        "attributes",
        json!({"entity": "nosuchentity", "logical_name": "x", "kind": "String"}),
    )
    .await
    .expect("send");
    assert_eq!(
        unknown.status().as_u16() / 100,
        4,
        "an unknown entity is refused"
    );
}

fn max_version(env: &crate::support::Env) -> i64 {
    ["account", "contact", "lead", "opportunity", "new_project"]
        .iter()
        .flat_map(|e| env.emu.control().rows(e))
        .filter_map(|r| r["versionnumber"].as_i64())
        .max()
        .unwrap_or(0)
}

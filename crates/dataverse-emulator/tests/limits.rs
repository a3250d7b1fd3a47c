//! Service-protection limits per user and the cost model, over real HTTP.

use crate::support::{Env, Reply, assert_same_keys, env, env_with, sample};
use dataverse_emulator::{CostModel, EmulatorConfig, ServiceLimits};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn with_limits(limits: ServiceLimits, cost: CostModel) -> EmulatorConfig {
    EmulatorConfig {
        records: 20,
        limits,
        cost,
        ..EmulatorConfig::default()
    }
}

fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header: {:?}", r.headers))
}

fn retry_after(r: &Reply) -> u64 {
    header(r, "retry-after")
        .parse()
        .expect("Retry-After in seconds")
}

/// Seconds as the service writes them, e.g. `1,199.46`.
fn seconds(text: &str) -> f64 {
    let (whole, frac) = text.split_once('.').expect("two decimals");
    assert_eq!(frac.len(), 2, "{text}");
    let groups: Vec<&str> = whole.split(',').collect();
    assert!(
        groups.iter().skip(1).all(|g| g.len() == 3) && groups[0].len() <= 3,
        "thousands separators in {text}"
    );
    text.replace(',', "").parse().expect("a number")
}

async fn control(env: &Env, path: &str, body: Value) -> reqwest::Response {
    env.http
        .post(format!("{}/_emulator/{path}", env.emu.base_url()))
        .json(&body)
        .send()
        .await
        .expect("control request")
}

async fn in_flight(env: &Env) -> u32 {
    let usage = env.emu.control().limits().usage();
    usage.iter().map(|u| u.in_flight).sum()
}

#[tokio::test]
async fn every_answer_reports_what_is_left_and_the_parallelism_hint() {
    let env = env().await;
    let first = env.get("WhoAmI").await;
    let second = env.get("accounts?$select=name").await;
    assert_eq!(
        header(&first, "x-ms-ratelimit-burst-remaining-xrm-requests"),
        "5999"
    );
    assert_eq!(
        header(&second, "x-ms-ratelimit-burst-remaining-xrm-requests"),
        "5998"
    );
    let left = seconds(header(
        &second,
        "x-ms-ratelimit-time-remaining-xrm-requests",
    ));
    assert!(left <= 1200.0 && left > 1000.0, "{left}");
    assert_eq!(header(&second, "x-ms-dop-hint"), "4");
}

#[tokio::test]
async fn requests_over_the_limit_get_429_until_the_window_moves_on() {
    let limits = ServiceLimits {
        requests: 3,
        window: Duration::from_secs(2),
        ..ServiceLimits::default()
    };
    let env = env_with(with_limits(limits, CostModel::default())).await;
    for _ in 0..3 {
        assert_eq!(env.get("WhoAmI").await.status, 200);
    }
    let refused = env.get("WhoAmI").await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.body["error"]["message"],
        "Number of requests exceeded the limit of 3 over time window of 2 seconds."
    );
    assert_same_keys(
        &sample("synthesized-error-429-request-count.json")["error"],
        &refused.body["error"],
        "429 body",
    );
    assert_eq!(refused.body["error"]["code"], "0x80072322");
    assert!((1..=2).contains(&retry_after(&refused)));

    // Limits are per user: someone else is still served.
    let user = uuid::Uuid::new_v4();
    env.emu.control().add_user(user, "Other User", false);
    let token = env.emu.control().mint_user_token(user, &env.emu.base_url());
    let other = env
        .http
        .get(env.url("WhoAmI"))
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    assert_eq!(other.status(), 200);

    // A client that waits Retry-After gets through once the window has moved on.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut wait = retry_after(&refused);
    loop {
        tokio::time::sleep(Duration::from_secs(wait)).await;
        let r = env.get("WhoAmI").await;
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 429, "{}", r.text);
        assert!(Instant::now() < deadline, "still refused after 15 s");
        wait = retry_after(&r);
    }
}

#[tokio::test]
async fn execution_time_over_the_limit_gets_429_with_the_time_code() {
    let limits = ServiceLimits {
        execution: Duration::from_millis(200),
        window: Duration::from_secs(30),
        ..ServiceLimits::default()
    };
    let cost = CostModel {
        base: Duration::from_millis(150),
        per_row: Duration::ZERO,
    };
    let env = env_with(with_limits(limits, cost)).await;
    let first = env.get("WhoAmI").await;
    assert_eq!(first.status, 200);
    let left = seconds(header(&first, "x-ms-ratelimit-time-remaining-xrm-requests"));
    assert!(left <= 0.05, "150 ms of 200 ms used: {left}");
    assert_eq!(env.get("WhoAmI").await.status, 200, "still under the limit");
    let refused = env.get("WhoAmI").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["error"]["code"], "0x80072321");
    let message = refused.body["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with(
            "Combined execution time of incoming requests exceeded limit of 200  milliseconds over time window of 30 seconds."
        ),
        "{message}"
    );
    assert!((1..=30).contains(&retry_after(&refused)));
}

#[tokio::test]
async fn concurrent_requests_over_the_limit_fail_at_once() {
    let limits = ServiceLimits {
        concurrent: 2,
        ..ServiceLimits::default()
    };
    let cost = CostModel {
        base: Duration::from_secs(2),
        per_row: Duration::ZERO,
    };
    let env = env_with(with_limits(limits, cost)).await;
    let slow = || {
        env.http
            .get(env.url("WhoAmI"))
            .bearer_auth(&env.token)
            .send()
    };
    let (a, b) = (tokio::spawn(slow()), tokio::spawn(slow()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while in_flight(&env).await < 2 {
        assert!(
            Instant::now() < deadline,
            "two requests never got in flight"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = env.get("WhoAmI").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["error"]["code"], "0x80072326");
    assert_eq!(
        refused.body["error"]["message"],
        "Number of concurrent requests exceeded the limit of 2."
    );
    assert_eq!(retry_after(&refused), 1);
    for h in [a, b] {
        assert_eq!(h.await.expect("join").expect("send").status(), 200);
    }
}

#[tokio::test]
async fn the_cost_model_charges_per_row_returned() {
    let env = env().await;
    let set = control(&env, "cost", json!({"base_ms": 10, "per_row_us": 20000})).await;
    assert_eq!(set.status(), 200);
    let model: Value = set.json().await.expect("json");
    assert_eq!(model, json!({"base_ms": 10.0, "per_row_us": 20000.0}));
    let start = Instant::now();
    let page = env
        .get_prefer("accounts?$select=name", "odata.maxpagesize=10")
        .await;
    assert_eq!(page.body["value"].as_array().map(Vec::len), Some(10));
    // 10 ms + 10 rows x 20 ms, at least: a lower bound the server's sleep guarantees.
    assert!(start.elapsed() >= Duration::from_millis(210));
    let usage = env.emu.control().limits().usage();
    assert!(usage[0].execution_secs >= 0.21, "{usage:?}");

    let off = control(&env, "cost", json!({})).await;
    assert_eq!(off.status(), 200);
    assert!(env.emu.control().cost().get().is_off());
    let bad = control(&env, "cost", json!({"base_ms": -5})).await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn the_control_endpoint_sets_limits_and_refuses_bad_values() {
    let env = env().await;
    let set = control(
        &env,
        "limits",
        json!({"requests": 1, "window_secs": 60, "dop_hint": 8, "reset": true}),
    )
    .await;
    assert_eq!(set.status(), 200);
    let state: Value = set.json().await.expect("json");
    assert_eq!(state["limits"]["requests"], 1);
    assert_eq!(state["limits"]["window"], 60.0);
    let ok = env.get("WhoAmI").await;
    assert_eq!(
        (ok.status.as_u16(), header(&ok, "x-ms-dop-hint")),
        (200, "8")
    );
    assert_eq!(env.get("WhoAmI").await.status, 429);

    let back = control(&env, "limits", json!({"defaults": true, "reset": true})).await;
    assert_eq!(back.status(), 200);
    assert_eq!(
        env.emu.control().limits().settings(),
        ServiceLimits::default()
    );
    assert_eq!(env.get("WhoAmI").await.status, 200);

    let bad = control(&env, "limits", json!({"window_secs": 0})).await;
    assert_eq!(bad.status(), 400);
    let unknown = control(&env, "limits", json!({"requets": 5})).await;
    assert_eq!(unknown.status().as_u16() / 100, 4, "a misspelt field");
    let shown: Value = env
        .http
        .get(format!("{}/_emulator/limits", env.emu.base_url()))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(shown["users"][0]["requests"], 1);
}

#[tokio::test]
async fn a_batch_counts_as_one_request() {
    let env = env().await;
    let boundary = "batch_limits";
    let part = |path: &str| {
        format!(
            "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET {}/{path} HTTP/1.1\r\nAccept: application/json\r\n\r\n",
            env.emu.api_url()
        )
    };
    let body = format!(
        "{}{}{}--{boundary}--\r\n",
        part("WhoAmI"),
        part("accounts?$select=name"),
        part("contacts?$select=fullname")
    );
    let r = env
        .send(
            env.http
                .post(env.url("$batch"))
                .header(
                    "Content-Type",
                    format!("multipart/mixed; boundary={boundary}"),
                )
                .body(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        header(&r, "x-ms-ratelimit-burst-remaining-xrm-requests"),
        "5999"
    );
}

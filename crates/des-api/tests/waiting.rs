//! A stream that waits for its operator says so where the API reads status: each entity's
//! `Status.Hint` in the profile answers and `Hint` in `x-monitor`, over real HTTP, with the
//! engine running behind the API. The fault is a real one of the target class: a trigger
//! the target's owner added calls a function the database does not have, so every write of
//! the table fails whatever the engine retries, until the owner drops it.

use std::time::{Duration, Instant};

use des_engine::Runtime;
use serde_json::{Value, json};
use url::Url;

use crate::support::{AUDIENCE, Env, fast_runtime};

async fn get(http: &reqwest::Client, token: &str, url: &str) -> Value {
    let response = http.get(url).bearer_auth(token).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.json().await.expect("json")
}

async fn eventually(timeout: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check().await
}

fn target_sql(env: &Env, sql: &str) {
    let conn = rusqlite::Connection::open(env.target_db()).expect("target");
    conn.busy_timeout(Duration::from_secs(10)).expect("timeout");
    conn.execute_batch(sql).expect("target sql");
}

fn has_account(env: &Env, id: uuid::Uuid) -> bool {
    let Ok(conn) = rusqlite::Connection::open(env.target_db()) else {
        return false;
    };
    conn.query_row(
        r#"SELECT count(*) FROM "crm_account" WHERE "Id" = ?1"#,
        [id.to_string()],
        |r| r.get::<_, i64>(0),
    )
    .is_ok_and(|n| n == 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_stream_shows_its_hint_in_status_and_monitor_until_it_resumes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let env = Env::start_on(Url::parse(&base).expect("url")).await;
    let router = env.router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    env.accept_privacy_terms().await;
    let mut description = env.profile_body("Sales");
    description["Entities"] = json!([{"Type": "account"}]);
    let answer = env
        .admin(
            axum::http::Method::POST,
            "/crm/exporter/profiles",
            Some(description),
        )
        .await;
    let id = answer.json()["Id"].as_str().expect("Id").to_owned();
    let activate = format!("/crm/exporter/profiles/{id}/activate");
    let answer = env.admin(axum::http::Method::POST, &activate, None).await;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.text());

    let http = reqwest::Client::new();
    let token = env
        .emulator
        .control()
        .mint_user_token(env.users.admin, AUDIENCE);
    let profile_url = format!("{base}/crm/exporter/profiles/{id}?status=true");
    let monitor_url = format!("{base}/crm/exporter/profiles/{id}/x-monitor");
    let status = async || get(&http, &token, &profile_url).await["Entities"][0]["Status"].clone();
    let runtime = Runtime::start(env.ports.clone(), fast_runtime());
    let synced = eventually(Duration::from_secs(30), async || {
        status().await["InitialSyncState"] == "Completed"
    })
    .await;
    assert!(synced, "{}", status().await);
    assert_eq!(status().await["Hint"], Value::Null);

    // The owner adds a trigger that cannot run: every new account is refused by the target.
    target_sql(
        &env,
        r#"CREATE TRIGGER "audit" BEFORE INSERT ON "crm_account"
           BEGIN SELECT audit_function_not_installed(NEW."Id"); END;"#,
    );
    let mut fields = serde_json::Map::new();
    fields.insert("name".into(), json!("Waits for the operator"));
    let created = env
        .emulator
        .control()
        .create("account", fields)
        .expect("create");
    let waits = eventually(Duration::from_secs(30), async || {
        status().await["Hint"].is_string()
    })
    .await;
    let now = status().await;
    assert!(waits, "{now}");
    let hint = now["Hint"].as_str().expect("Hint");
    assert!(hint.contains("audit_function_not_installed"), "{hint}");
    assert!(hint.contains("the stream waits"), "{hint}");
    assert_eq!(now["LastExportStatus"], "Failure", "{now}");
    let monitor = get(&http, &token, &monitor_url).await;
    let entity = &monitor["Entities"][0];
    assert_eq!(entity["Type"], "account");
    assert_eq!(entity["Hint"].as_str(), Some(hint), "{monitor}");
    assert!(!has_account(&env, created));

    // Fixed by the owner: the stream resumes on its own and the hint goes.
    target_sql(&env, r#"DROP TRIGGER "audit""#);
    let resumed = eventually(Duration::from_secs(30), async || {
        has_account(&env, created) && status().await["Hint"].is_null()
    })
    .await;
    assert!(resumed, "{}", status().await);
    assert_eq!(status().await["LastExportStatus"], "Success");
    // x-monitor answers a sample up to 5 s old; the next one has no hint.
    let cleared = eventually(Duration::from_secs(15), async || {
        get(&http, &token, &monitor_url).await["Entities"][0]["Hint"].is_null()
    })
    .await;
    assert!(cleared, "{}", get(&http, &token, &monitor_url).await);

    runtime.shutdown().await;
    server.abort();
}

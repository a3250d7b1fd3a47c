//! The seed's client flow over real HTTP, with the engine running behind the API.
//!
//! One record is made to fail the way DES documented it: the source string is longer than
//! the target column. The emulator's `account.name` is widened to 400, an account with a
//! 300-character name is created, and the column is narrowed back to 160 before the profile
//! is activated, so the planned table has `nvarchar(160)` and the real SQLite sink rejects
//! that record ("String length in source longer than destination schema for [name, 160]").

use std::time::{Duration, Instant};

use des_engine::Runtime;
use serde_json::{Value, json};
use url::Url;

use crate::support::{AUDIENCE, Env, fast_runtime};

struct Client {
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn send(&self, method: reqwest::Method, url: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            // DES's sample client posted `new StringContent(content)`: text/plain.
            request = request.body(body.to_string());
        }
        let response = request.send().await.expect("sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

fn rows(db: &std::path::Path, table: &str) -> usize {
    let Ok(conn) = rusqlite::Connection::open(db) else {
        return 0;
    };
    conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
        r.get::<_, i64>(0)
    })
    .map_or(0, |n| n as usize)
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

/// Returns the id of the account that cannot be written.
fn make_one_account_fail(env: &Env) -> uuid::Uuid {
    let control = env.emulator.control();
    control
        .set_max_length("account", "name", 400)
        .expect("widen");
    let mut fields = serde_json::Map::new();
    fields.insert("name".into(), json!("N".repeat(300)));
    let id = control.create("account", fields).expect("create");
    control
        .set_max_length("account", "name", 160)
        .expect("narrow");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_client_flow_replicates_and_links_the_failure_log() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let env = Env::start_on(Url::parse(&base).expect("url")).await;
    let router = env.router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let victim = make_one_account_fail(&env);
    let accounts = env.emulator.control().rows("account").len();

    let client = Client {
        http: reqwest::Client::new(),
        token: env
            .emulator
            .control()
            .mint_user_token(env.users.admin, AUDIENCE),
    };
    let (org_url, org_id) = (&env.org.organization_url, env.org.organization_id);
    let connector = format!(
        "{base}/crm/exporter/metadata/connector?organizationUrl={org_url}&organizationId={org_id}"
    );
    let (status, body) = client.send(reqwest::Method::GET, &connector, None).await;
    assert_eq!(status, 200, "{body}");
    let connector_url = body["ConnectorUrl"]
        .as_str()
        .expect("ConnectorUrl")
        .to_owned();
    assert_eq!(connector_url, base);

    let profiles = format!(
        "{connector_url}/crm/exporter/profiles?status=true&organizationUrl={org_url}&organizationId={org_id}"
    );
    assert_eq!(
        client.send(reqwest::Method::GET, &profiles, None).await,
        (200, json!([]))
    );

    let accept =
        format!("{connector_url}/crm/exporter/metadata/acceptprivacyterms?organizationId={org_id}");
    assert_eq!(
        client.send(reqwest::Method::POST, &accept, None).await.0,
        200
    );
    let mut description = env.profile_body("Sales");
    description["Entities"] = json!([{"Type": "account"}]);
    let (status, created) = client
        .send(
            reqwest::Method::POST,
            &format!("{connector_url}/crm/exporter/profiles"),
            Some(&description),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["Id"].as_str().expect("Id").to_owned();
    let activate = format!("{connector_url}/crm/exporter/profiles/{id}/activate");
    let (status, active) = client.send(reqwest::Method::POST, &activate, None).await;
    assert_eq!(
        (status, active["State"].clone()),
        (200, json!("Active")),
        "{active}"
    );

    let runtime = Runtime::start(env.ports.clone(), fast_runtime());
    let target = env.target_db();
    let replicated = eventually(Duration::from_secs(30), async || {
        let (_, listed) = client.send(reqwest::Method::GET, &profiles, None).await;
        let status = &listed[0]["Entities"][0]["Status"];
        status["FailureNotifications"] == 1 && rows(&target, "crm_account") == accounts - 1
    })
    .await;
    assert!(
        replicated,
        "{} of {accounts} accounts replicated",
        rows(&target, "crm_account")
    );

    let failures = format!("{connector_url}/crm/exporter/profiles/{id}/failures");
    let (status, info) = client.send(reqwest::Method::GET, &failures, None).await;
    assert_eq!(status, 200, "{info}");
    let link = info["Url"].as_str().expect("Url");
    // The link is the credential: no bearer token.
    let download = reqwest::get(link).await.expect("download");
    assert_eq!(download.status().as_u16(), 200);
    let lines = download.text().await.expect("text");
    let expected = format!("Entity: account, RecordId: {victim}, NotificationTime: ");
    assert!(lines.starts_with(&expected), "{lines}");
    assert!(
        lines.contains("ChangeType: New, FailureReason: String length in source longer than destination schema for [name, 160]"),
        "{lines}"
    );
    assert_eq!(lines.lines().count(), 1, "{lines}");

    runtime.shutdown().await;
    server.abort();
}

//! Several application users behind one client, against the emulator's per-user limits over
//! HTTP: reads are spread over every user's budget, and a 429 storm on one user does not
//! stop the reads through the others.

use std::sync::Arc;
use std::time::Duration;

use dataverse::{CachedToken, ClientCredentials, DataverseClient, TokenProvider};
use dataverse_emulator::{CostModel, Emulator, EmulatorConfig, ServiceLimits};
use des_core::Secret;
use des_core::ports::{PageRequest, Source, SourceError};
use serde_json::Value;
use url::Url;

use crate::support::{config, credentials, names, read_to_end};

const SECOND_APP: &str = "0b6f1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
const SECOND_SECRET: &str = "second-app-secret";
const ROWS: usize = 300;

async fn emulator(limits: ServiceLimits) -> Emulator {
    let emulator = Emulator::start(EmulatorConfig {
        port: 0,
        records: ROWS,
        limits,
        cost: CostModel {
            base: Duration::from_millis(5),
            per_row: Duration::ZERO,
        },
        ..Default::default()
    })
    .await
    .expect("emulator starts");
    emulator
        .control()
        .register_confidential_app(SECOND_APP, SECOND_SECRET);
    emulator
}

fn first_user(emulator: &Emulator) -> Arc<dyn TokenProvider> {
    Arc::new(CachedToken::new(credentials(emulator)))
}

fn second_user(emulator: &Emulator) -> Arc<dyn TokenProvider> {
    let token_url = Url::parse(&emulator.token_url()).expect("token url");
    let org = Url::parse(&emulator.base_url()).expect("base url");
    let scope = ClientCredentials::scope_for(&org);
    let grant = ClientCredentials::new(token_url, SECOND_APP, Secret::new(SECOND_SECRET), &scope);
    Arc::new(CachedToken::new(grant))
}

fn client(emulator: &Emulator, users: Vec<Arc<dyn TokenProvider>>) -> Arc<DataverseClient> {
    let mut config = config(emulator, 50);
    // The emulator's concurrency limit in the first test; the budgets are per user.
    config.max_concurrency = 2;
    Arc::new(DataverseClient::with_app_users(config, users).expect("client"))
}

fn accounts() -> PageRequest {
    PageRequest::Start {
        entity_set: "accounts".to_owned(),
        select: names(&["name"]),
    }
}

async fn rows_read(client: &DataverseClient) -> usize {
    let (pages, _) = read_to_end(client, accounts(), &names(&["name"])).await;
    pages.iter().map(|p| p.changes.len()).sum()
}

/// Every user's usage as `GET /_emulator/limits` reports it.
async fn users_at_the_emulator(emulator: &Emulator) -> Vec<Value> {
    let url = format!("{}/_emulator/limits", emulator.base_url());
    let body: Value = reqwest::get(url)
        .await
        .expect("limits answer")
        .json()
        .await
        .expect("limits JSON");
    body["users"].as_array().expect("users").clone()
}

fn number(user: &Value, field: &str) -> u64 {
    user[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {user}"))
}

#[tokio::test]
async fn reads_through_two_users_spend_both_budgets() {
    let emulator = emulator(ServiceLimits {
        dop_hint: 2,
        concurrent: 2,
        ..ServiceLimits::default()
    })
    .await;
    let client = client(
        &emulator,
        vec![first_user(&emulator), second_user(&emulator)],
    );
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let client = Arc::clone(&client);
        readers.spawn(async move { rows_read(&client).await });
    }
    while let Some(rows) = readers.join_next().await {
        assert_eq!(rows.expect("reader"), ROWS, "every reader reads every row");
    }
    let users = users_at_the_emulator(&emulator).await;
    assert_eq!(users.len(), 2, "each client id is its own user: {users:?}");
    for user in &users {
        assert!(number(user, "total_requests") > 0, "{user} was used");
        assert!(
            number(user, "peak_in_flight") <= 2,
            "{user} within its limit"
        );
    }
    let per_user = client.pace_stats_per_user();
    assert!(per_user.iter().all(|s| s.requests > 0), "{per_user:?}");
    assert_eq!(
        client.pace_stats().requests,
        per_user[0].requests + per_user[1].requests
    );
}

#[tokio::test]
async fn a_429_storm_on_one_user_does_not_stop_the_other() {
    let limits = ServiceLimits {
        requests: 20,
        window: Duration::from_secs(120),
        ..ServiceLimits::default()
    };
    let emulator = emulator(limits).await;
    // The first user spends its whole window's budget; every request of it now gets a 429
    // whose Retry-After is far beyond the retry policy's total wait.
    let first = client(&emulator, vec![first_user(&emulator)]);
    let exhausted = loop {
        match first.read_page(&accounts(), &names(&["name"])).await {
            Ok(_) => continue,
            Err(error) => break error,
        }
    };
    assert!(
        matches!(exhausted, SourceError::Unavailable(_)),
        "{exhausted:?}"
    );
    let users = users_at_the_emulator(&emulator).await;
    assert_eq!(users.len(), 1, "{users:?}");
    let throttled_user = users[0]["user"].clone();

    let both = client(
        &emulator,
        vec![first_user(&emulator), second_user(&emulator)],
    );
    assert_eq!(
        rows_read(&both).await,
        ROWS,
        "the second user reads everything"
    );

    let users = users_at_the_emulator(&emulator).await;
    let other = users
        .iter()
        .find(|u| u["user"] != throttled_user)
        .expect("the second user is seen");
    assert_eq!(number(other, "throttled"), 0, "{other}");
    assert!(number(other, "total_requests") > 0, "{other}");
    let per_user = both.pace_stats_per_user();
    assert!(
        per_user[0].throttled >= 1,
        "the first user was refused: {per_user:?}"
    );
    assert_eq!(per_user[1].throttled, 0, "{per_user:?}");
}

#[tokio::test]
async fn one_user_in_the_list_reads_as_before() {
    let emulator = emulator(ServiceLimits::default()).await;
    let client = client(&emulator, vec![first_user(&emulator)]);
    assert_eq!(rows_read(&client).await, ROWS);
    let users = users_at_the_emulator(&emulator).await;
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(client.pace_stats(), client.pace_stats_per_user()[0]);
}

#[tokio::test]
async fn a_second_app_with_a_wrong_secret_gets_no_token() {
    let emulator = emulator(ServiceLimits::default()).await;
    let org = Url::parse(&emulator.base_url()).expect("base url");
    let grant = ClientCredentials::new(
        Url::parse(&emulator.token_url()).expect("token url"),
        SECOND_APP,
        Secret::new("wrong"),
        &ClientCredentials::scope_for(&org),
    );
    let refused = grant.token().await;
    assert!(refused.is_err(), "a wrong secret gets no token");
}

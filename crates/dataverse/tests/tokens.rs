//! Tokens from the emulator's Entra endpoint: acquisition, caching, refresh and 401s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use dataverse::{
    AccessToken, CachedToken, ClientCredentials, StaticToken, TokenError, TokenFn, TokenProvider,
};
use des_core::Secret;
use des_core::ports::SourceError;
use url::Url;

use crate::support::{Counted, client, config, credentials, emulator, shared};

#[tokio::test]
async fn client_credentials_token_is_accepted_by_the_api() {
    let emulator = emulator(5).await;
    let token = credentials(&emulator).token().await.expect("token");
    let lifetime = token.expires_at().expect("expiry") - std::time::Instant::now();
    assert!(
        lifetime > Duration::from_secs(600),
        "Entra tokens live about an hour"
    );
    let client = client(
        config(&emulator, 10),
        Arc::new(StaticToken(token.secret().clone())),
    );
    let me = client.who_am_i().await.expect("WhoAmI");
    assert!(!me.user_id.is_nil() && !me.organization_id.is_nil());
}

#[tokio::test]
async fn wrong_secret_is_refused_with_the_entra_error() {
    let emulator = emulator(5).await;
    let token_url = Url::parse(&emulator.token_url()).expect("url");
    let org = Url::parse(&emulator.base_url()).expect("url");
    let scope = ClientCredentials::scope_for(&org);
    let wrong =
        ClientCredentials::new(token_url, emulator.client_id(), Secret::new("nope"), &scope);
    match wrong.token().await {
        Err(TokenError::Rejected(message)) => {
            assert!(
                message.starts_with("invalid_client: AADSTS7000215"),
                "{message}"
            );
            assert!(!message.contains("nope"), "the secret never appears");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let client = client(config(&emulator, 10), Arc::new(wrong));
    assert!(matches!(client.who_am_i().await, Err(SourceError::Auth(_))));
}

#[tokio::test]
async fn tenant_form_builds_a_working_token_request() {
    let emulator = emulator(5).await;
    let authority = Url::parse(&emulator.base_url()).expect("url");
    let secret = Secret::new(emulator.client_secret());
    let creds = ClientCredentials::for_tenant(
        &authority,
        emulator.tenant_id(),
        emulator.client_id(),
        secret,
        &authority,
    )
    .expect("credentials");
    assert_eq!(creds.token_url().as_str(), emulator.token_url());
    creds.token().await.expect("token from tenant URL");
}

#[tokio::test]
async fn cached_token_is_fetched_once_for_concurrent_requests() {
    let emulator = emulator(5).await;
    let counted = Arc::new(CachedToken::new(Counted::new(credentials(&emulator))));
    let client = Arc::new(client(config(&emulator, 10), shared(&counted)));
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let client = Arc::clone(&client);
            tokio::spawn(async move { client.who_am_i().await })
        })
        .collect();
    for call in calls {
        call.await.expect("joined").expect("WhoAmI");
    }
    assert_eq!(
        counted.inner().fetches(),
        1,
        "one token request for twelve API calls"
    );
}

#[tokio::test]
async fn token_due_for_refresh_is_replaced() {
    let emulator = emulator(5).await;
    // Tokens that are due at once: every call must go back to the endpoint.
    let creds = Arc::new(credentials(&emulator));
    let due_now = TokenFn(move || {
        let creds = Arc::clone(&creds);
        async move {
            let token = creds.token().await?;
            Ok(AccessToken::new(
                token.secret().clone(),
                Some(Duration::ZERO),
            ))
        }
    });
    let cache = Arc::new(CachedToken::new(Counted::new(due_now)));
    let client = client(config(&emulator, 10), shared(&cache));
    client.who_am_i().await.expect("first");
    client.who_am_i().await.expect("second");
    assert_eq!(cache.inner().fetches(), 2);
}

/// Hands out a token the API refuses until told it was refused.
struct StaleFirst {
    real: ClientCredentials,
    refused: AtomicBool,
}

#[async_trait]
impl TokenProvider for StaleFirst {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        if self.refused.load(Ordering::SeqCst) {
            return self.real.token().await;
        }
        Ok(AccessToken::new(Secret::new("stale.token.value"), None))
    }

    async fn invalidate(&self, _token: &AccessToken) {
        self.refused.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn refused_token_is_refreshed_once_and_the_call_succeeds() {
    let emulator = emulator(5).await;
    let provider = Arc::new(StaleFirst {
        real: credentials(&emulator),
        refused: AtomicBool::new(false),
    });
    let client = client(config(&emulator, 10), shared(&provider));
    client.who_am_i().await.expect("WhoAmI after one refresh");
    assert!(provider.refused.load(Ordering::SeqCst));
}

#[tokio::test]
async fn token_refused_twice_is_an_auth_error() {
    let emulator = emulator(5).await;
    let client = client(
        config(&emulator, 10),
        Arc::new(StaticToken(Secret::new("not-a-jwt"))),
    );
    match client.who_am_i().await {
        Err(SourceError::Auth(message)) => {
            assert!(message.contains("401"), "{message}");
            assert!(
                !message.contains("not-a-jwt"),
                "tokens never appear in errors"
            );
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
}

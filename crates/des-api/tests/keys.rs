//! The JWKS cache against a counting issuer: keys are fetched through OpenID discovery,
//! cached, refetched for an unknown `kid` (key rotation), and not more often than allowed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::get;
use des_api::{AuthError, AuthSettings, Authenticator};
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

use crate::support::{AUDIENCE, SIGNING_PEM};

const MODULUS: &str = include_str!("../../dataverse-emulator/src/keys/signing.n");

/// A tiny OpenID issuer whose JWKS can be swapped and whose JWKS hits are counted.
struct Issuer {
    authority: Url,
    jwks_hits: Arc<AtomicUsize>,
    kid: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn issuer(kid: &str) -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let authority = format!("{base}/tenant/v2.0");
    let jwks_hits = Arc::new(AtomicUsize::new(0));
    let current = Arc::new(Mutex::new(kid.to_owned()));
    let discovery = json!({"issuer": authority, "jwks_uri": format!("{base}/tenant/keys")});
    let (hits, served) = (Arc::clone(&jwks_hits), Arc::clone(&current));
    let keys = move || {
        hits.fetch_add(1, Ordering::SeqCst);
        let kid = served.lock().expect("kid").clone();
        let key = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": MODULUS.trim(), "e": "AQAB"});
        async move { Json(json!({"keys": [key]})) }
    };
    let app = axum::Router::new()
        .route(
            "/tenant/v2.0/.well-known/openid-configuration",
            get(move || async move { Json(discovery) }),
        )
        .route("/tenant/keys", get(keys));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Issuer {
        authority: Url::parse(&authority).expect("url"),
        jwks_hits,
        kid: current,
        task,
    }
}

fn token(issuer: &Issuer, kid: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims: Value = json!({
        "aud": AUDIENCE, "iss": issuer.authority.as_str(), "nbf": now, "iat": now,
        "exp": now + 600, "oid": Uuid::new_v4(), "scp": "user_impersonation"
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(SIGNING_PEM.as_bytes()).expect("key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, &key).expect("sign")
}

fn authenticator(issuer: &Issuer, min_refresh: Duration) -> Authenticator {
    let mut settings = AuthSettings::new(issuer.authority.clone(), AUDIENCE);
    settings.jwks_min_refresh = min_refresh;
    Authenticator::new(settings).expect("authenticator")
}

async fn check(auth: &Authenticator, token: &str) -> Result<(), AuthError> {
    auth.authenticate(Some(&format!("Bearer {token}")))
        .await
        .map(|_| ())
}

#[tokio::test]
async fn keys_are_cached_and_unknown_kids_refetch_at_most_once_per_interval() {
    let issuer = issuer("key-1").await;
    let auth = authenticator(&issuer, Duration::from_secs(3600));
    check(&auth, &token(&issuer, "key-1"))
        .await
        .expect("accepted");
    check(&auth, &token(&issuer, "key-1"))
        .await
        .expect("accepted");
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 1, "cached");
    for _ in 0..5 {
        let refused = check(&auth, &token(&issuer, "made-up")).await;
        assert!(matches!(refused, Err(AuthError::UnknownKey)), "{refused:?}");
    }
    assert_eq!(
        issuer.jwks_hits.load(Ordering::SeqCst),
        1,
        "unknown kids do not hammer the issuer"
    );
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_names_it() {
    let issuer = issuer("old-key").await;
    let auth = authenticator(&issuer, Duration::ZERO);
    assert!(matches!(
        check(&auth, &token(&issuer, "new-key")).await,
        Err(AuthError::UnknownKey)
    ));
    *issuer.kid.lock().expect("kid") = "new-key".to_owned();
    check(&auth, &token(&issuer, "new-key"))
        .await
        .expect("accepted after rotation");
    check(&auth, &token(&issuer, "new-key"))
        .await
        .expect("accepted from the cache");
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 2);
}

/// Accepted tokens are remembered, but only under the keys that verified them.
#[tokio::test]
async fn an_accepted_token_is_refused_once_its_key_is_withdrawn() {
    let issuer = issuer("old-key").await;
    let auth = authenticator(&issuer, Duration::ZERO);
    let old = token(&issuer, "old-key");
    check(&auth, &old).await.expect("accepted");
    check(&auth, &old).await.expect("accepted again");
    *issuer.kid.lock().expect("kid") = "new-key".to_owned();
    check(&auth, &token(&issuer, "new-key"))
        .await
        .expect("the new key is fetched");
    let refused = check(&auth, &old).await;
    assert!(matches!(refused, Err(AuthError::UnknownKey)), "{refused:?}");
}

#[tokio::test]
async fn an_unreachable_issuer_is_reported_as_such() {
    let issuer = issuer("key-1").await;
    let token = token(&issuer, "key-1");
    let mut settings = AuthSettings::new(
        Url::parse("http://127.0.0.1:9/nothing").expect("url"),
        AUDIENCE,
    );
    settings.jwks_min_refresh = Duration::ZERO;
    let auth = Authenticator::new(settings).expect("authenticator");
    assert!(matches!(
        check(&auth, &token).await,
        Err(AuthError::IssuerUnavailable(_))
    ));
}

//! Signing-key rollover against the emulator publishing a second key: a token signed with
//! the new key is accepted after one refetch, and no amount of unknown `kid`s makes the API
//! fetch the keys more than once per interval.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};

use crate::support::{Env, call};

fn connector(env: &Env) -> String {
    format!("/crm/exporter/metadata/connector?{}", env.org_query())
}

fn made_up_kid_token(env: &Env, n: usize) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(crate::support::SIGNING_PEM.as_bytes())
        .expect("key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(format!("attacker-kid-{n}"));
    jsonwebtoken::encode(&header, &env.claims(env.users.admin), &key).expect("sign")
}

#[tokio::test]
async fn unknown_kids_cause_at_most_one_fetch_per_interval() {
    let env = Env::start().await;
    // The default interval (5 minutes): nothing below may cause a second fetch.
    let router = env.router_tuned(None, |_, _| {});
    let control = env.emulator.control();
    let first = call(
        &router,
        Method::GET,
        &connector(&env),
        Some(&env.admin_token()),
        None,
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let fetched = control.jwks_fetches();
    control.roll_signing_key().expect("rolled");
    let mut calls = Vec::new();
    for n in 0..50 {
        let router = router.clone();
        let token = match n % 2 {
            0 => made_up_kid_token(&env, n),
            _ => env.admin_token(), // now signed with the new key
        };
        let uri = connector(&env);
        calls.push(tokio::spawn(async move {
            call(&router, Method::GET, &uri, Some(&token), None)
                .await
                .status
        }));
    }
    for answer in calls {
        assert_eq!(answer.await.expect("call"), StatusCode::UNAUTHORIZED);
    }
    assert!(
        control.jwks_fetches() <= fetched + 1,
        "{} fetches for 50 tokens with unknown kids",
        control.jwks_fetches() - fetched
    );
}

#[tokio::test]
async fn a_token_signed_with_a_newly_published_key_is_accepted_after_one_refetch() {
    let env = Env::start().await;
    let interval = Duration::from_millis(500);
    let router = env.router_tuned(None, |auth, _| auth.jwks_min_refresh = interval);
    let control = env.emulator.control();
    let old_token = env.admin_token();
    let first = call(
        &router,
        Method::GET,
        &connector(&env),
        Some(&old_token),
        None,
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let fetched = control.jwks_fetches();
    assert_eq!(
        control.roll_signing_key().expect("rolled"),
        "emulator-signing-key-2"
    );
    let new_token = env.admin_token();
    let started = Instant::now();
    let accepted = loop {
        let answer = call(
            &router,
            Method::GET,
            &connector(&env),
            Some(&new_token),
            None,
        )
        .await;
        if answer.status == StatusCode::OK || started.elapsed() > Duration::from_secs(10) {
            break answer.status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(accepted, StatusCode::OK, "the new key was never fetched");
    let again = call(
        &router,
        Method::GET,
        &connector(&env),
        Some(&old_token),
        None,
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "tokens of the first key stay valid"
    );
    let fetches = control.jwks_fetches() - fetched;
    let allowed = (started.elapsed().as_secs_f64() / interval.as_secs_f64()).ceil() as usize + 1;
    assert!(fetches >= 1 && fetches <= allowed, "{fetches} fetches");
}

//! Authentication (401) and authorization (403).

use axum::http::{Method, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use uuid::Uuid;

use crate::support::Env;

fn connector(env: &Env) -> String {
    format!("/crm/exporter/metadata/connector?{}", env.org_query())
}

/// Every bad token gets 401 with the challenge, never a 403 or 500.
async fn refused(env: &Env, token: Option<&str>, why: &str) {
    let answer = env.call(Method::GET, &connector(env), token, None).await;
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "{why}: {}",
        answer.text()
    );
    assert!(
        answer.headers.contains_key(header::WWW_AUTHENTICATE),
        "{why}"
    );
    assert!(answer.message().contains("bearer token"), "{why}");
}

fn unsigned(claims: &serde_json::Value, alg: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// HS256 signed with the issuer's public key as the HMAC secret (the key-confusion attack).
fn hs256_with_public_key(env: &Env, claims: &serde_json::Value) -> String {
    let jwks = env.emulator.control().jwks();
    let public = jwks["keys"][0]["n"].as_str().expect("n").to_owned();
    let key = jsonwebtoken::EncodingKey::from_secret(public.as_bytes());
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(dataverse_emulator::SIGNING_KEY_ID.to_owned());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

#[tokio::test]
async fn the_admin_token_is_accepted() {
    let env = Env::start().await;
    let answer = env.admin(Method::GET, &connector(&env), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["ConnectorUrl"], "http://127.0.0.1:7071");
}

#[tokio::test]
async fn bad_tokens_are_refused_with_401() {
    let env = Env::start().await;
    let admin = env.users.admin;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let good = env.claims(admin);
    let spoiled = |key: &str, value: serde_json::Value| {
        let mut claims = good.clone();
        claims[key] = value;
        env.sign(&claims)
    };
    refused(&env, None, "no token").await;
    refused(&env, Some("not-a-jwt"), "garbage").await;
    refused(&env, Some(&unsigned(&good, "none")), "alg none").await;
    refused(
        &env,
        Some(&hs256_with_public_key(&env, &good)),
        "HS256 with the public key",
    )
    .await;
    let foreign = dataverse_emulator::foreign_token(
        crate::support::AUDIENCE,
        &env.emulator.issuer(),
        env.emulator.tenant_id(),
    );
    refused(&env, Some(&foreign), "signed with a foreign key").await;
    refused(
        &env,
        Some(&spoiled("exp", json!(now - 120))),
        "expired beyond the leeway",
    )
    .await;
    refused(
        &env,
        Some(&spoiled("nbf", json!(now + 600))),
        "not yet valid",
    )
    .await;
    refused(
        &env,
        Some(&spoiled("iss", json!("https://evil.example/v2.0"))),
        "wrong issuer",
    )
    .await;
    refused(
        &env,
        Some(&spoiled("aud", json!("api://someone-else"))),
        "wrong audience",
    )
    .await;
    let dataverse_token = env
        .emulator
        .control()
        .mint_user_token(admin, &env.emulator.base_url());
    refused(
        &env,
        Some(&dataverse_token),
        "a token for Dataverse, not for this API",
    )
    .await;
}

#[tokio::test]
async fn a_token_within_the_leeway_is_accepted() {
    let env = Env::start().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = env.claims(env.users.admin);
    claims["exp"] = json!(now - 5);
    let answer = env
        .call(
            Method::GET,
            &connector(&env),
            Some(&env.sign(&claims)),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[tokio::test]
async fn the_challenge_names_the_authority_and_the_resource() {
    let env = Env::start().await;
    let answer = env
        .call(Method::GET, "/crm/exporter/aad/challenge", None, None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let challenge = answer.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .expect("ascii");
    let expected = format!(
        "Bearer authorization_uri=\"{}\", resource_id=\"{}\"",
        env.emulator.issuer(),
        crate::support::AUDIENCE
    );
    assert_eq!(challenge, expected);
}

#[tokio::test]
async fn a_valid_token_of_a_non_admin_gets_403() {
    let env = Env::start().await;
    let token = env.token(env.users.plain);
    let answer = env
        .call(Method::GET, &connector(&env), Some(&token), None)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    assert!(answer.message().contains("not a System Administrator"));
    let unknown = env.token(Uuid::new_v4());
    let answer = env
        .call(Method::GET, &connector(&env), Some(&unknown), None)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "a user unknown to the organization"
    );
}

#[tokio::test]
async fn an_admin_through_a_team_is_accepted() {
    let env = Env::start().await;
    let token = env.token(env.users.team_admin);
    let answer = env
        .call(Method::GET, &connector(&env), Some(&token), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[tokio::test]
async fn an_admin_cannot_touch_another_organizations_profile() {
    let env = Env::start().await;
    // A profile of the second organization, created by that organization's own admin.
    let other_admin = Uuid::new_v4();
    env.other
        .control()
        .add_user(other_admin, "Olga Other", true);
    let mut body = env.profile_body("Fabrikam export");
    body["OrganizationId"] = json!(env.other_org.organization_id);
    let token = env
        .other
        .control()
        .mint_user_token(other_admin, crate::support::AUDIENCE);
    // Tokens come from the main organization's issuer only, so the second admin is refused.
    let answer = env
        .call(
            Method::POST,
            "/crm/exporter/profiles",
            Some(&token),
            Some(body.to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // Our admin is not an admin of the second organization: 403 on create and list, and its
    // profile reads as one that does not exist (404) on every profile route.
    let answer = env
        .admin(Method::POST, "/crm/exporter/profiles", Some(body.clone()))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    let profile = store_profile_directly(&env, body).await;
    let list = format!(
        "/crm/exporter/profiles?organizationId={}",
        env.other_org.organization_id
    );
    for (method, path, status) in [
        (
            Method::GET,
            format!("/crm/exporter/profiles/{profile}"),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            format!("/crm/exporter/profiles/{profile}"),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/crm/exporter/profiles/{profile}/activate"),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            format!("/crm/exporter/profiles/{profile}/failures"),
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, list, StatusCode::FORBIDDEN),
    ] {
        let answer = env.admin(method.clone(), &path, None).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.text());
    }
    let listed = env
        .admin(Method::GET, "/crm/exporter/metadata/organizations", None)
        .await;
    let names: Vec<_> = listed
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|o| o["OrganizationName"].clone())
        .collect();
    assert_eq!(
        names,
        vec![json!("Contoso")],
        "only organizations the caller administers"
    );
}

/// Stores a profile of the second organization without the API (its admin has no token
/// our issuer signs).
async fn store_profile_directly(env: &Env, body: serde_json::Value) -> Uuid {
    let mut profile: des_core::profile::Profile = serde_json::from_value(
        json!({
            "Id": Uuid::nil(), "Version": "1.0", "State": "Inactive",
            "OrganizationUrl": env.other_org.organization_url,
            "DestinationSchemaName": "dbo",
            "CreatedOn": "2026-01-01T00:00:00Z", "ModifiedOn": "2026-01-01T00:00:00Z",
        })
        .as_object()
        .expect("object")
        .clone()
        .into_iter()
        .chain(body.as_object().expect("object").clone())
        .collect::<serde_json::Map<_, _>>()
        .into(),
    )
    .expect("profile");
    profile.id = Uuid::nil();
    des_engine::admin::create_profile(&env.ports, profile)
        .await
        .expect("created")
        .id
}

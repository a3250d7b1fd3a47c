//! Token issue and refusal, and bearer checks on the Web API.

use crate::support::{app_token, env};
use base64::Engine;
use serde_json::Value;

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("claims")
}

#[tokio::test]
async fn token_carries_entra_claims() {
    let env = env().await;
    let c = claims(&env.token);
    assert_eq!(c["aud"], env.emu.base_url());
    assert_eq!(c["iss"], env.emu.issuer());
    assert_eq!(c["tid"], env.emu.tenant_id());
    assert_eq!(c["appid"], env.emu.client_id());
    assert!(c["oid"].is_string() && c["nbf"].is_i64() && c["iat"].is_i64());
    assert_eq!(
        c["exp"].as_i64().expect("exp") - c["iat"].as_i64().expect("iat"),
        3599
    );
    let header = env.token.split('.').next().expect("header");
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], dataverse_emulator::SIGNING_KEY_ID);
}

async fn token_error(env: &crate::support::Env, url: &str, secret: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials".to_owned()),
        ("client_id", env.emu.client_id().to_owned()),
        ("client_secret", secret.to_owned()),
        ("scope", format!("{}/.default", env.emu.base_url())),
    ];
    let resp = env.http.post(url).form(&form).send().await.expect("send");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

#[tokio::test]
async fn token_refused_for_bad_secret() {
    let env = env().await;
    let (status, body) = token_error(&env, &env.emu.token_url(), "wrong").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"][0], 7000215);
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.starts_with("AADSTS7000215:"))
    );
}

#[tokio::test]
async fn token_refused_for_wrong_tenant() {
    let env = env().await;
    let url = env
        .emu
        .token_url()
        .replace(env.emu.tenant_id(), "00000000-1111-2222-3333-444444444444");
    let (status, body) = token_error(&env, &url, env.emu.client_secret()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_codes"][0], 90002);
}

#[tokio::test]
async fn api_refuses_missing_and_bad_tokens() {
    let env = env().await;
    let url = format!("{}/WhoAmI", env.emu.api_url());
    let resp = env.http.get(&url).send().await.expect("send");
    assert_eq!(resp.status(), 401);
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .expect("header")
        .to_owned();
    assert!(
        challenge.starts_with("Bearer authorization_uri="),
        "{challenge}"
    );
    let body: Value = resp.json().await.expect("json");
    assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string());

    let foreign = dataverse_emulator::foreign_token(
        &env.emu.base_url(),
        &env.emu.issuer(),
        env.emu.tenant_id(),
    );
    let other_aud = env
        .emu
        .control()
        .mint_user_token(uuid::Uuid::new_v4(), "https://other.crm.dynamics.com");
    for bad in [foreign.as_str(), other_aud.as_str(), "not-a-jwt"] {
        let resp = env
            .http
            .get(&url)
            .bearer_auth(bad)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 401, "token {bad:.20}");
    }
    let ok = env
        .http
        .get(&url)
        .bearer_auth(app_token(&env.http, &env.emu).await)
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn openid_configuration_and_jwks() {
    let env = env().await;
    let base = format!("{}/{}", env.emu.base_url(), env.emu.tenant_id());
    let conf: Value = env
        .http
        .get(format!("{base}/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(conf["issuer"], env.emu.issuer());
    assert_eq!(conf["token_endpoint"], env.emu.token_url());
    let jwks: Value = env
        .http
        .get(conf["jwks_uri"].as_str().expect("jwks_uri"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(jwks, env.emu.control().jwks());
    assert_eq!(jwks["keys"][0]["kid"], dataverse_emulator::SIGNING_KEY_ID);
    assert_eq!(jwks["keys"][0]["e"], "AQAB");
}

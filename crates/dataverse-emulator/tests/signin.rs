//! Interactive sign-in as a single-page app does it: the authorize page, the code, PKCE at
//! the token endpoint, the tokens, discovery and CORS.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dataverse_emulator::{Emulator, EmulatorConfig};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, ORIGIN};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const APP: &str = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const REDIRECT: &str = "http://127.0.0.1:7071/";
const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";
const SCOPE: &str = "openid profile api://data-export-service/user_impersonation";

struct Spa {
    emu: Emulator,
    http: reqwest::Client,
    admin: Uuid,
}

async fn spa() -> Spa {
    let emu = Emulator::start(EmulatorConfig {
        records: 5,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let control = emu.control();
    control.register_app(APP, &[REDIRECT.to_owned()]);
    let admin = Uuid::new_v4();
    control.add_user(admin, "Ada Admin", true);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Spa { emu, http, admin }
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Spa {
    fn authorize_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/authorize",
            self.emu.base_url(),
            self.emu.tenant_id()
        )
    }

    fn request(&self, redirect: &str) -> Vec<(&'static str, String)> {
        vec![
            ("client_id", APP.to_owned()),
            ("response_type", "code".to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("scope", SCOPE.to_owned()),
            ("state", "s-1".to_owned()),
            ("nonce", "n-1".to_owned()),
            ("code_challenge", challenge(VERIFIER)),
            ("code_challenge_method", "S256".to_owned()),
        ]
    }

    /// Picks the admin on the sign-in page; the redirect's query.
    async fn sign_in(&self) -> HashMap<String, String> {
        let mut form = self.request(REDIRECT);
        form.push(("account", self.admin.to_string()));
        let reply = self
            .http
            .post(self.authorize_url())
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::SEE_OTHER);
        let location = reply.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(location.starts_with(REDIRECT), "{location}");
        let url = reqwest::Url::parse(&location).unwrap();
        url.query_pairs().into_owned().collect()
    }

    async fn redeem(&self, code: &str, redirect: &str, verifier: &str) -> (StatusCode, Value) {
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", APP),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("scope", SCOPE),
        ];
        let reply = self
            .http
            .post(self.emu.token_url())
            .header(ORIGIN, "http://127.0.0.1:7071")
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = reply.status();
        let headers = reply.headers().clone();
        assert_eq!(headers["access-control-allow-origin"], "*");
        (status, reply.json().await.unwrap())
    }
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn aadsts(body: &Value) -> u64 {
    body["error_codes"][0].as_u64().unwrap_or_default()
}

#[tokio::test]
async fn the_sign_in_page_lists_the_people_and_keeps_the_request() {
    let spa = spa().await;
    let page = spa
        .http
        .get(spa.authorize_url())
        .query(&spa.request(REDIRECT))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Ada Admin") && html.contains("ada.admin@emulator.example"));
    assert!(html.contains(&format!("value=\"{}\"", spa.admin)), "{html}");
    assert!(html.contains("name=\"code_challenge\""), "{html}");
}

#[tokio::test]
async fn a_code_with_its_verifier_gives_tokens_for_the_scope_and_the_app() {
    let spa = spa().await;
    let answer = spa.sign_in().await;
    assert_eq!(answer["state"], "s-1");
    let (status, body) = spa.redeem(&answer["code"], REDIRECT, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], "api://data-export-service");
    assert_eq!(access["scp"], "user_impersonation");
    assert_eq!(access["oid"], spa.admin.to_string());
    assert_eq!(access["iss"], spa.emu.issuer());
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], APP);
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["name"], "Ada Admin");
    assert_eq!(
        body["scope"],
        "api://data-export-service/user_impersonation"
    );
}

#[tokio::test]
async fn a_wrong_verifier_a_reused_code_and_a_wrong_redirect_are_refused() {
    let spa = spa().await;
    let code = spa.sign_in().await["code"].clone();
    let wrong = format!("{VERIFIER}x");
    let (status, body) = spa.redeem(&code, REDIRECT, &wrong).await;
    assert_eq!((status, aadsts(&body)), (StatusCode::BAD_REQUEST, 50148));
    assert_eq!(body["error"], "invalid_grant");
    // Any attempt uses the code up, as in Entra.
    let (_, body) = spa.redeem(&code, REDIRECT, VERIFIER).await;
    assert_eq!(aadsts(&body), 54005, "{body}");
    let code = spa.sign_in().await["code"].clone();
    let (_, body) = spa
        .redeem(&code, "http://127.0.0.1:7071/other", VERIFIER)
        .await;
    assert_eq!(aadsts(&body), 70000, "{body}");
    let code = spa.sign_in().await["code"].clone();
    let (status, _) = spa.redeem(&code, REDIRECT, VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = spa.redeem(&code, REDIRECT, VERIFIER).await;
    assert_eq!(aadsts(&body), 54005, "{body}");
}

#[tokio::test]
async fn an_unregistered_redirect_is_an_error_page_and_silent_sign_in_needs_a_login() {
    let spa = spa().await;
    let page = spa
        .http
        .get(spa.authorize_url())
        .query(&spa.request("http://evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.text().await.unwrap().contains("AADSTS50011"));
    let mut silent = spa.request(REDIRECT);
    silent.push(("prompt", "none".to_owned()));
    let reply = spa
        .http
        .get(spa.authorize_url())
        .query(&silent)
        .send()
        .await
        .unwrap();
    let location = reply.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.contains("error=login_required"), "{location}");
    let mut no_pkce = spa.request(REDIRECT);
    no_pkce.retain(|(k, _)| *k != "code_challenge");
    let reply = spa
        .http
        .get(spa.authorize_url())
        .query(&no_pkce)
        .send()
        .await
        .unwrap();
    let location = reply.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.contains("error=invalid_request"), "{location}");
}

#[tokio::test]
async fn discovery_names_the_interactive_endpoints_for_browsers() {
    let spa = spa().await;
    let url = format!("{}/.well-known/openid-configuration", spa.emu.issuer());
    let reply = spa.http.get(url).send().await.unwrap();
    assert_eq!(reply.headers()["access-control-allow-origin"], "*");
    let doc: Value = reply.json().await.unwrap();
    let authorize = doc["authorization_endpoint"].as_str().unwrap();
    assert_eq!(authorize, spa.authorize_url());
    assert!(
        doc["end_session_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/oauth2/v2.0/logout")
    );
    assert!(doc["response_modes_supported"].as_array().unwrap().len() >= 2);
    // The Web API itself answers browsers no CORS headers.
    let api = spa
        .http
        .get(format!("{}/WhoAmI", spa.emu.api_url()))
        .send()
        .await
        .unwrap();
    assert!(!api.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn a_shortened_lifetime_shows_in_the_tokens() {
    let spa = spa().await;
    spa.emu
        .control()
        .set_sign_in_token_lifetime(Some(std::time::Duration::from_secs(5)));
    let code = spa.sign_in().await["code"].clone();
    let (_, body) = spa.redeem(&code, REDIRECT, VERIFIER).await;
    assert_eq!(body["expires_in"], 5);
    let access = claims(body["access_token"].as_str().unwrap());
    let lifetime = access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 5);
}

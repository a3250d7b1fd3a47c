//! Shared test setup: an emulator, an authenticated client and the documentation samples.

use dataverse_emulator::{Emulator, EmulatorConfig};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::path::PathBuf;

pub struct Env {
    pub emu: Emulator,
    pub http: reqwest::Client,
    pub token: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn env() -> Env {
    env_with(EmulatorConfig {
        records: 20,
        ..EmulatorConfig::default()
    })
    .await
}

pub async fn env_with(config: EmulatorConfig) -> Env {
    let emu = Emulator::start(config).await.expect("emulator starts");
    let http = reqwest::Client::new();
    let token = app_token(&http, &emu).await;
    Env { emu, http, token }
}

pub async fn app_token(http: &reqwest::Client, emu: &Emulator) -> String {
    let form = [
        ("grant_type", "client_credentials".to_owned()),
        ("client_id", emu.client_id().to_owned()),
        ("client_secret", emu.client_secret().to_owned()),
        ("scope", format!("{}/.default", emu.base_url())),
    ];
    let body: Value = http
        .post(emu.token_url())
        .form(&form)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}/{path}", self.emu.api_url())
        }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.bearer_auth(&self.token).send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn get_prefer(&self, path: &str, prefer: &str) -> Reply {
        self.send(self.http.get(self.url(path)).header("Prefer", prefer))
            .await
    }

    /// Follows nextLinks from `path` and returns every page.
    pub async fn pages(&self, path: &str, prefer: &str) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut next = Some(self.url(path));
        while let Some(url) = next {
            let r = self.get_prefer(&url, prefer).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            next = r.body["@odata.nextLink"].as_str().map(str::to_owned);
            pages.push(r.body);
        }
        pages
    }
}

pub fn sample(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/dataverse-samples")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("sample parses")
}

pub fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Replaces GUIDs (any case, also inside encodings) with `<guid>` and the org URL with the
/// docs placeholder, so URL and context shapes can be compared with the samples.
pub fn normalize(s: &str, base: &str) -> String {
    let s = if base.is_empty() {
        s.to_owned()
    } else {
        s.replace(base, "[Organization URI]")
    };
    let s = s.replace("[Organization Uri]", "[Organization URI]");
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if is_guid(&b[i..]) {
            out.push_str("<guid>");
            i += 36;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn is_guid(b: &[u8]) -> bool {
    b.len() >= 36
        && b[..36].iter().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Same keys in the same order.
pub fn assert_same_keys(sample: &Value, actual: &Value, what: &str) {
    assert_eq!(keys(sample), keys(actual), "{what}: keys differ");
}

//! The emulator's Web API as a user would call it: sign in with the printed client id and
//! secret, then read and write records over HTTP.

use serde_json::{Value, json};

/// A signed-in Web API session; blocking calls on a private runtime.
pub struct WebApi {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    api: String,
    token: String,
}

impl WebApi {
    pub fn sign_in(api: &str, token_url: &str, client_id: &str, secret: &str, scope: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let http = reqwest::Client::new();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", scope),
        ];
        let body: Value = runtime.block_on(async {
            let response = http.post(token_url).form(&form).send().await.unwrap();
            assert!(
                response.status().is_success(),
                "token request: {}",
                response.status()
            );
            response.json().await.unwrap()
        });
        let token = body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned();
        let api = if api.ends_with('/') {
            api.to_owned()
        } else {
            format!("{api}/")
        };
        Self {
            runtime,
            http,
            api,
            token,
        }
    }

    /// Creates an account named `name`.
    pub fn create_account(&self, name: &str) {
        let url = format!("{}accounts", self.api);
        let status = self.runtime.block_on(async {
            let request = self
                .http
                .post(url)
                .bearer_auth(&self.token)
                .json(&json!({ "name": name }));
            request.send().await.unwrap().status()
        });
        assert!(status.is_success(), "create account: {status}");
    }

    /// Renames the account `id`.
    pub fn rename_account(&self, id: &str, name: &str) {
        let url = format!("{}accounts({id})", self.api);
        let status = self.runtime.block_on(async {
            let request = self
                .http
                .patch(url)
                .bearer_auth(&self.token)
                .json(&json!({ "name": name }));
            request.send().await.unwrap().status()
        });
        assert!(status.is_success(), "update account: {status}");
    }

    /// How many records the entity set holds, following every page.
    pub fn count(&self, entity_set: &str) -> u64 {
        let mut url = Some(format!("{}{entity_set}", self.api));
        let mut total = 0;
        while let Some(next) = url.take() {
            let page: Value = self.runtime.block_on(async {
                let response = self
                    .http
                    .get(next)
                    .bearer_auth(&self.token)
                    .send()
                    .await
                    .unwrap();
                assert!(
                    response.status().is_success(),
                    "read {entity_set}: {}",
                    response.status()
                );
                response.json().await.unwrap()
            });
            total += page["value"].as_array().map_or(0, Vec::len) as u64;
            url = page["@odata.nextLink"].as_str().map(str::to_owned);
        }
        total
    }
}

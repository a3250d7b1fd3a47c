//! Calls to the API handler as the host forwards them: the original path and query,
//! method, headers and body, straight to the handler's port.

use reqwest::Method;
use serde_json::Value;

pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl ApiClient {
    pub fn new(base: String, token: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            base,
            token,
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = request.send().await.expect("the API handler answers");
        let status = answer.status().as_u16();
        let text = answer.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates and activates a profile; its id.
    pub async fn create_active_profile(&self, body: &Value) -> String {
        let (status, created) = self
            .send(Method::POST, "/crm/exporter/profiles", Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["Id"].as_str().expect("Id").to_owned();
        let path = format!("/crm/exporter/profiles/{id}/activate");
        let (status, active) = self.send(Method::POST, &path, None).await;
        assert_eq!(
            (status, &active["State"]),
            (200, &Value::from("Active")),
            "{active}"
        );
        id
    }
}

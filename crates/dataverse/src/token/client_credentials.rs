//! Entra ID v2 client-credentials grant: `POST /{tenant}/oauth2/v2.0/token`.

use std::time::Duration;

use async_trait::async_trait;
use des_core::Secret;
use serde::Deserialize;
use url::Url;

use super::{AccessToken, TokenError, TokenProvider};
use crate::fault::TokenErrorBody;

/// The public-cloud authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// An app registration's id and secret, exchanged for tokens scoped to one environment.
pub struct ClientCredentials {
    http: reqwest::Client,
    token_url: Url,
    client_id: String,
    client_secret: Secret,
    scope: String,
}

impl ClientCredentials {
    /// Credentials for an explicit token endpoint and scope.
    pub fn new(token_url: Url, client_id: &str, client_secret: Secret, scope: &str) -> Self {
        // Without a timeout a hung endpoint would hold every caller of a token cache.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self {
            http,
            token_url,
            client_id: client_id.to_owned(),
            client_secret,
            scope: scope.to_owned(),
        }
    }

    /// Credentials for `tenant` at `authority` (e.g. [`DEFAULT_AUTHORITY`]), scoped to the
    /// environment `org_url` as `<org url>/.default`.
    pub fn for_tenant(
        authority: &Url,
        tenant: &str,
        client_id: &str,
        client_secret: Secret,
        org_url: &Url,
    ) -> Result<Self, TokenError> {
        let base = authority.as_str().trim_end_matches('/');
        let token_url = Url::parse(&format!("{base}/{tenant}/oauth2/v2.0/token"))
            .map_err(|e| TokenError::Protocol(format!("bad authority or tenant: {e}")))?;
        Ok(Self::new(
            token_url,
            client_id,
            client_secret,
            &Self::scope_for(org_url),
        ))
    }

    /// `<org url>/.default`, the scope Dataverse expects.
    pub fn scope_for(org_url: &Url) -> String {
        format!("{}/.default", org_url.as_str().trim_end_matches('/'))
    }

    /// Uses `http` (with its timeouts and TLS settings) for token requests.
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    async fn request(&self) -> Result<(u16, Vec<u8>), TokenError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
            ("scope", self.scope.as_str()),
        ];
        let response = self
            .http
            .post(self.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| TokenError::Unavailable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        Ok((status, body.to_vec()))
    }
}

#[async_trait]
impl TokenProvider for ClientCredentials {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        let (status, body) = self.request().await?;
        match status {
            200..=299 => parse_token_response(&body),
            429 | 500..=599 => Err(TokenError::Unavailable(format!(
                "token endpoint HTTP {status}"
            ))),
            _ => Err(token_refusal(status, &body)),
        }
    }
}

fn token_refusal(status: u16, body: &[u8]) -> TokenError {
    match TokenErrorBody::parse(body) {
        Some(error) => TokenError::Rejected(error.summary()),
        None => TokenError::Rejected(format!("token endpoint HTTP {status}")),
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    token_type: String,
    access_token: String,
    #[serde(default)]
    expires_in: Option<Seconds>,
}

/// v2 sends `expires_in` as a number, v1 as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

/// Parses a token endpoint success body (`token_type`, `expires_in`, `access_token`).
pub fn parse_token_response(body: &[u8]) -> Result<AccessToken, TokenError> {
    let parsed: TokenResponse = serde_json::from_slice(body)
        .map_err(|e| TokenError::Protocol(format!("token response: {e}")))?;
    if !parsed.token_type.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::Protocol(format!(
            "token type {}",
            parsed.token_type
        )));
    }
    let lifetime =
        match parsed.expires_in {
            Some(Seconds::Number(n)) => Some(n),
            Some(Seconds::Text(text)) => Some(text.trim().parse().map_err(|_| {
                TokenError::Protocol(format!("expires_in is not a number: {text}"))
            })?),
            None => None,
        };
    Ok(AccessToken::new(
        Secret::new(parsed.access_token),
        lifetime.map(Duration::from_secs),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_url_and_scope_are_built_from_parts() {
        let authority = Url::parse(DEFAULT_AUTHORITY).expect("url");
        let org = Url::parse("https://org.crm.dynamics.com/").expect("url");
        let creds = ClientCredentials::for_tenant(&authority, "t1", "app", Secret::new("s"), &org)
            .expect("built");
        assert_eq!(
            creds.token_url.as_str(),
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
        assert_eq!(creds.scope, "https://org.crm.dynamics.com/.default");
    }

    #[test]
    fn string_expiry_is_accepted() {
        let body = br#"{"token_type":"Bearer","expires_in":"60","access_token":"a"}"#;
        let token = parse_token_response(body).expect("parsed");
        assert!(token.expires_at().is_some());
    }
}

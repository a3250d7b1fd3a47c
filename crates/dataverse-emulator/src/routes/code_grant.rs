//! The `authorization_code` grant at the token endpoint (PKCE checked, the code used up on the
//! first try), the tokens it answers with, the CORS headers Entra sends to single-page apps on
//! its identity endpoints, and `/_emulator/sign-in` to shorten the sign-in token lifetime.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::token::token_error;
use crate::auth::now;
use crate::server::ServerState;
use crate::signin::Grant;

/// Scopes every OpenID request may carry; they name no resource.
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];
/// Microsoft Graph, whose token Entra issues when no other resource is asked for.
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";

/// `grant_type=authorization_code`: called by the token endpoint with the form's fields.
pub fn redeem(sh: &ServerState, headers: &HeaderMap, form: &HashMap<String, String>) -> Response {
    let get = |name: &str| form.get(name).map_or("", String::as_str);
    let client = get("client_id");
    if sh.sign_in.is_app(client) && !headers.contains_key(header::ORIGIN) {
        let d = "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.";
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", 9002327, d);
    }
    let grant = match sh.sign_in.redeem(
        get("code"),
        client,
        get("redirect_uri"),
        get("code_verifier"),
    ) {
        Ok(grant) => grant,
        Err(refusal) => {
            let (code, description) = refusal.describe();
            return token_error(StatusCode::BAD_REQUEST, "invalid_grant", code, description);
        }
    };
    let requested = match get("scope") {
        "" => grant.scope.clone(),
        scope => scope.to_owned(),
    };
    match Resource::of(&requested) {
        Ok(resource) => Json(tokens(sh, &grant, &resource)).into_response(),
        Err(d) => token_error(StatusCode::BAD_REQUEST, "invalid_scope", 70011, &d),
    }
}

/// The one resource the scopes are for, and the scope names the token grants.
struct Resource {
    audience: String,
    scopes: Vec<String>,
}

impl Resource {
    fn of(scope: &str) -> Result<Resource, String> {
        let mut audience: Option<String> = None;
        let mut scopes = Vec::new();
        for item in scope.split_whitespace() {
            if OIDC_SCOPES.contains(&item) {
                continue;
            }
            let (resource, name) = item.rsplit_once('/').unwrap_or((GRAPH, item));
            match &audience {
                Some(a) if a != resource => {
                    return Err(format!(
                        "AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
                    ));
                }
                _ => audience = Some(resource.to_owned()),
            }
            let name = if name == ".default" {
                "user_impersonation"
            } else {
                name
            };
            scopes.push(name.to_owned());
        }
        Ok(Resource {
            audience: audience.unwrap_or_else(|| GRAPH.to_owned()),
            scopes: if scopes.is_empty() {
                vec!["User.Read".to_owned()]
            } else {
                scopes
            },
        })
    }
}

/// The access token for the resource and the id token for the app.
fn tokens(sh: &ServerState, grant: &Grant, resource: &Resource) -> Value {
    let authority = &sh.authority;
    let lifetime = sh.sign_in.token_lifetime();
    let account = &grant.account;
    let mut access = authority.claims(&resource.audience, account.object_id);
    access.exp = access.iat + lifetime;
    access.scp = Some(resource.scopes.join(" "));
    access.upn = Some(account.username.clone());
    let iat = now();
    let mut id = json!({
        "aud": grant.client_id, "iss": authority.issuer, "iat": iat, "nbf": iat,
        "exp": iat + lifetime, "name": account.name, "preferred_username": account.username,
        "oid": account.object_id, "sub": account.object_id, "tid": sh.tenant, "ver": "2.0",
    });
    if let Some(nonce) = &grant.nonce {
        id["nonce"] = json!(nonce);
    }
    let scope: Vec<String> = resource
        .scopes
        .iter()
        .map(|s| format!("{}/{s}", resource.audience))
        .collect();
    json!({
        "token_type": "Bearer",
        "scope": scope.join(" "),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": authority.sign(&access),
        "id_token": authority.sign(&id),
    })
}

/// Entra answers single-page apps' cross-origin calls to its discovery, keys and token
/// endpoints; the Web API and the control endpoints get no CORS headers.
pub async fn cors(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let identity = !path.starts_with("/api/")
        && !path.starts_with("/_emulator")
        && (path.ends_with("/oauth2/v2.0/token")
            || path.ends_with("/.well-known/openid-configuration")
            || path.ends_with("/discovery/v2.0/keys"));
    if !identity {
        return next.run(request).await;
    }
    let mut response = if request.method() == Method::OPTIONS {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        let headers = preflight.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        preflight
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

#[derive(Deserialize)]
pub struct SignInSettings {
    /// Lifetime of tokens issued through sign-in; `null` goes back to the default.
    token_lifetime_secs: Option<i64>,
}

/// `POST /_emulator/sign-in` with `{"token_lifetime_secs": 5}`.
pub async fn settings(
    State(sh): State<Arc<ServerState>>,
    Json(settings): Json<SignInSettings>,
) -> StatusCode {
    sh.sign_in
        .set_token_lifetime(settings.token_lifetime_secs.map(|s| s.max(1)));
    StatusCode::NO_CONTENT
}

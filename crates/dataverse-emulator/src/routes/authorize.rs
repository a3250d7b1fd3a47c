//! Entra's interactive endpoints for a single-page app: `/oauth2/v2.0/authorize` shows a small
//! sign-in page listing the emulator's people and answers the redirect URI with a code;
//! `/oauth2/v2.0/logout` ends the (cookie-less) session.
//!
//! As Entra does: an unknown client or an unregistered redirect URI is an error *page* (never
//! a redirect to an address nobody registered); other errors go back to the redirect URI as
//! `error` and `error_description`; a single-page app must send a PKCE challenge; `prompt=none`
//! answers `login_required`, because the emulator keeps no sign-in session.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use uuid::Uuid;

use crate::server::ServerState;
use crate::signin::{Account, Grant};

type Params = HashMap<String, String>;

/// `GET /{tenant}/oauth2/v2.0/authorize`.
pub async fn show(
    State(sh): State<Arc<ServerState>>,
    Path(tenant): Path<String>,
    Query(params): Query<Params>,
) -> Response {
    if let Some(problem) = client_problem(&sh, &tenant, &params) {
        return error_page(&problem);
    }
    if let Some((error, description)) = request_problem(&params) {
        return back_with_error(&params, error, description);
    }
    if params.get("prompt").map(String::as_str) == Some("none") {
        let d = "AADSTS50058: A silent sign-in request was sent but no user is signed in.";
        return back_with_error(&params, "login_required", d);
    }
    Html(page(&sh, &params, None)).into_response()
}

/// `POST /{tenant}/oauth2/v2.0/authorize`: the person picked an account on the page.
pub async fn sign_in(
    State(sh): State<Arc<ServerState>>,
    Path(tenant): Path<String>,
    Form(params): Form<Params>,
) -> Response {
    if let Some(problem) = client_problem(&sh, &tenant, &params) {
        return error_page(&problem);
    }
    if let Some((error, description)) = request_problem(&params) {
        return back_with_error(&params, error, description);
    }
    let chosen = params.get("account").and_then(|a| a.parse::<Uuid>().ok());
    let Some(account) = chosen.and_then(|oid| sh.sign_in.account(oid)) else {
        let page = page(&sh, &params, Some("Pick one of the accounts below."));
        return (StatusCode::BAD_REQUEST, Html(page)).into_response();
    };
    let code = sh.sign_in.issue(grant(&params, account));
    let mut answer = vec![("code", code.as_str())];
    if let Some(state) = params.get("state") {
        answer.push(("state", state));
    }
    back_to(&params, &answer)
}

/// `GET /{tenant}/oauth2/v2.0/logout`: back to `post_logout_redirect_uri` when the client
/// registered it, else a page saying so.
pub async fn sign_out(
    State(sh): State<Arc<ServerState>>,
    Query(params): Query<Params>,
) -> Response {
    let client = params.get("client_id").map_or("", String::as_str);
    if let Some(uri) = params.get("post_logout_redirect_uri")
        && sh.sign_in.allows_redirect(client, uri)
    {
        return Redirect::to(uri).into_response();
    }
    Html(shell(
        "Signed out",
        "<h1>You signed out</h1><p>You can close this window.</p>",
    ))
    .into_response()
}

fn grant(params: &Params, account: Account) -> Grant {
    let get = |name: &str| params.get(name).cloned().unwrap_or_default();
    let mut grant = Grant::new(&get("client_id"), &get("redirect_uri"), account);
    grant.challenge = get("code_challenge");
    grant.challenge_method = params
        .get("code_challenge_method")
        .cloned()
        .unwrap_or_else(|| "plain".to_owned());
    grant.scope = get("scope");
    grant.nonce = params.get("nonce").cloned();
    grant
}

/// Tenant, client and redirect URI: what must be right before anything goes back to the app.
fn client_problem(sh: &ServerState, tenant: &str, params: &Params) -> Option<String> {
    let client = params.get("client_id").map_or("", String::as_str);
    let redirect = params.get("redirect_uri").map_or("", String::as_str);
    if tenant != sh.tenant {
        Some(format!("AADSTS90002: Tenant '{tenant}' not found."))
    } else if !sh.sign_in.is_app(client) {
        Some(format!(
            "AADSTS700016: Application with identifier '{client}' was not found in the directory '{tenant}'."
        ))
    } else if !sh.sign_in.allows_redirect(client, redirect) {
        Some(format!(
            "AADSTS50011: The redirect URI '{redirect}' specified in the request does not match the redirect URIs configured for the application '{client}'."
        ))
    } else {
        None
    }
}

/// The rest of the request: `(error, description)` to send back to the (registered) redirect
/// URI when something is wrong.
fn request_problem(params: &Params) -> Option<(&'static str, &'static str)> {
    let get = |name: &str| params.get(name).map_or("", String::as_str);
    if get("response_type") != "code" {
        let d = "AADSTS700054: response_type 'code' is the only one this app may use.";
        return Some(("unsupported_response_type", d));
    }
    if get("code_challenge").is_empty() {
        let d = "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.";
        return Some(("invalid_request", d));
    }
    if !matches!(get("code_challenge_method"), "" | "S256" | "plain") {
        return Some((
            "invalid_request",
            "AADSTS501491: Invalid code_challenge_method.",
        ));
    }
    None
}

fn back_with_error(params: &Params, error: &str, description: &str) -> Response {
    let mut answer = vec![("error", error), ("error_description", description)];
    if let Some(state) = params.get("state") {
        answer.push(("state", state));
    }
    back_to(params, &answer)
}

/// Redirects to the redirect URI with `answer` in its query or fragment (`response_mode`).
fn back_to(params: &Params, answer: &[(&str, &str)]) -> Response {
    let redirect = params.get("redirect_uri").map_or("", String::as_str);
    let encoded: Vec<String> = answer
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let fragment = params.get("response_mode").map(String::as_str) == Some("fragment");
    let joiner = match (fragment, redirect.contains('?')) {
        (true, _) => '#',
        (false, true) => '&',
        (false, false) => '?',
    };
    let location = format!("{redirect}{joiner}{}", encoded.join("&"));
    // 303: the browser follows a POSTed sign-in with a GET.
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// Everything but RFC 3986's unreserved characters.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, COMPONENT).to_string()
}

fn error_page(text: &str) -> Response {
    let body = format!(
        "<h1>Sorry, but we're having trouble signing you in.</h1><p role=\"alert\">{}</p>",
        escape(text)
    );
    (StatusCode::BAD_REQUEST, Html(shell("Sign in error", &body))).into_response()
}

/// The sign-in page: one button per account, the request carried in hidden fields.
fn page(sh: &ServerState, params: &Params, problem: Option<&str>) -> String {
    let mut hidden = String::new();
    let mut names: Vec<&String> = params.keys().filter(|k| *k != "account").collect();
    names.sort();
    for name in names {
        hidden += &format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(&params[name])
        );
    }
    let mut buttons = String::new();
    for account in sh.sign_in.accounts() {
        buttons += &format!(
            "<li><button type=\"submit\" name=\"account\" value=\"{}\"><strong>{}</strong><br><span>{}</span></button></li>",
            account.object_id,
            escape(&account.name),
            escape(&account.username)
        );
    }
    if buttons.is_empty() {
        buttons = "<li>No one can sign in: add a user to the emulator first.</li>".to_owned();
    }
    let alert = problem.map_or(String::new(), |p| {
        format!("<p role=\"alert\">{}</p>", escape(p))
    });
    let scope = params.get("scope").map_or("", String::as_str);
    let body = format!(
        "<h1>Pick an account</h1>{alert}<p>Dataverse emulator, tenant {tenant}. The app asks for: <code>{scope}</code></p>\
         <form method=\"post\">{hidden}<ul>{buttons}</ul></form>",
        tenant = escape(&sh.tenant),
        scope = escape(scope),
    );
    shell("Sign in to your account", &body)
}

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"icon\" href=\"data:,\"><style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f2f2f2;color:#1b1b1b;margin:0}\
main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:4px}\
ul{list-style:none;padding:0}li{margin:.5rem 0}\
button{width:100%;text-align:left;padding:.75rem;border:1px solid #8a8886;background:#fff;font:inherit;cursor:pointer}\
button:hover,button:focus{background:#e1efff;outline:3px solid #0f6cbd}\
span{color:#424242}code{word-break:break-all}[role=alert]{color:#a4262c}";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

//! The portal's files and settings, the `x-monitor` extension and the Prometheus text.

use axum::Router;
use axum::http::{Method, StatusCode};
use des_api::portal::{PortalSettings, router};
use url::Url;

use crate::support::{Env, call};

fn portal(client_id: Option<&str>) -> Router {
    router(PortalSettings {
        client_id: client_id.map(str::to_owned),
        authority: Url::parse("https://login.microsoftonline.com/tenant-1/v2.0").unwrap(),
        scope: "api://des/user_impersonation".to_owned(),
    })
}

#[tokio::test]
async fn the_page_its_files_and_its_settings_are_served_from_the_binary() {
    let router = portal(Some("app-1"));
    let page = call(&router, Method::GET, "/", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text()
            .contains("<script type=\"module\" src=\"/portal/app.js\">")
    );
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(
        policy.contains("connect-src 'self' https://login.microsoftonline.com"),
        "{policy}"
    );
    let config = call(&router, Method::GET, "/portal/config.json", None, None)
        .await
        .json();
    assert_eq!(config["clientId"], "app-1");
    assert_eq!(
        config["authority"],
        "https://login.microsoftonline.com/tenant-1/v2.0"
    );
    assert_eq!(config["scope"], "api://des/user_impersonation");
    for file in [
        "app.js",
        "auth.js",
        "api.js",
        "charts.js",
        "dom.js",
        "profiles.js",
        "actions.js",
        "wizard.js",
        "app.css",
    ] {
        let answer = call(&router, Method::GET, &format!("/portal/{file}"), None, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{file}");
        // Every module the page imports is one of the served files.
        for import in answer
            .text()
            .lines()
            .filter_map(|l| l.split("from './").nth(1))
        {
            let name = import.trim_end_matches("';");
            let imported = call(&router, Method::GET, &format!("/portal/{name}"), None, None).await;
            assert_eq!(imported.status, StatusCode::OK, "{file} imports {name}");
        }
    }
    let missing = call(&router, Method::GET, "/portal/../Cargo.toml", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.json()["CorrelationId"].is_string(),
        "DES's error body"
    );
    let long_url = format!("/portal/app.js?pad={}", "a".repeat(10 * 1024));
    let refused = call(&router, Method::GET, &long_url, None, None).await;
    assert_eq!(refused.status, StatusCode::URI_TOO_LONG);
    assert!(refused.message().contains("URL"), "{}", refused.message());
    let big_header = "t".repeat(40 * 1024);
    let refused = call(&router, Method::GET, "/", Some(&big_header), None).await;
    assert_eq!(refused.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(
        refused.json()["CorrelationId"].is_string(),
        "DES's error body"
    );
    let icon = call(&router, Method::GET, "/favicon.ico", None, None).await;
    assert_eq!(icon.headers["content-type"], "image/svg+xml");
}

#[tokio::test]
async fn without_a_client_id_the_page_is_told_so() {
    let config = call(
        &portal(None),
        Method::GET,
        "/portal/config.json",
        None,
        None,
    )
    .await
    .json();
    assert!(config["clientId"].is_null());
}

#[tokio::test]
async fn monitor_answers_admins_with_figures_and_history() {
    let env = Env::start().await;
    let id = env.create_profile("Watched").await;
    let uri = format!("/crm/exporter/profiles/{id}/x-monitor");
    let anonymous = env.call(Method::GET, &uri, None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let plain = env.token(env.users.plain);
    let refused = env.call(Method::GET, &uri, Some(&plain), None).await;
    // Not an admin of its organization: the profile reads as one that does not exist.
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let answer = env.admin(Method::GET, &uri, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(report["ProfileId"], id);
    let entities = report["Entities"].as_array().unwrap();
    let types: Vec<&str> = entities
        .iter()
        .map(|e| e["Type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["account", "contact"]);
    let account = &entities[0];
    assert_eq!(account["RowsApplied"], 0);
    assert_eq!(account["PendingBatches"], 0);
    assert!(
        account["LagSeconds"].is_null(),
        "an inactive profile has no lag"
    );
    assert_eq!(account["History"]["At"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn metrics_name_profiles_entities_and_counted_requests() {
    let env = Env::start().await;
    let id = env.create_profile("Scraped").await;
    let metrics = Router::new()
        .route("/metrics", axum::routing::get(des_api::monitor::metrics))
        .with_state(env.state.clone());
    let text = call(&metrics, Method::GET, "/metrics", None, None)
        .await
        .text();
    let applied = format!("des_rows_applied_total{{profile=\"{id}\",entity=\"account\"}} 0");
    assert!(text.lines().any(|l| l == applied), "{text}");
    assert!(text.contains("des_queue_messages 0"), "{text}");
    // The profile was created through the API (one POST answered 201).
    let created =
        "des_api_requests_total{method=\"POST\",route=\"/crm/exporter/profiles\",status=\"201\"} 1";
    assert!(text.lines().any(|l| l == created), "{text}");
}

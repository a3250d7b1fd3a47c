//! `/crm/exporter/metadata/*`.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::Env;

#[tokio::test]
async fn organizations_and_discover_give_des_organization_objects() {
    let env = Env::start().await;
    let answer = env
        .admin(Method::GET, "/crm/exporter/metadata/organizations", None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let orgs = answer.json();
    assert_eq!(orgs.as_array().expect("array").len(), 1);
    let org = &orgs[0];
    assert_eq!(org["OrganizationId"], json!(env.org.organization_id));
    assert_eq!(org["OrganizationUrl"], json!(env.org.organization_url));
    assert_eq!(org["ConnectorUrl"], "http://127.0.0.1:7071");
    assert_eq!(org["ErrorCode"], 0);
    assert!(org.get("ClientSecretRef").is_none() && org.get("TenantId").is_none());

    // Lower-case parameter names, as DES's templates sent them.
    let uri = format!(
        "/crm/exporter/metadata/discover?organizationurl={}",
        env.org.organization_url
    );
    let answer = env.admin(Method::GET, &uri, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["OrganizationName"], "Contoso");
}

#[tokio::test]
async fn organization_parameters_are_checked() {
    let env = Env::start().await;
    let cases = [
        (
            "",
            StatusCode::BAD_REQUEST,
            "organizationUrl or organizationId",
        ),
        (
            "?organizationId=nope",
            StatusCode::BAD_REQUEST,
            "organizationId: 'nope' is not a GUID",
        ),
        (
            "?organizationId=00000000-0000-0000-0000-000000000001",
            StatusCode::FORBIDDEN,
            "You are not a System Administrator of an organization configured here as organizationId 00000000-0000-0000-0000-000000000001",
        ),
    ];
    for (query, status, message) in cases {
        let uri = format!("/crm/exporter/metadata/connector{query}");
        let answer = env.admin(Method::GET, &uri, None).await;
        assert_eq!(answer.status, status, "{query}: {}", answer.text());
        assert!(
            answer.message().contains(message),
            "{query}: {}",
            answer.message()
        );
    }
    // Id and URL of two different organizations do not name one.
    let uri = format!(
        "/crm/exporter/metadata/connector?organizationId={}&organizationUrl={}",
        env.org.organization_id, env.other_org.organization_url
    );
    let answer = env.admin(Method::GET, &uri, None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
}

#[tokio::test]
async fn entities_are_the_change_tracked_ones_and_relationships_the_m_n_ones() {
    let env = Env::start().await;
    let uri = format!("/crm/exporter/metadata/entities?{}", env.org_query());
    let answer = env.admin(Method::GET, &uri, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let entities = answer.json();
    let names: Vec<&str> = entities
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["LogicalName"].as_str().expect("LogicalName"))
        .collect();
    assert!(
        names.contains(&"account") && names.contains(&"contact"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"new_auditnote"),
        "untracked tables are not exportable"
    );
    let account = entities
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["LogicalName"] == "account")
        .expect("account");
    assert_eq!(account["DisplayName"], "Account");

    let uri = format!("/crm/exporter/metadata/relationships?{}", env.org_query());
    let answer = env.admin(Method::GET, &uri, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let relationships = answer.json();
    let first = &relationships.as_array().expect("array")[0];
    assert!(first["SchemaName"].is_string() && first["IntersectEntityName"].is_string());
}

#[tokio::test]
async fn privacy_terms_are_accepted_once_and_remembered() {
    let env = Env::start().await;
    let has = format!(
        "/crm/exporter/metadata/hasorgacceptedprivacyterms?{}",
        env.org_query()
    );
    let answer = env.admin(Method::GET, &has, None).await;
    assert_eq!(answer.json(), json!(false));
    env.accept_privacy_terms().await;
    env.accept_privacy_terms().await;
    assert_eq!(env.admin(Method::GET, &has, None).await.json(), json!(true));
    let plain = env.token(env.users.plain);
    let accept = format!(
        "/crm/exporter/metadata/acceptprivacyterms?{}",
        env.org_query()
    );
    let answer = env.call(Method::POST, &accept, Some(&plain), None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_des_errors() {
    let env = Env::start().await;
    let answer = env.admin(Method::GET, "/crm/exporter/nothing", None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    answer.message();
    let answer = env
        .admin(Method::DELETE, "/crm/exporter/metadata/entities", None)
        .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    answer.message();
}

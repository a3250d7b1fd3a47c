//! The OpenAPI document and the docs page.

use axum::http::{Method, StatusCode};

use crate::support::Env;

/// DES's operations: (verb, path, operationId).
const DES: &[(&str, &str, &str)] = &[
    (
        "get",
        "/crm/exporter/metadata/organizations",
        "Metadata_GetOrganizations",
    ),
    (
        "get",
        "/crm/exporter/metadata/discover",
        "Metadata_GetOrgDetails",
    ),
    (
        "get",
        "/crm/exporter/metadata/connector",
        "Metadata_GetConnectorDetails",
    ),
    (
        "get",
        "/crm/exporter/metadata/entities",
        "Metadata_GetEntities",
    ),
    (
        "get",
        "/crm/exporter/metadata/relationships",
        "Metadata_GetRelationships",
    ),
    (
        "get",
        "/crm/exporter/metadata/hasorgacceptedprivacyterms",
        "Metadata_HasOrgAcceptedPrivacyTerms",
    ),
    (
        "post",
        "/crm/exporter/metadata/acceptprivacyterms",
        "Metadata_AcceptOrgPrivacyTerms",
    ),
    (
        "get",
        "/crm/exporter/profiles",
        "Profiles_GetProfilesByOrganizationId",
    ),
    ("post", "/crm/exporter/profiles", "Profiles_CreateProfile"),
    (
        "get",
        "/crm/exporter/profiles/{id}",
        "Profiles_GetProfileById",
    ),
    (
        "put",
        "/crm/exporter/profiles/{id}",
        "Profiles_UpdateProfile",
    ),
    (
        "delete",
        "/crm/exporter/profiles/{id}",
        "Profiles_DeleteProfileById",
    ),
    (
        "post",
        "/crm/exporter/profiles/{id}/activate",
        "Profiles_Activate",
    ),
    (
        "post",
        "/crm/exporter/profiles/{id}/activatemetadata",
        "Profiles_ActivateMetadata",
    ),
    (
        "post",
        "/crm/exporter/profiles/{id}/activatedata",
        "Profiles_ActivateData",
    ),
    (
        "post",
        "/crm/exporter/profiles/{id}/deactivate",
        "Profiles_Deactivate",
    ),
    (
        "get",
        "/crm/exporter/profiles/{id}/test",
        "Profiles_GetTestResultById",
    ),
    (
        "post",
        "/crm/exporter/profiles/validate",
        "Profiles_ValidateBeforeProfileCreation",
    ),
    (
        "get",
        "/crm/exporter/profiles/{id}/failures",
        "Profiles_GetProfileFailuresInfoById",
    ),
];

#[tokio::test]
async fn the_document_lists_every_des_operation_and_marks_extensions() {
    let env = Env::start().await;
    let answer = env
        .call(Method::GET, "/swagger/docs/2016-01-01", None, None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let doc = answer.json();
    assert_eq!(doc["info"]["version"], "2016-01-01");
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:7071");
    for (verb, path, id) in DES {
        let op = &doc["paths"][path][verb];
        assert_eq!(op["operationId"], *id, "{verb} {path}");
        assert!(op["security"].is_array(), "{id} needs a token");
        assert!(op.get("x-extension").is_none(), "{id}");
    }
    for path in [
        "/crm/exporter/profiles/{id}/x-resync",
        "/crm/exporter/profiles/{id}/x-resyncfailed",
        "/crm/exporter/profiles/{id}/x-monitor",
    ] {
        let item = &doc["paths"][path];
        let op = item.get("post").unwrap_or(&item["get"]);
        assert_eq!(op["x-extension"], true, "{path}");
        assert_eq!(op["tags"][0], "Extensions");
        assert!(
            op["summary"]
                .as_str()
                .expect("summary")
                .starts_with("EXTENSION")
        );
    }
    let profile = &doc["components"]["schemas"]["ProfileDescription"]["properties"];
    assert_eq!(
        profile["RetryPolicy"]["$ref"],
        "#/components/schemas/RetryPolicy"
    );
}

/// The router serves exactly what the document describes: no documented operation is a
/// 404 or 405, and secured ones demand a token.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let env = Env::start().await;
    let doc = env
        .call(Method::GET, "/swagger/docs/2016-01-01", None, None)
        .await
        .json();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (verb, op) in item.as_object().expect("item") {
            let uri = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
            let method = Method::from_bytes(verb.to_ascii_uppercase().as_bytes()).expect("verb");
            let answer = env.call(method, &uri, None, None).await;
            let expected_401 = op["security"].is_array();
            assert!(
                ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&answer.status),
                "{verb} {path}: {}",
                answer.status
            );
            if expected_401 {
                assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{verb} {path}");
            }
            count += 1;
        }
    }
    assert_eq!(
        count,
        DES.len() + 3 + 4,
        "DES operations, three extensions, challenge, download, two docs"
    );
}

#[tokio::test]
async fn the_docs_page_is_self_contained() {
    let env = Env::start().await;
    let answer = env.call(Method::GET, "/swagger/ui/index", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let page = answer.text();
    assert!(
        page.contains("../docs/2016-01-01"),
        "it renders the document"
    );
    assert!(
        !page.contains("<script src") && !page.contains("<link"),
        "no external assets"
    );
}

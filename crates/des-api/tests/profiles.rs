//! `/crm/exporter/profiles*`: CRUD, activation, status, resync extensions.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::Env;

#[tokio::test]
async fn create_read_list_update_delete() {
    let env = Env::start().await;
    let id = env.create_profile("Sales").await;
    let item = format!("/crm/exporter/profiles/{id}");

    let profile = env.admin(Method::GET, &item, None).await.json();
    assert_eq!(profile["Name"], "Sales");
    assert_eq!(profile["State"], "Inactive");
    assert_eq!(profile["OrganizationUrl"], json!(env.org.organization_url));
    assert_eq!(profile["RetryPolicy"]["MaxRetryCount"], 0);
    assert_eq!(profile["DestinationSchemaName"], "dbo");
    assert!(profile["Entities"][0].get("Status").is_none());

    let list = format!("/crm/exporter/profiles?{}&status=true", env.org_query());
    let listed = env.admin(Method::GET, &list, None).await.json();
    assert_eq!(listed.as_array().expect("array").len(), 1);
    let status = &listed[0]["Entities"][0]["Status"];
    assert_eq!(status["Type"], "account");
    assert_eq!(status["InitialSyncState"], "NotStarted");

    // PUT echoes a GET body back with changes; server-owned fields are ignored.
    let mut body = profile.clone();
    body["Name"] = json!("Sales v2");
    body["Entities"] = json!([{"Type": "lead"}]);
    let answer = env.admin(Method::PUT, &item, Some(body)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let updated = answer.json();
    assert_eq!(
        (updated["Name"].clone(), updated["Id"].clone()),
        (json!("Sales v2"), json!(id))
    );
    assert_eq!(updated["CreatedOn"], profile["CreatedOn"]);
    assert_eq!(
        updated["Entities"],
        json!([{"Type": "lead", "Settings": {}}])
    );

    let answer = env.admin(Method::DELETE, &item, None).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = env.admin(Method::GET, &item, None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.message().contains(&id));
}

#[tokio::test]
async fn names_are_unique_per_organization() {
    let env = Env::start().await;
    env.create_profile("Sales").await;
    let answer = env
        .admin(
            Method::POST,
            "/crm/exporter/profiles",
            Some(env.profile_body("sales")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert!(
        answer.message().starts_with("Name:"),
        "{}",
        answer.message()
    );
}

#[tokio::test]
async fn activation_needs_the_privacy_terms_then_every_mode_sets_its_state() {
    let env = Env::start().await;
    let id = env.create_profile("Sales").await;
    let activate = format!("/crm/exporter/profiles/{id}/activate");
    let answer = env.admin(Method::POST, &activate, None).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text());
    assert!(
        answer.message().contains("acceptprivacyterms"),
        "{}",
        answer.message()
    );

    env.accept_privacy_terms().await;
    for (action, state) in [
        ("activatemetadata", "MetadataOnly"),
        ("activatedata", "DataOnly"),
        ("activate", "Active"),
        ("deactivate", "Inactive"),
    ] {
        let uri = format!("/crm/exporter/profiles/{id}/{action}");
        let answer = env.admin(Method::POST, &uri, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{action}: {}", answer.text());
        assert_eq!(answer.json()["State"], state, "{action}");
    }
}

#[tokio::test]
async fn unknown_and_malformed_profile_ids() {
    let env = Env::start().await;
    let missing = uuid::Uuid::new_v4();
    for (uri, status) in [
        (
            format!("/crm/exporter/profiles/{missing}"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/crm/exporter/profiles/{missing}/test"),
            StatusCode::NOT_FOUND,
        ),
        (
            "/crm/exporter/profiles/not-a-guid".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let answer = env.admin(Method::GET, &uri, None).await;
        assert_eq!(answer.status, status, "{uri}");
        answer.message();
    }
}

#[tokio::test]
async fn resync_extensions_name_what_they_restarted() {
    let env = Env::start().await;
    let id = env.create_profile("Sales").await;
    let uri = format!("/crm/exporter/profiles/{id}/x-resync?entity=account");
    let answer = env.admin(Method::POST, &uri, None).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text());
    assert_eq!(answer.json()["Resynced"], json!(["account"]));

    let uri = format!("/crm/exporter/profiles/{id}/x-resync?entity=lead");
    let answer = env.admin(Method::POST, &uri, None).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.message().contains("'lead'"));
    let uri = format!("/crm/exporter/profiles/{id}/x-resync");
    let answer = env.admin(Method::POST, &uri, None).await;
    assert_eq!(answer.message(), "entity: is required");

    let uri = format!("/crm/exporter/profiles/{id}/x-resyncfailed");
    let answer = env.admin(Method::POST, &uri, None).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    assert_eq!(answer.json()["Resynced"], json!([]));
}

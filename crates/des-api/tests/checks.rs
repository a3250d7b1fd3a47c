//! `profiles/{id}/test` and `profiles/validate` run the real checks.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::Env;

fn checks(report: &Value) -> Vec<(String, bool, String)> {
    report["Checks"]
        .as_array()
        .expect("Checks")
        .iter()
        .map(|c| {
            let name = c["Name"].as_str().expect("Name").to_owned();
            let message = c["Message"].as_str().expect("Message").to_owned();
            (name, c["Passed"].as_bool().expect("Passed"), message)
        })
        .collect()
}

fn passed(report: &Value, name: &str) -> bool {
    checks(report).iter().any(|(n, ok, _)| n == name && *ok)
}

#[tokio::test]
async fn test_reports_every_check_of_a_stored_profile() {
    let env = Env::start().await;
    let id = env.create_profile("Sales").await;
    let uri = format!("/crm/exporter/profiles/{id}/test");
    let report = env.admin(Method::GET, &uri, None).await.json();
    let names: Vec<String> = checks(&report).into_iter().map(|c| c.0).collect();
    assert_eq!(
        names,
        [
            "SecretResolved",
            "TargetReachable",
            "TargetPermissions",
            "SourceReachable",
            "EntitiesExportable",
            "PrivacyTermsAccepted"
        ]
    );
    for name in &names[..5] {
        assert!(passed(&report, name), "{name}: {report:#}");
    }
    assert!(!passed(&report, "PrivacyTermsAccepted"));
    assert_eq!(report["Succeeded"], false);
    let permissions = &checks(&report)[2].2;
    assert!(permissions.contains("CREATE TABLE"), "{permissions}");

    env.accept_privacy_terms().await;
    let report = env.admin(Method::GET, &uri, None).await.json();
    assert_eq!(report["Succeeded"], true, "{report:#}");
    assert_eq!(report["ProfileId"], json!(id));
}

#[tokio::test]
async fn validate_reports_a_missing_secret_by_reference_only() {
    let env = Env::start().await;
    let mut body = env.profile_body("Draft");
    body["DestinationKeyVaultUri"] = json!("local:nowhere");
    let answer = env
        .admin(Method::POST, "/crm/exporter/profiles/validate", Some(body))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(report["Succeeded"], false);
    let (_, ok, message) = checks(&report).remove(0);
    assert!(!ok);
    assert!(message.contains("local:nowhere"), "{message}");
    assert!(!passed(&report, "TargetReachable"));
    let target = env.target_db().display().to_string();
    assert!(
        !answer.text().contains(&target),
        "the secret value never appears"
    );
    // Validation stores nothing.
    let list = format!("/crm/exporter/profiles?{}", env.org_query());
    assert_eq!(env.admin(Method::GET, &list, None).await.json(), json!([]));
}

#[tokio::test]
async fn the_source_check_fails_when_dataverse_is_down() {
    let env = Env::start().await;
    let id = env.create_profile("Sales").await;
    env.emulator.control().faults().fail_next(20, 503);
    let uri = format!("/crm/exporter/profiles/{id}/test");
    let report = env.admin(Method::GET, &uri, None).await.json();
    assert!(!passed(&report, "SourceReachable"), "{report:#}");
    assert!(!passed(&report, "EntitiesExportable"));
    assert!(passed(&report, "TargetReachable"));
}

/// A malformed `organizationId` parameter is refused even when the body names the
/// organization (found by the OpenAPI fuzzer: it was ignored and the checks ran).
#[tokio::test]
async fn validate_refuses_a_malformed_organization_parameter_beside_a_body() {
    let env = Env::start().await;
    let body = env.profile_body("Draft");
    let uri = "/crm/exporter/profiles/validate?organizationId=not-a-guid";
    let answer = env.admin(Method::POST, uri, Some(body)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert!(
        answer.text().contains("organizationId"),
        "{}",
        answer.text()
    );
}

//! Bad bodies get 400 with a message naming the problem, never a 500.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::Env;

async fn rejected(env: &Env, body: String, expected: &str) {
    let token = env.admin_token();
    for (method, uri) in [
        (Method::POST, "/crm/exporter/profiles"),
        (Method::POST, "/crm/exporter/profiles/validate"),
    ] {
        let answer = env
            .call(method, uri, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{uri} {expected}: {}",
            answer.text()
        );
        let message = answer.message();
        assert!(
            message.contains(expected),
            "{uri}: expected '{expected}' in '{message}'"
        );
    }
}

fn with(env: &Env, change: impl FnOnce(&mut Value)) -> String {
    let mut body = env.profile_body("Sales");
    change(&mut body);
    body.to_string()
}

#[tokio::test]
async fn each_bad_body_names_its_problem() {
    let env = Env::start().await;
    let remove = |key: &'static str| {
        move |b: &mut Value| {
            b.as_object_mut().expect("object").remove(key);
        }
    };
    let cases: Vec<(String, &str)> = vec![
        (with(&env, remove("Name")), "Name: is required"),
        (with(&env, remove("Entities")), "Entities: is required"),
        (
            with(&env, remove("DestinationKeyVaultUri")),
            "DestinationKeyVaultUri: is required",
        ),
        (
            with(&env, |b| b["Name"] = json!(42)),
            "Name: invalid type: integer `42`, expected a string",
        ),
        (
            with(&env, |b| b["WriteDeleteLog"] = json!("yes")),
            "WriteDeleteLog: invalid type",
        ),
        (
            with(&env, |b| b["Entities"][0]["Type"] = json!(7)),
            "Entities[0].Type: invalid type",
        ),
        (
            with(&env, |b| b["RetryPolicy"]["MaxRetryCount"] = json!(21)),
            "RetryPolicy.MaxRetryCount: must be 0 to 20, got 21",
        ),
        (
            with(&env, |b| {
                b["RetryPolicy"]["IntervalInSeconds"] = json!(3601)
            }),
            "RetryPolicy.IntervalInSeconds: must be 0 to 3600",
        ),
        (
            with(&env, |b| b["RetryPolicy"]["MaxRetryCount"] = json!(-1)),
            "RetryPolicy.MaxRetryCount: invalid value",
        ),
        (
            with(&env, |b| b["DestinationPrefix"] = json!("bad-prefix")),
            "DestinationPrefix: must be alphanumeric",
        ),
        (
            with(&env, |b| b["DestinationPrefix"] = json!("fifteencharsxyz")),
            "DestinationPrefix: must be under 15 characters",
        ),
        (
            with(&env, |b| b["DestinationType"] = json!("oracle")),
            "DestinationType: unknown variant `oracle`",
        ),
        (
            with(&env, |b| b["Entities"] = json!([])),
            "Entities: at least one entity is required",
        ),
        (
            with(&env, |b| b["Colour"] = json!("blue")),
            "Colour: unknown field `Colour`, expected one of `Name`",
        ),
        (
            with(&env, |b| {
                b["OrganizationUrl"] = json!("https://elsewhere.crm.dynamics.com")
            }),
            "OrganizationUrl:",
        ),
        ("{\"Name\": ".to_owned(), "body: EOF while parsing a value"),
        ("[1, 2]".to_owned(), "body: must be a JSON object"),
        (String::new(), "body: a JSON body is required"),
        (
            format!("{} trailing", env.profile_body("Sales")),
            "body: trailing characters",
        ),
    ];
    for (body, expected) in cases {
        rejected(&env, body, expected).await;
    }
}

/// Create refuses entities the source does not export; validate reports them as a failed
/// check instead, since reporting is its job.
#[tokio::test]
async fn entities_and_relationships_the_source_lacks_are_refused_on_create_and_reported_by_validate()
 {
    let env = Env::start().await;
    let token = env.admin_token();
    let cases = [
        (
            "Entities",
            json!([{"Type": "nosuchentity"}]),
            "Entities.Type: unknown entity 'nosuchentity'",
        ),
        (
            "Entities",
            json!([{"Type": "new_auditnote"}]),
            "Entities.Type: entity 'new_auditnote' does not have change tracking enabled",
        ),
        (
            "Relationships",
            json!([{"SchemaName": "nope_association"}]),
            "Relationships.SchemaName: unknown M:N relationship 'nope_association'",
        ),
    ];
    for (field, value, expected) in cases {
        let body = with(&env, |b| b[field] = value);
        let answer = env
            .call(
                Method::POST,
                "/crm/exporter/profiles",
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.message(), expected);
        let answer = env
            .call(
                Method::POST,
                "/crm/exporter/profiles/validate",
                Some(&token),
                Some(body),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        let report = answer.json();
        assert_eq!(report["Checks"][4]["Name"], "EntitiesExportable");
        assert_eq!(
            (
                report["Checks"][4]["Passed"].clone(),
                report["Checks"][4]["Message"].clone()
            ),
            (json!(false), json!(expected))
        );
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let env = Env::start().await;
    let mut body = env.profile_body("Sales");
    body["Entities"][0]["Settings"] = json!({"padding": "x".repeat(300 * 1024)});
    let answer = env
        .call(
            Method::POST,
            "/crm/exporter/profiles",
            Some(&env.admin_token()),
            Some(body.to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.message(),
        "body: the request body is larger than 256 KiB"
    );
}

#[tokio::test]
async fn a_text_plain_body_is_accepted_as_des_sample_client_sent_it() {
    let env = Env::start().await;
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/crm/exporter/profiles")
        .header("Authorization", format!("Bearer {}", env.admin_token()))
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(axum::body::Body::from(
            env.profile_body("Plain").to_string(),
        ))
        .expect("request");
    let response = tower::ServiceExt::oneshot(env.router.clone(), request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::CREATED);
}

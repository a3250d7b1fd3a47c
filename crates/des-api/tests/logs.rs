//! The request span: each request's correlation id is the one its answer names (header and
//! error body) and the one every log line about it carries; a 500's cause is logged under it
//! and never answered; tokens never reach the log.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use des_api::CORRELATION_HEADER;
use uuid::Uuid;

use crate::internal::{BrokenProfiles, CAUSE};
use crate::support::{Answer, Env, Logs};

/// The id in the answer's header, a UUID.
fn header_id(answer: &Answer) -> String {
    let id = answer
        .headers
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {CORRELATION_HEADER} in {:?}", answer.headers));
    id.parse::<Uuid>().expect("a UUID");
    id.to_owned()
}

#[tokio::test]
async fn a_refusal_names_its_correlation_id_in_header_body_and_log() {
    let env = Env::start().await;
    let (logs, _guard) = Logs::capture();
    let stranger = env.token(Uuid::new_v4());
    let uri = format!("/crm/exporter/profiles?{}", env.org_query());
    let answer = env.call(Method::GET, &uri, Some(&stranger), None).await;
    assert!(answer.status.is_client_error(), "{}", answer.status);
    let id = header_id(&answer);
    assert_eq!(answer.json()["CorrelationId"], id.as_str());

    let field = format!("correlation_id={id}");
    let status = format!("status={}", answer.status.as_u16());
    let outcome = logs.lines_with(&[&field, "Answered with an error.", &status]);
    assert_eq!(outcome.len(), 1, "{}", logs.text());
    assert!(outcome[0].contains(" INFO "), "{}", outcome[0]);
    // The span names the route template and nothing of the query string.
    let span = format!("request{{{field} method=GET route=/crm/exporter/profiles}}:");
    assert!(outcome[0].contains(&span), "{}", outcome[0]);
    assert!(!logs.text().contains(&stranger), "the token was logged");
    // Another request gets another id.
    let again = env.call(Method::GET, &uri, None, None).await;
    assert_ne!(header_id(&again), id);
}

#[tokio::test]
async fn a_handler_s_log_line_carries_the_request_s_correlation_id() {
    let env = Env::start().await;
    let (logs, _guard) = Logs::capture();
    let uri = format!("/crm/exporter/profiles?{}", env.org_query());
    let answer = env
        .admin(Method::POST, &uri, Some(env.profile_body("Logged")))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let field = format!("correlation_id={}", header_id(&answer));
    let created = logs.lines_with(&[&field, "Profile created."]);
    assert_eq!(created.len(), 1, "{}", logs.text());
    assert!(created[0].contains("request{"), "{}", created[0]);
    let outcome = logs.lines_with(&[&field, "Answered.", "status=201"]);
    assert_eq!(outcome.len(), 1, "{}", logs.text());
    assert!(outcome[0].contains("latency_ms="), "{}", outcome[0]);
    assert!(
        !logs.text().contains(&env.admin_token()),
        "the token was logged"
    );
}

#[tokio::test]
async fn a_500_s_cause_is_logged_under_the_id_the_client_got_and_not_answered() {
    let env = Env::start().await;
    let mut ports = env.ports.clone();
    ports.control = Arc::new(BrokenProfiles(Arc::clone(&env.ports.control)));
    let router = env.router_with(ports);
    let (logs, _guard) = Logs::capture();
    let uri = format!("/crm/exporter/profiles?{}", env.org_query());
    let answer =
        crate::support::call(&router, Method::GET, &uri, Some(&env.admin_token()), None).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.message(), "Internal server error");
    assert!(!answer.text().contains(CAUSE), "{}", answer.text());
    let id = header_id(&answer);
    assert_eq!(answer.json()["CorrelationId"], id.as_str());

    let field = format!("correlation_id={id}");
    let failed = logs.lines_with(&[&field, "Answered with an error.", CAUSE]);
    assert_eq!(failed.len(), 1, "{}", logs.text());
    assert!(failed[0].contains(" ERROR "), "{}", failed[0]);
    assert!(failed[0].contains("status=500"), "{}", failed[0]);
    // The store's own line, inside the handler, carries the same id.
    let asked = logs.lines_with(&[&field, "The broken store is asked for the profiles."]);
    assert_eq!(asked.len(), 1, "{}", logs.text());
    // The cause is logged once: the conversion to the error no longer logs it.
    assert_eq!(logs.lines_with(&[CAUSE]).len(), 1, "{}", logs.text());
}

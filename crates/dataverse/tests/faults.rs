//! Retries and error mapping against the emulator's faults.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dataverse::{CachedToken, ColumnPlan, PlannedColumn};
use des_core::AttributeKind;
use des_core::ports::{PageRequest, Source, SourceError};

use crate::support::{client, config, credentials, emulator, env, names};

#[tokio::test]
async fn throttled_request_waits_retry_after_then_succeeds() {
    let env = env(5, 50).await;
    env.client.who_am_i().await.expect("warm up the token");
    env.emulator.control().faults().throttle_next(1, 1);
    let started = Instant::now();
    env.client
        .who_am_i()
        .await
        .expect("WhoAmI after the throttle");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "sent again after {waited:?}, before Retry-After"
    );
}

#[tokio::test]
async fn throttled_data_read_is_retried_transparently() {
    let env = env(10, 100).await;
    let select = names(&["name"]);
    let request = PageRequest::Start {
        entity_set: "accounts".to_owned(),
        select: select.clone(),
    };
    env.client
        .entity_metadata("account")
        .await
        .expect("metadata");
    env.emulator.control().faults().throttle_next(2, 1);
    let started = Instant::now();
    let page = env.client.read_page(&request, &select).await.expect("page");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "two Retry-After waits"
    );
    assert!(!page.changes.is_empty());
}

#[tokio::test]
async fn retry_after_beyond_the_wait_cap_gives_up_at_once() {
    let env = env(5, 50).await;
    env.client.who_am_i().await.expect("warm up");
    env.emulator.control().faults().throttle_next(1, 600);
    let started = Instant::now();
    match env.client.who_am_i().await {
        Err(SourceError::Unavailable(reason)) => assert!(reason.contains("429"), "{reason}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not sit out a 600 s Retry-After"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let env = env(5, 50).await;
    for status in [500, 502, 503, 504] {
        env.emulator.control().faults().fail_next(2, status);
        env.client
            .who_am_i()
            .await
            .unwrap_or_else(|e| panic!("{status} not retried: {e}"));
    }
}

#[tokio::test]
async fn exhausted_retries_are_unavailable() {
    let env = env(5, 50).await;
    env.emulator.control().faults().fail_next(10, 503);
    match env.client.who_am_i().await {
        Err(SourceError::Unavailable(reason)) => {
            assert!(
                reason.contains("HTTP 503") && reason.contains("4 attempts"),
                "{reason}"
            );
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    env.emulator.control().faults().clear();
    env.client
        .who_am_i()
        .await
        .expect("recovers once the fault clears");
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let env = env(5, 50).await;
    env.client.who_am_i().await.expect("warm up");
    env.emulator.control().faults().drop_next(2);
    env.client
        .who_am_i()
        .await
        .expect("WhoAmI after two dropped connections");
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let emulator = emulator(5).await;
    let mut settings = config(&emulator, 50);
    settings.request_timeout = Duration::from_millis(200);
    let tokens = Arc::new(CachedToken::new(credentials(&emulator)));
    let client = client(settings, tokens);
    client
        .who_am_i()
        .await
        .expect("fast enough without latency");
    emulator
        .control()
        .faults()
        .set_latency(Duration::from_secs(2));
    match client.who_am_i().await {
        Err(SourceError::Unavailable(reason)) => assert!(reason.contains("timed out"), "{reason}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    emulator.control().faults().set_latency(Duration::ZERO);
    client.who_am_i().await.expect("recovers");
}

#[tokio::test]
async fn bad_request_surfaces_code_and_message_without_retry() {
    let env = env(5, 50).await;
    let bogus = PlannedColumn {
        logical_name: "nosuchcolumn".to_owned(),
        wire_name: "nosuchcolumn".to_owned(),
        kind: AttributeKind::String,
        date_only: false,
        sole_target: None,
        source: dataverse::WireSource::Property,
    };
    let plan = ColumnPlan::from_columns("accounts", "accountid", vec![bogus]);
    let request = PageRequest::Start {
        entity_set: "accounts".to_owned(),
        select: Vec::new(),
    };
    match env.client.read_planned(&plan, &request).await {
        Err(SourceError::Service {
            status,
            code,
            message,
        }) => {
            assert_eq!(status, 400);
            assert!(!code.is_empty(), "Dataverse's error code is kept");
            assert!(message.contains("nosuchcolumn"), "{message}");
        }
        other => panic!("expected a 400 service error, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_entity_set_is_not_found() {
    let env = env(5, 50).await;
    let plan = ColumnPlan::from_columns("nosuchsets", "nosuchsetid", Vec::new());
    let request = PageRequest::Start {
        entity_set: "nosuchsets".to_owned(),
        select: Vec::new(),
    };
    match env.client.read_planned(&plan, &request).await {
        Err(SourceError::Service {
            status, message, ..
        }) => {
            assert_eq!(status, 404);
            assert!(!message.is_empty());
        }
        other => panic!("expected a 404 service error, got {other:?}"),
    }
    let select = names(&["name"]);
    match env.client.read_page(&request, &select).await {
        Err(SourceError::Service {
            status: 404,
            message,
            ..
        }) => assert!(message.contains("nosuchsets")),
        other => panic!("the Source path needs the entity too, got {other:?}"),
    }
}

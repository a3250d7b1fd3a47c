//! The refusal table: every way a request is refused, over real HTTP through
//! `des_api::serve`, each answered with DES's error body and a correlation id, which the
//! `x-ms-correlation-request-id` header names too.

use std::time::Duration;

use des_api::AdminRecheck;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::over_http::{RawAnswer, get, raw, serve_router};
use crate::support::Env;

fn assert_des_body(case: &str, answer: &RawAnswer) {
    let body = &answer.body;
    assert!(
        body["CorrelationId"]
            .as_str()
            .is_some_and(|c| c.parse::<Uuid>().is_ok()),
        "{case}: no correlation id in {body} ({})",
        answer.head
    );
    assert!(body["Details"].is_string(), "{case}: {body}");
    assert!(body["Message"].is_string(), "{case}: {body}");
    // The header names the same id (hyper's own refusals included).
    let header = format!(
        "\r\n{}: {}\r\n",
        des_api::CORRELATION_HEADER,
        body["CorrelationId"].as_str().unwrap_or_default()
    );
    assert!(
        answer.head.to_ascii_lowercase().contains(&header),
        "{case}: no {header:?} in {}",
        answer.head
    );
}

fn with_token(target: &str, token: &str) -> Vec<u8> {
    get(target, Some(("authorization", &format!("Bearer {token}"))))
}

fn post(target: &str, token: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {target} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn every_refusal_carries_des_s_body_and_a_correlation_id() {
    let env = Env::start().await;
    // Answers are rechecked at once here, so the disabled admin below is refused at once.
    let recheck = AdminRecheck {
        recheck_after: Duration::ZERO,
        max_age: Duration::ZERO,
    };
    let served = serve_router(env.router_tuned(None, |_, api| api.admin_recheck = recheck)).await;
    let connector = format!("/crm/exporter/metadata/connector?{}", env.org_query());
    let admin = env.admin_token();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let spoiled = |key: &str, value: Value| {
        let mut claims = env.claims(env.users.admin);
        match value {
            Value::Null => claims.as_object_mut().expect("object").remove(key),
            value => claims
                .as_object_mut()
                .expect("object")
                .insert(key.into(), value),
        };
        env.sign(&claims)
    };
    let app_only = {
        let mut claims = env.claims(env.users.admin);
        claims.as_object_mut().expect("object").remove("scp");
        claims["idtyp"] = json!("app");
        claims["roles"] = json!(["DES.Admin"]);
        env.sign(&claims)
    };
    let unknown_kid = {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(crate::support::SIGNING_PEM.as_bytes())
            .expect("key");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("a-key-nobody-published".into());
        jsonwebtoken::encode(&header, &env.claims(env.users.admin), &key).expect("sign")
    };
    let profile = env.create_profile("Refusals").await;
    let other_org = format!(
        "/crm/exporter/metadata/connector?organizationId={}",
        env.other_org.organization_id
    );
    let megabyte = "x".repeat(1024 * 1024);
    let forty_kib = "x".repeat(40 * 1024);
    let long_url = format!("{connector}&pad={}", "y".repeat(100 * 1024));
    let ten_kib_url = format!("{connector}&pad={}", "y".repeat(10 * 1024));
    let table: Vec<(&str, Vec<u8>, u16)> = vec![
        ("no token", get(&connector, None), 401),
        ("garbage token", with_token(&connector, "not-a-jwt"), 401),
        (
            "expired",
            with_token(&connector, &spoiled("exp", json!(now - 600))),
            401,
        ),
        (
            "wrong audience",
            with_token(&connector, &spoiled("aud", json!("api://other"))),
            401,
        ),
        ("unknown kid", with_token(&connector, &unknown_kid), 401),
        (
            "missing scope",
            with_token(&connector, &spoiled("scp", json!("Other.Read"))),
            403,
        ),
        (
            "no scp (app-only)",
            with_token(&connector, &spoiled("scp", Value::Null)),
            403,
        ),
        ("app-only token", with_token(&connector, &app_only), 403),
        (
            "not an admin",
            with_token(&connector, &env.token(env.users.plain)),
            403,
        ),
        (
            "organization not administered",
            with_token(&other_org, &admin),
            403,
        ),
        (
            "organization unknown",
            with_token(
                &format!(
                    "/crm/exporter/metadata/connector?organizationId={}",
                    Uuid::new_v4()
                ),
                &admin,
            ),
            403,
        ),
        (
            "profile unknown",
            with_token(
                &format!("/crm/exporter/profiles/{}", Uuid::new_v4()),
                &admin,
            ),
            404,
        ),
        (
            "profile of a non-admin",
            with_token(
                &format!("/crm/exporter/profiles/{profile}"),
                &env.token(env.users.plain),
            ),
            404,
        ),
        (
            "header of 1 MiB (hyper's limit)",
            get(&connector, Some(("x-pad", &megabyte))),
            431,
        ),
        (
            "headers of 40 KiB (the router's limit)",
            get(&connector, Some(("x-pad", &forty_kib))),
            431,
        ),
        (
            "URL of 100 KiB (hyper's limit)",
            with_token(&long_url, &admin),
            414,
        ),
        (
            "URL of 10 KiB (the router's limit)",
            with_token(&ten_kib_url, &admin),
            414,
        ),
        ("not HTTP", b"HELLO THERE\r\n\r\n".to_vec(), 400),
        (
            "unknown route",
            with_token("/crm/exporter/nothing", &admin),
            404,
        ),
        (
            "wrong method",
            with_token("/crm/exporter/profiles/validate", &admin),
            405,
        ),
        (
            "bad percent-encoding in the path",
            with_token("/crm/exporter/profiles/%FF%FE", &admin),
            400,
        ),
        (
            "malformed body",
            post("/crm/exporter/profiles", &admin, "{\"Name\":"),
            400,
        ),
        (
            "unknown property",
            post(
                "/crm/exporter/profiles",
                &admin,
                &json!({"Name": "n", "Surprise": 1}).to_string(),
            ),
            400,
        ),
    ];
    for (case, request, status) in table {
        let answer = raw(&served, request).await;
        assert_eq!(
            answer.status, status,
            "{case}: {} {}",
            answer.head, answer.body
        );
        assert_des_body(case, &answer);
    }
    // Last: the admin disabled in Dataverse.
    env.set_admin_disabled(true);
    let answer = raw(&served, with_token(&connector, &admin)).await;
    assert_eq!(answer.status, 403, "disabled admin: {}", answer.body);
    assert_des_body("disabled admin", &answer);
}

#[tokio::test]
async fn unknown_and_unadministered_things_are_answered_alike() {
    let env = Env::start().await;
    let profile = env.create_profile("Hidden").await;
    let plain = env.token(env.users.plain);
    let unknown = Uuid::new_v4();
    // Every one of these refusals takes at least the floor: an unknown thing is known at
    // once, an unadministered one only after an admin check, and timing must not tell them
    // apart.
    let timed = async |uri: String| {
        let started = tokio::time::Instant::now();
        let answer = env
            .call(axum::http::Method::GET, &uri, Some(&plain), None)
            .await;
        let took = started.elapsed();
        assert!(
            took >= des_api::REFUSAL_FLOOR,
            "{uri}: refused after {took:?}"
        );
        answer
    };
    let message_of = |answer: &crate::support::Answer, id: &str| {
        (
            answer.status,
            answer.message().replace(id, "<id>"),
            answer.json()["Details"].clone(),
        )
    };
    // A profile: existing (not administered) and unknown read the same.
    let existing = timed(format!("/crm/exporter/profiles/{profile}")).await;
    let missing = timed(format!("/crm/exporter/profiles/{unknown}")).await;
    assert_eq!(
        message_of(&existing, &profile),
        message_of(&missing, &unknown.to_string())
    );
    assert_eq!(existing.status, axum::http::StatusCode::NOT_FOUND);
    // An organization: configured (not administered) and unknown read the same.
    let org = env.org.organization_id.to_string();
    let path = |id: &str| format!("/crm/exporter/profiles?organizationId={id}");
    let configured = timed(path(&org)).await;
    let unconfigured = timed(path(&unknown.to_string())).await;
    assert_eq!(
        message_of(&configured, &org),
        message_of(&unconfigured, &unknown.to_string())
    );
    assert_eq!(configured.status, axum::http::StatusCode::FORBIDDEN);
}

//! `profiles/{id}/failures`: a signed link that expires after 24 hours.

use axum::http::{Method, StatusCode, header};
use des_core::{ChangeType, FailureLine};
use url::Url;

use crate::support::Env;

async fn link(env: &Env, id: &str) -> (Url, serde_json::Value) {
    let answer = env
        .admin(
            Method::GET,
            &format!("/crm/exporter/profiles/{id}/failures"),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    (
        Url::parse(body["Url"].as_str().expect("Url")).expect("url"),
        body,
    )
}

/// The link's path and query, to call the in-process router with.
fn local(url: &Url) -> String {
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

#[tokio::test]
async fn the_link_downloads_the_lines_until_it_expires_and_refuses_tampering() {
    let env = Env::start().await;
    let id = env.create_profile("Sales").await;
    let line = FailureLine {
        entity: "account".into(),
        record_id: None,
        notification_time: None,
        change_type: ChangeType::TriggerInitialExport,
        reason: "There is already an object named 'crm_account' in the database.".into(),
    };
    let profile_id = id.parse().expect("id");
    env.ports
        .failures
        .append(profile_id, std::slice::from_ref(&line))
        .await
        .expect("append");

    let (url, body) = link(&env, &id).await;
    assert!(
        url.as_str()
            .starts_with("http://127.0.0.1:7071/crm/exporter/failurelog/")
    );
    let expires = time::OffsetDateTime::parse(
        body["ExpiresOn"].as_str().expect("ExpiresOn"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("time");
    let minutes = (expires - time::OffsetDateTime::now_utc()).whole_minutes();
    assert!((23 * 60..=24 * 60).contains(&minutes), "{minutes} minutes");

    let answer = env.call(Method::GET, &local(&url), None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    assert_eq!(answer.text(), format!("{}\n", line.format()));

    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let (se, sig) = (&query[0].1, &query[1].1);
    let other = uuid::Uuid::new_v4();
    let expired_sig = sign_expired(&env, profile_id).await;
    let tampered = [
        format!(
            "{}?se={}&sig={sig}",
            url.path(),
            se.parse::<i64>().expect("se") + 3600
        ),
        format!("/crm/exporter/failurelog/{other}?se={se}&sig={sig}"),
        format!("{}?se={se}&sig=AAAA{}", url.path(), &sig[4..]),
        format!("{}?se={se}", url.path()),
        format!("{}?se=1&sig={expired_sig}", url.path()),
    ];
    for uri in tampered {
        let answer = env.call(Method::GET, &uri, None, None).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(answer.message().contains("expired"));
    }
}

/// A correctly signed link whose expiry (1970) has passed, made by the API's own link maker.
async fn sign_expired(env: &Env, profile_id: uuid::Uuid) -> String {
    let past = time::OffsetDateTime::from_unix_timestamp(1).expect("time");
    let url = env
        .state
        .failure_links()
        .link(profile_id, past)
        .await
        .expect("link");
    url.query_pairs()
        .find(|(k, _)| k == "sig")
        .expect("sig")
        .1
        .into_owned()
}

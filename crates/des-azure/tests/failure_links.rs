//! Failure-log read links: a plain HTTP GET of the SAS URL returns the lines; the link reads
//! only its own blob, and not after it expires.

use std::time::Duration;

use des_azure::{AppendBlobFailureLog, LINK_LIFETIME};
use des_core::ports::{FailureLinks, FailureLog};
use des_core::{ChangeType, FailureLine};
use reqwest::StatusCode;
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use crate::azurite;

fn lines(reason: &str) -> Vec<FailureLine> {
    (0..3)
        .map(|n| FailureLine {
            entity: "account".to_owned(),
            record_id: Some(Uuid::new_v4()),
            notification_time: Some(OffsetDateTime::now_utc()),
            change_type: ChangeType::Update,
            reason: format!("{reason} {n}"),
        })
        .collect()
}

async fn get(url: &Url) -> reqwest::Response {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    http.get(url.clone()).send().await.expect("Azurite answers")
}

async fn open_log() -> Option<AppendBlobFailureLog> {
    let account = azurite::account()?;
    let container = azurite::unique("links");
    let log = AppendBlobFailureLog::open(&account, &container).await;
    Some(log.expect("open"))
}

#[tokio::test]
async fn a_sas_link_downloads_the_lines_over_http() {
    let Some(log) = open_log().await else {
        return;
    };
    let profile = Uuid::new_v4();
    let appended = lines("String or binary data would be truncated.");
    log.append(profile, &appended).await.expect("append");
    let url = log.read_link(profile, LINK_LIFETIME).await.expect("link");

    let answer = get(&url).await;
    assert_eq!(answer.status(), StatusCode::OK, "GET {}", url.path());
    let content_type = answer.headers().get("content-type").cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("text/plain; charset=utf-8")
    );
    let expected: String = appended.iter().map(|l| l.format() + "\n").collect();
    assert_eq!(answer.text().await.expect("text"), expected);

    // The lines appended after the link was made are in the next link, not this one.
    log.append(profile, &lines("later")).await.expect("append");
    let again = get(&url).await.text().await.expect("text");
    assert_eq!(again, expected, "a link is a copy as of its making");
}

#[tokio::test]
async fn a_link_reads_only_its_blob_and_only_until_it_expires() {
    let Some(log) = open_log().await else {
        return;
    };
    let profile = Uuid::new_v4();
    log.append(profile, &lines("x")).await.expect("append");
    let url = log.read_link(profile, LINK_LIFETIME).await.expect("link");
    assert_eq!(get(&url).await.status(), StatusCode::OK);

    let mut elsewhere = url.clone();
    let hour = AppendBlobFailureLog::hour_blob(profile, OffsetDateTime::now_utc());
    let container = url
        .path_segments()
        .expect("path")
        .nth(1)
        .expect("container");
    elsewhere.set_path(&format!("/devstoreaccount1/{container}/{hour}"));
    assert_eq!(
        get(&elsewhere).await.status(),
        StatusCode::FORBIDDEN,
        "another blob"
    );

    let tampered: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "se" {
                (k, "2099-01-01T00:00:00Z".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    let mut forged = url.clone();
    forged.query_pairs_mut().clear().extend_pairs(tampered);
    assert_eq!(
        get(&forged).await.status(),
        StatusCode::FORBIDDEN,
        "a longer expiry"
    );

    let past = OffsetDateTime::now_utc() - Duration::from_secs(60);
    let expired = log.read_link_until(profile, past).await.expect("link");
    assert_eq!(
        get(&expired).await.status(),
        StatusCode::FORBIDDEN,
        "expired"
    );
}

/// Through the `FailureLinks` port (des-api's seam), as `GET profiles/{id}/failures` uses it.
#[tokio::test]
async fn the_api_seam_hands_out_the_same_links() {
    let Some(log) = open_log().await else {
        return;
    };
    let profile = Uuid::new_v4();
    let appended = lines("seam");
    log.append(profile, &appended).await.expect("append");
    let expires = OffsetDateTime::now_utc() + LINK_LIFETIME;
    let links: &dyn FailureLinks = &log;
    let url = links.link(profile, expires).await.expect("link");
    let se = url
        .query_pairs()
        .find(|(k, _)| k == "se")
        .map(|(_, v)| v.into_owned());
    let whole_seconds = expires.replace_nanosecond(0).expect("valid");
    let format = time::format_description::well_known::Rfc3339;
    assert_eq!(se, Some(whole_seconds.format(&format).expect("format")));
    let text = get(&url).await.text().await.expect("text");
    assert_eq!(text.lines().count(), appended.len());
}

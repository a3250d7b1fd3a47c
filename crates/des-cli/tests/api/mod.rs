//! The DES API served inside `des run`, called the way its start-up banner shows.

use serde_json::Value;

use crate::support::Des;
use crate::{SYNC_TIMEOUT, is_sync_done};

/// The quoted ('...') parts of a printed shell line, in order.
fn quoted(line: &str) -> Vec<String> {
    line.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The two curl lines under "Call the API:".
pub(crate) fn printed_calls(des: &mut Des) -> (String, String) {
    des.wait_for(|l| l == "Call the API:", SYNC_TIMEOUT);
    let start = des.seen.iter().position(|l| l == "Call the API:").unwrap();
    des.wait_for(
        |l| l.trim_start().starts_with("curl -s 'http"),
        SYNC_TIMEOUT,
    );
    (des.seen[start + 1].clone(), des.seen[start + 2].clone())
}

#[test]
fn the_api_answers_inside_run_with_the_printed_token_curl() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "--records",
        "7",
        "--entity",
        "account",
        "--poll-interval",
        "0.2",
    ];
    let mut des = Des::spawn(dir.path(), &args);
    let (token_line, profiles_line) = printed_calls(&mut des);
    assert!(
        des.seen
            .iter()
            .any(|l| l.contains("privacy terms accepted")),
        "the sample organization's terms are accepted, and it says so"
    );
    des.wait_for(is_sync_done, SYNC_TIMEOUT);

    // The token call: POST '<emulator>/_emulator/users/<oid>/token' ... -d '<body>'.
    let token_parts = quoted(&token_line);
    let (token_url, body) = (&token_parts[0], &token_parts[2]);
    assert!(token_url.contains("/_emulator/users/"), "{token_line}");
    let profiles_url = &quoted(&profiles_line)[0];
    assert!(
        profiles_url.contains("/crm/exporter/profiles?status=true"),
        "{profiles_line}"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let (profiles, refused) = runtime.block_on(async {
        let token: Value = http
            .post(token_url)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("token call")
            .json()
            .await
            .expect("token JSON");
        let token = token["access_token"].as_str().expect("an access token");
        let answer = http
            .get(profiles_url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        let profiles: Value = answer.json().await.unwrap();
        let refused = http.get(profiles_url).send().await.unwrap();
        let status = refused.status().as_u16();
        (profiles, (status, refused.json::<Value>().await.unwrap()))
    });

    let profile = &profiles.as_array().expect("a list")[0];
    assert_eq!(profile["Name"], "des run", "{profiles}");
    assert_eq!(profiles.as_array().unwrap().len(), 1, "{profiles}");
    let status = &profile["Entities"][0]["Status"];
    assert_eq!(status["Type"], "account", "{profile}");
    assert_eq!(status["SuccessNotifications"], 7, "{profile}");
    assert_eq!(status["InitialSyncState"], "Completed", "{profile}");
    assert!(
        profile
            .get("DestinationKeyVaultUri")
            .is_none_or(|v| v == "local:target"),
        "the profile names the target by reference: {profile}"
    );

    let (code, error) = refused;
    assert_eq!(code, 401, "no token: {error}");
    assert!(error["CorrelationId"].is_string(), "{error}");
    assert!(error["Details"].is_string(), "{error}");
    assert!(error["Message"].is_string(), "{error}");

    assert!(des.interrupt().success(), "API and engine stop cleanly");
    assert!(des.seen.iter().any(|l| l.starts_with("stopped cleanly")));
    let key = dir.path().join("des-data/api-link.key");
    assert!(
        key.exists(),
        "the failure-link key is kept in the data folder"
    );
}

/// A token from the banner's token line, then `call(http, token, profiles_url)`.
pub(crate) fn with_api<T>(
    token_line: &str,
    profiles_line: &str,
    call: impl AsyncFnOnce(&reqwest::Client, &str, &str) -> T,
) -> T {
    let token_parts = quoted(token_line);
    let (token_url, body) = (token_parts[0].clone(), token_parts[2].clone());
    let profiles_url = quoted(profiles_line)[0].clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let token: Value = http
            .post(token_url)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("token call")
            .json()
            .await
            .expect("token JSON");
        let token = token["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned();
        call(&http, &token, &profiles_url).await
    })
}

#[test]
fn a_profile_deleted_through_the_api_is_recreated_over_its_tables_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("des-data/export.db");
    let args = [
        "run",
        "--records",
        "9",
        "--entity",
        "account",
        "--poll-interval",
        "0.2",
        "--status-every",
        "1",
    ];
    let mut des = Des::spawn(dir.path(), &args);
    let (token_line, profiles_line) = printed_calls(&mut des);
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    with_api(
        &token_line,
        &profiles_line,
        async |http, token, profiles_url| {
            let listed: Value = http
                .get(profiles_url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = listed[0]["Id"].as_str().expect("the profile's id");
            let item = profiles_url.split('?').next().unwrap().to_owned() + "/" + id;
            let deleted = http.delete(item).bearer_auth(token).send().await.unwrap();
            assert_eq!(deleted.status().as_u16(), 204);
        },
    );
    assert!(des.interrupt().success());

    // The next start makes a new profile over the same tables; it must not take its batches
    // for duplicates of the deleted profile's.
    let mut again = Des::spawn(dir.path(), &args);
    again.wait_for(|l| l.starts_with("starting export"), SYNC_TIMEOUT);
    let (token_line, profiles_line) = printed_calls(&mut again);
    let done = again.wait_for(is_sync_done, SYNC_TIMEOUT);
    assert!(done.starts_with("initial sync complete: 9 rows"), "{done}");
    let profile = with_api(
        &token_line,
        &profiles_line,
        async |http, token, profiles_url| {
            let listed: Value = http
                .get(profiles_url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            listed[0].clone()
        },
    );
    let status = &profile["Entities"][0]["Status"];
    assert_eq!(status["SuccessNotifications"], 9, "{profile}");
    assert_eq!(status["InitialSyncState"], "Completed", "{profile}");
    assert_eq!(status["LastExportStatus"], "Success", "{profile}");
    let (rows, ids) = crate::support::target::counts(&db, "account").expect("the account table");
    assert_eq!((rows, ids), (9, 9), "the same rows, once each");
    assert!(again.interrupt().success());
}

//! The whole deployment under the played host: profiles made through the API handler (one
//! with a chunked body), data read by the poller handler, applied by the applier handler,
//! changes followed, a record failure logged, a stream whose target the applier cannot open
//! kept waiting for its operator (never poisoned, its hint in the API) and resuming once
//! fixed, the poison queue replayed, and a target lost between runs found by the poller's
//! start-up check (see `operator`).

use std::time::{Duration, Instant};

use des_azure::names::{APPLY_FUNCTION, POISON_QUEUE, POLL_FUNCTION, WORK_QUEUE};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::api::ApiClient;
use crate::deployment::{Deployment, has_account_named, rows};
use crate::functions_host::FunctionsHost;
use crate::logs;
use crate::operator;
use crate::processes::{API, APPLIER, Handler, HostLevel, POLLER};

/// Ticks the timer and delivers the queue until `check` holds (or the time is up).
async fn until(
    host: &FunctionsHost,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let logs = host.tick().await;
        assert!(
            logs.iter().all(|l| !l.contains("NNNNNNNN")),
            "a record value in Logs: {logs:?}"
        );
        host.deliver_all().await;
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    check().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_three_apps_replicate_follow_changes_wait_for_the_operator_and_heal_under_a_played_host()
 {
    let Some(connection) = crate::azurite() else {
        return;
    };
    let deployment = Deployment::start(connection).await;
    let (target, second) = (deployment.target("target"), deployment.target("second"));
    let good = deployment.settings(&second);
    // Only the applier cannot reach the second profile's target.
    let broken = deployment.settings(&deployment.unreachable_target());
    let api = Handler::start(API, &good).await;
    let poller = Handler::start(POLLER, &good).await;
    let applier = Handler::start(APPLIER, &broken).await;
    for handler in [&api, &poller, &applier] {
        eprintln!(
            "{}: ready {} ms after spawn",
            handler.name,
            handler.readiness.as_millis()
        );
    }
    let victim = deployment.make_one_account_fail();
    let control = deployment.emulator.control();
    let (accounts, contacts) = (control.rows("account").len(), control.rows("contact").len());

    let client = ApiClient::new(api.url(""), deployment.token());
    let org_id = deployment.org.organization_id;
    let accept = format!("/crm/exporter/metadata/acceptprivacyterms?organizationId={org_id}");
    assert_eq!(client.send(Method::POST, &accept, None).await.0, 200);
    let sales = deployment.profile("Sales", &["account", "contact"], "target");
    let sales: Uuid = client
        .create_active_profile(&sales)
        .await
        .parse()
        .expect("id");
    // The second profile arrives with a chunked body, as the proxying host passes it on.
    let orders = deployment.profile("Orders", &["contact"], "second");
    let (status, created) = client.post_chunked("/crm/exporter/profiles", &orders).await;
    assert_eq!(status, 201, "a chunked POST body: {created}");
    let orders: Uuid = created["Id"].as_str().expect("Id").parse().expect("id");
    let activate = format!("/crm/exporter/profiles/{orders}/activate");
    assert_eq!(client.send(Method::POST, &activate, None).await.0, 200);

    let mut host = FunctionsHost::new(
        poller.url(&format!("/{POLL_FUNCTION}")),
        applier.url(&format!("/{APPLY_FUNCTION}")),
        deployment.queue(WORK_QUEUE).await,
        deployment.queue(POISON_QUEUE).await,
        3,
    );
    let logs = host.tick().await;
    for entity in ["account", "contact"] {
        let line = format!("Stream {sales}/{entity}: ");
        assert!(
            logs.iter().any(|l| l.starts_with(&line)),
            "{line} missing from {logs:?}"
        );
        // The monitoring figures, under the names `des run` serves at /metrics.
        let figures = format!("des.metrics profile={sales} entity={entity} ");
        assert!(
            logs.iter()
                .any(|l| l.starts_with(&figures) && l.contains(" des_lag_seconds=")),
            "{figures} missing from {logs:?}"
        );
    }
    let replicated = until(&host, Duration::from_secs(90), async || {
        rows(&target, "crm_account") == accounts - 1
            && rows(&target, "crm_contact") == contacts
            && !deployment.failure_lines(sales).await.is_empty()
            && operator::hint(&client, orders).await.is_some()
    })
    .await;
    assert!(
        replicated,
        "accounts {}/{}, contacts {}/{}",
        rows(&target, "crm_account"),
        accounts - 1,
        rows(&target, "crm_contact"),
        contacts
    );

    // The record failure: one line naming the record, in the seed's words.
    let lines = deployment.failure_lines(sales).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with(&format!("Entity: account, RecordId: {victim}, ")),
        "{lines:?}"
    );
    assert!(
        lines[0].contains("String length in source longer than destination schema for [name, 160]")
    );
    // ... readable through the API's failure link (a SAS URL on Azurite).
    let (status, info) = client
        .send(
            Method::GET,
            &format!("/crm/exporter/profiles/{sales}/failures"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{info}");
    let link = info["Url"].as_str().expect("Url");
    let text = reqwest::get(link)
        .await
        .expect("link")
        .text()
        .await
        .expect("text");
    assert!(text.contains(&victim.to_string()), "{text}");

    // The applier cannot open the Orders target: a configuration fault, kept for the
    // operator with its hint, never poisoned.
    operator::waits_unpoisoned(&deployment, &host, &client, orders, &second).await;
    applier
        .wait_for_line(|l| l.level == HostLevel::Error && l.text.contains("Stream waits"))
        .await;
    for handler in [&api, &poller, &applier] {
        logs::assert_streams_follow_levels(handler);
    }

    // Changes are followed: an update, a create and a delete.
    // Any account but the victim: a short name would let the victim in.
    let some_account: Uuid = control
        .rows("account")
        .iter()
        .filter_map(|row| row["accountid"].as_str()?.parse().ok())
        .find(|id| *id != victim)
        .expect("another account");
    let renamed = json!({"name": "Renamed by the played host"});
    control
        .update(
            "account",
            some_account,
            renamed.as_object().cloned().expect("map"),
        )
        .expect("update");
    let created = json!({"name": "Created by the played host"});
    control
        .create("account", created.as_object().cloned().expect("map"))
        .expect("create");
    let gone = control.rows("contact")[0]["contactid"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    control.delete("contact", gone).expect("delete");
    let followed = until(&host, Duration::from_secs(60), async || {
        rows(&target, "crm_account") == accounts
            && rows(&target, "crm_contact") == contacts - 1
            && has_account_named(&target, "Renamed by the played host")
            && has_account_named(&target, "Created by the played host")
    })
    .await;
    assert!(
        followed,
        "changes not followed: {} accounts, {} contacts",
        rows(&target, "crm_account"),
        rows(&target, "crm_contact")
    );

    // The operator fixes the applier's target: the kept batches apply, the hint goes.
    drop(applier);
    let applier = Handler::start(APPLIER, &good).await;
    host.apply_url = applier.url(&format!("/{APPLY_FUNCTION}"));
    let resumed = until(&host, Duration::from_secs(90), async || {
        rows(&second, "crm_contact") == contacts - 1
            && operator::hint(&client, orders).await.is_none()
    })
    .await;
    assert!(
        resumed,
        "{} of {} contacts after the fix; hint {:?}",
        rows(&second, "crm_contact"),
        contacts - 1,
        operator::hint(&client, orders).await
    );
    operator::replays_the_poison_queue(&host, &good).await;
    operator::poisons_a_batch_without_payload(&deployment, &host, &applier, sales).await;

    // The Sales target is lost between runs; the restarted poller's first tick checks it.
    drop((applier, poller));
    operator::lose_target(&target);
    let poller = Handler::start(POLLER, &good).await;
    let applier = Handler::start(APPLIER, &good).await;
    host.poll_url = poller.url(&format!("/{POLL_FUNCTION}"));
    host.apply_url = applier.url(&format!("/{APPLY_FUNCTION}"));
    let logs = host.tick().await;
    assert!(
        logs.iter()
            .any(|l| l.starts_with("target check: account: ")),
        "{logs:?}"
    );
    let refilled = until(&host, Duration::from_secs(90), async || {
        rows(&target, "crm_account") == accounts && rows(&target, "crm_contact") == contacts - 1
    })
    .await;
    assert!(
        refilled,
        "{} accounts, {} contacts after the target was lost",
        rows(&target, "crm_account"),
        rows(&target, "crm_contact")
    );
}

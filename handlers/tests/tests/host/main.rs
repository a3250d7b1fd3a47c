//! The three DES function apps as real processes under a played Functions host.
//!
//! The Azure Functions host cannot be installed here (npm's `azure-functions-core-tools`
//! downloads its binaries from a CDN in `postinstall`), so these tests PLAY THE HOST: they
//! start the handler binaries with `FUNCTIONS_CUSTOMHANDLER_PORT`, wait for the readiness
//! answer to `GET /`, forward HTTP requests to the API handler as `enableForwardingHttpRequest`
//! does, POST timer invocations to `/poll`, and run the queue trigger's loop against the
//! Azurite queue `des-apply` (see `functions_host`). Storage is Azurite (`DES_TEST_AZURITE`,
//! started by `scripts/test`; `skip` skips, unset fails); Dataverse is the emulator; the
//! targets are SQLite files.

mod api;
mod deployment;
mod functions_host;
mod processes;
mod scenario;

use std::time::Duration;

use processes::{API, APPLIER, Handler, POLLER};
use serde_json::Value;

/// The Azurite connection string, `None` when told to skip.
pub fn azurite() -> Option<String> {
    match std::env::var("DES_TEST_AZURITE") {
        Ok(value) if value == "skip" => {
            eprintln!("DES_TEST_AZURITE=skip: the played-host test is not run");
            None
        }
        Ok(value) => Some(value),
        Err(_) => panic!(
            "DES_TEST_AZURITE is not set. Start Azurite with `scripts/azurite start .ci-work/azurite` \
             and export the DES_TEST_AZURITE=... line it prints (scripts/test does both), or set \
             DES_TEST_AZURITE=skip to skip this test"
        ),
    }
}

/// Readiness comes before wiring: with no storage configured at all, each handler still
/// answers `GET /` at once, and an invocation then fails with the reason in `Logs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_answer_readiness_at_once_and_name_a_wiring_problem() {
    let env = vec![("AzureWebJobsStorage".to_owned(), String::new())];
    let client = reqwest::Client::new();
    for (name, function) in [
        (API, None),
        (POLLER, Some("/poll")),
        (APPLIER, Some("/apply")),
    ] {
        let handler = Handler::start(name, &env).await;
        let size = std::fs::metadata(processes::binary(name))
            .expect("binary")
            .len();
        eprintln!(
            "{name}: ready in {} ms after spawn; binary {:.1} MB",
            handler.readiness.as_millis(),
            size as f64 / 1e6
        );
        assert!(
            handler.readiness < Duration::from_secs(2),
            "{name} took {:?}",
            handler.readiness
        );
        let Some(path) = function else {
            let answer = client
                .get(handler.url("/crm/exporter/profiles"))
                .send()
                .await
                .expect("answer");
            assert_eq!(answer.status().as_u16(), 503, "{name}");
            continue;
        };
        let answer = client
            .post(handler.url(path))
            .body(r#"{"Data":{"msg":"{}"},"Metadata":{}}"#)
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status().as_u16(), 500, "{name}");
        let body: Value = answer.json().await.expect("JSON");
        let logs = body["Logs"].to_string();
        assert!(logs.contains("AzureWebJobsStorage"), "{name}: {body}");
    }
}

/// Each app folder holds what the host reads: its `host.json` is the shared base plus the
/// app's own part, and its function folder binds the names in docs/azure-names.md.
#[test]
fn app_folders_declare_what_the_host_needs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read = |path: &str| -> Value {
        let text =
            std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let base = read("host.json");
    for app in ["api", "poller", "applier"] {
        let host = read(&format!("handlers/{app}/host.json"));
        for key in ["version", "extensionBundle", "logging", "functionTimeout"] {
            assert_eq!(host[key], base[key], "{app}: {key}");
        }
        let handler = &host["customHandler"]["description"];
        assert_eq!(handler, &base["customHandler"]["description"], "{app}");
        assert_eq!(handler["defaultExecutablePath"], "handler", "{app}");
    }
    let api = read("handlers/api/host.json");
    assert_eq!(api["customHandler"]["enableForwardingHttpRequest"], true);
    assert_eq!(api["extensions"]["http"]["routePrefix"], "");
    let http = read("handlers/api/api/function.json");
    let bindings = http["bindings"].as_array().expect("bindings");
    assert_eq!(
        bindings.len(),
        2,
        "forwarding needs exactly httpTrigger + http out"
    );
    assert_eq!(bindings[0]["type"], "httpTrigger");
    assert_eq!(bindings[0]["route"], "{*path}");
    assert_eq!(bindings[0]["authLevel"], "anonymous");
    assert_eq!(bindings[1]["type"], "http");
    let timer = &read("handlers/poller/poll/function.json")["bindings"][0];
    assert_eq!(
        (&timer["type"], &timer["name"]),
        (&"timerTrigger".into(), &"myTimer".into())
    );
    assert_eq!(timer["schedule"], "%DES_POLL_SCHEDULE%");
    let queue = &read("handlers/applier/apply/function.json")["bindings"][0];
    assert_eq!(queue["type"], "queueTrigger");
    assert_eq!(queue["name"], "msg");
    assert_eq!(queue["queueName"], "des-apply");
    assert_eq!(queue["connection"], "AzureWebJobsStorage");
    let queues = &read("handlers/applier/host.json")["extensions"]["queues"];
    assert_eq!(
        queues["maxDequeueCount"], 5,
        "DES_MAX_DEQUEUE_COUNT's default"
    );
    let local = read("local.settings.json");
    assert_eq!(local["Values"]["FUNCTIONS_WORKER_RUNTIME"], "custom");
    assert_eq!(
        local["Values"]["AzureWebJobsStorage"],
        "UseDevelopmentStorage=true"
    );
}

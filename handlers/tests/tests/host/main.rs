//! The three DES function apps as real processes under a played Functions host.
//!
//! The Azure Functions host cannot be installed here (npm's `azure-functions-core-tools`
//! downloads its binaries from a CDN in `postinstall`), so these tests PLAY THE HOST: they
//! start the handler binaries with `FUNCTIONS_CUSTOMHANDLER_PORT`, wait for the readiness
//! answer to `GET /`, pass HTTP requests on to the API handler as `enableProxyingHttpRequest`
//! does (chunked bodies included), POST timer invocations to `/poll`, read the handlers'
//! stdout and stderr at the levels the host gives them, and run the queue trigger's loop against the
//! Azurite queue `des-apply` (see `functions_host`). Storage is Azurite (`DES_TEST_AZURITE`,
//! started by `scripts/test`; `skip` skips, unset fails); Dataverse is the emulator; the
//! targets are SQLite files.

mod api;
mod deployment;
mod functions_host;
mod logs;
mod operator;
mod processes;
mod scenario;

use std::time::Duration;

use processes::{API, APPLIER, Handler, HostLevel, POLLER};
use reqwest::Method;
use serde_json::Value;

/// The Azurite connection string, `None` when told to skip (`des_test_env::azurite`: unset
/// fails).
pub fn azurite() -> Option<String> {
    des_test_env::azurite("the played-host tests")
}

/// Readiness comes before wiring: with no storage configured at all, each handler still
/// answers `GET /` at once, and every invocation then fails with the reason in `Logs` and,
/// because the host drops the `Logs` of a failed invocation, as an Error line naming the
/// invocation, each time it fails. Informational lines go to stdout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_answer_readiness_at_once_and_log_each_wiring_failure() {
    let env = vec![
        ("AzureWebJobsStorage".to_owned(), String::new()),
        ("RUST_LOG".to_owned(), "info".to_owned()),
    ];
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
        handler
            .wait_for_line(|l| l.level == HostLevel::Information && l.text.contains("Listening"))
            .await;
        let Some(path) = function else {
            let (status, _, id) =
                logs::invoke(&client, &handler, Method::GET, "/crm/exporter/profiles", "").await;
            assert_eq!(status, 503, "{name}");
            logs::logged(&handler, HostLevel::Error, &id, "not wired").await;
            logs::assert_streams_follow_levels(&handler);
            continue;
        };
        // Twice: the failure repeats until the wiring succeeds, and so does its line.
        for _ in 0..2 {
            let body = r#"{"Data":{"msg":"\"{}\""},"Metadata":{}}"#;
            let (status, answer, id) =
                logs::invoke(&client, &handler, Method::POST, path, body).await;
            assert_eq!(status, 500, "{name}");
            let reasons = answer["Logs"].to_string();
            assert!(reasons.contains("AzureWebJobsStorage"), "{name}: {answer}");
            let line = logs::logged(&handler, HostLevel::Error, &id, "Not wired").await;
            assert!(line.text.contains("AzureWebJobsStorage"), "{line:?}");
        }
        logs::assert_streams_follow_levels(&handler);
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
    // Proxying (current hosts: the request and its body stream pass through as sent) and
    // forwarding (older hosts, which do not know the proxying setting) both give the API
    // handler the original request; a host that knows both proxies.
    assert_eq!(api["customHandler"]["enableProxyingHttpRequest"], true);
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

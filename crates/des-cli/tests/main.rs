//! The `des` binary, run as a real process against the built-in emulator.

mod api;
mod authority;
mod bench;
mod budget;
mod files;
mod guards;
mod mssql;
mod names;
mod portal;
mod postgres;
mod refusal;
mod startup;
mod support;

use std::time::Duration;

use support::{Des, poll_until, run_to_end, target, web_api::WebApi};

pub const SYNC_TIMEOUT: Duration = Duration::from_secs(180);

pub fn is_sync_done(line: &str) -> bool {
    line.starts_with("initial sync complete")
}

/// Signs in to the emulator with what `des run` printed.
pub fn sign_in(des: &mut Des) -> WebApi {
    let base = des.banner_value("Dataverse emulator listening on");
    let api = des.banner_value("Web API:");
    let token_url = des.banner_value("token URL:");
    let client_id = des.banner_value("client id:");
    let secret = des.banner_value("client secret:");
    let scope = format!("{}/.default", base.trim_end_matches('/'));
    WebApi::sign_in(&api, &token_url, &client_id, &secret, &scope)
}

#[test]
fn run_replicates_stops_on_sigint_and_resumes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("des-data/export.db");
    let args = [
        "run",
        "--records",
        "40",
        "--poll-interval",
        "0.2",
        "--status-every",
        "1",
    ];

    let mut des = Des::spawn(dir.path(), &args);
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    assert!(
        des.seen.iter().any(|l| l.contains("curl")),
        "a curl example is printed"
    );
    let api = sign_in(&mut des);
    let marker = format!("des-cli test {}", std::process::id());
    api.create_account(&marker);
    poll_until(
        "the new account in the target",
        Duration::from_secs(60),
        || target::rows_named(&db, "account", &marker).filter(|n| *n == 1),
    );
    let status = des.interrupt();
    assert!(status.success(), "clean exit on SIGINT, got {status:?}");
    assert!(des.seen.iter().any(|l| l.starts_with("stopped cleanly")));

    let mut again = Des::spawn(dir.path(), &args);
    again.wait_for(|l| l.starts_with("resuming export"), SYNC_TIMEOUT);
    again.wait_for(is_sync_done, SYNC_TIMEOUT);
    let api = sign_in(&mut again);
    let source = api.count("accounts");
    assert_eq!(source, 41, "40 sample accounts and the one created");
    let (rows, ids) = poll_until(
        "target to equal the source",
        Duration::from_secs(60),
        || target::counts(&db, "account").filter(|(rows, _)| *rows == source),
    );
    assert_eq!(rows, ids, "no duplicate ids");
    assert_eq!(target::rows_named(&db, "account", &marker), Some(1));
    assert!(again.interrupt().success());
}

#[test]
fn run_keeps_up_with_a_generated_change_stream_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "--records",
        "20",
        "--changes-per-sec",
        "20",
        "--poll-interval",
        "0.2",
        "--status-every",
        "0.5",
    ];
    let mut des = Des::spawn(dir.path(), &args);
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    // Status lines after the initial sync count applied rows; the generator makes them grow.
    let applied = |line: &str| -> Option<u64> {
        let rest = line.strip_prefix("status: replicating, ")?;
        rest.split(' ').next()?.parse().ok()
    };
    let first = applied(&des.wait_for(|l| applied(l).is_some(), SYNC_TIMEOUT)).unwrap();
    des.wait_for(
        |l| applied(l).is_some_and(|n| n > first),
        Duration::from_secs(60),
    );
    assert!(des.terminate().success(), "clean exit on SIGTERM");
    assert!(des.seen.iter().any(|l| l.starts_with("stopped cleanly")));
    let made = des
        .seen
        .iter()
        .find_map(|l| l.strip_prefix("generated "))
        .expect("a generated count");
    assert!(made.trim_end_matches(" changes").parse::<u64>().unwrap() > 0);
}

#[test]
fn schema_prints_create_table_for_account_with_des_columns() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run_to_end(
        dir.path(),
        &["schema", "--entity", "account", "--delete-log"],
    );
    assert!(ok, "des schema failed: {err}");
    let create = out
        .split(";\n")
        .find(|s| s.contains("CREATE TABLE") && s.contains("account\""))
        .unwrap_or_else(|| panic!("no CREATE TABLE for account in:\n{out}"));
    for column in [
        "\"Id\"",
        "\"SinkCreatedOn\"",
        "\"SinkModifiedOn\"",
        "\"versionnumber\"",
        "\"name\"",
    ] {
        assert!(create.contains(column), "{column} missing from:\n{create}");
    }
    assert!(
        out.contains("DeleteLog"),
        "--delete-log plans the DeleteLog table"
    );
    assert!(
        !dir.path().join("des-data").exists(),
        "schema touches no database"
    );
}

/// The CREATE TABLE of account that `des schema --dialect <dialect>` prints.
fn account_ddl(dialect: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let args = ["schema", "--entity", "account", "--dialect", dialect];
    let (ok, out, err) = run_to_end(dir.path(), &args);
    assert!(ok, "des schema --dialect {dialect} failed: {err}");
    out.split(";\n")
        .find(|s| {
            s.contains("CREATE TABLE") && (s.contains("\"account\" (") || s.contains("[account] ("))
        })
        .unwrap_or_else(|| panic!("no CREATE TABLE for account in:\n{out}"))
        .to_owned()
}

#[test]
fn schema_prints_tsql_with_des_types() {
    let create = account_ddl("tsql");
    for wanted in [
        "[Id] uniqueidentifier",
        "[SinkCreatedOn] datetime",
        "[SinkModifiedOn] datetime",
        "[versionnumber] bigint",
        "[name] nvarchar(160)",
        "decimal(38,2)",
        "CONSTRAINT [EPK[dbo]].[account]]] PRIMARY KEY CLUSTERED ([Id])",
    ] {
        assert!(create.contains(wanted), "{wanted} missing from:\n{create}");
    }
}

#[test]
fn schema_prints_postgres_with_des_types() {
    let create = account_ddl("postgres");
    for wanted in [
        "\"Id\" uuid",
        "\"SinkCreatedOn\" timestamptz",
        "\"SinkModifiedOn\" timestamptz",
        "\"versionnumber\" bigint",
        "\"name\" varchar(160)",
        "numeric(38,2)",
        "CONSTRAINT \"EPK[dbo].[account]\" PRIMARY KEY (\"Id\")",
    ] {
        assert!(create.contains(wanted), "{wanted} missing from:\n{create}");
    }
}

#[test]
fn bench_reports_every_figure_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let args = support::small_bench_args(None);
    let (ok, out, err) = run_to_end(dir.path(), &args);
    assert!(ok, "des bench failed: {err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(report["target"], "sqlite");
    assert_eq!(
        report["server_cpu_counted"], false,
        "SQLite runs in the process"
    );
    assert_every_figure(&report, 2000.0);
}

#[test]
fn bench_api_answers_every_request_and_counts_its_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "bench",
        "api",
        "--profiles",
        "12",
        "--clients",
        "4",
        "--seconds",
        "0.3",
        "--runs",
        "1",
        "--json",
    ];
    let (ok, out, err) = run_to_end(dir.path(), &args);
    assert!(ok, "des bench api failed: {err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    let phases = [
        &report["create"],
        &report["runs"][0][0],
        &report["runs"][0][2],
    ];
    for figures in phases.into_iter().chain([&report["steady_reads"]]) {
        assert_eq!(figures["errors"], 0, "{report}");
        assert!(figures["requests"].as_u64() > Some(0), "{report}");
        if cfg!(target_os = "linux") {
            assert!(
                figures["cpu_ms_per_request"].as_f64() >= Some(0.0),
                "{report}"
            );
        }
    }
    assert_eq!(report["create"]["requests"], 12);
}

/// Every rate covers `records`, every figure is there and positive.
pub fn assert_every_figure(report: &serde_json::Value, records: f64) {
    let number = |path: &str| -> f64 {
        report
            .pointer(path)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or_else(|| panic!("{path} missing in {report}"))
    };
    for rate in ["/source_read", "/sink_write", "/end_to_end"] {
        assert_eq!(
            number(&format!("{rate}/records")),
            records,
            "{rate} covers every record"
        );
        assert!(number(&format!("{rate}/records_per_sec")) > 0.0);
        assert!(number(&format!("{rate}/peak_rss_bytes")) > 0.0);
        assert!(number(&format!("{rate}/machine_cpu_seconds")) >= 0.0);
        // The measured processes are this one, the emulator's and at most a database server.
        let measured = number(&format!("{rate}/measured_cpu_seconds"));
        assert!(measured >= number(&format!("{rate}/cpu_seconds")), "{rate}");
    }
    // The emulator serves every page in a process of its own, measured apart.
    assert!(number("/emulator_peak_rss_bytes") > 0.0);
    assert!(report["load_before"].is_string() && report["load_after"].is_string());
    assert!(report["server_cpu_counted"].is_boolean());
    // CPU time comes in 10 ms ticks: a small phase may show none, the three together not.
    let cpu: f64 = ["/source_read", "/sink_write", "/end_to_end"]
        .iter()
        .map(|rate| number(&format!("{rate}/cpu_seconds")))
        .sum();
    assert!(cpu > 0.0, "no CPU time reported");
    assert!(number("/cores") >= 1.0);
    assert!(number("/end_to_end_ratio") > 0.0);
    assert!(number("/delta_latency/samples") > 0.0);
    assert!(number("/delta_latency/p50_ms") > 0.0);
    assert!(number("/delta_latency/p99_ms") >= number("/delta_latency/p50_ms"));
    assert!(number("/peak_rss_bytes") > 0.0);
    // A clean run: no failure, no wait for the operator, nothing repaired.
    let faults = &report["faults"];
    assert_eq!(faults["failures"], 0, "{faults}");
    assert_eq!(faults["waits"], serde_json::json!([]), "{faults}");
    assert_eq!(faults["repairs"], serde_json::json!([]), "{faults}");
}

#[test]
fn a_real_environment_takes_its_secret_from_the_environment_only() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "--dataverse-url",
        "https://org.crm.dynamics.com",
        "--tenant",
        "t",
        "--client-id",
        "c",
    ];
    let (ok, _, err) = run_to_end(dir.path(), &args);
    assert!(!ok);
    assert!(err.contains("DES_CLIENT_SECRET"), "{err}");
    let (ok, _, err) = run_to_end(dir.path(), &["run", "--client-secret", "x"]);
    assert!(
        !ok && err.contains("--client-secret"),
        "no secret flag exists: {err}"
    );
}

#[test]
fn a_config_file_with_unknown_keys_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("des.json"),
        r#"{"target":"sqlite:x.db","colour":"blue"}"#,
    )
    .unwrap();
    let (ok, _, err) = run_to_end(dir.path(), &["run", "--config", "des.json"]);
    assert!(!ok);
    assert!(err.contains("des.json") && err.contains("colour"), "{err}");
}

#[test]
fn the_printed_curl_example_creates_a_record_that_lands_in_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("des-data/export.db");
    let mut des = Des::spawn(
        dir.path(),
        &["run", "--records", "5", "--poll-interval", "0.2"],
    );
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    let start = des
        .seen
        .iter()
        .position(|l| l == "Try it:")
        .expect("a curl example");
    let script = des.seen[start + 1..start + 3].join("\n");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "the example failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    poll_until(
        "the curl-created account in the target",
        Duration::from_secs(60),
        || target::rows_named(&db, "account", "Hello from curl").filter(|n| *n == 1),
    );
    assert!(des.interrupt().success());
}

//! `des bench` against SQL Server: refused within seconds when the server does not answer
//! (runs everywhere), and a full run into a fresh database when `DES_TEST_MSSQL` names one.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::mssql::{Database, password, server};
use crate::support::{run_to_end_with_env, small_bench_args};

const PASSWORD: &str = "Bench_Not_Printed_7";

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

#[test]
fn bench_against_an_unreachable_sql_server_fails_fast_naming_the_server_not_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let target =
        format!("mssql:Server=tcp:127.0.0.1,{port};Database=bench;User ID=des;Password={PASSWORD}");
    let by_flag = ["bench", "--records", "100", "--target", &target];
    let by_env = ["bench", "--records", "100"];
    let env = [("DES_TARGET", target.as_str())];
    for (args, vars) in [(&by_flag[..], &[][..]), (&by_env[..], &env[..])] {
        let started = Instant::now();
        let (ok, out, err) = run_to_end_with_env(dir.path(), args, vars);
        let took = started.elapsed();
        assert!(!ok, "des bench succeeded without a server: {out}");
        assert!(took < Duration::from_secs(10), "took {took:?}: {err}");
        assert!(err.contains("cannot reach target"), "{err}");
        assert!(err.contains(&format!("127.0.0.1,{port}")), "{err}");
        assert!(!err.contains(PASSWORD) && !out.contains(PASSWORD), "{err}");
        assert!(!err.contains("source read"), "nothing measured: {err}");
    }
}

#[test]
fn bench_against_sql_server_reports_every_figure_and_drops_its_schemas() {
    let Some(server) = server() else { return };
    let mut db = Database::create(&server);
    let target = format!("mssql:{}", db.connection_string);
    let dir = tempfile::tempdir().unwrap();
    let args = small_bench_args(Some(&target));
    let (ok, out, err) = run_to_end_with_env(dir.path(), &args, &[]);
    assert!(ok, "des bench failed: {err}");
    if let Some(secret) = password(&server) {
        assert!(!out.contains(&secret) && !err.contains(&secret));
    }
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(report["target"], "sqlserver");
    crate::assert_every_figure(&report, 2000.0);
    assert_eq!(db.schemas_starting("desbench"), 0, "bench schemas dropped");
}

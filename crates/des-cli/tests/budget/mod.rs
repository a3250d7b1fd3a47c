//! `des bench --scenario budget`, small: every figure is there and they agree with each other
//! (no timing asserts: the machine's speed varies).

use serde_json::Value;

use crate::support::run_to_end;

#[test]
fn budget_scenario_reports_consistent_figures_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "bench",
        "--scenario",
        "budget",
        "--records",
        "600",
        "--time-scale",
        "0.01",
        "--app-users",
        "2",
        "--json",
    ];
    let (ok, out, err) = run_to_end(dir.path(), &args);
    assert!(ok, "des bench --scenario budget failed: {err}");
    let report: Value = serde_json::from_str(out.trim()).expect("one JSON object");
    let number = |path: &str| -> f64 {
        report
            .pointer(path)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("{path} missing in {report}"))
    };
    let share = number("/budget_share");
    assert!((0.0..=1.0).contains(&share), "budget_share {share}");
    assert_eq!(share, number("/parallel/budget_share"));
    let ratio = number("/ratio_to_budget_bound");
    assert!(ratio > 0.0);
    assert_eq!(ratio, number("/parallel/ratio_to_budget_bound"));
    let speedup = number("/speedup_over_sequential");
    let walls = number("/sequential/wall_secs") / number("/parallel/wall_secs");
    assert!((speedup - walls).abs() < 1e-9, "{speedup} vs {walls}");
    let bound = number("/bound_secs");
    assert_eq!(
        bound,
        number("/budget_bound_secs").max(number("/stream_bound_secs"))
    );
    assert!((ratio - bound / number("/parallel/wall_secs")).abs() < 1e-9);

    let entities = report["entities"].as_array().expect("entities");
    // The large one and up to ten others (the emulator has fewer change-tracked tables).
    assert!((2..=11).contains(&entities.len()), "{report}");
    let records: f64 = entities.iter().filter_map(|e| e["records"].as_f64()).sum();
    assert_eq!(entities[0]["records"].as_f64(), Some(12_000.0), "20 × 600");
    for reader in ["/parallel", "/sequential"] {
        assert_eq!(number(&format!("{reader}/records")), records, "{reader}");
        let pages: f64 = entities.iter().filter_map(|e| e["pages"].as_f64()).sum();
        assert!(number(&format!("{reader}/requests")) >= pages, "{reader}");
        let peak = number(&format!("{reader}/peak_in_flight"));
        assert!(
            peak >= 1.0 && peak <= number("/budget/concurrent"),
            "{reader}"
        );
        assert!(number(&format!("{reader}/throttled")) >= 0.0);
        assert!(number(&format!("{reader}/execution_secs")) > 0.0);
    }
    assert_eq!(number("/sequential/peak_in_flight"), 1.0, "one at a time");
    // The third reader, through two app users: every record, both budgets behind its bound.
    assert_eq!(number("/several_users/app_users"), 2.0);
    assert_eq!(number("/several_users/run/records"), records);
    let two_bound = number("/several_users/bound_secs");
    assert!(two_bound <= bound && two_bound >= number("/stream_bound_secs"));
    let over_one = number("/parallel/wall_secs") / number("/several_users/run/wall_secs");
    assert!((number("/several_users/speedup_over_one_user") - over_one).abs() < 1e-9);
    let share = number("/several_users/run/budget_share");
    assert!((0.0..=1.0).contains(&share), "{share}");
    assert!(report["load_before"].is_string() && report["load_after"].is_string());
}

#[test]
fn a_large_factor_of_one_makes_every_entity_alike() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "bench",
        "--scenario",
        "budget",
        "--records",
        "300",
        "--large-factor",
        "1",
        "--time-scale",
        "0.01",
        "--json",
    ];
    let (ok, out, err) = run_to_end(dir.path(), &args);
    assert!(ok, "des bench --scenario budget failed: {err}");
    let report: Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(report["large_factor"].as_u64(), Some(1));
    let entities = report["entities"].as_array().expect("entities");
    assert!(entities.len() >= 2, "{report}");
    assert_eq!(entities[0]["records"].as_u64(), Some(300), "{report}");
    // `systemuser` also holds the emulator's application user.
    let alike = |e: &Value| matches!(e["records"].as_u64(), Some(300 | 301));
    assert!(entities.iter().all(alike), "{report}");
}

#[test]
fn a_large_factor_of_zero_is_refused_with_its_flag_named() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["bench", "--scenario", "budget", "--large-factor", "0"];
    let (ok, _, err) = run_to_end(dir.path(), &args);
    assert!(!ok);
    assert!(err.contains("--large-factor"), "{err}");
}

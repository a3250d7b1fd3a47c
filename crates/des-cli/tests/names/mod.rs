//! `des schema` refuses the names `des run` refuses, with the same message (one validation).

use crate::support::run_to_end;

/// The line of stderr that names the broken rule (`Field: problem`).
fn refusal(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run_to_end(dir.path(), args);
    assert!(!ok, "des {args:?} accepted a bad name:\n{out}");
    assert!(
        !out.contains("CREATE SCHEMA"),
        "nothing is printed for a refused name:\n{out}"
    );
    err.lines()
        .map(str::trim)
        .find(|l| l.starts_with("Destination") || l.starts_with("Entities"))
        .unwrap_or_else(|| panic!("no named rule in:\n{err}"))
        .to_owned()
}

#[test]
fn schema_and_run_refuse_the_same_names_with_the_same_message() {
    let long = "s".repeat(129);
    let cases: [(&str, &str, &str); 5] = [
        ("--schema", "", "DestinationSchemaName: is required"),
        ("--schema", &long, "DestinationSchemaName: must be under"),
        (
            "--schema",
            "my schema",
            "DestinationSchemaName: must be alphanumeric",
        ),
        (
            "--prefix",
            "crm\"x",
            "DestinationPrefix: must be alphanumeric",
        ),
        (
            "--prefix",
            "crm]x",
            "DestinationPrefix: must be alphanumeric",
        ),
    ];
    for (flag, value, expected) in cases {
        let schema = refusal(&["schema", "--entity", "account", flag, value]);
        assert!(
            schema.starts_with(expected),
            "des schema {flag} {value:?}: {schema}"
        );
        let run = refusal(&["run", "--records", "1", "--entity", "account", flag, value]);
        assert_eq!(
            run, schema,
            "des run and des schema say the same for {flag} {value:?}"
        );
    }
}

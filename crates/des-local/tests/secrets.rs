use std::path::Path;

use des_contract::secrets::{self, SecretsFixture};
use des_core::ports::{SecretError, Secrets};
use des_local::LocalSecrets;

const VALUE: &str = "Server=db;Password=hunter2";

fn write_secrets_file(path: &Path, mode: u32, json: &str) {
    std::fs::write(path, json).expect("write secrets file");
    set_mode(path, mode);
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

fn fixture(secrets: LocalSecrets, known: &str) -> SecretsFixture<LocalSecrets> {
    SecretsFixture {
        secrets,
        known_reference: known.to_owned(),
        known_value: VALUE.to_owned(),
        missing_reference: "local:no-such-secret".to_owned(),
        malformed_reference: "https://vault.example/secrets/target".to_owned(),
    }
}

#[tokio::test]
async fn env_secrets_pass_the_contract() {
    secrets::run_all(|| async {
        let vars = [("DES_SECRET_SQL_MAIN", VALUE)];
        fixture(LocalSecrets::new().with_vars(vars), "local:sql-main")
    })
    .await;
}

#[tokio::test]
async fn file_secrets_pass_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secrets.json");
    write_secrets_file(
        &path,
        0o600,
        &serde_json::json!({ "sql-main": VALUE }).to_string(),
    );
    secrets::run_all(|| async {
        let no_vars: [(&str, &str); 0] = [];
        fixture(
            LocalSecrets::new().with_vars(no_vars).with_file(&path),
            "local:sql-main",
        )
    })
    .await;
}

#[tokio::test]
async fn env_references_read_the_variable_as_named() {
    let secrets = LocalSecrets::new().with_vars([("PG_URL", VALUE)]);
    assert_eq!(
        secrets.get("env:PG_URL").await.expect("env").expose(),
        VALUE
    );
    let missing = secrets.get("env:NOT_SET").await;
    assert!(
        matches!(&missing, Err(SecretError::NotFound(r)) if r == "env:NOT_SET"),
        "{missing:?}"
    );
}

#[tokio::test]
async fn the_environment_wins_over_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secrets.json");
    write_secrets_file(
        &path,
        0o600,
        r#"{"target": "from file", "other": "file only"}"#,
    );
    let secrets = LocalSecrets::new()
        .with_vars([("DES_SECRET_TARGET", "from env")])
        .with_file(&path);
    assert_eq!(
        secrets.get("local:target").await.expect("target").expose(),
        "from env"
    );
    assert_eq!(
        secrets.get("local:other").await.expect("other").expose(),
        "file only"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_secrets_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secrets.json");
    write_secrets_file(
        &path,
        0o644,
        &serde_json::json!({ "target": VALUE }).to_string(),
    );
    let no_vars: [(&str, &str); 0] = [];
    let secrets = LocalSecrets::new().with_vars(no_vars).with_file(&path);
    let error = secrets.get("local:target").await.expect_err("refused");
    let text = error.to_string();
    assert!(matches!(error, SecretError::Unavailable(_)), "{text}");
    assert!(text.contains("644") && !text.contains(VALUE), "{text}");
}

#[tokio::test]
async fn a_missing_file_holds_no_secrets_and_bad_json_names_no_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let no_vars: [(&str, &str); 0] = [];
    let absent = LocalSecrets::new()
        .with_vars(no_vars)
        .with_file(dir.path().join("none.json"));
    let missing = absent.get("local:target").await;
    assert!(
        matches!(missing, Err(SecretError::NotFound(_))),
        "{missing:?}"
    );

    let path = dir.path().join("broken.json");
    write_secrets_file(&path, 0o600, &format!(r#"{{"target": "{VALUE}" "#));
    let broken = LocalSecrets::new().with_vars(no_vars).with_file(&path);
    let text = broken
        .get("local:target")
        .await
        .expect_err("broken file")
        .to_string();
    assert!(
        text.contains("line 1") && !text.contains("hunter2"),
        "{text}"
    );
}

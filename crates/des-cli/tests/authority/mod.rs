//! `des run` against a standalone emulator process, signing in at the authority it names:
//! the emulator is another process, its own Entra authority, and `--authority` points the
//! token provider and the API's issuer at it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod app_users;

use crate::support::web_api::WebApi;
use crate::support::{Des, current_thread_runtime, poll_until, run_to_end_with_env, target};
use crate::{SYNC_TIMEOUT, is_sync_done};

/// The emulator's defaults (`dataverse-emulator --help`).
pub(crate) const TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
pub(crate) const CLIENT_ID: &str = "51f81489-12ee-4a9e-aaae-a2591f45987d";
pub(crate) const SECRET: &str = "emulator-secret";

/// The `dataverse-emulator` binary, built by cargo on first use (a no-op when fresh).
fn emulator_binary() -> PathBuf {
    // target/<profile>/deps/main-<hash> → target/<profile>
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "-p", "dataverse-emulator"]);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    assert!(
        build.status().expect("cargo runs").success(),
        "building the emulator failed"
    );
    dir.join("dataverse-emulator")
}

/// A standalone emulator process on a free port; killed when dropped.
pub(crate) struct EmulatorProcess {
    child: Child,
    pub(crate) base_url: String,
}

impl EmulatorProcess {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// The emulator with `more` flags besides a free port and 15 records per table.
    pub(crate) fn start_with(more: &[&str]) -> Self {
        let mut child = Command::new(emulator_binary())
            .args(["--port", "0", "--records", "15"])
            .args(more)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the emulator starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Keep reading to the end: a closed pipe would fail the emulator's next print.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.trim().strip_prefix("base URL (org):") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let base_url = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the emulator prints its URL");
        Self { child, base_url }
    }

    /// Switches the emulator's faults on demand (`POST /_emulator/faults`).
    pub(crate) fn faults(&self, request: serde_json::Value) {
        let url = format!("{}/_emulator/faults", self.base_url);
        let status = current_thread_runtime().block_on(async {
            let sent = reqwest::Client::new().post(url).json(&request).send().await;
            sent.expect("the emulator answers").status()
        });
        assert!(status.is_success(), "faults refused: {status}");
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn run_signs_in_at_a_standalone_emulator_named_by_authority() {
    let emulator = EmulatorProcess::start();
    let base = emulator.base_url.as_str();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("des-data/export.db");
    let mut des = run_against(&emulator, dir.path());
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    let api = WebApi::sign_in(
        &format!("{base}/api/data/v9.2"),
        &format!("{base}/{TENANT}/oauth2/v2.0/token"),
        CLIENT_ID,
        SECRET,
        &format!("{base}/.default"),
    );
    assert_eq!(
        target::counts(&db, "account").map(|(rows, _)| rows),
        Some(api.count("accounts")),
        "the initial sync copied every account"
    );
    let marker = format!("authority test {}", std::process::id());
    api.create_account(&marker);
    poll_until(
        "the new account in the target",
        Duration::from_secs(60),
        || target::rows_named(&db, "account", &marker).filter(|n| *n == 1),
    );
    api_accepts_tokens_of(&mut des, base);
    assert!(des.interrupt().success(), "clean exit on SIGINT");
}

/// The DES API takes the emulator's tokens: a valid token of someone who is no System
/// Administrator gets 403 (signed in, not allowed), no token 401.
fn api_accepts_tokens_of(des: &mut Des, emulator: &str) {
    let api = des.banner_value("DES API listening on");
    let api = api.split_whitespace().next().expect("API URL").to_owned();
    let org = des.banner_value("organization:");
    let org_id = org
        .split(['(', ')'])
        .nth(1)
        .expect("organization id")
        .to_owned();
    let oid = uuid::Uuid::new_v4();
    let runtime = current_thread_runtime();
    let http = reqwest::Client::new();
    let profiles = format!("{api}/crm/exporter/profiles?organizationId={org_id}");
    let (signed_in, anonymous) = runtime.block_on(async {
        let token: serde_json::Value = http
            .post(format!("{emulator}/_emulator/users/{oid}/token"))
            .json(&serde_json::json!({"audience": "api://data-export-service"}))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("JSON");
        let token = token["access_token"].as_str().expect("token").to_owned();
        let signed_in = http.get(&profiles).bearer_auth(token).send().await;
        let anonymous = http.get(&profiles).send().await;
        (
            signed_in.expect("answer").status(),
            anonymous.expect("answer").status(),
        )
    });
    assert_eq!(signed_in.as_u16(), 403, "the issuer's token is accepted");
    assert_eq!(anonymous.as_u16(), 401);
}

#[test]
fn run_refuses_an_authority_that_would_send_the_secret_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run_to_end_with_env(
        dir.path(),
        &[
            "run",
            "--dataverse-url",
            "https://org.crm.microsoftdynamics.us",
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT_ID,
            "--authority",
            "http://login.example.com",
        ],
        &[("DES_CLIENT_SECRET", SECRET)],
    );
    assert!(!ok, "des run must refuse: {out}");
    assert!(err.contains("must use https"), "{err}");
    assert!(
        !dir.path().join("des-data").exists(),
        "nothing is created before the settings are checked"
    );
}

/// `des run` replicating `account` from `emulator`, signing in at it as the authority.
pub(crate) fn run_against(emulator: &EmulatorProcess, dir: &std::path::Path) -> Des {
    let base = emulator.base_url.as_str();
    let args = [
        "run",
        "--dataverse-url",
        base,
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--authority",
        base,
        "--entity",
        "account",
        "--poll-interval",
        "0.2",
    ];
    Des::spawn_with_env(dir, &args, &[("DES_CLIENT_SECRET", SECRET)])
}

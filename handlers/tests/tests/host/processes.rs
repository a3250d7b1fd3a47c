//! The handler binaries as real processes: built by cargo on first use (a no-op when they
//! are fresh), started with the host's `FUNCTIONS_CUSTOMHANDLER_PORT`, and timed from spawn
//! to the first answer of the readiness probe (`GET /`), which is what the host waits for.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The three apps' binaries (packages and binaries share the name).
pub const API: &str = "des-api-handler";
pub const POLLER: &str = "des-poller";
pub const APPLIER: &str = "des-applier";

/// Builds the handler binaries once per test run and returns the folder they are in.
fn bin_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // target/<profile>/deps/host-<hash> → target/<profile>
        let exe = std::env::current_exe().expect("test exe");
        let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "--quiet", "-p", API, "-p", POLLER, "-p", APPLIER]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building the handler binaries failed");
        dir.to_path_buf()
    })
}

pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A free loopback port (the OS picks it; released before the handler binds it).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A running handler; killed when dropped.
pub struct Handler {
    pub name: &'static str,
    pub port: u16,
    pub readiness: Duration,
    child: Child,
}

impl Handler {
    /// Starts `name` with `env` on a free port and waits until it answers `GET /`.
    pub async fn start(name: &'static str, env: &[(String, String)]) -> Self {
        let path = binary(name);
        Self::start_binary(name, &path, env).await
    }

    pub async fn start_binary(
        name: &'static str,
        path: &std::path::Path,
        env: &[(String, String)],
    ) -> Self {
        let port = free_port();
        let started = Instant::now();
        let child = Command::new(path)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut handler = Self {
            name,
            port,
            readiness: Duration::ZERO,
            child,
        };
        handler.readiness = handler.wait_ready(started).await;
        handler
    }

    async fn wait_ready(&mut self, started: Instant) -> Duration {
        let client = reqwest::Client::new();
        let url = self.url("/");
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(answer) = client.get(&url).send().await
                && answer.status().is_success()
            {
                return started.elapsed();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited before it was ready: {status}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("{} did not answer GET / within 20 s", self.name);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `des-applier <args>` to completion with `env`; its stderr on failure.
pub fn run_applier_command(args: &[&str], env: &[(String, String)]) -> String {
    let output = Command::new(binary(APPLIER))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("des-applier runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "des-applier {args:?} failed: {stderr}"
    );
    stderr
}

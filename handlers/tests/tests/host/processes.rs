//! The handler binaries as real processes: built by cargo on first use (a no-op when they
//! are fresh), started with the host's `FUNCTIONS_CUSTOMHANDLER_PORT`, and timed from spawn
//! to the first answer of the readiness probe (`GET /`), which is what the host waits for.
//! Their stdout and stderr are read line by line and classified the way the host classifies
//! an HTTP worker's output (see `HostLevel`); each line is echoed to the test's stderr.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
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

/// The level the Functions host gives a line of a custom handler's output
/// (`WorkerProcess.ParseErrorMessageAndLog`, with `UseStdErrorStreamForErrorsOnly`, which
/// `HttpWorkerDescription` sets): stdout is Information; a stderr line is a Warning when it
/// contains "warn" in any case, else an Error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostLevel {
    Information,
    Warning,
    Error,
}

/// One line of a handler's output as the host logs it.
#[derive(Debug, Clone)]
pub struct HostLine {
    pub level: HostLevel,
    pub text: String,
}

impl HostLine {
    fn classify(stderr: bool, text: String) -> Self {
        let level = match (stderr, text.to_ascii_lowercase().contains("warn")) {
            (false, _) => HostLevel::Information,
            (true, true) => HostLevel::Warning,
            (true, false) => HostLevel::Error,
        };
        Self { level, text }
    }

    /// The level the handler's log formatter wrote (`INFO`, `WARN`, ...), if any.
    pub fn written_level(&self) -> Option<&str> {
        self.text
            .split_whitespace()
            .nth(1)
            .filter(|word| ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(word))
    }
}

type Lines = Arc<Mutex<Vec<HostLine>>>;

/// A running handler; killed when dropped.
pub struct Handler {
    pub name: &'static str,
    pub port: u16,
    pub readiness: Duration,
    child: Child,
    lines: Lines,
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
        let mut child = Command::new(path)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let lines = Lines::default();
        read_lines(name, false, child.stdout.take().expect("stdout"), &lines);
        read_lines(name, true, child.stderr.take().expect("stderr"), &lines);
        let mut handler = Self {
            name,
            port,
            readiness: Duration::ZERO,
            child,
            lines,
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

    /// The lines written so far, as the host would log them.
    pub fn lines(&self) -> Vec<HostLine> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The first line that `matches`, waiting for it (the handler writes asynchronously).
    pub async fn wait_for_line(&self, matches: impl Fn(&HostLine) -> bool) -> HostLine {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| matches(l)) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no such line within 10 s; lines: {:#?}",
                self.name,
                self.lines()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Reads `stream` line by line into `lines` on a thread of its own.
fn read_lines(name: &'static str, stderr: bool, stream: impl Read + Send + 'static, lines: &Lines) {
    let lines = Arc::clone(lines);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            eprintln!(
                "[{name} {}] {line}",
                if stderr { "stderr" } else { "stdout" }
            );
            let line = HostLine::classify(stderr, line);
            lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }
    });
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

//! Runs the built `des` binary as a real process and reads what it prints.

pub mod mssql;
pub mod postgres;
pub mod target;
pub mod web_api;
pub mod webdriver;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A running `des` with its stdout read line by line on a thread.
pub struct Des {
    child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Des {
    /// Starts `des <args>` in `dir`, logs to a file there (stderr is not read by the tests).
    pub fn spawn(dir: &Path, args: &[&str]) -> Self {
        Self::spawn_with_env(dir, args, &[])
    }

    /// [`Des::spawn`] with extra environment variables.
    pub fn spawn_with_env(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Self {
        Self::spawn_command(Command::new(env!("CARGO_BIN_EXE_des")), dir, args, vars)
    }

    /// [`Des::spawn`] with SIGINT ignored, as a shell without job control starts a
    /// background command: `des` inherits the disposition until it takes the signal over.
    #[cfg(unix)]
    pub fn spawn_ignoring_interrupt(dir: &Path, args: &[&str]) -> Self {
        let mut shell = Command::new("sh");
        let script = "trap '' INT; exec \"$0\" \"$@\"";
        shell.args(["-c", script, env!("CARGO_BIN_EXE_des")]);
        Self::spawn_command(shell, dir, args, &[])
    }

    fn spawn_command(
        mut command: Command,
        dir: &Path,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> Self {
        let log =
            std::fs::File::create(dir.join(format!("des-{}.log", std::process::id()))).unwrap();
        let mut child = command
            .args(args)
            .args(any_api_port(args))
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .env_remove("DES_CLIENT_SECRET")
            .env_remove("DES_TARGET")
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("des starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line (already seen or coming) for which `want` holds.
    pub fn wait_for(&mut self, want: impl Fn(&str) -> bool, timeout: Duration) -> String {
        if let Some(line) = self.seen.iter().find(|l| want(l)) {
            return line.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out; output so far:\n{}", self.seen.join("\n"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("des exited; output:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    /// The value after `label` on the banner line that starts with it.
    pub fn banner_value(&mut self, label: &str) -> String {
        let line = self.wait_for(
            |l| l.trim_start().starts_with(label),
            Duration::from_secs(60),
        );
        line.trim_start()[label.len()..].trim().to_owned()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no clean stop, as after a crash or an OOM kill.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGINT (what Ctrl-C sends) and waits for the exit.
    pub fn interrupt(&mut self) -> ExitStatus {
        self.signal("-INT")
    }

    /// Sends SIGTERM (what service managers send) and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("-TERM")
    }

    fn signal(&mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success(), "kill {signal} failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Collect what it printed on its way out.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(1)) {
                    self.seen.push(line);
                }
                return status;
            }
            assert!(Instant::now() < deadline, "des did not stop after {signal}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Des {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Tests run side by side, so a `des run` that names no API port takes any free one.
fn any_api_port(args: &[&str]) -> &'static [&'static str] {
    let names_port = args
        .iter()
        .any(|a| a.starts_with("--api-port") || *a == "--no-api");
    if args.first() == Some(&"run") && !names_port {
        &["--api-port", "0"]
    } else {
        &[]
    }
}

/// Runs `des <args>` to completion and returns (success, stdout, stderr).
pub fn run_to_end(dir: &Path, args: &[&str]) -> (bool, String, String) {
    run_to_end_with_env(dir, args, &[])
}

/// [`run_to_end`] with extra environment variables.
pub fn run_to_end_with_env(
    dir: &Path,
    args: &[&str],
    vars: &[(&str, &str)],
) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_des"))
        .args(args)
        .current_dir(dir)
        .env_remove("DES_CLIENT_SECRET")
        .env_remove("DES_TARGET")
        .envs(vars.iter().copied())
        .output()
        .expect("des runs");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (out.status.success(), text(out.stdout), text(out.stderr))
}

/// Polls `check` every 100 ms until it returns `Some`, or panics after `timeout`.
pub fn poll_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A small `des bench` run with every phase, as JSON, optionally into `target`.
pub fn small_bench_args(target: Option<&str>) -> Vec<&str> {
    let mut args = vec!["bench"];
    if let Some(target) = target {
        args.extend(["--target", target]);
    }
    args.extend([
        "--records",
        "2000",
        "--delta-seconds",
        "2",
        "--changes-per-sec",
        "20",
        "--json",
    ]);
    args
}

/// A runtime for the blocking helpers that set up and read back test databases.
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

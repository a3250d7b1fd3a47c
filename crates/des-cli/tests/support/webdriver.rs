//! Headless Chromium driven over the W3C WebDriver protocol by its ChromeDriver.
//!
//! A dozen plain HTTP calls are all the browser tests use, so this is a small client over
//! `reqwest` (already a test dependency) rather than a WebDriver crate (fantoccini, thirtyfour:
//! more crates to build on two cores for the same calls) or a Python runner (a second
//! language and package set in the test run). Chromium and ChromeDriver come from the system's
//! packages (`chromium`, `chromium-driver`), which `scripts/test` installs when missing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a wait for something on the page may take.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A ChromeDriver process with one browser session.
pub struct Browser {
    driver: Child,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
}

/// One element of the page.
#[derive(Clone, Debug)]
pub struct Element(String);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The switches that keep Chromium from hanging on a closed network: no background
/// networking, updates, sync or QUIC, and a fresh profile.
fn chromium_args(profile: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium session; fails naming what is missing.
    pub fn start() -> Browser {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: run scripts/test (it installs the `{package}` package), \
                 or `apt-get install chromium chromium-driver`; DES_TEST_BROWSER=skip leaves \
                 the browser tests out"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let rt = super::current_thread_runtime();
        let http = reqwest::Client::new();
        let profile = tempfile::tempdir().expect("a browser profile folder");
        let mut browser = Browser {
            driver,
            rt,
            http,
            session: String::new(),
            _profile: profile,
        };
        browser.session = browser.new_session(port);
        browser
    }

    fn new_session(&self, port: u16) -> String {
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + PATIENCE;
        while self.raw("GET", &format!("{base}/status"), None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": chromium_args(self._profile.path())},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let answer = self
            .raw("POST", &format!("{base}/session"), Some(capabilities))
            .expect("a browser session");
        let id = answer["sessionId"].as_str().expect("a session id");
        format!("{base}/session/{id}")
    }

    fn raw(&self, method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        self.rt.block_on(async {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let json: Value = response.json().await.map_err(|e| e.to_string())?;
            match status.is_success() {
                true => Ok(json["value"].clone()),
                false => Err(format!("{status}: {}", json["value"])),
            }
        })
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.raw(method, &format!("{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})))
            .expect("navigates");
    }

    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn resize(&self, width: u32, height: u32) {
        let rect = json!({"width": width, "height": height});
        self.call("POST", "/window/rect", Some(rect))
            .expect("resizes");
    }

    /// The elements matching a CSS selector now.
    pub fn all(&self, css: &str) -> Vec<Element> {
        let query = json!({"using": "css selector", "value": css});
        let found = self
            .call("POST", "/elements", Some(query))
            .unwrap_or_default();
        found
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|id| Element(id.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits for the first element matching `css` whose text contains `text`.
    pub fn find(&self, css: &str, text: &str) -> Element {
        self.wait(&format!("{css} containing {text:?}"), || {
            self.all(css)
                .into_iter()
                .find(|e| self.text(e).contains(text))
        })
    }

    /// Polls `check` until it answers, or fails after [`PATIENCE`] with the page's text.
    pub fn wait<T>(&self, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(found) = check() {
                return found;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what} on {}; the page says:\n{}",
                    self.url(),
                    self.page_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn text(&self, element: &Element) -> String {
        let path = format!("/element/{}/text", element.0);
        self.call("GET", &path, None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        let path = format!("/element/{}/attribute/{name}", element.0);
        self.call("GET", &path, None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    pub fn page_text(&self) -> String {
        self.all("body")
            .first()
            .map(|b| self.text(b))
            .unwrap_or_default()
    }

    pub fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.call("POST", &path, None).expect("clicks");
    }

    /// Clears a field and types `text` into it.
    pub fn fill(&self, element: &Element, text: &str) {
        let clear = format!("/element/{}/clear", element.0);
        self.call("POST", &clear, None).expect("clears");
        let path = format!("/element/{}/value", element.0);
        self.call("POST", &path, Some(json!({"text": text})))
            .expect("types");
    }

    /// Runs a script in the page and returns its value.
    pub fn script(&self, script: &str) -> Value {
        let body = json!({"script": script, "args": []});
        self.call("POST", "/execute/sync", Some(body))
            .unwrap_or(Value::Null)
    }

    /// Entries the page logged at level SEVERE (errors) since the last call.
    pub fn console_errors(&self) -> Vec<String> {
        let logs = self
            .call("POST", "/se/log", Some(json!({"type": "browser"})))
            .expect("chromedriver gives the browser log");
        logs.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Saves a PNG of the viewport.
    pub fn screenshot(&self, path: &PathBuf) {
        let png = self.call("GET", "/screenshot", None).expect("a screenshot");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("base64 PNG");
        std::fs::write(path, bytes).expect("screenshot written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.call("DELETE", "", None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

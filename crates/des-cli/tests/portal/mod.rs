//! The admin portal in headless Chromium against a real `des run`: sign-in through the
//! emulator's Entra pages, the wizard, the actions, live figures, the refusal and expiry pages.
//! `DES_SCREENSHOTS=<folder>` keeps the screenshots there (the README's come from it).

use std::path::PathBuf;

use serde_json::json;

use crate::api::{printed_calls, with_api};
use crate::support::webdriver::{Browser, Element};
use crate::support::{Des, current_thread_runtime};
use crate::{SYNC_TIMEOUT, is_sync_done, sign_in};

const ADMIN: &str = "5a3e1d0c-0de5-4c11-9a7e-000000000a11";
const USER: &str = "5a3e1d0c-0de5-4c11-9a7e-000000000b22";

/// Browser tests need Chromium; `DES_TEST_BROWSER=skip` leaves them out on purpose.
fn skipped() -> bool {
    let skip = std::env::var("DES_TEST_BROWSER").is_ok_and(|v| v == "skip");
    if skip {
        eprintln!("NOTE: browser test NOT RUN (DES_TEST_BROWSER=skip)");
    }
    skip
}

struct Portal {
    des: Des,
    browser: Browser,
    url: String,
    emulator: String,
    shots: PathBuf,
    _dir: tempfile::TempDir,
}

impl Portal {
    fn start() -> Portal {
        let dir = tempfile::tempdir().unwrap();
        let args = ["run", "--records", "20", "--poll-interval", "0.2"];
        let mut des = Des::spawn(dir.path(), &args);
        let emulator = des.banner_value("Dataverse emulator listening on");
        let portal = des.banner_value("Admin portal:");
        let url = portal.split_whitespace().next().unwrap().to_owned();
        des.wait_for(is_sync_done, SYNC_TIMEOUT);
        let shots = std::env::var_os("DES_SCREENSHOTS")
            .map_or_else(|| dir.path().to_owned(), PathBuf::from);
        Portal {
            des,
            browser: Browser::start(),
            url,
            emulator,
            shots,
            _dir: dir,
        }
    }

    fn shot(&self, name: &str) {
        self.browser
            .screenshot(&self.shots.join(format!("{name}.png")));
    }

    /// Welcome page → the emulator's sign-in page → back, signed in as `oid`.
    fn sign_in_as(&self, oid: &str) {
        let b = &self.browser;
        b.click(&b.find("button[data-action=sign-in]", "Sign in"));
        self.pick_account(oid);
    }

    fn pick_account(&self, oid: &str) {
        let b = &self.browser;
        b.find("h1", "Pick an account");
        b.click(&b.find(&format!("button[value='{oid}']"), ""));
    }

    fn heading(&self, text: &str) -> Element {
        self.browser.find("main h1", text)
    }

    /// POSTs JSON to one of the emulator's control endpoints.
    fn emulator_control(&self, path: &str, body: serde_json::Value) {
        let url = format!("{}/_emulator/{path}", self.emulator);
        current_thread_runtime().block_on(async {
            let answer = reqwest::Client::new().post(&url).json(&body).send().await;
            assert!(answer.unwrap().status().is_success(), "{url}");
        });
    }

    /// The text of `column` in the entity table's row of `entity`.
    fn cell(&self, entity: &str, column: usize) -> String {
        let cells = self.browser.all(&format!("tr[data-entity='{entity}'] td"));
        cells
            .get(column)
            .map(|c| self.browser.text(c))
            .unwrap_or_default()
    }

    /// Nothing is wider than the window (no sideways scrolling); names what is, if anything.
    fn fits_the_window(&self) {
        let wider = self.browser.script(
            "return [...document.querySelectorAll('body *')]\
             .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)\
             .map(e => e.tagName + '.' + e.className).slice(0, 5)",
        );
        assert_eq!(wider, json!([]), "elements wider than the window");
        let page = self.browser.script(
            "const d = document.documentElement; return [d.scrollWidth, d.clientWidth, window.innerWidth, document.body.scrollWidth]",
        );
        let widths: Vec<u64> = serde_json::from_value(page).unwrap();
        assert!(
            widths[0] <= widths[1],
            "the page scrolls sideways: {widths:?}"
        );
    }

    fn no_console_errors(&self) {
        let errors = self.browser.console_errors();
        assert!(errors.is_empty(), "console errors: {errors:#?}");
    }
}

fn number(text: &str) -> u64 {
    text.replace([',', '.', '\u{a0}', ' '], "")
        .parse()
        .unwrap_or(0)
}

const ROWS: usize = 1;
const LAG: usize = 4;
const WAITS: usize = 6;

#[test]
fn an_admin_runs_an_export_from_the_portal() {
    if skipped() {
        return;
    }
    let mut portal = Portal::start();
    let b = &portal.browser;
    b.goto(&portal.url);
    portal.heading("Sign in to the Data Export Service");
    portal.shot("portal-sign-in");
    portal.sign_in_as(ADMIN);
    portal.heading("Export profiles");
    b.find(".card h2", "des run");
    b.find(".card .summary", "rows exported");
    portal.shot("portal-profiles");

    // The wizard: name, entities (searched), target, settings, then validate and save.
    b.click(&b.find("[data-action=new-profile]", "New profile"));
    b.fill(&b.find("#f-Name", ""), "Portal test");
    b.click(&b.find("[data-action=next]", "Next"));
    b.fill(&b.find("#entity-search", ""), "accou");
    b.wait("the search to leave one entity", || {
        (b.all("#entity-list li").len() == 1).then_some(())
    });
    b.click(&b.find("#e-account", ""));
    b.click(&b.find("[data-action=next]", "Next"));
    b.click(&b.find("#f-DestinationType option[value=sqlite]", ""));
    b.fill(&b.find("#f-DestinationKeyVaultUri", ""), "local:target");
    b.fill(&b.find("#f-DestinationPrefix", ""), "portal");
    b.click(&b.find("[data-action=next]", "Next"));
    b.fill(&b.find("#f-MaxRetryCount", ""), "1");
    b.fill(&b.find("#f-IntervalInSeconds", ""), "1");
    b.click(&b.find("[data-action=next]", "Next"));
    b.find(".outcome h2", "Validation passed.");
    b.find("[data-check=TargetReachable]", "Passed");
    portal.shot("portal-wizard-validate");
    b.click(&b.find("[data-action=save]", "Create profile"));
    portal.heading("Portal test");
    // Each screen puts the keyboard and the screen reader at its heading.
    let focused = b
        .script("return document.activeElement.tagName + ':' + document.activeElement.textContent");
    assert_eq!(focused, json!("H1:Portal test"));

    // Edit: the wizard comes back filled in; a changed retry count is saved after validation.
    b.click(&b.find("[data-action=edit]", "Edit"));
    portal.heading("Edit Portal test: Name");
    for _ in 0..3 {
        b.click(&b.find("[data-action=next]", "Next"));
    }
    b.fill(&b.find("#f-MaxRetryCount", ""), "2");
    b.click(&b.find("[data-action=next]", "Next"));
    b.find(".outcome h2", "Validation passed.");
    b.click(&b.find("[data-action=save]", "Save changes"));
    portal.heading("Portal test");
    b.find("dl.settings dd", "2 times, every 1 s");

    // Activate; the initial sync shows, then changes made in Dataverse arrive.
    b.click(&b.find("[data-action=activate]", "Activate"));
    b.find("main .badge", "Active");
    b.wait("the initial rows", || {
        (number(&portal.cell("account", ROWS)) == 20).then_some(())
    });
    let web_api = sign_in(&mut portal.des);
    for n in 0..3 {
        web_api.create_account(&format!("Portal change {n}"));
    }
    b.wait("the changed rows", || {
        (number(&portal.cell("account", ROWS)) == 23).then_some(())
    });
    b.wait("a lag figure", || {
        (portal.cell("account", LAG) != "—").then_some(())
    });
    // A stream that does not wait for its operator shows no hint.
    assert_eq!(portal.cell("account", WAITS), "—");
    b.wait("the rows chart", || {
        b.all("svg.chart[aria-label^='Rows applied per minute over the last hour']")
            .first()
            .cloned()
    });
    portal.fits_the_window();
    portal.shot("portal-profile");

    // Resync one entity, then open the failure log through its link.
    b.click(&b.find("button[data-action=resync][data-entity=account]", "Resync"));
    b.find(".outcome .done", "Resync of account started.");
    b.click(&b.find("[data-action=resync-failed]", "Resync failed records"));
    b.find(".outcome .done", "Resync of failed records started.");
    b.click(&b.find("[data-action=test]", "Test"));
    b.find(".outcome h3", "Test: Every check passed.");
    b.find("[data-check=SourceReachable]", "Passed");
    b.click(&b.find("[data-action=failure-log]", "Failure log"));
    let link = b.find("a[data-action=open-failure-log]", "Open the failure log");
    let href = b.attribute(&link, "href").expect("a link");
    let profile_page = b.url();
    b.goto(&href);
    assert!(b.url().contains("/crm/exporter/failurelog/"), "{}", b.url());
    assert_eq!(b.script("return document.contentType"), json!("text/plain"));
    b.goto(&profile_page);
    portal.heading("Portal test");

    // Deactivate, then delete with confirmation.
    b.click(&b.find("[data-action=deactivate]", "Deactivate"));
    b.find("main .badge", "Inactive");
    b.click(&b.find("[data-action=delete]", "Delete"));
    b.click(&b.find("[data-action=confirm-delete]", "Delete"));
    portal.heading("Export profiles");
    b.wait("the deleted profile to be gone", || {
        let cards = b.all(".card h2");
        (!cards.iter().any(|c| b.text(c) == "Portal test")).then_some(())
    });
    portal.no_console_errors();

    b.click(&b.find("[data-action=sign-out]", "Sign out"));
    portal.heading("Sign in to the Data Export Service");
    portal.no_console_errors();
}

#[test]
fn refusal_expiry_and_phone_width() {
    if skipped() {
        return;
    }
    let mut portal = Portal::start();
    let b = &portal.browser;
    b.goto(&portal.url);
    portal.sign_in_as(USER);
    portal.heading("You are not a System Administrator");
    b.find("main p", "DES Sample User");
    portal.shot("portal-not-admin");

    // Another account from the refusal page; its tokens expire after a few seconds.
    portal.emulator_control("sign-in", json!({"token_lifetime_secs": 4}));
    b.click(&b.find("[data-action=switch-account]", "another account"));
    portal.pick_account(ADMIN);
    portal.heading("Export profiles");
    portal.heading("Your session has expired");
    portal.shot("portal-session-expired");
    portal.emulator_control("sign-in", json!({"token_lifetime_secs": null}));
    b.click(&b.find("[data-action=sign-in-again]", "Sign in again"));
    portal.pick_account(ADMIN);
    portal.heading("Export profiles");

    // A phone's width: one column, nothing wider than the screen.
    b.resize(390, 844);
    b.find(".card .summary", "rows exported");
    portal.fits_the_window();
    portal.shot("portal-phone");
    portal.no_console_errors();

    // Beyond a page: the list shows twenty profiles and links to the next page.
    b.resize(1280, 900);
    create_profiles(&mut portal.des, 21);
    b.goto(&portal.url);
    portal.heading("Export profiles");
    b.wait("a full first page", || {
        (b.all(".card h2").len() == 20).then_some(())
    });
    b.find(".card h2", "Paged 00");
    b.click(&b.find("[data-action=next-page]", "Next profiles"));
    b.wait("the second page", || {
        let names: Vec<String> = b.all(".card h2").iter().map(|c| b.text(c)).collect();
        (names == ["Paged 20", "des run"]).then_some(())
    });
    assert!(
        b.all("[data-action=next-page]").is_empty(),
        "no page after the last"
    );
    b.click(&b.find("[data-action=first-page]", "First page"));
    b.find(".card h2", "Paged 00");
    portal.no_console_errors();
}

/// Creates `count` profiles named `Paged NN` through the DES API, as the banner's token
/// curl shows.
fn create_profiles(des: &mut Des, count: usize) {
    let (token_line, profiles_line) = printed_calls(des);
    with_api(
        &token_line,
        &profiles_line,
        async |http, token, profiles_url| {
            let url = reqwest::Url::parse(profiles_url).unwrap();
            let org = url
                .query_pairs()
                .find(|(k, _)| k == "organizationId")
                .unwrap()
                .1;
            let create = format!(
                "{}?organizationId={org}",
                url.as_str().split('?').next().unwrap()
            );
            for n in 0..count {
                let body = json!({
                    "Name": format!("Paged {n:02}"), "OrganizationId": org,
                    "Entities": [{"Type": "account"}], "DestinationType": "sqlite",
                    "DestinationKeyVaultUri": "local:target", "DestinationPrefix": format!("paged{n}"),
                    "RetryPolicy": {"MaxRetryCount": 0, "IntervalInSeconds": 0}, "WriteDeleteLog": true
                });
                let answer = http
                    .post(&create)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    answer.status().as_u16(),
                    201,
                    "{}",
                    answer.text().await.unwrap()
                );
            }
        },
    );
}

"""Drift test: the names the IaC uses must be the names the code uses.

Sources compared (all read from the checkout, no network):
- docs/azure-names.md (the names table),
- crates/des-azure/src/names.rs (the Rust constants),
- handlers/*/<function>/function.json and handlers/applier/host.json,
- infra/bicep/*.bicep and infra/terraform/*.tf.

Run: python3 infra/tests/test_names.py  (exit code 1 and a list of mismatches on drift).
"""

import json
import re
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BICEP = ROOT / "infra" / "bicep"
TERRAFORM = ROOT / "infra" / "terraform"

# Settings the Functions platform or the host reads, not DES code: allowed in the IaC.
PLATFORM_SETTINGS = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "AzureFunctionsJobHost__extensions__queues__maxDequeueCount",
    # The host's diagnostic events (tables); DES reads blobs and queues only.
    "AzureWebJobsStorage__tableServiceUri",
    "RUST_LOG",
}
# Containers the Functions host and Flex deployment use (not DES data).
PLATFORM_CONTAINERS = {
    "azure-webjobs-hosts",
    "azure-webjobs-secrets",
    "deploy-api",
    "deploy-poller",
    "deploy-applier",
}


def read(path):
    return Path(path).read_text(encoding="utf-8")


def rust_constants():
    """`pub const NAME: &str = "value";` (and integer defaults) from names.rs."""
    text = read(ROOT / "crates/des-azure/src/names.rs")
    found = dict(re.findall(r'pub const (\w+): &str = "([^"]*)";', text))
    found.update(re.findall(r"pub const (\w+): u\d+ = (\d+);", text))
    return found


def doc_table():
    """The names table of docs/azure-names.md as {row: [backticked names]}."""
    rows = {}
    for line in read(ROOT / "docs/azure-names.md").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and "`" in cells[1]:
            rows[cells[0]] = re.findall(r"`([^`]*)`", cells[1])
    return rows


def function_bindings():
    """{function folder: bindings} for every handlers/<app>/<function>/function.json."""
    found = {}
    for path in sorted(ROOT.glob("handlers/*/*/function.json")):
        found[(path.parent.parent.name, path.parent.name)] = json.loads(read(path))["bindings"]
    return found


def block(text, opener):
    """The text between the brace that follows `opener` and its matching brace."""
    start = text.find(opener)
    if start < 0:
        raise AssertionError(f"{opener!r} not found in the IaC")
    depth, i = 0, text.index("{", start)
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1 : j]
    raise AssertionError(f"unbalanced braces after {opener!r}")


def keys(body, separator):
    """Top-level keys of an object/map literal (`key: value` or `key = value`)."""
    pattern = rf"^\s*\"?([A-Za-z_][\w]*)\"?\s*{separator}"
    return set(re.findall(pattern, body, flags=re.M))


def loose(opener):
    """`opener` as a pattern in which any run of spaces matches any (fmt may realign)."""
    return r"\s+".join(re.escape(part) for part in opener.split())


def string_list(text, opener):
    """The quoted strings of the list literal that follows `opener`."""
    match = re.search(loose(opener) + r"\s*\[([^\]]*)\]", text)
    if not match:
        raise AssertionError(f"{opener!r} list not found in the IaC")
    return re.findall(r"['\"]([^'\"]+)['\"]", match.group(1))


def scalar(text, opener):
    match = re.search(loose(opener) + r"\s*['\"]([^'\"]*)['\"]", text)
    if not match:
        raise AssertionError(f"{opener!r} not found in the IaC")
    return match.group(1)


class Iac:
    """What one IaC flavour declares, in flavour-neutral form."""

    def __init__(self, flavour):
        if flavour == "bicep":
            text = "\n".join(read(p) for p in sorted(BICEP.glob("*.bicep")))
            sep = ":"
            self.containers = string_list(text, "var desContainers =")
            self.queues = [scalar(text, "var workQueue ="), scalar(text, "var poisonQueue =")]
            apps = block(text, "var apps =")
            self.suffixes = dict(re.findall(r"(\w+): '\$\{prefix\}(-\w+)'", apps))
            self.settings = {
                "common": keys(block(text, "var commonSettings ="), sep),
                "api": keys(block(text, "var apiSettings = union(commonSettings,"), sep),
                "poller": keys(block(text, "var pollerSettings = union(commonSettings,"), sep),
                "applier": keys(block(text, "var applierSettings = union(commonSettings,"), sep),
            }
            self.poll_default = scalar(text, "param pollSchedule string =")
            self.runtime = scalar(block(text, "runtime:"), "name:")
        else:
            text = "\n".join(read(p) for p in sorted(TERRAFORM.glob("*.tf")))
            sep = "="
            self.containers = string_list(text, "des_containers =")
            self.queues = [scalar(text, "work_queue ="), scalar(text, "poison_queue =")]
            apps = block(text, "apps = {")
            self.suffixes = dict(re.findall(r'(\w+)\s*= "\$\{var\.prefix\}(-\w+)"', apps))
            self.settings = {
                "common": keys(block(text, "common_settings = {"), sep),
                "api": keys(block(text, "api_settings = merge(local.common_settings,"), sep),
                "poller": keys(block(text, "poller_settings = merge(local.common_settings,"), sep),
                "applier": keys(block(text, "applier_settings = merge(local.common_settings,"), sep),
            }
            self.poll_default = scalar(block(text, 'variable "poll_schedule"'), "default =")
            self.runtime = scalar(text, "runtime_name =")
            # The provider writes this app setting from site_config (it refuses it in app_settings).
            if re.search(r"^\s*application_insights_connection_string\s*=", text, flags=re.M):
                self.settings["common"].add("APPLICATIONINSIGHTS_CONNECTION_STRING")
        self.flavour = flavour
        self.text = text

    def app_settings(self, app):
        return self.settings["common"] | self.settings[app]


class NamesAgree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rust = rust_constants()
        cls.doc = doc_table()
        cls.bindings = function_bindings()
        cls.iacs = [Iac("bicep"), Iac("terraform")]

    def doc_row(self, prefix):
        rows = [v for k, v in self.doc.items() if k.startswith(prefix)]
        self.assertEqual(len(rows), 1, f"docs/azure-names.md has no single row {prefix!r}")
        return rows[0]

    def test_docs_table_matches_rust_constants(self):
        r = self.rust
        containers = {r["CONTROL_CONTAINER"], r["PAYLOAD_CONTAINER"], r["FAILURE_CONTAINER"]}
        self.assertEqual(set(self.doc_row("blob containers")), containers)
        self.assertEqual(self.doc_row("work queue"), [r["WORK_QUEUE"], r["POISON_QUEUE"]])
        functions = self.doc_row("functions")
        for name in ("API_FUNCTION", "POLL_FUNCTION", "APPLY_FUNCTION"):
            self.assertIn(r[name], functions, f"{name} is not in the docs table")
        apps = self.doc_row("function apps")
        for name in ("API_APP_SUFFIX", "POLLER_APP_SUFFIX", "APPLIER_APP_SUFFIX"):
            self.assertIn("<prefix>" + r[name], apps, f"{name} is not in the docs table")
        settings = " ".join(self.doc_row("app settings"))
        for name, value in r.items():
            if name.endswith("_SETTING"):
                self.assertIn(value, settings, f"{name}={value} is not in the docs table")
        self.assertIn(r["DEFAULT_POLL_SCHEDULE"], self.doc_row("app settings"))

    def test_function_json_matches_rust_constants(self):
        r = self.rust
        by_function = {fn: b for (_, fn), b in self.bindings.items()}
        self.assertEqual(
            set(by_function), {r["API_FUNCTION"], r["POLL_FUNCTION"], r["APPLY_FUNCTION"]}
        )
        queue = by_function[r["APPLY_FUNCTION"]][0]
        self.assertEqual(queue["queueName"], r["WORK_QUEUE"])
        self.assertEqual(queue["connection"], r["STORAGE_SETTING"])
        timer = by_function[r["POLL_FUNCTION"]][0]
        self.assertEqual(timer["schedule"], f"%{r['POLL_SCHEDULE_SETTING']}%")
        host = json.loads(read(ROOT / "handlers/applier/host.json"))
        self.assertEqual(
            host["extensions"]["queues"]["maxDequeueCount"], int(r["DEFAULT_MAX_DEQUEUE_COUNT"])
        )

    def test_iac_containers_and_queues_match(self):
        r = self.rust
        for iac in self.iacs:
            with self.subTest(iac=iac.flavour):
                self.assertEqual(
                    sorted(iac.containers),
                    sorted([r["CONTROL_CONTAINER"], r["PAYLOAD_CONTAINER"], r["FAILURE_CONTAINER"]]),
                )
                self.assertEqual(iac.queues, [r["WORK_QUEUE"], r["POISON_QUEUE"]])
                for name in PLATFORM_CONTAINERS:
                    self.assertIn(name, iac.text, f"{name} is not created by {iac.flavour}")

    def test_iac_app_names_and_runtime_match(self):
        r = self.rust
        expected = {
            "api": r["API_APP_SUFFIX"],
            "poller": r["POLLER_APP_SUFFIX"],
            "applier": r["APPLIER_APP_SUFFIX"],
        }
        apps_with_functions = {app for (app, _) in self.bindings}
        for iac in self.iacs:
            with self.subTest(iac=iac.flavour):
                self.assertEqual(iac.suffixes, expected)
                self.assertEqual(set(iac.suffixes), apps_with_functions)
                self.assertEqual(iac.runtime, "custom")

    def test_iac_app_settings_are_the_ones_the_code_reads(self):
        r = self.rust
        storage = r["STORAGE_SETTING"]
        identity = {
            storage + r["BLOB_SERVICE_URI_SUFFIX"],
            storage + r["QUEUE_SERVICE_URI_SUFFIX"],
            storage + r["CREDENTIAL_SUFFIX"],
        }
        known = {v for k, v in r.items() if k.endswith("_SETTING")} | identity | PLATFORM_SETTINGS
        required = {
            "api": {r["API_AUTHORITY_SETTING"], r["API_AUDIENCE_SETTING"], r["PUBLIC_BASE_URL_SETTING"]},
            "poller": {r["POLL_SCHEDULE_SETTING"], r["POLL_BUDGET_SETTING"]},
            "applier": {r["MAX_DEQUEUE_COUNT_SETTING"]},
        }
        for iac in self.iacs:
            for app, needed in required.items():
                with self.subTest(iac=iac.flavour, app=app):
                    settings = iac.app_settings(app)
                    unknown = settings - known
                    self.assertFalse(unknown, f"{iac.flavour} {app} sets settings no code reads: {unknown}")
                    missing = (needed | identity | {r["KEYVAULT_URL_SETTING"]}) - settings
                    self.assertFalse(missing, f"{iac.flavour} {app} lacks {missing}")
                    self.assertNotIn(storage, settings, "use the identity-based storage settings")

    def test_bicep_and_terraform_set_the_same_settings(self):
        bicep, terraform = self.iacs
        for app in ("api", "poller", "applier"):
            with self.subTest(app=app):
                self.assertEqual(bicep.app_settings(app), terraform.app_settings(app))

    def test_iac_poll_schedule_default_matches(self):
        for iac in self.iacs:
            with self.subTest(iac=iac.flavour):
                self.assertEqual(iac.poll_default, self.rust["DEFAULT_POLL_SCHEDULE"])


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)

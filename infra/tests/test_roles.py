"""The role table of infra/README.md ("Roles"), the Bicep and the Terraform grant the same
roles: identity by identity, scope by scope, and the documented account-scope roles only
under the documentedHostStorageRoles / documented_host_storage_roles switch. Every row of the
table cites documentation.

Bicep is read with checkov's Bicep parser (pycep) and Terraform with its HCL parser (hcl2);
the few expressions the grants use (lists, concat, a map lookup, a conditional) are
evaluated here. No compiler or provider is needed.

Run with the venv's python (infra/check does): python infra/tests/test_roles.py
"""

import ast
import re
import sys
import unittest
from pathlib import Path

import hcl2
from pycep import BicepParser

INFRA = Path(__file__).resolve().parents[1]
APPS = ("api", "poller", "applier")
# The switch, as the table and both flavours name it.
DOCUMENTED = "documented"

# Built-in role ids (Azure built-in roles reference): the names the Bicep ids stand for.
ROLE_IDS = {
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "db58b8e5-c6ad-4a2a-8342-4190687cbf4a": "Storage Blob Delegator",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
}


def grant(app, scope, role, condition=None):
    """One role assignment: (identity, scope, role, the switch it depends on or None)."""
    return (app, scope, role, condition)


# --- infra/README.md -------------------------------------------------------------------


def readme_rows():
    text = (INFRA / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Roles") : text.index("#### Host storage operations")]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("identity", "---"):
            rows.append(cells)
    return rows, section


def readme_grants():
    rows, section = readme_rows()
    links = dict(re.findall(r"^\[([\w-]+)\]: (\S+)$", section, flags=re.M))
    grants = set()
    for identity, scope, role, _, docs in rows:
        cited = [links.get(ref, "") for ref in re.findall(r"\]\[([\w-]+)\]", docs)]
        cited += re.findall(r"\]\((https://[^)]+)\)", docs)
        if not any(url.startswith("https://learn.microsoft.com/") for url in cited):
            raise AssertionError(f"README role row cites no documentation: {identity} | {role}")
        condition = DOCUMENTED if "documentedHostStorageRoles" in identity else None
        apps = APPS if identity.startswith("each app") else (identity,)
        for app in apps:
            for target in readme_scopes(scope, app):
                grants.add(grant(app, target, role, condition))
    return grants


def readme_scopes(scope, app):
    names = re.findall(r"`([^`]+)`", scope)
    if names:
        kind = "queue" if any(n.startswith("des-apply") for n in names) else "container"
        return [f"{kind}:{n.replace('<app>', app)}" for n in names]
    for words, target in (
        ("storage account", "account"),
        ("Key Vault", "vault"),
        ("Application Insights", "appinsights"),
    ):
        if words in scope:
            return [target]
    raise AssertionError(f"README role row with an unknown scope: {scope}")


# --- Bicep -------------------------------------------------------------------------------


# The module parameters that decide the grants (the rest name resources).
GRANT_PARAMS = (
    "deploymentContainerName",
    "blobContainerNames",
    "queueNames",
    "blobDelegator",
    "documentedHostStorageRoles",
)


class Symbol(str):
    """A parameter whose value is the deployment's choice (the switch)."""


def bicep_value(expr, env, conditions):
    """Evaluates the expression forms the grants use; records conditionals on a Symbol."""
    if isinstance(expr, list):
        return [bicep_value(e, env, conditions) for e in expr]
    if isinstance(expr, (bool, int)) or expr is None:
        return expr
    if isinstance(expr, str) and expr.startswith("{"):
        # pycep hands the array of an indexed loop (`for (x, i) in ...`) over as the text of
        # the parsed expression.
        return bicep_value(ast.literal_eval(expr), env, conditions)
    if isinstance(expr, str):
        # pycep's strings are its own str subclass: look up the plain text.
        return env.get(str(expr), str(expr))
    if "function" in expr and expr["function"]["type"] == "concat":
        parts = [bicep_value(a, env, conditions) for a in expr["function"]["parameters"].values()]
        return [item for part in parts for item in part]
    operator = expr.get("operator", {})
    operands = operator.get("operands", {})
    if operator.get("type") == "property_accessor":
        return bicep_value(operands["operand_1"], env, conditions)[str(operands["operand_2"])]
    if operator.get("type") == "conditional":
        condition = bicep_value(operands["condition"], env, conditions)
        if isinstance(condition, Symbol):
            conditions.add(str(condition))
            return bicep_value(operands["true_value"], env, conditions)
        return bicep_value(operands["true_value" if condition else "false_value"], env, conditions)
    raise AssertionError(f"Bicep expression this test cannot evaluate: {expr}")


def bicep_grants():
    main = BicepParser().parse(file_path=INFRA / "bicep" / "main.bicep")
    module = BicepParser().parse(file_path=INFRA / "bicep" / "functionapp.bicep")
    main_env = {k: v["value"] for k, v in main["variables"].items() if "value" in v}
    main_env["documentedHostStorageRoles"] = Symbol(DOCUMENTED)
    grants = set()
    for app in APPS:
        params = main["modules"][app]["config"]["params"]
        env = {k: p.get("default") for k, p in module["parameters"].items()}
        env.update({k: bicep_value(params[k], main_env, set()) for k in GRANT_PARAMS if k in params})
        env["roles"] = module["variables"]["roles"]["value"]
        for resource in module["resources"].values():
            if resource["type"] == "Microsoft.Authorization/roleAssignments":
                grants |= bicep_assignment(app, resource["config"], env)
    return grants


def bicep_assignment(app, config, env):
    """The grants of one roleAssignments resource: plain, `if (...)` or `[for ...]`."""
    conditions = set()
    condition = config.get("condition")
    if condition is not None and not bicep_value(condition, env, conditions):
        return set()
    body = config.get("config", config)
    items = [None]
    loop = config.get("loop_type")
    if loop:
        items = bicep_value(loop["detail"]["array_name"], env, conditions)
    found = set()
    for item in items:
        local = dict(env)
        if loop:
            local[loop["detail"]["item_name"]] = item
        role_id = bicep_value(
            body["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"],
            local,
            conditions,
        )
        scope = bicep_scope(body["scope"], item)
        condition = DOCUMENTED if DOCUMENTED in conditions else None
        found.add(grant(app, scope, ROLE_IDS[role_id], condition))
    return found


def bicep_scope(scope, item):
    if isinstance(scope, dict):  # containers[i] / queues[i]: the looped name
        kind = {"containers": "container", "queues": "queue"}[scope["operator"]["operands"]["operand_1"]]
        return f"{kind}:{item}"
    return {"storage": "account", "vault": "vault", "appInsights": "appinsights"}[scope]


# --- Terraform ---------------------------------------------------------------------------


def terraform_blocks():
    locals_, resources = {}, []
    for path in sorted((INFRA / "terraform").glob("*.tf")):
        with open(path, encoding="utf-8") as f:
            parsed = hcl2.load(f)
        for block in parsed.get("locals", []):
            locals_.update(block)
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                if kind == "azurerm_role_assignment":
                    resources.extend(named.items())
    return locals_, resources


def hcl_value(expr, locals_):
    """Lists, string literals, `local.x`, `local.x.y` and concat(...) as hcl2 renders them."""
    if isinstance(expr, list):
        return [hcl_value(e, locals_) for e in expr]
    if isinstance(expr, dict):
        return {k: hcl_value(v, locals_) for k, v in expr.items()}
    text = expr.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1].strip()
    concat = re.fullmatch(r"concat\((.*)\)", text)
    if concat:
        parts = split_args(concat.group(1))
        return [item for part in parts for item in as_list(hcl_value(part, locals_))]
    if text.startswith("[") and text.endswith("]"):
        return [hcl_value(a.strip("'\""), locals_) for a in split_args(text[1:-1])]
    reference = re.fullmatch(r"local\.(\w+)(?:\.(\w+))?", text)
    if reference:
        value = hcl_value(locals_[reference.group(1)], locals_)
        return value[reference.group(2)] if reference.group(2) else value
    return text.strip("'\"")


def as_list(value):
    return value if isinstance(value, list) else [value]


def split_args(text):
    """Top-level comma-separated arguments (brackets and `${}` nest)."""
    args, depth, current = [], 0, ""
    for c in text:
        depth += c in "([{"
        depth -= c in ")]}"
        if c == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += c
    return args + ([current.strip()] if current.strip() else [])


def terraform_items(for_each, locals_):
    """The (app, name) pairs a role assignment iterates over, and its switch."""
    condition = DOCUMENTED if "var.documented_host_storage_roles ?" in for_each else None
    source = re.search(r"local\.(\w+)", for_each).group(1)
    if source == "apps":
        return [(app, None) for app in APPS], condition
    definition = str(locals_[source])
    pairs = re.search(r"for app\s*,\s*\w+\s+in\s+local\.(\w+)", definition)
    if pairs:  # {app => [names]}
        table = hcl_value(locals_[pairs.group(1)], locals_)
        table = table[0] if isinstance(table, list) else table
        return [(app, name) for app in APPS for name in as_list(table[app])], condition
    names = re.search(r"for \w+\s+in\s+local\.(\w+)", definition.split(":", 1)[1])
    if "keys(local.apps)" in definition and names:  # apps x [names]
        listed = hcl_value(locals_[names.group(1)], locals_)
        listed = listed[0] if listed and isinstance(listed[0], list) else listed
        return [(app, name) for app in APPS for name in listed], condition
    raise AssertionError(f"for_each this test cannot evaluate: {for_each}")


def terraform_grants():
    locals_, resources = terraform_blocks()
    locals_ = {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in locals_.items()}
    grants = set()
    for name, body in resources:
        scope, role, principal = body["scope"][0], body["role_definition_name"][0], body["principal_id"][0]
        if "for_each" in body:
            items, condition = terraform_items(body["for_each"][0], locals_)
        else:
            items = [(re.search(r'app\["(\w+)"\]', principal).group(1), None)]
            condition = None
        for app, item in items:
            grants.add(grant(app, terraform_scope(scope, item), item if "each.value.role" in role else role, condition))
        if not items:
            raise AssertionError(f"{name}: grants nothing")
    return grants


def terraform_scope(scope, item):
    if "/containers/" in scope:
        return f"container:{item}"
    if "/queues/" in scope:
        return f"queue:{item}"
    for reference, target in (
        ("azurerm_storage_account.des.id}", "account"),
        ("azurerm_key_vault.des.id}", "vault"),
        ("azurerm_application_insights.des.id}", "appinsights"),
    ):
        if scope.endswith(reference):
            return target
    raise AssertionError(f"scope this test cannot name: {scope}")


# --- the checks --------------------------------------------------------------------------


class RolesAgree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.readme = readme_grants()
        cls.bicep = bicep_grants()
        cls.terraform = terraform_grants()

    def test_bicep_grants_what_the_readme_lists(self):
        self.assertEqual(sorted(self.bicep - self.readme), [], "granted by Bicep, not in the README")
        self.assertEqual(sorted(self.readme - self.bicep), [], "in the README, not granted by Bicep")

    def test_terraform_grants_what_the_readme_lists(self):
        self.assertEqual(sorted(self.terraform - self.readme), [], "granted by Terraform, not in the README")
        self.assertEqual(sorted(self.readme - self.terraform), [], "in the README, not granted by Terraform")

    def test_the_documented_path_is_account_scope_behind_the_switch(self):
        documented = {g for g in self.readme if g[3] == DOCUMENTED}
        self.assertEqual(
            {(g[0], g[2]) for g in documented},
            {(app, role) for app in APPS for role in ("Storage Blob Data Owner", "Storage Queue Data Contributor")},
        )
        self.assertEqual({g[1] for g in documented}, {"account"})

    def test_without_the_switch_storage_grants_are_narrow(self):
        account = {g for g in self.readme if g[1] == "account" and g[3] is None}
        self.assertEqual(
            {g[2] for g in account}, {"Storage Table Data Contributor", "Storage Blob Delegator"}
        )
        delegators = {g[0] for g in account if g[2] == "Storage Blob Delegator"}
        self.assertEqual(delegators, {"api"})


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)

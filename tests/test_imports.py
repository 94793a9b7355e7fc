"""The import rules the package states: torch and its kin only in generate/, no site in the verifier.

Each check runs in a fresh interpreter, as the command line does.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest
from conftest import REPO

import glu_catalogue

HEAVY = ("torch", "transformers", "optipfair", "huggingface_hub", "accelerate")


def modules_after_importing(*names: str) -> set[str]:
    code = f"import importlib, json, sys\nfor name in {list(names)!r}:\n    importlib.import_module(name)\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return set(json.loads(completed.stdout))


def package_modules(*skip: str) -> list[str]:
    found = [info.name for info in pkgutil.walk_packages(glu_catalogue.__path__, "glu_catalogue.")]
    return [name for name in found if not any(name == part or name.startswith(part + ".") for part in skip) and not name.endswith("__main__")]


def test_only_generate_and_measure_import_torch_transformers_or_optipfair():
    """measure/ times and evaluates a loaded model (torch at module level); its machine and settings modules are stdlib."""
    light_measure = ("glu_catalogue.measure.machine", "glu_catalogue.measure.settings")
    imported = modules_after_importing(*package_modules("glu_catalogue.generate", "glu_catalogue.measure"), *light_measure)
    assert not {name for name in imported if name.split(".")[0] in HEAVY}


def test_the_verifier_never_imports_the_site():
    verifier = [name for name in package_modules() if name.startswith("glu_catalogue.verify")]
    imported = modules_after_importing(*verifier)
    assert not {name for name in imported if name.startswith("glu_catalogue.site")}


@pytest.mark.parametrize("command", [("verify",), ("models",), ("plan", "--ratio", "2.4")])
def test_commands_on_the_registry_stay_light(command):
    code = (
        "import sys, json\nfrom glu_catalogue.cli.commands import cli\n"
        f"try:\n    cli({list(command)!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    imported = set(json.loads(completed.stderr.strip().splitlines()[-1]))
    assert not {name for name in imported if name.split(".")[0] in HEAVY}

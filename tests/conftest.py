"""Shared fixtures: the repository's paths, a scratch copy of data/, and ways to run the CLI."""

from __future__ import annotations

import os

# No model hub is reachable from the tests: huggingface_hub answers from the cache at once
# instead of retrying a network it cannot reach (set before anything imports huggingface_hub).
os.environ["HF_HUB_OFFLINE"] = "1"

import contextlib
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from glu_catalogue.cli.commands import cli

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
FIXTURES = REPO / "tests" / "fixtures"
LEGACY = FIXTURES / "legacy"

#: Fixtures shared across the test folders (tests/ mirrors the package, so a fixture a test in
#: tests/e2e/ and one in tests/store/ both use lives in a helper module): ``hub`` and ``env`` (a user
#: of the fake Hub), ``registry`` (the tiny models' registry).
pytest_plugins = ("hub_users", "tiny_builds")


def torch_available() -> bool:
    """True when the generator's stack (torch, transformers, optipfair) is installed.

    Asked with ``importlib.util.find_spec``, which finds a package without importing it: importing
    torch and transformers costs seconds, and collecting the suite must not pay them.
    """
    return all(importlib.util.find_spec(name) is not None for name in ("optipfair", "torch", "transformers"))


def cuda_available() -> bool:
    """True when torch sees a CUDA device (imports torch: asked only when a collected test is marked ``gpu``)."""
    if not torch_available():
        return False
    import torch

    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `torch` tests without the generator's stack; group `xdist_group` tests. Imports no torch."""
    group_for_loadgroup(config, items)
    has_torch = torch_available()
    for item in items:
        if item.get_closest_marker("torch") and not has_torch:
            item.add_marker(pytest.mark.skip(reason="needs torch, transformers and optipfair (pip install 'glu-catalogue[generate]')"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a `gpu` test without CUDA, asked when it is about to run (asking imports torch)."""
    if item.get_closest_marker("gpu") and not cuda_available():
        pytest.skip("needs CUDA")


def group_for_loadgroup(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker under ``--dist loadgroup``, suffix each ``xdist_group`` test's id with ``@group``.

    That suffix is what sends a group to one worker (one Chromium, one lm-eval fixture). xdist 3.8
    adds it in an undecorated hook method that pytest 9 no longer calls, so the tests were spread
    over both workers and each built the session fixtures; this does what xdist meant to.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default")) for mark in item.iter_markers("xdist_group")})
        if names and "@" not in item.nodeid:
            grouped = f"{item.nodeid}@{'_'.join(names)}"
            if hasattr(item, "_id"):  # pytest >= 9 holds the id as a NodeId
                from _pytest.nodeid import NodeId

                item._id = NodeId.parse(grouped)
            else:
                item._nodeid = grouped


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A scratch copy of data/ (catalogue JSON and CSV) that a test may break."""
    target = tmp_path / "data"
    target.mkdir()
    for name in ("expansion_rates.json", "expansion_rates_summary.csv"):
        shutil.copy(DATA / name, target / name)
    return target


@pytest.fixture
def legacy_copy(tmp_path: Path) -> Path:
    """A scratch copy of the study's legacy files."""
    target = tmp_path / "legacy"
    shutil.copytree(LEGACY, target)
    return target


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder ``name`` that ``make(folder)`` fills once per test session, for tests that only read it.

    Under xdist each worker has a base temporary directory of its own; the folder is made beside them,
    behind a file lock: the first worker to ask makes it, the others wait and reuse it (a session
    fixture alone would be made once per worker). A folder left half made by a failure is made again.
    """
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    target, done = shared / name, shared / f"{name}.done"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            make(target)
            done.touch()
    return target


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site of the repository's workspace, built as it is published (``catalogue site --strict``, the
    address in catalogue.toml), once per session."""
    return made_once(tmp_path_factory, "site", build_published_site)


def build_published_site(target: Path) -> None:
    """``catalogue site --strict`` of the repository's workspace into ``target``."""
    unset = ("CATALOGUE_SITE_URL", "CATALOGUE_DATA_DIR", "CATALOGUE_REGISTRY_DIR")
    completed = subprocess.run(
        [sys.executable, "-m", "glu_catalogue", "site", "--strict", "--site-dir", str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={key: value for key, value in {**os.environ, "NO_MKDOCS_2_WARNING": "1"}.items() if key not in unset},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def dump_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def invoke(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run the CLI in-process; returns click's Result (exit_code, stdout, stderr, exception).

    ``env`` is a whole environment, as ``run_cli`` takes it: for the call, the variables it sets or
    changes are set and those it lacks are unset; ``cwd`` is the working directory for the call.
    Where what is tested is not about a process (a refusal, a rerun that does nothing), this spares
    the seconds a subprocess spends importing torch.
    """
    changed = None
    if env is not None:
        changed = {key: env.get(key) for key in {*env, *os.environ} if env.get(key) != os.environ.get(key)}
    with contextlib.chdir(cwd or os.getcwd()):
        return CliRunner().invoke(cli, list(args), env=changed)


def run_here(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``run_cli``'s result from a run in this process, for a command whose test is not about a process (a rerun, a
    build to compare against) where this process has imported torch already; an unexpected exception is raised here."""
    result = invoke(*args, env=env, cwd=cwd)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["catalogue", *args], result.exit_code, result.stdout, result.stderr)


def refused_in_process(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run the CLI in-process and check it refused as a user sees it: exit 2, no exception, one line on stderr; that line."""
    result = invoke(*args, env=env, cwd=cwd)
    assert isinstance(result.exception, SystemExit) and result.exit_code == 2, (result.exit_code, result.exception, result.stderr)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return line


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m glu_catalogue`` as a separate process, as a user would (a hang fails after ``timeout`` s)."""
    return subprocess.run([sys.executable, "-m", "glu_catalogue", *args], capture_output=True, text=True, cwd=cwd or REPO, env=env, timeout=timeout)


def build_on_meta(entry_config: dict, model_type: str, intermediate_size: int | None = None):
    """The transformers model built from config.json values on the meta device (shapes, no memory).

    ``intermediate_size`` overrides the MLP width, as a uniformly pruned model has it.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    values = dict(entry_config)
    values.pop("model_type", None)
    if intermediate_size is not None:
        values["intermediate_size"] = intermediate_size
    config = AutoConfig.for_model(model_type, **values)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


def meta_count(entry_config: dict, model_type: str, intermediate_size: int | None = None) -> int:
    """Parameters of the transformers model built from ``entry_config`` on the meta device."""
    model = build_on_meta(entry_config, model_type, intermediate_size)
    return sum(parameter.numel() for parameter in model.parameters())

"""The tiny models' registry as a fixture, and ``catalogue build`` run in-process over it.

``registry`` is a fixture of every test (``pytest_plugins`` in tests/conftest.py): the build tests
(``tests/e2e/test_build.py``) and the model-card tests (``tests/interop/test_cards.py``) use it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tiny_models import write_registry

from glu_catalogue.cli.commands import cli


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry of tiny models; no configured or cached checkpoints to discover."""
    directory = write_registry(tmp_path / "registry")
    monkeypatch.setenv("CATALOGUE_REGISTRY_DIR", str(directory))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("CATALOGUE_CHECKPOINTS", raising=False)
    return directory


def build(data: Path, *args: str):
    result = CliRunner().invoke(cli, ["build", "--data", str(data), "--quiet", "--device", "cpu", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def records(data: Path) -> list[dict]:
    return json.loads((data / "expansion_rates.json").read_text())["models"]

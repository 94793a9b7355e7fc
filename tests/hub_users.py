"""A user of the fake Hub: the ``hub`` server and ``env`` fixtures, and the one-error-line check of the hub tests.

Imported by the hub tests (``tests/e2e/test_hub.py``), the hub deadline and hub scan tests.
"""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import REPO
from fake_hub import FakeHub

from glu_catalogue.store.registry import get_model

LLAMA_1B = get_model("meta-llama/Llama-3.2-1B").architecture


@pytest.fixture
def hub():
    server = FakeHub().start()
    yield server
    server.stop()


@pytest.fixture
def env(hub, tmp_path):
    """The environment of a user whose hub is the fake one and whose Hugging Face cache is empty."""
    values = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    values.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(tmp_path / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1")
    values["CATALOGUE_REGISTRY_DIR"] = str(tmp_path / "registry")
    shutil.copytree(REPO / "data" / "models", tmp_path / "registry")  # `add` writes here, not into data/models
    return values


def one_error_line(result) -> str:
    """The stderr of an exit-2 run: exactly one line, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]

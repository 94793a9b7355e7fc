"""A checkpoint compared with a record of a catalogue built into another data directory.

`catalogue build --data DIR --save-pruned SAVED` writes records to DIR and checkpoints to SAVED;
`catalogue inspect CKPT --record MODEL@PCT --data DIR` and `catalogue verify --checkpoint CKPT
--record MODEL@PCT --data DIR` (or `verify DIR --checkpoint ...`) compare a checkpoint with a
record there, also for a model the registry does not hold. Every command tested runs as a process (the build that
sets them up runs in the test's process: torch is imported once).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_here
from tiny_models import write_registry

pytestmark = pytest.mark.torch

MODEL = "tiny/llama"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """tiny/llama (random-init) built at 0 and 40 % into ``my-data``, its pruned checkpoints in ``pruned``."""
    root = tmp_path_factory.mktemp("record-data-dir")
    write_registry(root / "registry")
    completed = run_here(
        "build",
        "--models",
        MODEL,
        "--levels",
        "0,40",
        "--data",
        "my-data",
        "--save-pruned",
        "pruned",
        "--device",
        "cpu",
        "--quiet",
        cwd=root,
        env=environment(root, registry=True),
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return root


def environment(root: Path, registry: bool) -> dict[str, str]:
    """The environment with the tiny registry (``registry``) or the shipped one, which lacks tiny/llama."""
    env = {key: value for key, value in os.environ.items() if key not in ("CATALOGUE_DATA_DIR", "CATALOGUE_CHECKPOINTS", "CATALOGUE_REGISTRY_DIR")}
    env["HF_HOME"] = str(root / "hf-home")
    if registry:
        env["CATALOGUE_REGISTRY_DIR"] = str(root / "registry")
    return env


def run(built: Path, *args: str, registry: bool = True):
    return run_here(*args, cwd=built, env=environment(built, registry))


CHECKPOINT = "pruned/tiny__llama/pruned-40pct"


@pytest.mark.parametrize("registry", [True, False], ids=["registry-model", "model-outside-the-registry"])
def test_inspect_reads_the_record_from_the_data_directory(built, registry):
    completed = run(built, "inspect", CHECKPOINT, "--record", f"{MODEL}@40", "--data", "my-data", registry=registry)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"record        {MODEL}@40" in completed.stdout
    assert "OK: no problems (1 file, 20 tensors, 2 layers, 1 record checked)" in completed.stdout


@pytest.mark.parametrize("registry", [True, False], ids=["registry-model", "model-outside-the-registry"])
def test_a_record_the_checkpoint_is_not_is_exit_1(built, registry):
    completed = run(built, "inspect", CHECKPOINT, "--record", f"{MODEL}@0", "--data", "my-data", "--format", "json", registry=registry)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    problems = json.loads(completed.stdout)["problems"]
    assert {problem["kind"] for problem in problems} == {"checkpoint-record"}
    assert {problem["file"] for problem in problems} == {"my-data/expansion_rates.json"}
    assert {problem["field"] for problem in problems} >= {"pruned_architecture.intermediate_size", "pruned_architecture.total_parameters"}


@pytest.mark.parametrize("catalogue", [("--data", "my-data"), ("my-data",), ("my-data/expansion_rates.json",)], ids=["--data", "PATH", "PATH-file"])
def test_verify_compares_a_checkpoint_with_the_data_directory(built, catalogue):
    for registry in (True, False):
        completed = run(built, "verify", "--checkpoint", CHECKPOINT, "--record", f"{MODEL}@40", *catalogue, registry=registry)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert completed.stdout.strip() == "OK: no problems (1 file, 20 tensors, 2 layers, 1 record checked)"
    completed = run(built, "verify", "--checkpoint", CHECKPOINT, "--record", f"{MODEL}@0", *catalogue)
    assert completed.returncode == 1 and "FAILED: 2 problems" in completed.stdout, completed.stdout + completed.stderr


def test_verify_data_checks_the_directory_as_a_path_does(built):
    by_option, by_path = run(built, "verify", "--data", "my-data"), run(built, "verify", "my-data")
    assert by_option.returncode == by_path.returncode == 0, by_option.stdout + by_option.stderr
    assert by_option.stdout == by_path.stdout and by_option.stdout.startswith("OK: no problems (2 files, 2 records")


def test_without_the_data_directory_the_hint_names_it(built):
    """The default catalogue does not hold tiny/llama; the error says what it holds and how to name the other one."""
    completed = run(built, "inspect", CHECKPOINT, "--record", f"{MODEL}@40")
    assert completed.returncode == 2
    [line] = completed.stderr.splitlines()
    assert line.startswith(f"error: no successful record {MODEL}@40 in ") and "expansion_rates.json" in line
    assert "it catalogues" in line and f"not {MODEL}" in line and "--data DIR" in line
    assert "lists the catalogue's records" not in line  # no command lists records: the old hint was false


def test_a_missing_data_directory_is_one_line_naming_its_catalogue(built):
    completed = run(built, "inspect", CHECKPOINT, "--record", f"{MODEL}@40", "--data", "nowhere")
    assert completed.returncode == 2 and completed.stderr.strip() == "error: nowhere/expansion_rates.json: no such file"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("inspect", CHECKPOINT, "--data", "my-data"), "--data names the catalogue --record is read from"),
        (("verify", "my-data", "--checkpoint", CHECKPOINT), "give --record MODEL@PCT too"),
        (("verify", "--data", "my-data", "--checkpoint", CHECKPOINT), "give --record MODEL@PCT too"),
        (("verify", "my-data", "my-data", "--checkpoint", CHECKPOINT, "--record", f"{MODEL}@40"), "give one, not several"),
        (("verify", "my-data", "--data", "my-data"), "give the data directory once"),
        (("inspect", CHECKPOINT, "--record", f"{MODEL}@40", "--data", ""), "an empty path"),
    ],
)
def test_ambiguous_command_lines_are_exit_2(built, args, message):
    completed = run(built, *args)
    assert completed.returncode == 2 and message in completed.stderr and len(completed.stderr.splitlines()) == 1, completed.stderr


def test_the_api_takes_the_data_directory(built, monkeypatch):
    import glu_catalogue

    monkeypatch.chdir(built)
    monkeypatch.setenv("CATALOGUE_REGISTRY_DIR", str(built / "registry"))
    monkeypatch.delenv("CATALOGUE_DATA_DIR", raising=False)
    assert glu_catalogue.inspect_checkpoint(CHECKPOINT, f"{MODEL}@40", data="my-data").ok
    assert not glu_catalogue.inspect_checkpoint(CHECKPOINT, f"{MODEL}@0", data=built / "my-data").ok

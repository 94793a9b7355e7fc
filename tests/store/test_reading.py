"""Special files on every path a command reads or locks: refused with one line, never opened, never hanging.

Each path is replaced by a FIFO (whose open would block), a link to a device (``/dev/zero``:
an endless read), a directory, or a symbolic-link loop: exit 2, one line on stderr naming the file,
no traceback. Where the path could block or never end (a FIFO, a device, a file of gigabytes), the
command runs as a separate process with a timeout; a directory or a link loop cannot, and is tried
in this process. The build lock must never be opened through a link or truncated unless it is a
regular file the build owns.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import DATA, run_cli, run_here
from safetensors_files import SMALL, llama_config, llama_tensors, write_checkpoint

KINDS = ("fifo", "device", "directory", "loop")


def make_special(path: Path, kind: str) -> None:
    """Replace ``path`` by a special file of ``kind``."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to(path.name)  # a link to itself: ELOOP


#: Special files whose open or read cannot block: the commands that meet them run in this process.
CANNOT_BLOCK = ("directory", "loop")


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, kind: str | None = None):
    """The CLI as a process, where a hang fails the test after 60 s instead of blocking the suite; in this process
    where the special file is of a ``kind`` that cannot block."""
    if kind in CANNOT_BLOCK:
        return run_here(*args, env={**os.environ, **(env or {})}, cwd=cwd)
    return run_cli(*args, env={**os.environ, **(env or {})}, cwd=cwd, timeout=60)


def assert_one_line_error(completed, path: Path, code: int = 2) -> str:
    assert completed.returncode == code, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith("error: ") and path.name in line, line
    return line


EXPECTED = {"fifo": "FIFO", "device": "character device", "directory": "directory", "loop": "symbolic link loop"}


# --- the catalogue and its CSV -----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_verify_a_special_catalogue_file(tmp_path, kind):
    target = tmp_path / "f.json"
    make_special(target, kind)
    line = assert_one_line_error(run("verify", str(target), kind=kind), target)
    # a directory is read as a data directory: its catalogue file is what is missing
    assert (EXPECTED[kind] if kind != "directory" else "f.json/expansion_rates.json: no such file") in line


@pytest.mark.parametrize("name", ["expansion_rates.json", "expansion_rates_summary.csv"])
@pytest.mark.parametrize("kind", KINDS)
def test_verify_a_data_directory_holding_a_special_file(data_copy, kind, name):
    make_special(data_copy / name, kind)
    line = assert_one_line_error(run("verify", str(data_copy), kind=kind), data_copy / name)
    assert EXPECTED[kind] in line


@pytest.mark.parametrize("kind", KINDS)
def test_build_over_a_special_existing_catalogue(data_copy, kind):
    make_special(data_copy / "expansion_rates.json", kind)
    completed = run("build", "--closed-form", "--models", "HuggingFaceTB/SmolLM2-135M", "--levels", "0", "--data", str(data_copy), "--quiet", kind=kind)
    assert_one_line_error(completed, data_copy / "expansion_rates.json")


def test_a_catalogue_too_large_to_read_whole(tmp_path):
    from glu_catalogue.store.reading import MAX_SMALL_FILE_BYTES

    registry = tmp_path / "registry"
    shutil.copytree(DATA / "models", registry)
    with open(registry / "huge.json", "wb") as handle:  # sparse: no disk used
        handle.truncate(MAX_SMALL_FILE_BYTES + 1)
    line = assert_one_line_error(run("models", env={"CATALOGUE_REGISTRY_DIR": str(registry)}), registry / "huge.json")
    assert "more than the" in line


# --- the registry -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_special_registry_file(tmp_path, kind):
    registry = tmp_path / "registry"
    shutil.copytree(DATA / "models", registry)
    make_special(registry / "x.json", kind)
    for command in (["models"], ["plan", "--pct", "40"]):
        line = assert_one_line_error(run(*command, env={"CATALOGUE_REGISTRY_DIR": str(registry)}, kind=kind), registry / "x.json")
        assert EXPECTED[kind] in line


# --- checkpoints: config.json, shards, the index, and --record's catalogue ------------------------


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    directory = tmp_path / "ckpt"
    write_checkpoint(directory, llama_config(SMALL), llama_tensors(SMALL), n_shards=2)
    return directory


@pytest.mark.parametrize("name", ["config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors"])
@pytest.mark.parametrize("kind", KINDS)
def test_inspect_a_checkpoint_holding_a_special_file(checkpoint, kind, name):
    make_special(checkpoint / name, kind)
    for command in (["inspect", str(checkpoint)], ["verify", "--checkpoint", str(checkpoint)]):
        line = assert_one_line_error(run(*command, kind=kind), checkpoint / name)
        assert EXPECTED[kind] in line


@pytest.mark.parametrize("kind", KINDS)
def test_inspect_record_with_a_special_catalogue(checkpoint, tmp_path, kind):
    data = tmp_path / "data"
    data.mkdir()
    make_special(data / "expansion_rates.json", kind)
    completed = run("inspect", str(checkpoint), "--record", "meta-llama/Llama-3.2-1B@40", env={"CATALOGUE_DATA_DIR": str(data)}, kind=kind)
    assert EXPECTED[kind] in assert_one_line_error(completed, data / "expansion_rates.json")


def test_a_config_json_of_gigabytes_is_refused_not_read(checkpoint):
    with open(checkpoint / "config.json", "r+b") as handle:
        handle.truncate(3 << 30)  # sparse: 3 GiB that take no disk
    line = assert_one_line_error(run("inspect", str(checkpoint)), checkpoint / "config.json")
    assert "more than the" in line


def test_build_weights_from_a_checkpoint_whose_config_is_a_fifo(tmp_path):
    from tiny_models import write_registry

    registry = write_registry(tmp_path / "registry")
    weights = tmp_path / "weights"
    weights.mkdir()
    make_special(weights / "config.json", "fifo")
    env = {"CATALOGUE_REGISTRY_DIR": str(registry), "HF_HOME": str(tmp_path / "hf")}
    completed = run("build", "--models", "tiny/llama", "--weights", str(weights), "--levels", "0", "--data", str(tmp_path / "d"), "--quiet", env=env)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert "config.json" in completed.stdout and "FIFO" in completed.stdout
    assert not (tmp_path / "d").exists()  # no catalogue, and the directory it created is gone


# --- the build lock and --data ------------------------------------------------------------------


def closed_form_build(data: Path, **kwargs):
    return run("build", "--closed-form", "--models", "HuggingFaceTB/SmolLM2-135M", "--levels", "0", "--data", str(data), "--quiet", **kwargs)


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory", "device"])
def test_a_lock_path_that_is_not_a_plain_file_is_refused_and_nothing_is_touched(tmp_path, kind):
    data, victim = tmp_path / "d", tmp_path / "victim"
    data.mkdir()
    victim.write_text("precious\n")
    lock = data / ".catalogue-build.lock"
    if kind == "symlink":
        lock.symlink_to(victim)
    else:
        make_special(lock, kind)
    completed = closed_form_build(data)
    line = assert_one_line_error(completed, lock)
    assert {"symlink": "symbolic link", "fifo": "FIFO", "directory": "directory", "device": "symbolic link"}[kind] in line
    assert victim.read_text() == "precious\n"
    assert not (data / "expansion_rates.json").exists()


def test_a_hard_linked_lock_file_is_locked_but_never_truncated(tmp_path):
    data, victim = tmp_path / "d", tmp_path / "victim"
    data.mkdir()
    victim.write_text("precious\n")
    os.link(victim, data / ".catalogue-build.lock")
    completed = closed_form_build(data)
    assert completed.returncode == 0, completed.stderr
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("where", ["/dev/null", "under-a-file/data", "/proc/catalogue-data"])
def test_a_data_directory_that_cannot_be_one(tmp_path, where):
    (tmp_path / "under-a-file").write_text("a file, not a directory\n")
    target = where if where.startswith("/") else str(tmp_path / where)
    completed = closed_form_build(Path(target))
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith(f"error: --data {target}: cannot be the data directory")

"""``--save-pruned`` writes each checkpoint whole or not at all, on both build paths (``generate/checkpoint_dirs.py``).

A checkpoint is written under ``<level>.partial`` and swapped in when complete. The swap is
interrupted at each of its steps and ``sweep`` must leave the old or the new checkpoint, and
nothing else. End to end, as a user meets it: a real ``catalogue build`` is killed with SIGKILL
while it saves (the child blocks inside the save, after the file writer has started, and the test
kills it); no level directory without complete weights may be left, the next build must say what
it removes and remove it, and its checkpoints must pass ``catalogue inspect``. A killed rebuild
leaves the previous checkpoint as it was.

Where the large temporary file came from: ``save_pretrained`` writes each weights file with
safetensors, whose ``serialize_file`` creates ``.tmpXXXXXX`` in the target's directory and renames
it over the target when done (no fsync). The build used to ``save_pretrained`` straight into
``pruned-NNpct/``, after config.json, so a kill left config.json and that temporary file there.
The stalled save below leaves the same file the same way: part of the serialized bytes under
safetensors' temporary name beside the file being written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_here
from tiny_models import write_registry

from glu_catalogue.generate import checkpoint_dirs
from glu_catalogue.generate.checkpoint_dirs import SAFETENSORS_TEMPORARY, swap_in, sweep

# --- the swap and the sweep, without torch ----------------------------------------------------


def files(directory: Path) -> dict[str, bytes]:
    """Every entry under ``directory`` and its bytes (directories as ``/``)."""
    return {path.relative_to(directory).as_posix(): b"/" if path.is_dir() else path.read_bytes() for path in sorted(directory.rglob("*"))}


def checkpoint(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        (directory / name).write_text(f"{text} {name}")
    return directory


class Fault(Exception):
    """Injected into the swap at one of its steps."""


def count_steps(monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> list[int]:
    """Make call ``fail_at`` (1-based) of the swap's renames, removals and flushes raise; returns the running count."""
    count = [0]
    for owner, name in ((checkpoint_dirs.os, "replace"), (checkpoint_dirs.os, "fsync"), (checkpoint_dirs.shutil, "rmtree")):
        real = getattr(owner, name)

        def step(*args, _real=real, **kwargs):
            count[0] += 1
            if count[0] == fail_at:
                raise Fault(f"step {count[0]}")
            return _real(*args, **kwargs)

        monkeypatch.setattr(owner, name, step)
    return count


@pytest.mark.parametrize("previous", [True, False], ids=["replacing", "first"])
def test_a_swap_interrupted_at_every_step_leaves_the_old_or_the_new_checkpoint(tmp_path, monkeypatch, previous):
    with monkeypatch.context() as patch:
        probe = tmp_path / "probe"
        old = checkpoint(probe / "pruned-20pct", "old") if previous else probe / "pruned-20pct"
        count = count_steps(patch)
        swap_in(checkpoint(probe / "pruned-20pct.partial", "new"), old)
    assert files(probe) == {"pruned-20pct": b"/", "pruned-20pct/config.json": b"new config.json", "pruned-20pct/model.safetensors": b"new model.safetensors"}
    outcomes = set()
    for fail_at in range(1, count[0] + 1):
        root = tmp_path / str(fail_at)
        target = root / "pruned-20pct"
        if previous:
            checkpoint(target, "old")
        partial = checkpoint(root / "pruned-20pct.partial", "new")
        with monkeypatch.context() as patch:
            count_steps(patch, fail_at)
            with pytest.raises(Fault):
                swap_in(partial, target)
        sweep(root)
        left = files(root)
        assert set(left) == {"pruned-20pct", "pruned-20pct/config.json", "pruned-20pct/model.safetensors"} or (not previous and left == {}), (fail_at, left)
        outcomes.add(left.get("pruned-20pct/model.safetensors", b"none"))
    assert outcomes <= {b"old model.safetensors", b"new model.safetensors", b"none"}


def test_sweep_puts_back_a_checkpoint_moved_aside_and_removes_every_leftover(tmp_path):
    root = tmp_path / "tiny__llama"
    checkpoint(root / "pruned-00pct", "complete")
    checkpoint(root / "pruned-10pct.old", "alone")  # a replace interrupted between its two renames
    checkpoint(root / "pruned-20pct", "new")
    checkpoint(root / "pruned-20pct.old", "replaced")
    checkpoint(root / "pruned-30pct.partial", "killed")
    (checkpoint(root / "pruned-40pct", "half") / "model.safetensors").unlink()  # what save_pretrained in place left
    (root / "pruned-40pct" / ".tmpAb12Cd").write_text("half of the weights")
    checkpoint(root / "notes", "not a level").joinpath(".tmpAb12Cd").write_text("not ours")
    leftovers = sweep(root)
    assert [(leftover.path.name, leftover.action.split(":")[0]) for leftover in leftovers] == [
        ("pruned-10pct.old", "restored as pruned-10pct"),
        ("pruned-20pct.old", "removed"),
        ("pruned-30pct.partial", "removed"),
        ("pruned-40pct", "removed"),
    ]
    assert sorted(path.name for path in root.iterdir()) == ["notes", "pruned-00pct", "pruned-10pct", "pruned-20pct"]
    assert (root / "pruned-10pct" / "model.safetensors").read_text() == "alone model.safetensors"
    assert (root / "pruned-20pct" / "model.safetensors").read_text() == "new model.safetensors"
    assert sweep(root) == []


# --- end to end: a build killed while it saves -----------------------------------------------

#: ``catalogue build`` whose save blocks at the first file written under a path containing $STALL_AT,
#: after writing part of it (in-memory: safetensors' temporary file; streaming: the shard), and tells $STALLED.
STALLING_BUILD = """
import os, sys, time
from pathlib import Path

def stall(path):
    if os.environ["STALL_AT"] in str(path):
        Path(os.environ["STALLED"]).write_text(str(path))
        time.sleep(600)

import safetensors.torch
import transformers.modeling_utils as modeling_utils
real_save = modeling_utils.safe_save_file
def save_file(tensors, filename, metadata=None):
    if os.environ["STALL_AT"] in str(filename):
        data = safetensors.torch.save(tensors, metadata=metadata)
        (Path(filename).parent / ".tmpK1lled").write_bytes(data[: len(data) // 2])
        stall(filename)
    return real_save(tensors, filename, metadata=metadata)
modeling_utils.safe_save_file = save_file

from glu_catalogue.generate import sharded_writer
real_write = sharded_writer.SafetensorsWriter.write
def write(self, name, tensor):
    real_write(self, name, tensor)
    stall(self.path)
sharded_writer.SafetensorsWriter.write = write

from glu_catalogue.cli.commands import main
sys.argv = ["catalogue", *sys.argv[1:]]
main()
"""

LEVELS = (0, 20)


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry of tiny models, no configured or cached checkpoints; the environment every child inherits."""
    monkeypatch.setenv("CATALOGUE_REGISTRY_DIR", str(write_registry(tmp_path / "registry")))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("CATALOGUE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CATALOGUE_CHECKPOINTS", raising=False)
    return tmp_path


def build_args(tmp_path: Path, *options: str) -> list[str]:
    levels = ",".join(map(str, LEVELS))
    return [
        "build",
        "--data",
        str(tmp_path / "data"),
        "--quiet",
        "--device",
        "cpu",
        "--models",
        "tiny/llama",
        "--levels",
        levels,
        "--save-pruned",
        str(tmp_path / "pruned"),
        *options,
    ]


def kill_while_saving(tmp_path: Path, args: list[str], stall_at: str) -> None:
    """Start the build, wait until its save of ``stall_at`` blocks, and SIGKILL it."""
    stalled, log = tmp_path / "stalled", tmp_path / "killed-build.log"
    with open(log, "w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", STALLING_BUILD, *args],
            env={**os.environ, "STALL_AT": stall_at, "STALLED": str(stalled)},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        deadline = time.monotonic() + 240
        while not stalled.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert stalled.exists(), f"the build never reached the save of {stall_at}: {log.read_text()}"
    assert child.returncode == -signal.SIGKILL


def level_directories(model_dir: Path) -> list[Path]:
    return sorted(path for path in model_dir.iterdir() if checkpoint_dirs.LEVEL_DIRECTORY.match(path.name))


def inspected(directory: Path, level: int | None = None) -> subprocess.CompletedProcess:
    """``catalogue inspect`` of a saved checkpoint, against its record in the catalogue when ``level`` is given."""
    record = ["--record", f"tiny/llama@{level}"] if level is not None else []
    return run_here("inspect", str(directory), *record)


def temporaries(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if SAFETENSORS_TEMPORARY.match(path.name)]


def assert_clean_after(result: subprocess.CompletedProcess, tmp_path: Path) -> None:
    """The next build succeeded, left no partial or old directory or temporary file, and its checkpoints inspect clean."""
    assert result.returncode == 0, result.stdout + result.stderr
    model_dir = tmp_path / "pruned" / "tiny__llama"
    assert sorted(path.name for path in model_dir.iterdir()) == [f"pruned-{level:02d}pct" for level in LEVELS]
    assert temporaries(tmp_path) == []
    for level in LEVELS:
        report = inspected(model_dir / f"pruned-{level:02d}pct", level)
        assert report.returncode == 0, report.stdout + report.stderr


@pytest.mark.torch
@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_a_build_killed_while_saving_leaves_no_half_checkpoint_and_the_next_build_cleans_up(user, stream):
    tmp_path = user
    args = build_args(tmp_path, *(["--stream"] if stream else []))
    kill_while_saving(tmp_path, args, "pruned-20pct")
    model_dir = tmp_path / "pruned" / "tiny__llama"
    for directory in level_directories(model_dir):  # a level is there whole, or not at all
        report = inspected(directory)  # no catalogue yet: the build was killed before writing it
        assert report.returncode == 0, f"{directory} is there but incomplete: {report.stdout}{report.stderr}"
    assert "pruned-20pct" not in [path.name for path in level_directories(model_dir)]
    assert all(path.parent.name == "pruned-20pct.partial" for path in temporaries(tmp_path)), temporaries(tmp_path)
    assert (model_dir / "pruned-20pct.partial").is_dir()

    result = run_here(*args)  # the kill was a process's; the next build needs none of its own (torch is imported here)
    assert f"--save-pruned: {model_dir / 'pruned-20pct.partial'}: removed" in result.stdout
    assert_clean_after(result, tmp_path)


@pytest.mark.torch
def test_a_rebuild_killed_while_saving_keeps_the_previous_checkpoint_whole(user):
    tmp_path = user
    first = run_here(*build_args(tmp_path))
    assert first.returncode == 0, first.stdout + first.stderr
    model_dir = tmp_path / "pruned" / "tiny__llama"
    before = {path.name: files(path) for path in level_directories(model_dir)}
    kill_while_saving(tmp_path, build_args(tmp_path, "--seed", "1"), "pruned-20pct")  # other weights: every level rebuilt
    assert files(model_dir / "pruned-20pct") == before["pruned-20pct"]  # not half-overwritten: the first build's, byte for byte
    assert all(path.parent.name == "pruned-20pct.partial" for path in temporaries(tmp_path)), temporaries(tmp_path)

    result = run_here(*build_args(tmp_path))  # the records are the first build's: nothing to rebuild, the leftovers go
    assert "--save-pruned:" in result.stdout and "pruned-20pct.partial: removed" in result.stdout
    assert_clean_after(result, tmp_path)
    assert files(model_dir / "pruned-20pct") == before["pruned-20pct"]


@pytest.mark.torch
def test_an_output_projection_of_hidden_inputs_is_no_problem_where_the_type_builds_it(tmp_path):
    """transformers' Helium builds o_proj as Linear(H, H) whatever heads x head_dim is: a saved one is no false problem,
    and the count is the model's; the same shape in a Llama checkpoint is still a problem."""
    import torch
    from transformers import AutoModelForCausalLM, HeliumConfig

    from glu_catalogue.checkpoints.inspect import inspect_checkpoint
    from glu_catalogue.generate.facts import derive_facts

    config = HeliumConfig(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=8, vocab_size=128)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    assert tuple(model.model.layers[0].self_attn.o_proj.weight.shape) == (64, 64) != (64, 4 * 8)
    model.save_pretrained(tmp_path / "helium")
    inspection = inspect_checkpoint(tmp_path / "helium")
    assert inspection.ok, [(p.field, p.expected, p.found) for p in inspection.report.problems]
    numel = sum(parameter.numel() for parameter in model.parameters())
    assert inspection.total_parameters == inspection.closed_form_total_parameters == numel
    assert inspection.architecture.o_proj_hidden_input
    assert derive_facts({**config.to_dict(), "model_type": "helium"}).total_parameters == numel
    saved = json.loads((tmp_path / "helium" / "config.json").read_text())
    (tmp_path / "helium" / "config.json").write_text(json.dumps({**saved, "model_type": "llama", "architectures": ["LlamaForCausalLM"]}))
    as_llama = inspect_checkpoint(tmp_path / "helium")
    assert not as_llama.ok and "self_attn.o_proj.weight" in {p.field for p in as_llama.report.problems}

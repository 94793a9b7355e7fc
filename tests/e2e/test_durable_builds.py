"""Long builds keep what they finished, and split across workers: a real ``kill -9``, ``--shard``, ``merge``.

Every command a test is about runs as a subprocess, as a user (or a Slurm task) runs it, over a registry
of tiny models (``tiny_models``) and, for the kill, a model with a wide, deep MLP that takes seconds to
build; a rerun, and a build that only makes a test's input, run in the worker.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run_cli, run_here
from tiny_models import scratch_environment

pytestmark = pytest.mark.torch

#: A model that takes seconds to build on two cores (48 layers of a 16384-wide MLP over hidden 64).
SLOW = "slow/llama"
#: Three tiny models, one per shard of three.
THREE = ["tiny/llama", "tiny/qwen2", "tiny/qwen3"]
#: What two builds of the same records may differ in.
VOLATILE = {"created_at", "wall_time_s", "peak_memory_bytes"}


def scratch_registry(directory: Path) -> dict[str, str]:
    """The environment of a registry of the tiny models and ``SLOW``, without checkpoints to discover."""
    return scratch_environment(directory, SLOW, intermediate_size=16384, layers=48, size_label="151M", why="a slow test architecture")


def build_command(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "glu_catalogue", "build", "--data", str(data), "--quiet", "--device", "cpu", *args]


def records(data: Path) -> list[dict]:
    return json.loads((data / "expansion_rates.json").read_text())["models"]


def stable(record: dict) -> dict:
    """A record less what differs between two builds of it (time, memory, when)."""
    record = copy.deepcopy(record)
    for key in VOLATILE:
        record["provenance"].pop(key, None)
    return record


def digests(directory: Path) -> dict[str, str]:
    return {str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(directory.rglob("*")) if path.is_file()}


def test_a_build_killed_during_its_second_model_keeps_the_first_and_the_rerun_builds_only_the_rest(tmp_path):
    env = scratch_registry(tmp_path)
    data = tmp_path / "data"
    process = subprocess.Popen(build_command(data, "--models", f"tiny/llama,{SLOW}"), env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    try:
        while not (data / "expansion_rates.json").exists():
            assert process.poll() is None, "the build ended before its first model was written: " + process.stderr.read().decode()
            assert time.monotonic() < deadline, "the first model was never written"
            time.sleep(0.05)
        assert process.poll() is None, "the build finished before it could be killed during its second model"
        os.kill(process.pid, signal.SIGKILL)  # the first model is written; the second is being built
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    kept = records(data)
    assert {record["base_model"] for record in kept} == {"tiny/llama"} and len(kept) == 7
    checked = run_cli("verify", str(data), env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    first = (data / "expansion_rates.json").read_text()
    rerun = run_here(*build_command(data, "--models", f"tiny/llama,{SLOW}")[3:], env=env, cwd=REPO)  # the kill was real; the rerun in this process
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    summary = {line.split("│")[1].strip(): line for line in rerun.stdout.splitlines() if line.startswith("│ ") and "/" in line.split("│")[1]}
    assert "0,10,20,30,40,50,60" in summary[SLOW].split("│")[2] and summary["tiny/llama"].split("│")[2].strip() == "-", rerun.stdout
    after = {(r["base_model"], r["pruning_pct"]): r for r in records(data)}
    assert len(after) == 14
    assert [after[("tiny/llama", r["pruning_pct"])] for r in json.loads(first)["models"]] == json.loads(first)["models"]  # untouched


def test_three_shards_merged_equal_one_build(tmp_path):
    """Closed-form builds (no torch, seconds); the Slurm test does the same with pruned random-init models."""
    env = scratch_registry(tmp_path)
    models = ",".join(THREE)
    whole = subprocess.run(
        build_command(tmp_path / "whole", "--models", models, "--closed-form"), env=env, cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert whole.returncode == 0, whole.stdout + whole.stderr
    shards = [tmp_path / "shards" / str(index) for index in range(3)]
    for index, shard in enumerate(shards):
        # Given in another order: the split depends on the models, not on how they were listed.
        done = subprocess.run(
            build_command(shard, "--models", ",".join(reversed(THREE)), "--shard", f"{index}/3", "--closed-form"),
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert len({record["base_model"] for record in records(shard)}) == 1
    merged = tmp_path / "merged"
    completed = run_cli("merge", *map(str, shards), "--data", str(merged), env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert [stable(r) for r in records(merged)] == [stable(r) for r in records(tmp_path / "whole")]
    before = digests(merged)
    again = run_cli("merge", *map(str, shards), "--data", str(merged), env=env)
    assert again.returncode == 0 and "files written: none (unchanged)" in again.stdout, again.stdout
    assert digests(merged) == before


def test_merge_refuses_two_shards_that_disagree_and_writes_nothing(tmp_path):
    env = scratch_registry(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    done = run_here(*build_command(first, "--models", "tiny/llama", "--levels", "0,40")[3:], env=env, cwd=REPO)  # the input: in this process
    assert done.returncode == 0, done.stdout + done.stderr
    shutil.copytree(first, second)
    document = json.loads((second / "expansion_rates.json").read_text())
    document["models"][1]["pruned_architecture"]["intermediate_size"] += 1
    (second / "expansion_rates.json").write_text(json.dumps(document, indent=2))
    out = tmp_path / "out"
    completed = run_cli("merge", str(first), str(second), "--data", str(out), env=env)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert str(first) in line and str(second) in line and "tiny/llama@40" in line and "Traceback" not in completed.stderr
    assert not out.exists()  # a refused merge leaves no directory it created


@pytest.mark.parametrize(
    ("shard", "environment", "message"),
    [
        ("3/3", {}, "0 <= I < N"),
        ("a/b", {}, "whole numbers"),
        ("slurm", {}, "SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are not set"),
        ("slurm", {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "2"}, "0 <= I < N"),
    ],
)
def test_a_shard_that_cannot_be_is_one_line(tmp_path, shard, environment, message):
    env = {**scratch_registry(tmp_path), **environment}
    for name in ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"):
        if name not in environment:
            env.pop(name, None)
    completed = subprocess.run(build_command(tmp_path / "out", "--shard", shard), env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2 and message in completed.stderr and len(completed.stderr.strip().splitlines()) == 1, completed.stderr


def test_a_shard_needs_its_own_data_directory():
    completed = run_cli("build", "--shard", "0/2", "--closed-form")
    assert completed.returncode == 2 and "each shard writes its own data directory" in completed.stderr, completed.stderr


def test_slurm_environment_picks_the_task(tmp_path):
    env = {**scratch_registry(tmp_path), "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3"}
    completed = subprocess.run(
        build_command(tmp_path / "out", "--models", ",".join(THREE), "--shard", "slurm", "--closed-form"),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert {record["base_model"] for record in records(tmp_path / "out")} == {sorted(THREE)[1]}

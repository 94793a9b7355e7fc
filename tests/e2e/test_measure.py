"""``catalogue evaluate`` and ``catalogue bench`` as a user runs them, against the study's way of measuring.

A tiny Llama is saved by transformers with a tokenizer built by the ``tokenizers`` library, and
``catalogue build`` prunes it at three levels from that checkpoint. ``catalogue evaluate`` scores every
level on a local lm-eval task (in this process; a refusal and a killed run go through a process of their
own, and the Slurm tests run it as array jobs); the same task is then run the study's way in this
process (a fresh ``from_pretrained``, ``optipfair.prune_model``, lm-eval's ``simple_evaluate``): the
scores must be the same, the pruned tensors identical, the files lm-eval's own, linked to their records,
verifying. ``catalogue bench`` runs on tiny models: every figure present and positive, the runs adding
up to no more than the time the command took; a bench killed with ``kill -9`` keeps the levels it stored
and the next run measures only the rest; a measurement file written but not yet stored when the run died
is stored by the next run without measuring again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, cuda_available, load_json, refused_in_process, run_cli, run_here
from lm_eval_tasks import TASK, TINY, save_tokenizer, write_task
from tiny_models import scratch_environment

pytestmark = [pytest.mark.torch, pytest.mark.xdist_group("measure")]  # one worker builds the checkpoint and evaluates it once

LEVELS = (0, 30, 60)
#: Small bench settings: seconds per level for the tiny models.
QUICK_BENCH = ("--prompt-tokens", "16,32", "--decode-prompt-tokens", "8", "--new-tokens", "4", "--batch-sizes", "1,2", "--repeats", "3")
#: A model that takes seconds per bench level on two cores (24 layers of an 8192-wide MLP over hidden 64).
SLOW = "slow/llama"


def scratch_env(root: Path) -> dict[str, str]:
    """A registry of the tiny models and ``SLOW`` in ``root``, no checkpoints to discover, lm-eval offline."""
    env = scratch_environment(root, SLOW, intermediate_size=8192, layers=24, size_label="26M", why="a slow bench architecture")
    return {**env, "HF_DATASETS_OFFLINE": "1"}


def ok(completed: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
    return completed


def ok_in_process(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the command in this process (torch is imported here already) and check it succeeded, as ``ok`` checks a process."""
    return ok(run_here(*args, env=env, cwd=cwd))


def digests(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.rglob("*")) if p.is_file()}


def measured(data: Path, tool: str) -> list[dict]:
    """The stored outcomes ``tool`` measured."""
    outcomes = load_json(data / "outcomes.json")["outcomes"]
    return [o for o in outcomes if (o.get("measurement") or {}).get("tool") == tool]


def kill_once_stored(command: list[str], env: dict[str, str], cwd: Path, data: Path) -> None:
    """Run ``command`` and ``kill -9`` it as soon as its first result is stored in ``data`` (outcomes.json appears)."""
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while not (data / "outcomes.json").exists():
            assert process.poll() is None, "the run ended before its first result was stored: " + process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the first result was never stored"
            time.sleep(0.05)
        assert process.poll() is None, "the run finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def evaluated_checkpoint(root: Path) -> dict:
    """In ``root``: a tiny checkpoint saved by transformers (with its tokenizer), a local task, its records at ``LEVELS`` in ``data``
    (and a copy of them in ``built``, for tests that measure the records afresh)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    env = scratch_env(root)
    values = dict(TINY)
    model_type = values.pop("model_type")
    torch.manual_seed(0)
    checkpoint = root / "ckpt"
    AutoModelForCausalLM.from_config(AutoConfig.for_model(model_type, **values)).save_pretrained(checkpoint)
    save_tokenizer(checkpoint)
    tasks = write_task(root / "tasks")
    data = root / "data"
    levels = ",".join(map(str, LEVELS))
    ok_in_process("build", "--models", str(checkpoint), "--levels", levels, "--dtype", "fp32", "--data", str(data), "--quiet", env=env)
    shutil.copytree(data, root / "built")
    return {"root": root, "env": env, "checkpoint": checkpoint, "tasks": tasks, "data": data, "built": root / "built", "task": TASK}


@pytest.fixture(scope="session")
def evaluated(tmp_path_factory):
    """A tiny checkpoint saved by transformers, built at ``LEVELS``, evaluated by ``catalogue evaluate`` (in this process)."""
    made = evaluated_checkpoint(tmp_path_factory.mktemp("measure"))
    root, env, checkpoint, tasks, data = made["root"], made["env"], made["checkpoint"], made["tasks"], made["data"]
    command = ("evaluate", "--models", str(checkpoint), "--tasks", TASK, "--include-path", str(tasks), "--data", str(data), "--device", "cpu")
    first = ok_in_process(*command, "--format", "json", env=env, cwd=root)  # as a process: a refusal, a killed run, Slurm's shards
    return {**made, "command": command, "first": json.loads(first.stdout)}


def study_way(checkpoint: Path, tasks: Path, level: int):
    """The study's notebooks: load the checkpoint, prune it with optipfair, evaluate it with lm-eval (model and task results)."""
    import optipfair
    import torch
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32)
    if level:
        model = optipfair.prune_model(model, pruning_type="MLP_GLU", neuron_selection_method="MAW", pruning_percentage=level, show_progress=False)
    model.eval()
    harness = HFLM(pretrained=model, tokenizer=AutoTokenizer.from_pretrained(checkpoint), batch_size=1, device="cpu")
    output = simple_evaluate(model=harness, tasks=[TASK], task_manager=study_task_manager(tasks), log_samples=False)
    return model, output["results"][TASK]


@functools.cache
def study_task_manager(tasks: Path):
    """lm-eval's ``TaskManager`` as the study's notebooks make it: every task lm-eval has, and ``tasks``'s (indexed once, 6-20 s).

    ``catalogue evaluate`` indexes only ``tasks``'s files when they hold every task asked for: the scores must not differ."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(tasks))


def test_evaluate_scores_every_level_as_the_study_does_with_identical_tensors(evaluated):
    from glu_catalogue import load_catalogue
    from glu_catalogue.measure.levels import pruned_levels, recipe_of
    from glu_catalogue.pipeline.models import resolve_model

    checkpoint, data = evaluated["checkpoint"], evaluated["data"]
    rows = {row["record"]: row for row in evaluated["first"]}
    assert [row["status"] for row in rows.values()] == ["measured"] * len(LEVELS)
    records = sorted((r for r in load_catalogue(data).models if r.status == "success"), key=lambda r: r.pruning_pct)
    catalogue_models = pruned_levels(resolve_model(str(checkpoint)), records, recipe_of(records[0]), "cpu")
    for record, level in zip(records, catalogue_models):
        theirs, their_results = study_way(checkpoint, evaluated["tasks"], record.pruning_pct)
        ours = level.model.state_dict()
        assert ours.keys() == theirs.state_dict().keys()
        for name, tensor in theirs.state_dict().items():
            assert ours[name].dtype == tensor.dtype and ours[name].shape == tensor.shape and bool((ours[name] == tensor).all()), (record.pruning_pct, name)
        written = load_json(Path(rows[f"{record.base_model}@{record.pruning_pct}"]["file"]))
        ours_results = {key: value for key, value in written["results"][TASK].items() if key != "alias"}
        assert ours_results == {key: value for key, value in their_results.items() if key != "alias"}, record.pruning_pct


def test_evaluate_writes_lm_evals_own_files_linked_to_their_records(evaluated):
    from lm_eval.utils import make_table

    data = evaluated["data"]
    catalogue = {(r["base_model"], r["pruning_pct"]): r for r in load_json(data / "expansion_rates.json")["models"]}
    stored = {o["record"]: o for o in measured(data, "catalogue evaluate") if o["metric"] == "acc"}
    assert len(stored) == len(LEVELS)
    for row in evaluated["first"]:
        document = load_json(Path(row["file"]))
        assert TASK in make_table(document)  # lm-eval's own table of its results file
        assert document["config"]["model_num_parameters"] > 0 and document["versions"][TASK] == 1.0
        outcome = stored[row["record"]]
        model, pct = row["record"].rsplit("@", 1)
        record = catalogue[(model, int(pct))]
        assert outcome["value"] == document["results"][TASK]["acc,none"] == row["scores"]["acc"]
        measurement = outcome["measurement"]
        assert measurement["kept_indices_sha256"] == record["provenance"]["kept_indices_sha256"] == document["catalogue"]["measurement"]["kept_indices_sha256"]
        assert measurement["weights"] == "checkpoint" and measurement["device"] == "cpu" and measurement["dtype"] == "float32"
        assert measurement["versions"]["lm_eval"] and measurement["seeds"] and measurement.get("note") is None
    ok_in_process("verify", str(data), env=evaluated["env"])


def test_a_second_evaluate_with_the_same_inputs_does_nothing(evaluated):
    data = evaluated["data"]
    before = digests(data)
    again = ok_in_process(*evaluated["command"], env=evaluated["env"], cwd=evaluated["root"])
    assert again.stdout.count("already measured with these inputs") == len(LEVELS), again.stdout
    assert digests(data) == before


def test_evaluate_of_random_init_records_is_refused_unless_asked_and_then_marked(evaluated, tmp_path):
    env, data = evaluated["env"], tmp_path / "data"
    ok_in_process("build", "--models", "tiny/llama", "--levels", "0", "--dtype", "fp32", "--data", str(data), "--quiet", env=env)
    command = ("evaluate", "--models", "tiny/llama", "--tasks", TASK, "--include-path", str(evaluated["tasks"]), "--data", str(data), "--device", "cpu")
    before = digests(data)
    line = refused_in_process(*command, env=env)
    assert "random-init" in line and "--store-random-init" in line
    assert digests(data) == before
    fresh_datasets = {**env, "HF_DATASETS_CACHE": str(tmp_path / "datasets")}  # the task's JSON is built again: no bars for it
    stored = ok(run_cli(*command, "--store-random-init", "--tokenizer", str(evaluated["checkpoint"]), env=fresh_datasets))
    assert "measure nothing about the real model" in stored.stderr
    assert "examples/s" not in stored.stderr and "Generating" not in stored.stderr, stored.stderr
    [outcome] = [o for o in measured(data, "catalogue evaluate") if o["metric"] == "acc"]
    assert outcome["measurement"]["weights"] == "random-init" and "measures nothing" in outcome["measurement"]["note"]


def test_a_killed_evaluate_keeps_the_levels_it_stored_and_the_rerun_evaluates_only_the_rest(evaluated, tmp_path):
    """kill -9 once the first (record, task) is stored: what was stored verifies, and the rerun scores only the rest."""
    env, data = evaluated["env"], tmp_path / "data"
    tasks = write_task(tmp_path / "tasks", questions=300)  # a second or more per level: the run is still going when the first is stored
    shutil.copytree(evaluated["built"], data)  # the checkpoint's records at LEVELS, none evaluated
    command = [
        sys.executable,
        "-m",
        "glu_catalogue",
        "evaluate",
        "--models",
        str(evaluated["checkpoint"]),
        "--tasks",
        TASK,
        "--include-path",
        str(tasks),
        "--data",
        str(data),
        "--device",
        "cpu",
    ]
    kill_once_stored(command, env, tmp_path, data)
    kept = {o["record"] for o in measured(data, "catalogue evaluate")}
    model = next(iter(kept)).rsplit("@", 1)[0]
    assert kept and f"{model}@{LEVELS[-1]}" not in kept
    ok_in_process("verify", str(data), env=env)
    rerun = ok_in_process(*command[3:], env=env, cwd=tmp_path)  # the kill was real; the rerun needs no process of its own
    lines = {line.split(" ")[2]: line for line in rerun.stdout.splitlines() if line.startswith(f"  {model}@")}
    for record in (f"{model}@{level}" for level in LEVELS):
        assert ("already measured" in lines[record]) == (record in kept), rerun.stdout
    assert {o["record"] for o in measured(data, "catalogue evaluate")} == {f"{model}@{level}" for level in LEVELS}
    ok_in_process("verify", str(data), env=env)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--tasks", "no_such_task"), "no_such_task"),
        (("--tasks", TASK, "--batch-size", "0"), "--batch-size 0"),
        (("--tasks", TASK, "--levels", "45"), "no record of local/ckpt at 45 %"),
        (("--tasks", TASK, "--limit", "0"), "--limit 0: expected a fraction"),
        (("--tasks", TASK, "--include-path", "no-such-tasks"), "--include-path no-such-tasks: no such directory"),
        (("--tasks", TASK, "--tokenizer", "./no-such-tokenizer"), "no tokenizer in ./no-such-tokenizer: no such directory"),
        (("--tasks", TASK, "--seed", "-1"), "--seed -1: expected a whole number from 0 to 4,294,967,295"),
        (("--tasks", TASK, "--seed", "99999999999999999999"), "--seed 99999999999999999999: expected a whole number from 0"),
        (("--tasks", TASK, "--num-fewshot", "1000000"), "--num-fewshot 1000000: task tiny_choice has 12 documents"),
        (("--tasks", TASK, "--shard", "0/2"), "--shard 0/2: each shard stores its outcomes in a directory of its own: give --into DIR"),
    ],
)
def test_evaluate_of_what_cannot_be_is_one_line(evaluated, extra, expected, monkeypatch):
    """In this process: a refusal is not about a process (``run_cli`` would spend seconds importing torch per case).

    A name the local files lack makes the command index all of lm-eval's tasks: the index the study way built
    (``study_task_manager``, the same call) is handed to it rather than read again."""
    import lm_eval.tasks

    task_manager_class = lm_eval.tasks.TaskManager

    def full_index_once(include_path=None, include_defaults=True, **kwargs):
        if include_defaults and include_path == str(evaluated["tasks"]) and not kwargs:
            return study_task_manager(evaluated["tasks"])
        return task_manager_class(include_path=include_path, include_defaults=include_defaults, **kwargs)

    monkeypatch.setattr(lm_eval.tasks, "TaskManager", full_index_once)
    data = evaluated["data"]
    before = digests(data)
    command = ("evaluate", "--models", str(evaluated["checkpoint"]), "--include-path", str(evaluated["tasks"]), "--data", str(data), *extra)
    line = refused_in_process(*command, env=evaluated["env"], cwd=evaluated["root"])
    assert expected in line, line
    assert digests(data) == before


def test_evaluate_of_what_cannot_be_is_one_line_from_the_command_as_a_user_runs_it(evaluated):
    """Such a refusal from ``python -m glu_catalogue`` itself: exit 2, one line on stderr, no traceback, nothing written.

    A tokenizer is looked for once torch, transformers and lm-eval are imported and lm-eval has indexed the task: none of them
    may add a line."""
    data = evaluated["data"]
    before = digests(data)
    command = ("evaluate", "--models", str(evaluated["checkpoint"]), "--include-path", str(evaluated["tasks"]), "--data", str(data), "--tasks", TASK)
    completed = run_cli(*command, "--tokenizer", "./no-such-tokenizer", env=evaluated["env"], cwd=evaluated["root"])
    one_line_refusal(completed, "no tokenizer in ./no-such-tokenizer: no such directory")
    assert digests(data) == before


# --- shards and merge ------------------------------------------------------------------------------------


def scores(data: Path) -> list[tuple]:
    """Each stored lm-eval score as the record, task, metric, value, stderr and the digests that link it."""
    return sorted(
        (o["record"], o["task"], o["metric"], o["value"], o["stderr"], o["measurement"]["kept_indices_sha256"], o["measurement"]["inputs_sha256"])
        for o in measured(data, "catalogue evaluate")
    )


@pytest.fixture(scope="session")
def evaluate_shards(evaluated):
    """``evaluated``'s records evaluated by two workers (``--shard 0/2`` and ``1/2``), each into its own directory.

    Run in this process, each as its own command: the Slurm tests run such shards as separate processes on a real cluster."""
    root = evaluated["root"]
    shards = [root / "shards" / str(index) for index in range(2)]
    for index, shard in enumerate(shards):
        ok_in_process(*evaluated["command"], "--shard", f"{index}/2", "--into", str(shard), env=evaluated["env"], cwd=root)
    return shards


def test_two_evaluate_shards_merged_equal_one_process_and_carry_every_file(evaluated, evaluate_shards, tmp_path):
    root, model = evaluated["root"], f"local/{evaluated['checkpoint'].name}"
    assert [sorted(o["record"] for o in measured(shard, "catalogue evaluate") if o["metric"] == "acc") for shard in evaluate_shards] == [
        [f"{model}@0", f"{model}@60"],
        [f"{model}@30"],
    ]  # one model's levels split across the workers, each loading it once
    merged = tmp_path / "merged"
    done = ok_in_process("merge", *map(str, evaluate_shards), "--data", str(merged), env=evaluated["env"], cwd=root)
    assert "merged 2 directories" in done.stdout and "OK: no problems" in done.stdout, done.stdout
    assert scores(merged) == scores(evaluated["data"]) and {score[0] for score in scores(merged)} == {f"{model}@{level}" for level in LEVELS}
    shard_files = {p.relative_to(s): p.read_bytes() for s in evaluate_shards for p in (s / "measurements").rglob("results_*.json")}
    for outcome in measured(merged, "catalogue evaluate"):
        carried = (root / outcome["source"]["path"]).resolve()
        name = carried.relative_to(merged.resolve())
        assert name.parts[0] == "measurements" and carried.read_bytes() == shard_files[name]  # byte for byte
        assert hashlib.sha256(carried.read_bytes()).hexdigest() == outcome["source"]["sha256"]
    ok_in_process("verify", str(merged), env=evaluated["env"], cwd=root)
    before = digests(merged)
    again = ok_in_process("merge", *map(str, evaluate_shards), "--data", str(merged), env=evaluated["env"], cwd=root)
    assert "files written: none (unchanged)" in again.stdout and digests(merged) == before


def one_line_refusal(completed: subprocess.CompletedProcess, expected: str) -> None:
    assert completed.returncode == 2 and "Traceback" not in completed.stderr, completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith("error: ") and expected in line, line


def test_merge_refuses_two_shards_holding_different_files_under_one_name_and_leaves_no_output(evaluated, evaluate_shards, tmp_path):
    """A copy of a shard whose lm-eval file was rewritten (and its outcomes' digest with it): one name, two files."""
    first, second = tmp_path / "a", tmp_path / "b"
    shutil.copytree(evaluate_shards[0], first)
    shutil.copytree(evaluate_shards[0], second)
    edited = sorted((second / "measurements").rglob("results_*.json"))[0]
    old = hashlib.sha256(edited.read_bytes()).hexdigest()
    edited.write_bytes(edited.read_bytes().replace(b'"date"', b'"date" ', 1))
    new = hashlib.sha256(edited.read_bytes()).hexdigest()
    for name in ("outcomes.json", "outcomes.csv"):
        (second / name).write_text((second / name).read_text().replace(old, new))
    out = tmp_path / "merged"
    refused = run_cli("merge", str(first), str(second), "--data", str(out), env=evaluated["env"], cwd=evaluated["root"])
    one_line_refusal(refused, f"hold different files named {edited.relative_to(second).as_posix()}")
    assert not out.exists()


def test_merge_refuses_a_measurement_file_changed_after_it_was_stored(evaluated, evaluate_shards, tmp_path):
    shard = tmp_path / "shard"
    shutil.copytree(evaluate_shards[1], shard)
    edited = next((shard / "measurements").rglob("results_*.json"))
    edited.write_bytes(edited.read_bytes() + b" ")
    out = tmp_path / "merged"
    refused = run_cli("merge", str(shard), "--data", str(out), env=evaluated["env"], cwd=evaluated["root"])
    one_line_refusal(refused, "the file changed after it was stored")
    assert not out.exists()


@pytest.mark.parametrize(
    ("target", "expected"),
    [("file", "it exists and is not a directory"), ("file/under", "Not a directory"), ("/proc/catalogue-merge", "cannot be the data directory")],
)
def test_merge_into_what_cannot_be_a_directory_is_one_line(evaluate_shards, tmp_path, target, expected):
    (tmp_path / "file").write_text("a file\n")
    out = target if target.startswith("/") else str(tmp_path / target)
    refused = run_cli("merge", str(evaluate_shards[1]), "--data", out)
    one_line_refusal(refused, expected)
    assert (tmp_path / "file").read_text() == "a file\n"


# --- bench ---------------------------------------------------------------------------------------------


def bench_command(data: Path, models: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "glu_catalogue", "bench", "--models", models, "--data", str(data), "--device", "cpu", *extra]


@pytest.fixture(scope="module")
def benched(tmp_path_factory):
    """tiny/llama and tiny/qwen3 built at 0 and 50 %, benched once in this process (a killed shard and a refusal run as
    processes, and Slurm's shards), with the command's wall time."""
    root = tmp_path_factory.mktemp("bench")
    env = scratch_env(root)
    data = root / "data"
    ok_in_process("build", "--models", "tiny/llama,tiny/qwen3", "--levels", "0,50", "--data", str(data), "--quiet", env=env)
    started = time.monotonic()
    completed = ok_in_process(*bench_command(data, "tiny/llama,tiny/qwen3", *QUICK_BENCH, "--format", "json")[3:], env=env, cwd=REPO)
    wall_s = time.monotonic() - started
    return {"env": env, "data": data, "rows": json.loads(completed.stdout), "wall_s": wall_s}


def test_bench_figures_are_present_positive_and_add_up(benched):
    rows, data = benched["rows"], benched["data"]
    assert sorted(row["record"] for row in rows) == ["tiny/llama@0", "tiny/llama@50", "tiny/qwen3@0", "tiny/qwen3@50"]
    timed_s = 0.0
    for row in rows:
        assert row["status"] == "measured"
        document = load_json(Path(row["file"]))
        workloads = {workload["name"]: workload for workload in document["workloads"]}
        assert sorted(workloads) == ["decode-b1", "decode-b2", "prefill-16", "prefill-32"]
        assert document["memory_peak_bytes"] > document["weights_bytes"] > 0 and document["total_parameters"] > 0
        for name, workload in workloads.items():
            runs = workload["runs"]
            assert len(runs) == 3  # --repeats 3: the warm-up run is not among them
            summary = document["summary"][name]
            prefill = [run["prefill_s"] for run in runs]
            assert all(value > 0 for value in prefill)
            timed_s += sum(prefill)
            if workload["kind"] == "prefill":
                assert summary["prefill_tokens_per_s"]["median"] == pytest.approx(statistics.median(int(name.split("-")[1]) / s for s in prefill))
                continue
            decode = [run["decode_s"] for run in runs]
            timed_s += sum(decode)
            batch = workload["batch_size"]
            assert summary["latency_first_token_ms"]["median"] == pytest.approx(statistics.median(prefill) * 1000)
            assert summary["latency_whole_answer_ms"]["median"] == pytest.approx(statistics.median(p + d for p, d in zip(prefill, decode)) * 1000)
            assert summary["decode_tokens_per_s"]["median"] == pytest.approx(
                statistics.median(batch * 3 / d for d in decode)
            )  # 4 new tokens: 3 after the first
            assert summary["latency_whole_answer_ms"]["median"] > summary["latency_first_token_ms"]["median"] > 0
    assert timed_s < benched["wall_s"]  # the timed runs fit in the time the command took
    stored = measured(data, "catalogue bench")
    by_key = {(o["record"], o["workload"]["name"] if isinstance(o.get("workload"), dict) else o.get("workload"), o["quantity"]): o for o in stored}
    assert len(stored) == len(by_key) > 0 and all(o["value"] > 0 for o in stored)
    assert all(o["runs"]["aggregate"] == "median" and o["runs"]["count"] == 3 for o in stored if o["workload"]["name"] != "memory")
    assert {o["quantity"] for o in stored if o["workload"]["name"] == "memory"} == {"memory_peak_bytes", "weights_bytes"}
    assert {o["record"] for o in stored} == {row["record"] for row in rows}
    ok_in_process("verify", str(data), env=benched["env"])


def test_a_second_bench_with_the_same_inputs_does_nothing(benched):
    data = benched["data"]
    before = digests(data)
    again = ok_in_process(*bench_command(data, "tiny/llama,tiny/qwen3", *QUICK_BENCH)[3:], env=benched["env"], cwd=REPO)
    assert again.stdout.count("already measured with these inputs") == 4, again.stdout
    assert digests(data) == before


def test_a_bench_with_other_inputs_writes_beside_the_earlier_files_and_shows_each_level_once(benched, tmp_path):
    """Another machine, dtype or setting is another measurement: its files go beside the earlier ones, never over them."""
    data = tmp_path / "data"
    shutil.copytree(benched["data"], data)
    before = {path: path.read_bytes() for path in (data / "measurements").rglob("bench_*.json")}
    other = (*QUICK_BENCH[:-1], "2")  # --repeats 2
    assert QUICK_BENCH[-2] == "--repeats"
    completed = ok_in_process(*bench_command(data, "tiny/llama,tiny/qwen3", *other)[3:], env=benched["env"], cwd=REPO)
    for record in ("tiny/llama@0", "tiny/llama@50", "tiny/qwen3@0", "tiny/qwen3@50"):
        assert completed.stdout.count(f"  {record}: ") == 1, completed.stdout  # each level's line once, under its own model
    assert {path: path.read_bytes() for path in before} == before
    assert len(list((data / "measurements").rglob("bench_*.json"))) == 2 * len(before)
    assert len(measured(data, "catalogue bench")) == 2 * len(measured(benched["data"], "catalogue bench"))
    ok_in_process("verify", str(data), env=benched["env"])


def test_a_bench_file_written_but_not_stored_is_stored_by_the_next_run_without_measuring(benched, tmp_path):
    """The fault: the run died after writing a level's bench file and before storing it."""
    data = tmp_path / "data"
    shutil.copytree(benched["data"], data)
    for name in ("outcomes.json", "outcomes.csv"):
        (data / name).unlink()
    files = sorted(p.relative_to(data) for p in (data / "measurements").rglob("bench_*.json"))
    before = {path: (data / path).read_bytes() for path in files}
    rerun = ok_in_process(*bench_command(data, "tiny/llama,tiny/qwen3", *QUICK_BENCH)[3:], env=benched["env"], cwd=REPO)
    assert rerun.stdout.count("(finished by an earlier run)") == 4 and "from one load" not in rerun.stdout, rerun.stdout
    assert {path: (data / path).read_bytes() for path in files} == before  # nothing measured again
    assert len(measured(data, "catalogue bench")) == len(measured(benched["data"], "catalogue bench"))


def test_a_killed_bench_shard_keeps_the_levels_it_stored_and_the_rerun_measures_only_the_rest(tmp_path):
    """One model's three levels over two shards (0 and 60, then 30): shard 0 killed with ``kill -9`` once its first level is
    stored; rerun, it measures only 60; shard 1 measures 30; the merge verifies with every bench file."""
    env = scratch_env(tmp_path)
    data, shards = tmp_path / "data", [tmp_path / "shards" / str(index) for index in range(2)]
    ok_in_process("build", "--models", SLOW, "--levels", "0,30,60", "--data", str(data), "--quiet", env=env)
    quick = ("--prompt-tokens", "64", "--new-tokens", "8", "--batch-sizes", "1", "--repeats", "3")
    command = [*bench_command(data, SLOW, *quick), "--shard", "0/2", "--into", str(shards[0])]
    kill_once_stored(command, env, REPO, shards[0])
    kept = {o["record"] for o in measured(shards[0], "catalogue bench")}
    assert kept == {f"{SLOW}@0"}
    ok_in_process("verify", str(shards[0]), env=env)
    rerun = ok_in_process(*command[3:], env=env, cwd=REPO)  # the kill was real; the rerun needs no process of its own
    lines = {found[1]: line for line in rerun.stdout.splitlines() if (found := re.match(r"^  (\S+@\d+): ", line))}
    assert sorted(lines) == [f"{SLOW}@0", f"{SLOW}@60"], rerun.stdout
    assert "already measured" in lines[f"{SLOW}@0"] and "already measured" not in lines[f"{SLOW}@60"], rerun.stdout
    other = ok_in_process(*bench_command(data, SLOW, *quick)[3:], "--shard", "1/2", "--into", str(shards[1]), env=env, cwd=REPO)
    assert f"  {SLOW}@30: " in other.stdout and f"{SLOW}@0:" not in other.stdout, other.stdout
    merged = tmp_path / "merged"
    ok_in_process("merge", *map(str, shards), "--data", str(merged), env=env)
    assert {o["record"] for o in measured(merged, "catalogue bench")} == {f"{SLOW}@0", f"{SLOW}@30", f"{SLOW}@60"}
    assert sorted(p.name for p in (merged / "measurements").rglob("bench_*.json")) == sorted(
        p.name for s in shards for p in (s / "measurements").rglob("bench_*.json")
    )
    ok_in_process("verify", str(merged), env=env)


def test_bench_energy_comes_from_codecarbon_and_says_how_it_was_measured(benched, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(benched["data"], data)
    command = bench_command(data, "tiny/llama", "--levels", "0", *QUICK_BENCH, "--energy", "--format", "json")
    completed = ok_in_process(*command[3:], env=benched["env"], cwd=REPO)
    [row] = json.loads(completed.stdout)
    assert row["status"] == "measured"  # --energy is another measurement than the stored one
    document = load_json(Path(row["file"]))
    stored = {
        (o["workload"]["name"], o["quantity"]): o
        for o in measured(data, "catalogue bench")
        if Path(o["source"]["path"]).resolve() == Path(row["file"]).resolve()
    }
    for workload in (w for w in document["workloads"] if w["kind"] == "decode"):
        energy = workload["energy"]
        assert energy["meter"]["tool"] == "codecarbon" and "cpu power from: " in energy["meter"]["mode"]
        assert energy["tokens"] == workload["batch_size"] * workload["new_tokens"] * len(workload["runs"])
        joules = stored[(workload["name"], "joules_per_token")]
        assert joules["value"] == pytest.approx(energy["kwh"] * 3.6e6 / energy["tokens"]) and joules["value"] >= 0
        assert stored[(workload["name"], "energy_raw_kwh")]["value"] == pytest.approx(energy["kwh"] / len(workload["runs"]))
        assert joules["meter"]["tool"] == "codecarbon"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--repeats", "0"), "--repeats 0"),
        (("--new-tokens", "1"), "--new-tokens 1"),
        (("--batch-sizes", "1,x"), "--batch-sizes '1,x'"),
        (("--levels", "45"), "no record of tiny/llama at 45 %"),
        (("--prompt-tokens", "1000000"), "a prompt of 1,000,000 tokens (--prompt-tokens, or --decode-prompt-tokens plus --new-tokens) does not fit"),
        (("--output", "README.md"), "--output README.md: is a file, where a directory is needed"),
        (("--into", "README.md/shard"), "--into README.md/shard: lies under README.md, which is a file"),
        (("--seed", "-1"), "--seed -1: expected a whole number from 0 to 4,294,967,295"),
    ],
)
def test_bench_of_what_cannot_be_is_one_line(benched, extra, expected):
    """In this process: a refusal is not about a process (a subprocess would spend seconds importing torch per case)."""
    data = benched["data"]
    before = digests(data)
    line = refused_in_process(*bench_command(data, "tiny/llama", *extra)[3:], env=benched["env"], cwd=REPO)
    assert expected in line, line
    assert digests(data) == before


def test_bench_of_what_cannot_be_is_one_line_from_the_command_as_a_user_runs_it(benched):
    """The same refusal from ``python -m glu_catalogue`` itself: exit 2, one line on stderr, no traceback, nothing written."""
    data = benched["data"]
    before = digests(data)
    completed = subprocess.run(bench_command(data, "tiny/llama", "--levels", "45"), env=benched["env"], cwd=REPO, capture_output=True, text=True, timeout=120)
    one_line_refusal(completed, "no record of tiny/llama at 45 %")
    assert digests(data) == before


def test_device_cuda_without_a_gpu_is_refused_before_any_model_is_loaded(benched):
    if cuda_available():  # asked here, not in a skipif: that would import torch while the suite is collected
        pytest.skip("torch sees a GPU here")
    completed = run_here(*bench_command(benched["data"], "tiny/llama", "--device", "cuda")[3:], env=benched["env"], cwd=REPO)  # a refusal: in this process
    one_line_refusal(completed, "--device cuda")
    assert completed.stderr.strip() == "error: --device cuda: torch sees no CUDA device: leave --device out (auto) or give --device cpu"
    assert "from one load" not in completed.stdout


@pytest.mark.gpu
def test_bench_on_cuda_records_cudas_peak_allocation(benched, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(benched["data"], data)
    completed = ok(
        subprocess.run(
            bench_command(data, "tiny/llama", "--levels", "0", "--device", "cuda", *QUICK_BENCH, "--format", "json"),
            env=benched["env"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
    )
    [row] = [row for row in json.loads(completed.stdout) if row["status"] == "measured"]
    document = load_json(Path(row["file"]))
    assert document["measurement"]["device"].startswith("cuda") and "cuda" in document["memory_measured_as"].lower()

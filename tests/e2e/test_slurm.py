"""The README's Slurm job arrays and merges, submitted as written to a real one-node Slurm started here.

The tests share one cluster, started once. The build array builds three tiny random-init models, one per
task (``--shard slurm``), each into its own data directory; the merge runs as a job that depends on the
array; the merged catalogue must equal the same build in one process, record for record, but for wall
time, peak memory and when. The evaluate array scores a tiny checkpoint's three levels over two tasks
(the model's levels split between them), merged into ``data``: the same scores and record links as one
process, every lm-eval file carried, verifying. The bench array is the same script with the README's
bench command in place of evaluate's; its merge verifies. Skipped, with the reason, where Slurm is not
installed (`.ci/run` installs it) or the tests are not root.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, invoke
from slurm_cluster import missing_slurm, slurm_cluster, wait_for_queue
from test_durable_builds import THREE, build_command, records, scratch_registry, stable
from test_measure import QUICK_BENCH, evaluated_checkpoint, measured, scores

#: One worker runs them, one cluster at a time: every test cluster listens on the same ports (slurm_cluster's config).
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.torch,
    pytest.mark.xdist_group("slurm"),
    pytest.mark.skipif(missing_slurm() is not None, reason=missing_slurm() or ""),
]

MARKER = re.compile(r"^<!-- run-by-slurm-tests: (?P<name>[^>]+) -->$")


def readme_slurm_blocks() -> dict[str, str]:
    """The README's blocks that only these tests run, by the name their marker gives (``build.sbatch``, ``build submission``, ...)."""
    lines = (REPO / "README.md").read_text().splitlines()
    blocks = {}
    for index, line in enumerate(lines):
        if found := MARKER.match(line.strip()):
            end = next(i for i in range(index + 2, len(lines)) if lines[i].startswith("```"))
            blocks[found["name"]] = "\n".join(lines[index + 2 : end]) + "\n"
    return blocks


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> dict[str, str]:
    """The test cluster, started once for the module's tests (seconds each time): the variables that point Slurm at it."""
    with slurm_cluster(tmp_path_factory.mktemp("slurm")) as environment:
        yield {key: value for key, value in environment.items() if key.startswith("SLURM")}


def submit(work: Path, submission: str, env: dict[str, str], cluster: dict[str, str]) -> dict[str, str]:
    """Run ``submission`` in ``work`` on the test cluster, wait for its queue to empty; the logs."""
    env = {**env, **cluster}
    wait_for_queue(env, timeout_s=60)  # an earlier test's jobs are gone
    submitted = subprocess.run(["bash", "-c", submission], cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert submitted.returncode == 0, submitted.stderr
    assert re.fullmatch(r"\d+\n", submitted.stdout), submitted.stdout  # the merge job's id
    try:
        wait_for_queue(env, timeout_s=900)
    except RuntimeError as error:
        raise AssertionError(f"{error}; logs: {read_logs(work)}") from None
    return read_logs(work)


def read_logs(work: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted((work / "logs").glob("*.log"))}


def test_the_readme_has_the_job_scripts_and_their_submissions():
    blocks = readme_slurm_blocks()
    assert sorted(blocks) == ["build submission", "build.sbatch", "evaluate submission", "evaluate.sbatch"]
    assert blocks["build.sbatch"].startswith("#!/bin/bash") and "--array=0-2" in blocks["build.sbatch"] and "--shard slurm" in blocks["build.sbatch"]
    evaluate = blocks["evaluate.sbatch"]
    assert evaluate.startswith("#!/bin/bash") and "--gpus-per-task=1" in evaluate and "--shard slurm" in evaluate and "--into" in evaluate
    for name in ("build submission", "evaluate submission"):
        assert "--dependency=afterok:" in blocks[name] and "catalogue merge" in blocks[name]


def path_with_catalogue(env: dict[str, str]) -> dict[str, str]:
    """``env`` with this Python's ``catalogue`` first on PATH, as the job's shell finds it."""
    return {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}


def test_a_job_array_and_its_merge_equal_one_build(tmp_path, cluster):
    blocks = readme_slurm_blocks()
    work = tmp_path / "work"
    work.mkdir()
    (work / "build.sbatch").write_text(blocks["build.sbatch"])
    env = path_with_catalogue({**scratch_registry(tmp_path), "MODELS": ",".join(THREE)})
    whole = invoke(*build_command(tmp_path / "whole", "--models", ",".join(THREE))[3:], env=env, cwd=REPO)  # one build, in this process
    assert whole.exit_code == 0 and whole.exception is None, (whole.exception, whole.output)
    logs = submit(work, blocks["build submission"], env, cluster)
    assert len([name for name in logs if name.startswith("build-")]) == 3, logs
    assert (work / "merged" / "expansion_rates.json").exists(), logs
    for shard in range(3):
        assert len({record["base_model"] for record in records(work / "shards" / str(shard))}) == 1, logs
    assert [stable(r) for r in records(work / "merged")] == [stable(r) for r in records(tmp_path / "whole")]
    merge_log = next(text for name, text in logs.items() if name.startswith("merge-"))
    assert "merged 3 directories" in merge_log and "OK: no problems" in merge_log, merge_log
    assert json.loads((work / "merged" / "expansion_rates.json").read_text())["metadata"]["total_models"] == 21


def measuring_work(tmp_path: Path) -> tuple[Path, dict[str, str], dict]:
    """A work directory holding ``data``: a tiny checkpoint's records at three levels; the environment; the checkpoint and tasks."""
    made = evaluated_checkpoint(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(made["data"], work / "data")
    return work, path_with_catalogue(made["env"]), made


def test_an_evaluate_array_and_its_merge_equal_one_process(tmp_path, cluster):
    blocks = readme_slurm_blocks()
    work, env, made = measuring_work(tmp_path)
    (work / "evaluate.sbatch").write_text(blocks["evaluate.sbatch"])
    env.update(MODELS=str(made["checkpoint"]), TASKS=made["task"], EVALUATE_OPTIONS=f"--include-path {made['tasks']} --device cpu")
    whole = tmp_path / "whole"
    one = invoke(
        "evaluate",
        "--models",
        env["MODELS"],
        "--tasks",
        env["TASKS"],
        "--data",
        str(work / "data"),
        "--into",
        str(whole),
        *env["EVALUATE_OPTIONS"].split(),
        env=env,
        cwd=work,
    )  # one process: this one (torch is imported here already)
    assert one.exit_code == 0 and one.exception is None, (one.exception, one.output)
    logs = submit(work, blocks["evaluate submission"], env, cluster)
    assert len([name for name in logs if name.startswith("evaluate-")]) == 2, logs
    model = f"local/{made['checkpoint'].name}"
    shares = [sorted({o["record"] for o in measured(work / "evaluated" / str(task), "catalogue evaluate")}) for task in (0, 1)]
    assert shares == [[f"{model}@0", f"{model}@60"], [f"{model}@30"]], logs  # one model's levels split across the two tasks
    merge_log = next(text for name, text in logs.items() if name.startswith("merge-"))
    assert "merged 2 directories" in merge_log and "OK: no problems" in merge_log, merge_log
    assert scores(work / "data") == scores(whole) and {score[0] for score in scores(whole)} == {f"{model}@{level}" for level in (0, 30, 60)}
    for outcome in measured(work / "data", "catalogue evaluate"):
        carried = work / outcome["source"]["path"]
        assert carried.is_relative_to(work / "data" / "measurements") and hashlib.sha256(carried.read_bytes()).hexdigest() == outcome["source"]["sha256"]
    verified = subprocess.run([sys.executable, "-m", "glu_catalogue", "verify", "data"], env=env, cwd=work, capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_bench_array_merges_and_verifies(tmp_path, cluster):
    """The evaluate script with the README's bench command in its place (the README says so), and its merge."""
    blocks = readme_slurm_blocks()
    work, env, made = measuring_work(tmp_path)
    command = next(line for line in blocks["evaluate.sbatch"].splitlines() if line.startswith("catalogue evaluate"))
    options = blocks["evaluate.sbatch"].split(command + "\n")[1].splitlines()[0]  # the command's continuation line
    bench = f'catalogue bench --models "$MODELS" --data data --shard slurm --into "benched/$SLURM_ARRAY_TASK_ID" --device cpu {" ".join(QUICK_BENCH)}'
    script = blocks["evaluate.sbatch"].replace(command + "\n" + options, bench)
    assert "catalogue bench" in script and "catalogue evaluate" not in script
    (work / "bench.sbatch").write_text(script)
    env.update(MODELS=str(made["checkpoint"]))
    submission = blocks["evaluate submission"].replace("evaluate.sbatch", "bench.sbatch").replace("evaluated/*", "benched/*")
    logs = submit(work, submission, env, cluster)
    merge_log = next(text for name, text in logs.items() if name.startswith("merge-"))
    assert "merged 2 directories" in merge_log and "OK: no problems" in merge_log, merge_log
    assert {o["record"] for o in measured(work / "data", "catalogue bench")} == {f"local/ckpt@{level}" for level in (0, 30, 60)}
    files = {o["source"]["path"] for o in measured(work / "data", "catalogue bench")}
    assert len(files) == 3 and all((work / path).is_relative_to(work / "data" / "measurements") for path in files)

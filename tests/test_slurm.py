"""The README's Slurm job array and merge, submitted as written to a real one-node Slurm started here.

The array builds three tiny random-init models, one per task (``--shard slurm``), each into its own
data directory; the merge runs as a job that depends on the array; the merged catalogue must equal
the same build in one process, record for record, but for wall time, peak memory and when. Skipped,
with the reason, where Slurm is not installed (`.ci/run` installs it) or the tests are not root.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from slurm_cluster import missing_slurm, slurm_cluster, wait_for_queue
from test_durable_builds import THREE, build_command, records, scratch_registry, stable

pytestmark = [pytest.mark.slurm, pytest.mark.torch, pytest.mark.skipif(missing_slurm() is not None, reason=missing_slurm() or "")]

MARKER = "<!-- run-by-slurm-tests -->"


def readme_slurm_blocks() -> list[str]:
    """The README's blocks that only these tests run: the job script, then its submission."""
    lines = (REPO / "README.md").read_text().splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() == MARKER:
            end = next(i for i in range(index + 2, len(lines)) if lines[i].startswith("```"))
            blocks.append("\n".join(lines[index + 2 : end]) + "\n")
    return blocks


def read_logs(work: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted((work / "logs").glob("*.log"))}


def test_the_readme_has_the_job_script_and_its_submission():
    script, submission = readme_slurm_blocks()
    assert script.startswith("#!/bin/bash") and "--array=0-2" in script and "--shard slurm" in script
    assert "--dependency=afterok:" in submission and "catalogue merge" in submission


def test_a_job_array_and_its_merge_equal_one_build(tmp_path):
    script, submission = readme_slurm_blocks()
    work = tmp_path / "work"
    work.mkdir()
    (work / "build.sbatch").write_text(script)
    env = scratch_registry(tmp_path)
    env["MODELS"] = ",".join(THREE)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `catalogue` as the job's shell finds it
    whole = subprocess.run(build_command(tmp_path / "whole", "--models", ",".join(THREE)), env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    with slurm_cluster(tmp_path / "slurm") as cluster:
        env.update({key: value for key, value in cluster.items() if key.startswith("SLURM")})
        submitted = subprocess.run(["bash", "-c", submission], cwd=work, env=env, capture_output=True, text=True, timeout=60)
        assert submitted.returncode == 0, submitted.stderr
        assert re.fullmatch(r"\d+\n", submitted.stdout), submitted.stdout  # the merge job's id
        try:
            wait_for_queue(env, timeout_s=600)
        except RuntimeError as error:
            raise AssertionError(f"{error}; logs: {read_logs(work)}") from None
    logs = read_logs(work)
    assert len([name for name in logs if name.startswith("build-")]) == 3, logs
    assert (work / "merged" / "expansion_rates.json").exists(), logs
    for shard in range(3):
        assert len({record["base_model"] for record in records(work / "shards" / str(shard))}) == 1, logs
    assert [stable(r) for r in records(work / "merged")] == [stable(r) for r in records(tmp_path / "whole")]
    merge_log = next(text for name, text in logs.items() if name.startswith("merge-"))
    assert "merged 3 directories" in merge_log and "OK: no problems" in merge_log, merge_log
    assert json.loads((work / "merged" / "expansion_rates.json").read_text())["metadata"]["total_models"] == 21

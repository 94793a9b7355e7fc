"""The measuring pipeline's parts that need no model: how work is split across workers, what bench's closing table shows.

``shard_levels`` is checked on every split a study would use (1 to 9 workers over 1 to 4 models of
1 to 7 levels): every level measured exactly once, a worker holding one part of one model when
workers outnumber models, the same split whatever order the models come in. ``run_speedups`` is
checked on the shipped bench outcomes: a level that failed in this run shows no figure, and a
level found measured says so.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, REPO

from glu_catalogue.pipeline.bench import run_speedups
from glu_catalogue.pipeline.measuring import MeasuredUnit
from glu_catalogue.pipeline.shards import Shard, shard_levels, shard_units
from glu_catalogue.store.outcomes_files import read_outcomes


def study(models: int, levels: int) -> dict[str, list[int]]:
    return {f"org/model-{index}": [10 * level for level in range(levels)] for index in range(models)}


@pytest.mark.parametrize(("models", "levels", "workers"), list(itertools.product(range(1, 5), (1, 3, 7), range(1, 10))))
def test_every_level_is_measured_once_and_each_worker_loads_each_model_once(models, levels, workers):
    units = study(models, levels)
    shares = [shard_levels(units, Shard(index, workers)) for index in range(workers)]
    measured = sorted((key, level) for share in shares for key, part in share.items() for level in part)
    assert measured == sorted((key, level) for key, part in units.items() for level in part)  # each once
    if workers <= models:
        assert [sorted(share) for share in shares] == [shard_units(sorted(units), sorted(units), Shard(index, workers)) for index in range(workers)]
        assert all(share[key] == tuple(units[key]) for share in shares for key in share)  # whole models, as build splits them
    else:
        assert all(len(share) <= 1 for share in shares)  # one part of one model: one load
        busy = sum(1 for share in shares if share)
        assert busy == min(workers, models * levels)  # no worker idles while a level could be split off
    reordered = dict(reversed(list(units.items())))
    assert [shard_levels(reordered, Shard(index, workers)) for index in range(workers)] == shares


def test_eight_workers_share_three_models_of_seven_levels_evenly():
    shares = [shard_levels(study(3, 7), Shard(index, 8)) for index in range(8)]
    sizes = sorted(len(part) for share in shares for part in share.values())
    assert sizes == [2, 2, 2, 2, 3, 3, 3, 4] and all(len(share) == 1 for share in shares)


def shipped_bench() -> list:
    return [o for o in read_outcomes(DATA).outcomes if o.measurement is not None and o.measurement.tool == "catalogue bench"]


def test_a_bench_whose_levels_all_failed_shows_no_stored_figures():
    """The closing table of a run where every level FAILED is empty, though earlier figures are stored."""
    stored = shipped_bench()
    assert stored  # the shipped data holds a bench
    failed = [MeasuredUnit(o.record, None, "failed", error="boom", machine=o.measurement.machine, inputs=o.measurement.inputs_sha256) for o in stored]
    assert run_speedups(DATA, failed) == []


def test_a_bench_that_found_its_levels_measured_says_the_figures_are_from_an_earlier_run():
    stored = {o.record: o for o in shipped_bench()}
    done = [MeasuredUnit(record, None, "done", machine=o.measurement.machine, inputs=o.measurement.inputs_sha256) for record, o in stored.items()]
    rows = run_speedups(DATA, done)
    assert {row.speedup.record for row in rows} <= set(stored)
    assert rows and all(row.level_from == row.baseline_from == "an earlier run" for row in rows)


def test_results_add_does_not_import_the_build_job():
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, glu_catalogue.pipeline.results, glu_catalogue.pipeline.merge; print(sorted(m for m in sys.modules if "
            "m.startswith('glu_catalogue.pipeline')))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    assert "glu_catalogue.pipeline.build" not in imported.stdout and "glu_catalogue.pipeline.results" in imported.stdout


def test_the_evaluate_page_says_beside_include_path_that_task_code_runs():
    from glu_catalogue.cli.evaluate import evaluate

    [option] = [param for param in evaluate.params if param.name == "include_path"]
    assert "!function" in option.help and "trust" in option.help  # the page's options table is this help
    page = (REPO / "docs" / "commands" / "evaluate.md").read_text()
    assert "**`--include-path` runs code.**" in page and "`!function`" in page


@pytest.mark.parametrize("command", ["evaluate", "bench"])
def test_the_evaluate_and_bench_pages_show_the_slurm_script(command):
    page = (REPO / "docs" / "commands" / f"{command}.md").read_text()
    readme = (REPO / "README.md").read_text()
    assert '--8<-- "README.md:slurm-measure"' in page
    section = readme.split("<!-- --8<-- [start:slurm-measure] -->")[1].split("<!-- --8<-- [end:slurm-measure] -->")[0]
    assert "#SBATCH --array=" in section and "--gpus-per-task=1" in section and "--shard slurm" in section and "catalogue merge" in section


def test_a_measurement_file_is_never_looked_for_outside_its_shard(tmp_path):
    """A source path that climbs out of ``measurements/`` (``..``) names nothing to carry."""
    from glu_catalogue.pipeline.carry import _locate

    shard = tmp_path / "shard"
    (shard / "measurements").mkdir(parents=True)
    (tmp_path / "secret.json").write_text("{}\n")
    assert _locate(Path("elsewhere/measurements/../../secret.json"), shard) is None
    (shard / "measurements" / "bench_1.json").write_text("{}\n")
    assert _locate(Path("/moved/away/measurements/bench_1.json"), shard) == (
        (shard / "measurements" / "bench_1.json").resolve(),
        Path("measurements/bench_1.json"),
    )

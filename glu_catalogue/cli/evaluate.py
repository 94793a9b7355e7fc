"""``catalogue evaluate``: lm-evaluation-harness scores of every pruned level, from one load per model."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from .measure_options import MEASURE_OPTIONS, MeasureProgress, request_fields
from .output import FORMAT_OPTION, echo_json
from .registry import register


@register(nav_order=130, examples="parse")
@click.command()
@MEASURE_OPTIONS
@click.option("--tasks", required=True, metavar="TASK[,TASK...]", help="lm-eval task names, comma-separated (e.g. arc_easy,piqa).")
@click.option(
    "--include-path",
    default=None,
    type=click.Path(path_type=Path),
    help="A directory of local lm-eval task YAML files. lm-eval runs the Python a task's `!function` names (from .py files "
    "beside it): give only directories whose code you trust.",
)
@click.option("--num-fewshot", type=int, default=None, help="Few-shot examples (default: each task's own).")
@click.option("--limit", type=float, default=None, help="Examples per task (below 1: a fraction); for trying, not for results.")
@click.option("--batch-size", type=int, default=1, show_default=True, help="lm-eval's batch size.")
@click.option("--tokenizer", default=None, metavar="DIR|HUB_ID", help="The tokenizer (default: the records' checkpoint or hub id).")
@click.option("--seed", type=int, default=None, help="All four of lm-eval's seeds, 0 to 2**32-1 (default: lm-eval's, 0/1234/1234/1234).")
@click.option("--store-random-init", is_flag=True, help="Evaluate and store records built from random-init weights (their scores measure nothing).")
@FORMAT_OPTION
def evaluate(
    models: str | None,
    levels: str | None,
    device: str,
    dtype: str | None,
    data_dir: Path | None,
    output_dir: Path | None,
    into_dir: Path | None,
    shard: str | None,
    tasks: str,
    include_path: Path | None,
    num_fewshot: int | None,
    limit: float | None,
    batch_size: int,
    tokenizer: str | None,
    seed: int | None,
    store_random_init: bool,
    output: str,
) -> None:
    """Score every pruned level with lm-evaluation-harness, from one load per model.

    Each model is loaded once, with the weights its records were built from; every level is
    pruned in memory and checked against its record (the kept neurons' digest), then lm-eval
    runs each task on that model object through its Python API. Each (level, task) gives
    lm-eval's own results file (under DATA/measurements/evaluate/), stored at once in the
    catalogue's outcomes, linked to its record: a killed evaluate keeps what it finished, and a
    second run with the same inputs does nothing. With --shard, each worker evaluates its share
    into its own --into directory; `catalogue merge` joins them. Exit 0: all evaluated; 1: a
    level failed; 2: bad input (random-init records without --store-random-init, an unknown
    task, an option that cannot work), before any model is loaded.

    \b
    Examples:
      catalogue evaluate --models meta-llama/Llama-3.2-1B --tasks arc_easy,piqa --levels 0,40
      catalogue evaluate --models ./my-checkpoint --tasks my_task --include-path ./tasks --limit 50
      catalogue evaluate --tasks arc_easy --shard slurm --into evaluated/$SLURM_ARRAY_TASK_ID
    """
    from ..measure.settings import EvaluateSettings
    from ..pipeline.evaluate import EvaluateRequest, run_evaluate

    settings = EvaluateSettings(
        tasks=tuple(dict.fromkeys(part.strip() for part in tasks.split(",") if part.strip())),
        include_path=include_path,
        num_fewshot=num_fewshot,
        limit=limit,
        batch_size=batch_size,
        tokenizer=tokenizer,
        seed=seed,
    )
    fields = request_fields(models, levels, device, dtype, data_dir, output_dir, into_dir, shard)
    request = EvaluateRequest(**fields, settings=settings, store_random_init=store_random_init)
    results = run_evaluate(request, None if output == "json" else MeasureProgress())
    if output == "json":
        echo_json(
            [
                {"record": r.record, "task": r.unit, "status": r.status, "file": str(r.path) if r.path else None, "scores": r.figures, "error": r.error}
                for r in results
            ]
        )
    sys.exit(EXIT_PROBLEMS if any(r.status == "failed" for r in results) else EXIT_OK)

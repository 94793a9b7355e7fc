"""``catalogue evaluate``: lm-evaluation-harness scores of every pruned level, from one load per model."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from .measure_options import MEASURE_OPTIONS, show_level
from .output import FORMAT_OPTION, echo_json


@click.command()
@MEASURE_OPTIONS
@click.option("--tasks", required=True, metavar="TASK[,TASK...]", help="lm-eval task names, comma-separated (e.g. arc_easy,piqa).")
@click.option("--include-path", default=None, type=click.Path(path_type=Path), help="A directory of local lm-eval task YAML files.")
@click.option("--num-fewshot", type=int, default=None, help="Few-shot examples (default: each task's own).")
@click.option("--limit", type=float, default=None, help="Examples per task (below 1: a fraction); for trying, not for results.")
@click.option("--batch-size", type=int, default=1, show_default=True, help="lm-eval's batch size.")
@click.option("--tokenizer", default=None, metavar="DIR|HUB_ID", help="The tokenizer (default: the records' checkpoint or hub id).")
@click.option("--seed", type=int, default=None, help="All four of lm-eval's seeds (default: lm-eval's, 0/1234/1234/1234).")
@click.option("--store-random-init", is_flag=True, help="Evaluate and store records built from random-init weights (their scores measure nothing).")
@FORMAT_OPTION
def evaluate(
    models: str | None, levels: str | None, device: str, dtype: str | None, data_dir: Path | None, output_dir: Path | None,
    tasks: str, include_path: Path | None, num_fewshot: int | None, limit: float | None, batch_size: int, tokenizer: str | None,
    seed: int | None, store_random_init: bool, output: str,
) -> None:
    """Score every pruned level with lm-evaluation-harness, from one load per model.

    Each model is loaded once, with the weights its records were built from; every level is
    pruned in memory and checked against its record (the kept neurons' digest), then lm-eval
    runs each task on that model object through its Python API. Each (level, task) gives
    lm-eval's own results file (under DATA/measurements/evaluate/), stored at once in the
    catalogue's outcomes, linked to its record: a killed evaluate keeps what it finished, and a
    second run with the same inputs does nothing. Exit 0: all evaluated; 1: a level failed;
    2: bad input (random-init records without --store-random-init, an unknown task).

    \b
    Examples:
      catalogue evaluate --models meta-llama/Llama-3.2-1B --tasks arc_easy,piqa --levels 0,40
      catalogue evaluate --models ./my-checkpoint --tasks my_task --include-path ./tasks --limit 50
    """
    from ..measure.settings import EvaluateSettings
    from ..pipeline.build import parse_levels
    from ..pipeline.evaluate import EvaluateRequest, run_evaluate
    from ..store.paths import write_data_dir

    settings = EvaluateSettings(
        tasks=tuple(dict.fromkeys(part.strip() for part in tasks.split(",") if part.strip())), include_path=include_path,
        num_fewshot=num_fewshot, limit=limit, batch_size=batch_size, tokenizer=tokenizer, seed=seed,
    )  # fmt: skip
    request = EvaluateRequest(
        data_dir=write_data_dir(data_dir), settings=settings, models=models, levels=parse_levels(levels) if levels else None,
        device=device, dtype=dtype, output=output_dir, store_random_init=store_random_init,
    )  # fmt: skip
    results = run_evaluate(request, None if output == "json" else _Progress())
    if output == "json":
        echo_json([{"record": r.record, "task": r.task, "status": r.status, "file": str(r.path) if r.path else None, "scores": r.figures, "error": r.error} for r in results])
    sys.exit(EXIT_PROBLEMS if any(r.status == "failed" for r in results) else EXIT_OK)


class _Progress:
    def model_started(self, model_id: str, weights: str, levels: int) -> None:
        click.echo(f"{model_id}: {levels} level{'s' if levels != 1 else ''} from one load ({weights})")

    def warning(self, text: str) -> None:
        click.echo(f"warning: {text}", err=True)

    def task_done(self, result) -> None:
        line = show_level(result)
        click.echo(line.replace(f"{result.record}:", f"{result.record} {result.task}:", 1))

"""``catalogue build``: the build's options, its progress bars and its summary table."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from .output import console, directory_option, plain, print_report
from .registry import register


@register(nav_order=30, examples="parse")
@click.command()
@click.option(
    "--models",
    "models",
    default=None,
    metavar="MODEL[,MODEL...]",
    help="Registry ids (see `catalogue models`), config.json paths, checkpoint directories or hub ids (org/name[@revision]), "
    "comma-separated. Default: every registry model (in a workspace of your own: its own models).",
)
@click.option("--levels", default="0,10,20,30,40,50,60", show_default=True, help="Pruning percentages, comma-separated.")
@click.option("--method", type=click.Choice(["MAW", "VOW", "PON", "L2"]), default="MAW", show_default=True, help="optipfair's neuron selection method.")
@click.option("--device", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True, help="auto = cuda when torch sees a GPU.")
@click.option("--dtype", type=click.Choice(["bf16", "fp16", "fp32"]), default="bf16", show_default=True, help="Weight dtype of the loaded models.")
@click.option(
    "--data",
    "data_dir",
    default=None,
    callback=lambda ctx, param, value: directory_option(value, "--data"),
    help="Write here instead of the workspace's data/.",
)
@click.option(
    "--weights",
    multiple=True,
    metavar="[MODEL_ID=]SOURCE",
    help="Where weights come from: a checkpoint directory, a hub id (org/name[@revision]) or 'random'. "
    "MODEL_ID=SOURCE for one model; repeatable. Default: a configured ($CATALOGUE_CHECKPOINTS) or cached "
    "checkpoint, else random weights of the exact architecture.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of random-init weights.")
@click.option(
    "--save-pruned",
    default=None,
    callback=lambda ctx, param, value: directory_option(value, "--save-pruned"),
    help="save_pretrained every pruned model under DIR.",
)
@click.option(
    "--stream",
    is_flag=True,
    help="Prune one decoder layer at a time (memory: about one layer's MLP) even where the whole model fits. "
    "Models that do not fit the device's free memory are streamed anyway.",
)
@click.option("--force", is_flag=True, help="Rebuild records even where their inputs did not change.")
@click.option("--closed-form", is_flag=True, help="Compute the records by formula only (no torch); provenance says closed-form.")
@click.option("--wait", is_flag=True, help="Wait for another build on the same data directory instead of refusing.")
@click.option("--quiet", is_flag=True, help="No progress bars; only the summary and problems.")
@click.option(
    "--shard",
    default=None,
    metavar="I/N|slurm",
    help="Build only worker I's share of the models (0 <= I < N; each model with all its levels), into its own --data; "
    "'slurm' reads SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT. `catalogue merge` joins the shards.",
)
def build(
    models: str | None,
    levels: str,
    method: str,
    device: str,
    dtype: str,
    data_dir: Path | None,
    weights: tuple[str, ...],
    seed: int,
    save_pruned: Path | None,
    stream: bool,
    force: bool,
    closed_form: bool,
    wait: bool,
    quiet: bool,
    shard: str | None,
) -> None:
    """Regenerate the catalogue: materialise, prune with optipfair, count, write data/, verify.

    Each model is loaded once and every level is derived from that load; a model larger than the
    device's free memory (or any model, with --stream) is streamed instead: one decoder layer at
    a time, every level derived from one read of it. Each pruned model's parameters are counted
    and must equal the closed form. Only records whose inputs changed are
    rebuilt (--force rebuilds all). Writes the JSON, the CSV and schemas/ atomically, then runs
    the checks of `catalogue verify`. Each finished model is written at once: a build killed
    part way keeps every model it finished, and the next run builds only the rest. Exit 0: all
    built and checked; 1: a model failed or the checks found problems; 2: the build could not
    start.

    \b
    Examples:
      catalogue build
      catalogue build --force --models meta-llama/Llama-3.2-1B,meta-llama/Llama-3.2-3B
      catalogue build --models meta-llama/Llama-3.2-1B --weights ./Llama-3.2-1B --levels 0,40
      catalogue build --models meta-llama/Llama-3.2-1B --stream --save-pruned ./pruned
      catalogue build --shard slurm --data shards/$SLURM_ARRAY_TASK_ID
    """
    from ..pipeline.build import BuildRequest, run_build
    from ..pipeline.selection import parse_levels, parse_models
    from ..pipeline.shards import parse_shard
    from ..store.paths import write_data_dir

    request = BuildRequest(
        model_ids=parse_models(models) if models is not None else (),
        levels=parse_levels(levels),
        data_dir=write_data_dir(data_dir),
        method=method,
        device=device,
        dtype=dtype,
        weights=weights,
        seed=seed,
        save_pruned=save_pruned,
        stream=stream,
        force=force,
        closed_form=closed_form,
        wait=wait,
        quiet=quiet,
        shard=parse_shard(shard),
    )
    with BuildProgress(quiet) as progress:
        result = run_build(request, progress)
    print_build_summary(result, request)
    if result.report is None:
        click.echo(f"no catalogue written to {request.data_dir}: no model could be built")
    else:
        print_report(result.report)
    sys.exit(EXIT_PROBLEMS if result.failed or result.report is None or not result.report.ok else EXIT_OK)


class BuildProgress:
    """Rich progress bars for models and levels (on stderr), and a line per model saying where its weights come from."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self._progress = None

    def __enter__(self) -> BuildProgress:
        if not self.quiet:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True), transient=False
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc_info)

    def plan(self, work: list[tuple[str, int]]) -> None:
        if self._progress is None:
            return
        todo = [model for model, levels in work if levels]
        if not todo:
            self._progress.console.print("nothing to rebuild: every record is current (--force rebuilds)")
            return
        self._models = self._progress.add_task("models", total=len(todo))
        self._levels = self._progress.add_task("levels", total=sum(levels for _, levels in work))

    def model_started(self, model_id: str, weights: str) -> None:
        if self._progress is not None:
            self._progress.console.print(f"{model_id}: weights from {weights}", markup=False)
            self._progress.update(self._levels, description=model_id.split("/")[-1])

    def path_chosen(self, model_id: str, path: str, reason: str) -> None:
        if self._progress is not None:
            self._progress.console.print(f"{model_id}: {path} ({reason})")

    def layer_done(self, model_id: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._levels, description=f"{model_id.split('/')[-1]} layer {done}/{total}")

    def level_done(self, model_id: str, level: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._levels)

    def model_done(self, outcome) -> None:
        if self._progress is None:
            return
        if outcome.error:
            self._progress.console.print(f"{outcome.model_id}: FAILED: {outcome.error}", style="red", markup=False)
        if outcome.built or outcome.error:
            self._progress.advance(self._models)


def print_build_summary(result, request) -> None:
    """One table: model, levels built/skipped, time, peak memory, weights; and the files written."""
    from rich.table import Table

    out = console()
    for leftover in result.leftovers:
        out.print(f"--save-pruned: {leftover.path}: {leftover.action}", markup=False)
    table = Table(title="catalogue build", header_style="bold")
    for column in ("model", "built", "skipped", "seconds", "peak memory", "path", "weights", "result"):
        table.add_column(column, overflow="fold")
    for outcome in result.outcomes:
        peak = "" if outcome.peak_memory_bytes is None else f"{outcome.peak_memory_bytes / 2**30:.2f} GiB"
        table.add_row(
            *plain(
                outcome.model_id,
                ",".join(map(str, outcome.built)) or "-",
                ",".join(map(str, outcome.skipped)) or "-",
                f"{outcome.seconds:.1f}" if outcome.built else "",
                peak,
                outcome.build_path or "",
                outcome.weights,
                f"FAILED: {outcome.error}" if outcome.error else f"not prunable by optipfair: {outcome.not_prunable}" if outcome.not_prunable else "ok",
            )
        )
    out.print(table)
    written = ", ".join(str(path) for path in result.changed_files) or "none (unchanged)"
    out.print(f"files written: {written}", markup=False)

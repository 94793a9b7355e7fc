"""The options every measuring command shares (``evaluate``, ``bench``), its progress lines, and how a finished unit is shown."""

from __future__ import annotations

from collections.abc import Callable

import click

from ..core.problems import show
from ..core.text import whole_number
from ..errors import UsageError
from .output import directory_option

_OPTIONS = (
    click.option(
        "--models",
        "models",
        default=None,
        metavar="MODEL[,MODEL...]",
        help="Models whose records to measure (registry ids, config.json paths, checkpoints, hub ids). Default: every model of the catalogue.",
    ),
    click.option("--levels", default=None, metavar="PCT[,PCT...]", help="Pruning percentages. Default: every level the catalogue holds."),
    click.option("--device", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True, help="auto = cuda when torch sees a GPU."),
    click.option(
        "--dtype",
        type=click.Choice(["bf16", "fp16", "fp32"]),
        default=None,
        help="Measure in this dtype. Default: the dtype the records were pruned in (fp32 is allowed for any: widening is exact).",
    ),
    click.option(
        "--data",
        "data_dir",
        default=None,
        callback=lambda ctx, param, value: directory_option(value, "--data"),
        help="The catalogue whose records are measured and whose outcomes are written (default: data/).",
    ),
    click.option(
        "--output",
        "output_dir",
        default=None,
        callback=lambda ctx, param, value: directory_option(value, "--output"),
        help="Where the measurement files go (default: DATA/measurements/, or INTO/measurements/ with --into).",
    ),
    click.option(
        "--into",
        "into_dir",
        default=None,
        callback=lambda ctx, param, value: directory_option(value, "--into"),
        help="Store the outcomes and measurement files in this directory, beside a copy of --data's records, instead of in --data "
        "(a shard's own directory; `catalogue merge` joins them).",
    ),
    click.option(
        "--shard",
        default=None,
        metavar="I/N|slurm",
        help="Measure only worker I's share (0 <= I < N) into its own --into DIR: whole models, or, with more workers than models, "
        "part of a model's levels (each worker loads each of its models once). 'slurm' reads SLURM_ARRAY_TASK_ID and "
        "SLURM_ARRAY_TASK_COUNT. `catalogue merge` joins the shards.",
    ),
)


def MEASURE_OPTIONS(command: Callable) -> Callable:
    """``--models --levels --device --dtype --data --output --into --shard`` on ``command``."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def integers(text: str, option: str) -> tuple[int, ...]:
    """``"64,256"`` -> ``(64, 256)``; anything else is a usage error naming ``option``."""
    values = []
    for part in text.split(","):
        value = whole_number(part, signed=True)
        if value is None:
            raise UsageError(f"{option} {show(text)!r}: expected whole numbers, comma-separated (e.g. {option} 1,8)")
        values.append(value)
    return tuple(values)


def request_fields(models, levels, device, dtype, data_dir, output_dir, into_dir, shard) -> dict:
    """The shared options as ``pipeline.measuring.MeasureRequest``'s fields."""
    from ..pipeline.selection import parse_levels
    from ..pipeline.shards import parse_shard
    from ..store.paths import default_data_dir, write_data_dir

    # A shard worker reads the records of --data (any catalogue, the shipped one too) and writes only into --into.
    source = (data_dir or default_data_dir()) if into_dir is not None else write_data_dir(data_dir)
    return {
        "data_dir": source,
        "models": models,
        "levels": parse_levels(levels) if levels else None,
        "device": device,
        "dtype": dtype,
        "output": output_dir,
        "into": into_dir,
        "shard": parse_shard(shard),
    }


def show_level(result) -> str:
    """One line for a finished unit (a level, or a level's task): what became of it and its headline figures."""
    name = f"{result.record} {result.unit}" if result.unit else result.record
    if result.status == "failed":
        return f"  {name}: FAILED: {result.error}"
    if result.status == "done":
        return f"  {name}: already measured with these inputs"
    figures = "  ".join(f"{label} {value:,.4g}" for label, value in result.figures.items())
    kept = " (finished by an earlier run)" if result.status == "kept" else ""
    return f"  {name}: {figures}{kept}  -> {result.path}"


class MeasureProgress:
    """A line per model as it is loaded and per unit as it finishes; warnings on stderr."""

    def model_started(self, model_id: str, weights: str, levels: int) -> None:
        click.echo(f"{model_id}: {levels} level{'s' if levels != 1 else ''} from one load ({weights})")

    def warning(self, text: str) -> None:
        click.echo(f"warning: {text}", err=True)

    def unit_done(self, result) -> None:
        click.echo(show_level(result))

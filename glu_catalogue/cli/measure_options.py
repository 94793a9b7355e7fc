"""The options ``catalogue evaluate`` and ``catalogue bench`` share, and how each shows a finished level."""

from __future__ import annotations

from typing import Callable

import click

from ..core.problems import show
from ..core.text import whole_number
from ..errors import UsageError
from .output import directory_option

_OPTIONS = (
    click.option(
        "--models", "models", default=None, metavar="MODEL[,MODEL...]",
        help="Models whose records to measure (registry ids, config.json paths, checkpoints, hub ids). Default: every model of the catalogue.",
    ),
    click.option("--levels", default=None, metavar="PCT[,PCT...]", help="Pruning percentages. Default: every level the catalogue holds."),
    click.option("--device", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True, help="auto = cuda when torch sees a GPU."),
    click.option(
        "--dtype", type=click.Choice(["bf16", "fp16", "fp32"]), default=None,
        help="Measure in this dtype. Default: the dtype the records were pruned in (fp32 is allowed for any: widening is exact).",
    ),
    click.option("--data", "data_dir", default=None, callback=lambda ctx, param, value: directory_option(value, "--data"),
                 help="The catalogue whose records are measured and whose outcomes are written (default: data/)."),
    click.option("--output", "output_dir", default=None, callback=lambda ctx, param, value: directory_option(value, "--output"),
                 help="Where the measurement files go (default: DATA/measurements/)."),
)  # fmt: skip


def MEASURE_OPTIONS(command: Callable) -> Callable:  # noqa: N802 - used as a decorator, like click's
    """``--models --levels --device --dtype --data --output`` on ``command``."""
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


def show_level(result) -> str:
    """One line for a finished level: what became of it and its headline figures."""
    if result.status == "failed":
        return f"  {result.record}: FAILED: {result.error}"
    if result.status == "done":
        return f"  {result.record}: already measured with these inputs"
    figures = "  ".join(f"{name} {value:,.4g}" for name, value in result.figures.items())
    kept = " (finished by an earlier run)" if result.status == "kept" else ""
    return f"  {result.record}: {figures}{kept}  -> {result.path}"

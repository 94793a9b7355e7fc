"""``catalogue compare``: the stored outcomes of every model at one expansion ratio (or pruning %), beside each baseline."""

from __future__ import annotations

import sys

import click

from ..core.formulas import DEFAULT_RATIO_TOLERANCE
from ..errors import EXIT_OK
from .output import FORMAT_OPTION, console, directory_option, echo_json, plain
from .registry import register


@register(nav_order=120, examples="run")
@click.command()
@click.option("--ratio", type=float, default=None, metavar="FACTOR", help="The expansion ratio to compare at, a factor: 2.4 for 2.4x.")
@click.option("--pct", "pruning_pct", type=int, default=None, metavar="PERCENT", help="Or a pruning % (0-100): each model's level at it.")
@click.option(
    "--tolerance",
    type=float,
    default=DEFAULT_RATIO_TOLERANCE,
    show_default=True,
    metavar="FACTOR",
    help="How far a level's ratio (optipfair's, exact) may be from --ratio.",
)
@click.option("--model", "models", multiple=True, metavar="MODEL_ID", help="Only this model (repeat for several); default: every model with outcomes.")
@click.option(
    "--data",
    "data_dir",
    default=None,
    callback=lambda ctx, param, value: directory_option(value, "--data"),
    help="The catalogue and outcomes to read (default: data/).",
)
@FORMAT_OPTION
def compare(ratio: float | None, pruning_pct: int | None, tolerance: float, models: tuple[str, ...], data_dir, output: str) -> None:
    """Compare models at equal expansion ratio: each level's value, its baseline's, and the change.

    For each task and metric (or efficiency workload and quantity), every model's level whose
    ratio (intermediate / hidden after pruning, as optipfair reached it) is within --tolerance of
    --ratio: its value, its own baseline's (the model at 0 %, measured the same way), the change
    (absolute and %), the stderr or runs' spread, and the records and files they come from. A
    model with no level there says so, with the levels it has; nothing is interpolated.

    \b
    Example:
      catalogue compare --ratio 2.4
      catalogue compare --ratio 2.4 --model meta-llama/Llama-3.2-3B --format json
      catalogue compare --pct 40
    """
    from ..outcomes.compare import compare_stored

    comparison = compare_stored(data_dir, ratio=ratio, pruning_pct=pruning_pct, tolerance=tolerance, models=models)
    if output == "json":
        echo_json(
            {
                "ratio": comparison.ratio,
                "tolerance": comparison.tolerance if comparison.ratio is not None else None,
                "pruning_pct": comparison.pruning_pct,
                "rows": [row.as_dict() for row in comparison.rows],
            }
        )
        sys.exit(EXIT_OK)
    _table(comparison)
    sys.exit(EXIT_OK)


def _table(comparison) -> None:
    from rich.table import Table

    from ..core.comparison import change_cell, pct_cell, value_cell  # pydantic outcome records: only when a table is printed

    asked = f"{comparison.ratio:g}x (levels within ±{comparison.tolerance:g})" if comparison.ratio is not None else f"{comparison.pruning_pct} %"
    out = console()
    out.print(f"at {asked}; change = value - baseline (the same model at 0 %, measured the same way)", markup=False)
    table = Table(header_style="bold")
    for column in ("task", "measure", "level", "ratio", "value", "baseline", "change", "change %", "from"):
        table.add_column(column, overflow="fold", justify="right" if column in ("ratio", "value", "baseline", "change", "change %") else "left")
    for row in comparison.rows:
        measure = row.measure if row.filter in (None, "none") else f"{row.measure} ({row.filter})"
        level = row.record or row.base_model
        if row.note and row.value is None:
            table.add_row(*plain(row.task, measure, level, "", "", "", "", "", row.note))
            continue
        files = ", ".join(source.rsplit("/", 1)[-1] for source in row.sources)
        table.add_row(
            *plain(
                row.task,
                measure,
                level,
                f"{row.expansion_ratio:.4f}",
                value_cell(row.value, row.spread),
                value_cell(row.baseline_value, row.baseline_spread),
                change_cell(row.change),
                pct_cell(row.change_pct),
                files + (f"; {row.note}" if row.note else ""),
            )
        )
    out.print(table)
    levels = sorted({row.record for row in comparison.rows if row.record})
    missing = sorted({row.base_model for row in comparison.rows if row.record is None})
    out.print(f"{len(comparison.rows)} rows; levels: {', '.join(levels) or 'none'}" + (f"; no level: {', '.join(missing)}" if missing else ""), markup=False)

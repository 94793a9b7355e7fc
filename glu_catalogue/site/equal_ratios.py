"""The "equal ratios" page: every ratio two or more models reach, each model's change from its own baseline there.

Pure functions of the outcomes and records, through ``core.comparison`` (what ``catalogue compare``
lists): per shared ratio, a chart of the change from baseline (%) of each score per task, one
series per model level (``1B@40`` beside ``3B@10`` at 2.4x), and a table of every value with its
baseline and change. Nothing is interpolated: a model without a level at the ratio is not there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..core.comparison import DEFAULT_RATIO_TOLERANCE, Compared, compare, pct_cell, shared_ratios, value_cell
from ..core.outcome_records import EfficiencyOutcome, ScoreOutcome
from ..core.records import ExpansionRecord
from .links import GLOSSARY_PAGE, model_url, relative, row_anchor
from .markdown import chart_div, code, page, table, unsearched
from .outcome_views import is_run_part
from .views import short_name

EQUAL_RATIOS_PAGE = "outcomes/equal-ratios.md"
EQUAL_RATIOS_TITLE = "Equal ratios"


@dataclass(frozen=True)
class RatioView:
    """One shared ratio: its levels (``MODEL@PCT``) and the compared rows with a value."""

    ratio: float
    levels: tuple[str, ...]
    rows: tuple[Compared, ...]

    @property
    def anchor(self) -> str:
        """``ratio-2-40``: the section's anchor and (``equal-``) its chart's name."""
        return "ratio-" + f"{self.ratio:.2f}".replace(".", "-")

    @property
    def chart_name(self) -> str:
        """The chart's key in the site data."""
        return f"equal-{self.anchor}"


def ratio_views(outcomes: Iterable[ScoreOutcome | EfficiencyOutcome], records: Iterable[ExpansionRecord]) -> list[RatioView]:
    """Every ratio where two or more models have a measured level, largest first, with each level's compared rows."""
    outcomes, records = [outcome for outcome in outcomes if not is_run_part(outcome)], list(records)
    views = []
    for ratio, levels in shared_ratios(outcomes, records):
        compared = compare(outcomes, records, ratio=ratio, tolerance=DEFAULT_RATIO_TOLERANCE)
        views.append(RatioView(ratio, tuple(levels), tuple(row for row in compared.rows if row.value is not None and row.record in levels)))
    return views


def measure_label(row: Compared) -> str:
    """``mmlu accuracy``, ``gsm8k exact_match (flexible-extract)``: a task (or workload) and what it measures."""
    return f"{row.task} {row.measure}" + (f" ({row.filter})" if row.filter not in (None, "none") else "")


def chart_rows(view: RatioView) -> dict[str, list[Compared]]:
    """Per score measure with a change for two or more levels: those levels' rows (one per level, the first file's)."""
    by_measure: dict[str, dict[str, Compared]] = {}
    for row in view.rows:
        if row.kind == "score" and row.change_pct is not None:
            by_measure.setdefault(measure_label(row), {}).setdefault(row.record, row)
    return {label: list(rows.values()) for label, rows in by_measure.items() if len(rows) >= 2}


def equal_ratio_chart(view: RatioView) -> dict:
    """The chart's data: categories (score measures), one series per level of their change from baseline (%)."""
    measures = chart_rows(view)
    categories = list(measures)
    levels = sorted({row.record for rows in measures.values() for row in rows})
    series = []
    for level in levels:
        points = [[index, row.change_pct] for index, label in enumerate(categories) for row in measures[label] if row.record == level]
        model_id, _, pct = level.rpartition("@")
        series.append(
            {
                "label": f"{short_name(model_id)} @ {pct} %",
                "model": model_id,
                "points": points,
                "spreads": [None] * len(points),
                "pcts": [int(pct)] * len(points),
                "links": [f"{model_url(model_id)}#{row_anchor(int(pct))}"] * len(points),
            }
        )
    return {
        "title": f"Change from baseline at {view.ratio:g}x",
        "measure": {"kind": "change", "subject": f"{view.ratio:g}x", "name": "change from baseline (%)", "filter": None},
        "categories": categories,
        "x_label": "Task and metric",
        "y_label": "Change from baseline (%)",
        "log_y": False,
        "value_digits": 4,
        "spread_digits": 3,
        "series": series,
    }


def _section(view: RatioView) -> str:
    levels = ", ".join(f"{code(level)}" for level in view.levels)
    rows = []
    for row in view.rows:
        rows.append(
            (
                code(measure_label(row)),
                code(row.record),
                f"{row.expansion_ratio:.4f}",
                value_cell(row.value, row.spread),
                value_cell(row.baseline_value, row.baseline_spread),
                pct_cell(row.change_pct) or (row.note or ""),
                ", ".join(source.rsplit("/", 1)[-1] for source in row.sources),
            )
        )
    body = [f"## {view.ratio:g}x {{ #{view.anchor} }}", f"Levels within ±{DEFAULT_RATIO_TOLERANCE:g} of {view.ratio:g}x: {levels}."]
    if chart_rows(view):
        body.append(chart_div(view.chart_name, equal_ratio_chart(view)))
    header = ("Measure", "Level", "Ratio", "Value", "Baseline", "Change", "Files")
    body.append(unsearched(table(header, rows, "llrrrrl")))
    return "\n\n".join(body)


def equal_ratios_page(views: list[RatioView]) -> str:
    """The page: the ratios to pick, then per ratio its chart of changes and its table."""
    source = EQUAL_RATIOS_PAGE
    if not views:
        return page(EQUAL_RATIOS_TITLE, "No two models have outcomes at one expansion ratio yet.", meta={"title": EQUAL_RATIOS_TITLE})
    picks = " · ".join(f"[{view.ratio:g}x](#{view.anchor}) ({len(view.levels)} levels)" for view in views)
    intro = (
        f"Models compared at equal [expansion ratio]({relative(source, GLOSSARY_PAGE)}#expansion-ratio): at each ratio two or "
        f"more models reach (optipfair's ratio, within ±{DEFAULT_RATIO_TOLERANCE:g}), each level's value beside its own "
        "baseline's (the same model at 0 %, measured the same way) and the change from it, as `catalogue compare --ratio R` "
        "lists them (the study's single carbon runs are left out here: their means, from its aggregate file, are in). Nothing "
        "is interpolated: a model without a level at a ratio is absent from it. Pick a ratio: " + picks
    )
    return page(EQUAL_RATIOS_TITLE, intro, *(_section(view) for view in views), meta={"title": EQUAL_RATIOS_TITLE})

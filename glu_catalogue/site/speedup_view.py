"""The decode speed-up against its weight-bytes bound, on the ``decode-b1`` page: its chart and its table.

At batch 1 a decoder reads every weight once per token, so a pruned level can decode at most its
baseline's weight bytes over its own times faster (``core.speedup``). The chart draws, per model,
the measured speed-up and that bound against the pruned expansion ratio, with 1 (no speed-up) as
a reference line; the table beside it gives the numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from .links import model_link, model_url, row_anchor
from .markdown import chart_div, code, details, ratio, table
from .outcome_views import SPREAD_DIGITS, VALUE_DIGITS, BoundPoint, measured_on, value_text
from .views import short_name

#: The chart's key in the browser's data and its anchor on the page.
CHART_NAME = "efficiency-decode-b1-speed-up-bound"
COLUMNS = ("Model", "Pruning %", "Expansion Ratio", "Decode tokens/s", "Measured speed-up", "Bound (weight bytes)")


def speedup_section(source: str, points: Sequence[BoundPoint]) -> str:
    """The page's section: what the bound is, the chart, and the numbers behind it."""
    rows = [
        (
            model_link(source, point.speedup.base_model, short_name(point.speedup.base_model), point.record.pruning_pct),
            point.record.pruning_pct,
            ratio(point.expansion_ratio),
            value_text(point.speedup.decode_tokens_per_s),
            f"x{point.speedup.measured:.2f}",
            f"x{point.speedup.bound:.2f}",
        )
        for point in points
    ]
    caption = (
        f"Decoding at batch 1 reads every weight once per token, so it is memory-bound: a level can decode at most its "
        f"baseline's weight bytes over its own times faster than the same model at 0 %, measured the same way (machine, "
        f"settings, dtype). Each model's measured speed-up ({code('decode_tokens_per_s')} over the baseline's) beside that bound, "
        "against the pruned expansion ratio; 1 is no speed-up. Where the measured line stays below the bound, time goes to "
        "something other than reading weights (on a CPU, the overhead of each small matrix product); a value above the bound "
        "says the baseline ran slower than its bytes predict (run-to-run noise, the machine's state), not that pruning beat the bound."
    )
    return f"## Speed-up against the weight-bytes bound {{ #{CHART_NAME} }}\n\n{caption}\n\n{chart_div(CHART_NAME, speedup_chart(points))}\n\n" + details(
        "The numbers behind the chart", table(COLUMNS, rows, "lrrrrr"), kind="abstract"
    )


def speedup_chart(points: Sequence[BoundPoint]) -> dict[str, Any]:
    """The chart's data: per model (and machine, device and dtype, where a model was benched several ways) a measured
    and a bound series (ratio, speed-up), and the line of no speed-up."""
    by_way: dict[tuple[str, str, str, str], list[BoundPoint]] = {}
    for point in points:
        how = point.speedup
        by_way.setdefault((how.base_model, how.machine, how.device, how.dtype), []).append(point)
    ways_per_model = Counter(model_id for model_id, *_ in by_way)
    series = []
    for colour, ((model_id, machine, _, dtype), model_points) in enumerate(by_way.items()):
        ordered = sorted(model_points, key=lambda point: point.expansion_ratio)
        name = short_name(model_id) + (f" {measured_on(machine, dtype)}" if ways_per_model[model_id] > 1 else "")
        for dash, (label, value) in enumerate((("measured", lambda p: p.speedup.measured), ("bound (weight bytes)", lambda p: p.speedup.bound))):
            series.append(
                {
                    "label": f"{name} {label}",
                    "colour": colour,  # the measured line and its bound in one colour, the bound dashed
                    "dash": dash,
                    "model": model_id,
                    "points": [[point.expansion_ratio, value(point)] for point in ordered],
                    "spreads": [None for _ in ordered],
                    "pcts": [point.record.pruning_pct for point in ordered],
                    "links": [f"{model_url(model_id)}#{row_anchor(point.record.pruning_pct)}" for point in ordered],
                }
            )
    return {
        "title": "decode speed-up at batch 1 and its bound",
        "measure": {"kind": "efficiency", "subject": "decode-b1", "name": "speed-up", "filter": None},
        "x_label": "Expansion ratio I / H (x)",
        "y_label": "speed-up over 0 % (x)",
        "log_y": False,
        "value_digits": VALUE_DIGITS,
        "spread_digits": SPREAD_DIGITS,
        "reference_lines": [[1, "no speed-up"]],
        "series": series,
    }

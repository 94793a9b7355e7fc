"""The outcomes as the site must show them, derived from ``data/*.json`` alone, not from the site's code.

Used by ``tests/site/test_render.py``, ``tests/site/test_generated.py`` and ``tests/e2e/test_browser.py``: each stored
outcome whose record the catalogue holds, joined to that record's pruned expansion ratio, with
the texts the pages write (values to 7 significant digits, spreads to 3).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class Shown:
    """One outcome as the site shows it."""

    model: str
    pct: int
    ratio: float
    kind: str
    subject: str  # the task, or the efficiency workload
    label: str  # the metric (with its filter), or the quantity
    value: float
    spread: float | None
    runs: int | None
    file: str
    format: str = ""  # the source's format (the study's single carbon runs are "study-carbon-run")

    @property
    def value_text(self) -> str:
        return f"{self.value:.7g}"

    @property
    def spread_text(self) -> str:
        if self.spread is None:
            return ""
        return f"{self.spread:.3g}" if self.kind == "score" else f"{self.spread:.3g} (std of {self.runs:,} runs)"

    @property
    def ratio_text(self) -> str:
        return f"{self.ratio:.2f}x"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def shown_outcomes() -> list[Shown]:
    """Every outcome of ``data/outcomes.json`` whose record is a successful record of ``data/expansion_rates.json``."""
    ratios = {
        (record["base_model"], record["pruning_pct"]): record["pruned_architecture"]["expansion_rate"]
        for record in load("expansion_rates.json")["models"]
        if record["status"] == "success"
    }
    shown = []
    for outcome in load("outcomes.json")["outcomes"]:
        ratio = ratios.get((outcome["base_model"], outcome["pruning_pct"]))
        if ratio is None:
            continue
        if outcome["kind"] == "score":
            subject, label, spread, runs = outcome["task"], outcome["metric"], outcome.get("stderr"), None
            if outcome.get("filter") not in (None, "none"):
                label += f" ({outcome['filter']})"
        else:
            found = outcome.get("runs") or {}
            subject, label, spread, runs = outcome["workload"]["name"], outcome["quantity"], found.get("std"), found.get("count")
        shown.append(
            Shown(
                outcome["base_model"],
                outcome["pruning_pct"],
                ratio,
                outcome["kind"],
                subject,
                label,
                outcome["value"],
                spread,
                runs,
                outcome["source"]["path"].rsplit("/", 1)[-1],
                outcome["source"]["format"],
            )
        )
    return shown


#: An outcome chart's data as a generated page holds it (``glu_catalogue.site.markdown.chart_div``).
_CHART_SCRIPT = re.compile(r'data-chart="([^"]+)"[^>]*><script type="application/json" class="catalogue-chart-data">(.*?)</script>')


def page_charts(docs: Path) -> dict[str, dict]:
    """Every outcome chart's data the generated pages under ``docs`` hold, by chart name."""
    charts = {}
    for path in sorted(docs.rglob("*.md")):
        for name, text in _CHART_SCRIPT.findall(path.read_text(encoding="utf-8")):
            charts[name] = json.loads(text.replace("<\\/", "</"))
    return charts

"""The data the site's browser code works from: the planner's inputs and the charts' series.

``render_data_file(content)`` is the text of ``docs/javascripts/catalogue-data.js``, a generated
file like the pages (``catalogue verify`` renders it again and compares it line by line), which
every page loads; the outcome charts' data is written into the pages that draw them
(``markdown.chart_div``), and the browser code adds it to ``outcome_charts`` on load:

* ``planner``: per registry model, what optipfair's size rule and the count need — ``H``, ``I``,
  the baseline total and the parameters one neuron pair holds across all layers (both from
  ``core.formulas``: the browser counts ``total - (I - k) * per_neuron`` and never repeats the
  closed form) — with the status and note of a pruned row (``core.plan_notes.pruned_status``;
  ``not-prunable`` with its note for a model optipfair cannot prune, a mixture of experts)
  and the note templates the command-line planner fills, so the browser says the same words;
* ``charts``: the series of ``glu_catalogue.site.plots.plot_specs`` (the values the tables show),
  with the palettes the static SVGs are drawn in;
* (in the pages, not this file) ``outcome_chart``: per outcome chart (``outcome_views.Measure``), what it
  measures and, per series, the points (pruned expansion ratio, value as stored), each point's
  spread (stderr, or the runs' std; null where none) and pruning %, where a point is the same value read from
  several files the names of the series' files (``files``) and per point the indices of its own (``sources``),
  ``line: false`` for single runs of a value another file gives as their
  mean (drawn as points, not a line), and the site URL of the series' model page
  (``page``: the browser code links each point to ``page#pruning-PCT``, its record's row, and computes the
  "change from baseline" view from the series' 0 % point).

The JSON is indented one value per line, so a stale file is reported at the line that differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..core import formulas
from ..core.plan_notes import NOTE_TEMPLATES, model_status
from ..store.registry import ModelEntry
from .links import model_url
from .markdown import GENERATED_MARKER
from .outcome_views import SPREAD_DIGITS, VALUE_DIGITS, Measure, OutcomePoint, chart_points, is_run_part
from .plots import LINESTYLES, PALETTES, PlotSpec

#: Where the data file lives, relative to docs/ (mkdocs.yml loads it on every page).
DATA_FILE = "javascripts/catalogue-data.js"

#: matplotlib line styles as canvas dash patterns (px), so both charts draw a series alike.
_DASHES = {"-": [], "--": [7, 4], ":": [2, 3]}


def planner_models(registry: Mapping[str, ModelEntry], paged: set[str]) -> list[dict[str, Any]]:
    """Per registry model (by id): the planner's inputs; ``page`` is its site URL where it has one."""
    models = []
    for model_id, entry in registry.items():
        architecture = entry.architecture
        status, note = model_status(entry)
        models.append(
            {
                "model_id": model_id,
                "family": entry.family,
                "size_label": entry.size_label,
                "hidden_size": architecture.hidden_size,
                "intermediate_size": architecture.intermediate_size,
                "total_parameters": formulas.total_parameters(architecture),
                "parameters_per_neuron": formulas.parameters_per_neuron(architecture),
                "pruned_status": status,
                "pruned_note": note,
                "page": model_url(model_id) if model_id in paged else None,
            }
        )
    return models


def planner_data(registry: Mapping[str, ModelEntry], paged: set[str]) -> dict[str, Any]:
    """Everything the planner page needs: models, optipfair's divisors, the notes' templates."""
    return {
        "divisors": list(formulas.EXPANSION_DIVISORS),
        "notes": {**NOTE_TEMPLATES, "no-effective-pruning": formulas.NO_EFFECTIVE_PRUNING},
        "models": planner_models(registry, paged),
    }


def chart_data(specs: list[PlotSpec]) -> dict[str, Any]:
    """Per chart name: its texts, ticks, reference lines and series (label, [[x, y], ...])."""
    return {
        spec.name: {
            "title": spec.title,
            "x_label": spec.x_label,
            "y_label": spec.y_label,
            "x_ticks": list(spec.x_ticks),
            "value_suffix": spec.value_suffix,
            "identity_label": spec.identity_label,
            "reference_lines": [list(line) for line in spec.reference_lines],
            "series": [{"label": label, "points": [list(point) for point in points]} for label, points in spec.series],
        }
        for spec in specs
    }


def outcome_chart(measure: Measure) -> dict[str, Any]:
    """One outcome chart: what it measures, its texts, and per series its points, spreads, levels and links."""
    return {
        "title": measure.label,
        "measure": {"kind": measure.kind, "subject": measure.subject, "name": measure.name, "filter": measure.filter},
        "x_label": "Expansion ratio I / H (x)",
        "y_label": measure.label,
        "log_y": measure.log_scale,
        "value_digits": VALUE_DIGITS,
        "spread_digits": SPREAD_DIGITS,
        "series": [outcome_series(label, points) for label, points in measure.series],
    }


def outcome_series(label: str, points: tuple[OutcomePoint, ...]) -> dict[str, Any]:
    """One series of an outcome chart: a point per record (the same value from several files once, naming each)."""
    drawn = chart_points(points)
    series: dict[str, Any] = {
        "label": label,
        "model": points[0].outcome.base_model,
        "points": [[group[0].expansion_ratio, group[0].outcome.value] for group in drawn],
        "spreads": [group[0].spread for group in drawn],
        "pcts": [group[0].record.pruning_pct for group in drawn],
        "page": model_url(points[0].outcome.base_model),
    }
    if any(len(group) > 1 for group in drawn):  # named only here: every page loads this file
        names = [[point.outcome.source.path.rsplit("/", 1)[-1] for point in group] for group in drawn]
        series["files"] = sorted({name for group in names for name in group})
        series["sources"] = [sorted(series["files"].index(name) for name in group) for group in names]
    if all(is_run_part(point.outcome) for point in points):
        series["line"] = False
    return series


def styles() -> dict[str, Any]:
    """The static charts' colours per palette and their line styles as dash patterns."""
    return {"palettes": PALETTES, "dashes": [_DASHES[style] for style in LINESTYLES]}


def render_data_file(registry: Mapping[str, ModelEntry], paged: set[str], specs: list[PlotSpec]) -> str:
    """The text of ``DATA_FILE``: a comment with the generated-file marker, then one assignment.

    The outcome charts are not in it: each page that draws one holds its data (``markdown.chart_div``), so the
    pages that draw none do not load the outcomes' points.
    """
    document = {"planner": planner_data(registry, paged), "charts": chart_data(specs), "styles": styles()}
    text = json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False)
    return f"// {GENERATED_MARKER.removeprefix('<!-- ').removesuffix(' -->')}\nwindow.CATALOGUE_DATA = {text};\n"

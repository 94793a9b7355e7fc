"""The site's charts: what they plot (pure, standard library) and how they are drawn (matplotlib, lazily).

``plot_specs(groups)`` says what each chart shows: its series are the records' values, as the
tables show them; models on identical points share one series, named together. The site's
browser code draws the same series interactively (``glu_catalogue.site.data``); the SVG stays
for readers without JavaScript.
``PlotSpec.fingerprint(palette)`` is the sha256 of those series, the labels, the palette and
``PLOT_VERSION``; the SVG carries it in its metadata and the page that shows the chart carries it
in a comment, so ``catalogue verify`` finds a stale chart without importing matplotlib.
``draw_svg`` draws one: deterministic bytes (fixed SVG hash salt, no date, no version string).
The fingerprint includes ``drawing_code_digest()``, a hash of ``draw_svg``'s source and of the
colours and markers, so editing the drawing code makes every chart stale until it is redrawn.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from ..core import formulas
from .markdown import join_and
from .views import ModelGroup, shared_ratios

#: Colours per palette: text, axes and grid, then one colour per series (cycled with the markers).
PALETTES = {
    "light": {
        "text": "#1f2328",
        "axes": "#57606a",
        "grid": "#d0d7de",
        "series": ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"),
    },
    "dark": {
        "text": "#e6edf3",
        "axes": "#9198a1",
        "grid": "#3d444d",
        "series": ("#58a6ff", "#ff7b72", "#56d364", "#ffa657", "#d2a8ff", "#e3b341", "#f778ba", "#39c5cf", "#c9d1d9", "#a5d6ff"),
    },
}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")
LINESTYLES = ("-", "--", ":")

#: Where the fingerprint sits in the SVG (its Dublin Core description) and on the page.
FINGERPRINT_PREFIX = "catalogue-plot sha256:"

Points = tuple[tuple[float, float], ...]
Series = tuple[str, Points]


@dataclass(frozen=True)
class PlotSpec:
    """One chart: its file name stem, texts, and the series it draws (label, ((x, y), ...))."""

    name: str
    title: str
    caption: str
    alt: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    x_ticks: tuple[int, ...] = ()
    #: Horizontal reference lines: (y, label).
    reference_lines: tuple[tuple[float, str], ...] = ()
    #: Legend label of a dotted y = x line ("" for none).
    identity_label: str = ""
    #: What follows a value where the interactive chart shows it: ``x`` (2.40x), `` %``.
    value_suffix: str = ""
    #: The model groups each series draws (the pages link them); not part of the fingerprint.
    series_groups: tuple[tuple[ModelGroup, ...], ...] = field(default=(), compare=False, repr=False)

    def file(self, palette: str) -> str:
        """The chart's path relative to docs/."""
        return f"plots/{self.name}-{palette}.svg"

    def fingerprint(self, palette: str) -> str:
        """``catalogue-plot sha256:...`` of everything the chart in ``palette`` is drawn from."""
        document = [
            drawing_code_digest(),
            palette,
            self.name,
            self.title,
            self.x_label,
            self.y_label,
            self.series,
            self.x_ticks,
            self.reference_lines,
            self.identity_label,
        ]
        digest = hashlib.sha256(json.dumps(document, allow_nan=False).encode()).hexdigest()
        return FINGERPRINT_PREFIX + digest


@lru_cache(maxsize=1)
def drawing_code_digest() -> str:
    """sha256 of the drawing code (``draw_svg``'s source, the palettes and markers): the charts' code version."""
    try:
        source = inspect.getsource(draw_svg)
    except (OSError, TypeError):  # no source shipped: fall back to the module's name
        source = __name__
    styles = json.dumps([PALETTES, MARKERS, LINESTYLES], sort_keys=True)
    return hashlib.sha256((source + styles).encode()).hexdigest()


def merged_series(pairs: Iterable[tuple[ModelGroup, Points]]) -> tuple[tuple[Series, ...], tuple[tuple[ModelGroup, ...], ...]]:
    """Groups with identical points drawn once, labelled with every name (``A, B and C``); and the groups of each series.

    Two models on the same points would otherwise draw one line under another and hide it.
    """
    by_points: dict[Points, list[ModelGroup]] = {}
    for group, points in pairs:
        by_points.setdefault(points, []).append(group)
    series = tuple((join_and([group.label for group in groups]), points) for points, groups in by_points.items())
    return series, tuple(tuple(groups) for groups in by_points.values())


def plot_specs(groups: Iterable[ModelGroup]) -> list[PlotSpec]:
    """The site's two charts over every group with records: parameter reduction and expansion ratio.

    The points are the values the tables show (rounded as the data rounds them), so a hover on
    the interactive chart reads the number the table has, and series with equal values merge.
    """
    groups = [group for group in groups if group.successful]
    ticks = tuple(sorted({record.pruning_pct for group in groups for record in group.successful}))
    reductions, reduction_groups = merged_series(
        (group, tuple((float(r.pruning_pct), r.reductions.parameter_reduction_pct) for r in group.successful)) for group in groups
    )
    ratios, ratio_groups = merged_series(
        (group, tuple((float(r.pruning_pct), r.pruned_architecture.expansion_rate) for r in group.successful)) for group in groups
    )
    shared = shared_ratios(groups)
    lines = tuple((item.ratio, f"{item.ratio:.{formulas.DISPLAY_DECIMALS}f}x, reached by {len(item.pcts_by_group)} models") for item in shared[:1])
    x_label = "Pruning (% of each MLP's neuron pairs)"
    return [
        PlotSpec(
            name="parameter-reduction",
            title="Parameter reduction vs pruning percentage",
            caption=(
                "Parameters removed, in percent of the unpruned model, against the pruning percentage. Each "
                "line stays below the dotted line, where the reduction would equal the pruning percentage: "
                "only the MLPs lose parameters."
            ),
            alt="Parameters removed (% of all parameters) against pruning percentage, one line per model",
            x_label=x_label,
            y_label="Parameters removed (%)",
            series=reductions,
            series_groups=reduction_groups,
            x_ticks=ticks,
            identity_label="= pruning % (all parameters in MLPs)",
            value_suffix=" %",
        ),
        PlotSpec(
            name="expansion-ratio",
            title="Expansion ratio vs pruning percentage",
            caption=(
                "Pruned `intermediate_size / hidden_size` against the pruning percentage; models with the same "
                "ratio at every level share a line and are named together. A horizontal line crosses every "
                "model at the pruning percentage it needs for that ratio" + (f"; the dashed one marks {lines[0][1]} in the records." if lines else ".")
            ),
            alt="Expansion ratio (intermediate_size / hidden_size) against pruning percentage, one line per model",
            x_label=x_label,
            y_label="Expansion ratio I / H (x)",
            series=ratios,
            series_groups=ratio_groups,
            x_ticks=ticks,
            reference_lines=lines,
            value_suffix="x",
        ),
    ]


def draw_svg(spec: PlotSpec, palette: str) -> str:
    """The chart as SVG text, identical for identical input (needs matplotlib, the ``docs`` extra)."""
    import matplotlib
    from matplotlib.figure import Figure

    colours = PALETTES[palette]
    settings = {
        "svg.hashsalt": "catalogue",
        "svg.fonttype": "none",  # text as text: a fraction of the bytes of glyph outlines, and selectable
        "font.family": "DejaVu Sans",
        "font.size": 11,
        "text.color": colours["text"],
        "axes.labelcolor": colours["text"],
        "axes.edgecolor": colours["axes"],
        "xtick.color": colours["axes"],
        "ytick.color": colours["axes"],
        "xtick.labelcolor": colours["text"],
        "ytick.labelcolor": colours["text"],
        "grid.color": colours["grid"],
        "path.simplify": False,
    }
    labels = [textwrap.fill(label, 32) for label, _ in spec.series]
    columns = 1 + len(spec.series) // 24
    legend_lines = (sum(label.count("\n") + 1 for label in labels) + 0.5 * len(labels)) / columns
    # A legend taller than the figure squeezes the axes to a strip: the figure grows with it.
    height_in = max(4.4, 1.0 + 0.19 * legend_lines)
    width_in = 7.2 + 3.4 * (columns - 1)  # each further legend column beside the axes, not in their place
    with matplotlib.rc_context(settings):
        figure = Figure(figsize=(width_in, height_in), layout="constrained")
        axes = figure.add_subplot()
        axes.set_facecolor("none")
        for index, (label, (_, points)) in enumerate(zip(labels, spec.series)):
            xs, ys = zip(*points)
            axes.plot(
                xs,
                ys,
                label=label,
                color=colours["series"][index % len(colours["series"])],
                marker=MARKERS[index % len(MARKERS)],
                linestyle=LINESTYLES[(index // len(colours["series"])) % len(LINESTYLES)],
                linewidth=1.6,
                markersize=5,
            )
        if spec.identity_label:
            axes.axline((0, 0), slope=1, color=colours["axes"], linestyle=":", linewidth=1.2, label=spec.identity_label)
        for y, text in spec.reference_lines:
            axes.axhline(y, color=colours["axes"], linestyle="--", linewidth=1, label=text)
        if spec.x_ticks:
            axes.set_xticks(spec.x_ticks)
        axes.grid(True, linewidth=0.6)
        axes.set_xlabel(spec.x_label)
        axes.set_ylabel(spec.y_label)
        axes.set_title(spec.title, color=colours["text"])
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, ncols=columns, fontsize=9.5)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", transparent=True, metadata={"Date": None, "Creator": "catalogue", "Description": spec.fingerprint(palette)})
    return buffer.getvalue()

"""The site's pages, rendered from the records: pure functions from data to Markdown text.

``render_pages(content)`` returns every generated page of ``docs/`` (path relative to ``docs/``
-> text): Home, the cross-model pages here, the model pages (``glu_catalogue.site.models``), the
outcome pages (``glu_catalogue.site.outcome_pages``, ``glu_catalogue.site.checked_results``: the results as
checked and the pages of values left out), the
reader's guides (``glu_catalogue.site.guide``) and the reference pages
(``glu_catalogue.site.reference``); ``glu_catalogue.site.plots`` draws the charts they show. No
number is typed into a page: each comes from a record, an outcome, the registry, ``schemas/`` or
the verifier's report, through ``glu_catalogue.site.views`` (``outcome_views``) and the formats of
``glu_catalogue.site.markdown``. Same content, same bytes.

Standard library only (plus the catalogue's own modules): ``catalogue verify`` re-renders these
pages to find stale ones, within its start-up budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core import formulas
from ..core.outcome_records import OutcomesFile
from ..core.records import ExpansionRecord, Metadata
from ..store.registry import ModelEntry
from .checked_results import CHECKED_TITLE, checked_results_page, left_out_pages
from .equal_ratios import EQUAL_RATIOS_PAGE, RatioView, equal_ratios_page, ratio_views
from .guide import GLOSSARY_TITLE, OPTIPFAIR_URL, PLANNER_TITLE, glossary_page, planner_page
from .links import (
    CHECKED_PAGE,
    GLOSSARY_PAGE,
    MODELS_PAGE,
    OUTCOMES_PAGE,
    PLANNER_PAGE,
    STUDY_PAGE,
    check_unique_model_pages,
    group_links,
    groups_links,
    model_link,
)
from .markdown import bullets, count, details, join_and, number, page, ratio, table
from .models import MODELS_TITLE, level_range, model_pages, models_index_page
from .outcome_pages import OUTCOMES_TITLE, model_outcomes_section, outcomes_index_page, subject_pages
from .outcome_views import OutcomePoint, Subject, outcome_points, subjects
from .plots import PALETTES, PlotSpec, plot_specs
from .provenance import exactness_sentence, provenance_lines
from .reference import VerificationSummary, downloads_page, reproduce_page, schema_page, verification_page
from .study_tables import STUDY_TABLES_PAGE, study_tables_page
from .views import (
    FamilyView,
    ModelGroup,
    SharedRatio,
    all_groups,
    catalogue_ratios,
    equivalence,
    family_views,
    levels,
    shared_ratios,
    spread_levels,
    tied_extremes,
)

#: Page paths (relative to docs/) and titles of the pages every site has, in navigation order.
PAGES = {
    "index.md": "Expansion-ratio catalogue",
    PLANNER_PAGE: PLANNER_TITLE,
    MODELS_PAGE: MODELS_TITLE,
    "equivalence.md": "Cross-model equivalence",
    "observations.md": "Key observations",
    "plots.md": "Plots",
    OUTCOMES_PAGE: OUTCOMES_TITLE,
    CHECKED_PAGE: CHECKED_TITLE,
    GLOSSARY_PAGE: GLOSSARY_TITLE,
    "schema-reference.md": "Schema reference",
    "verification.md": "Verification",
    "downloads.md": "Downloads",
    "reproduce.md": "Reproduce",
}

#: Above this many ratios the equivalence table is split by the ratio's integer part.
EQUIVALENCE_ROWS_PER_TABLE = 20
#: Pruning levels shown as columns of the parameter-reduction table.
OBSERVATION_LEVEL_COLUMNS = 7


@dataclass(frozen=True)
class SiteContent:
    """Everything the site is rendered from.

    ``schemas``: file name -> parsed JSON of ``schemas/``; ``downloads``: site path (e.g.
    ``data/expansion_rates.json``) -> the bytes the site offers; ``metadata``: the catalogue's header;
    ``outcomes``: ``data/outcomes.json`` (none stored: an empty one).
    """

    records: tuple[ExpansionRecord, ...]
    registry: Mapping[str, ModelEntry]
    schemas: Mapping[str, Any]
    downloads: Mapping[str, bytes]
    verification: VerificationSummary
    metadata: Metadata | None = None
    outcomes: OutcomesFile = field(default_factory=OutcomesFile)
    views: list[FamilyView] = field(init=False, repr=False, compare=False)
    #: The stored outcomes whose record the catalogue holds, each with that record.
    outcome_points: list[OutcomePoint] = field(init=False, repr=False, compare=False)
    #: The outcome pages: a task or an efficiency workload each.
    outcome_subjects: list[Subject] = field(init=False, repr=False, compare=False)
    #: The expansion ratios two or more models reach, with each level's comparison (the equal-ratios page).
    ratio_views: list[RatioView] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        views = family_views(self.records, self.registry)
        check_unique_model_pages(model_id for view in views for model_id in view.model_ids)
        object.__setattr__(self, "views", views)
        points = outcome_points(self.outcomes.outcomes, self.records)
        object.__setattr__(self, "outcome_points", points)
        object.__setattr__(self, "outcome_subjects", subjects(points))
        object.__setattr__(self, "ratio_views", ratio_views(self.outcomes.outcomes, self.records))

    @property
    def optipfair_version(self) -> str:
        """The optipfair version the catalogue's header names ("" without one)."""
        return self.metadata.optipfair_version if self.metadata is not None else ""

    @property
    def paged_models(self) -> set[str]:
        """The models that have a page: every model with records."""
        return {model_id for view in self.views for model_id in view.model_ids}

    def outcome_sections(self) -> dict[str, str]:
        """Model id -> the ``Outcomes`` section of its page, for every model with outcomes."""
        by_model: dict[str, list[OutcomePoint]] = {}
        for point in self.outcome_points:
            by_model.setdefault(point.outcome.base_model, []).append(point)
        return {model_id: model_outcomes_section(model_id, points) for model_id, points in by_model.items()}


def render_pages(content: SiteContent) -> dict[str, str]:
    """Every generated page: path relative to docs/ -> Markdown text."""
    views = content.views
    groups = all_groups(views)
    specs = plot_specs(groups)
    left_out = left_out_pages(content.outcomes, content.paged_models)
    pages = {
        "index.md": index_page(content.records, views),
        PLANNER_PAGE: planner_page(),
        MODELS_PAGE: models_index_page(views),
        "equivalence.md": equivalence_page(groups),
        "observations.md": observations_page(groups, specs),
        "plots.md": plots_page(specs),
        GLOSSARY_PAGE: glossary_page(example_record(groups), content.optipfair_version),
        "schema-reference.md": schema_page(PAGES["schema-reference.md"], content.schemas),
        "verification.md": verification_page(PAGES["verification.md"], content.verification),
        "downloads.md": downloads_page(PAGES["downloads.md"], content.downloads, content.records),
        "reproduce.md": reproduce_page(PAGES["reproduce.md"], content.records),
        OUTCOMES_PAGE: outcomes_index_page(content.outcome_subjects, CHECKED_TITLE, list(left_out)),
        CHECKED_PAGE: checked_results_page(content.outcomes, content.outcome_points, content.paged_models),
        **left_out,
        EQUAL_RATIOS_PAGE: equal_ratios_page(content.ratio_views),
        STUDY_TABLES_PAGE: study_tables_page(content.outcomes.outcomes, content.records),
        **subject_pages(content.outcome_subjects),
        **model_pages(views, content.outcome_sections()),
    }
    return dict(sorted(pages.items()))


# --- home ---------------------------------------------------------------------------------------------


def example_record(groups: list[ModelGroup]) -> tuple[ModelGroup, ExpansionRecord] | None:
    """The record Home and the glossary explain: the first of the ratio most models share, else a pruned one."""
    shared = shared_ratios(groups)
    if shared:
        group, pcts = shared[0].pcts_by_group[0]
        return group, group.at(pcts[0])
    candidates = [group for group in groups if any(record.pruning_pct > 0 for record in group.successful)]
    return (candidates[0], candidates[0].successful[-1]) if candidates else None


def at_level(source: str, group: ModelGroup, pruning_pct: int) -> str:
    """``[Llama-3.2-3B](…#pruning-10) (3,001.41 M parameters left)``: a group linked to its row, with its count."""
    record = group.at(pruning_pct)
    left = f" ({number(record.pruned_architecture.total_parameters_millions)} M parameters left)" if record else ""
    return group_links(source, group, pruning_pct) + left


def _example(source: str, found: tuple[ModelGroup, ExpansionRecord] | None) -> str:
    """One model's baseline and one pruned level, linked to the row, with the parameters left."""
    if found is None:
        return ""
    group, record = found
    base, pruned = record.original_architecture, record.pruned_architecture
    return (
        f"For example, {model_link(source, group.model_ids[0], pruning_pct=record.pruning_pct)} has `hidden_size` "
        f"{count(base.hidden_size)} and `intermediate_size` {count(base.intermediate_size)}: **{ratio(base.expansion_rate)}**. "
        f"Pruned by {record.pruning_pct} %, it keeps {count(pruned.intermediate_size)} neurons per MLP: "
        f"**{ratio(pruned.expansion_rate)}**, with {number(pruned.total_parameters_millions)} M of its "
        f"{number(base.total_parameters_millions)} M parameters left ({number(record.reductions.parameter_reduction_pct)} % fewer)."
    )


def _unequal_pruning(source: str, shared: SharedRatio) -> str:
    """``2.40x is 10 % pruning for A (… left) but 60 % for B (… left)``, every tied group named."""
    (low_pct, low_groups), (high_pct, high_groups) = shared.extremes
    low = join_and([at_level(source, group, low_pct) for group in low_groups])
    high = join_and([at_level(source, group, high_pct) for group in high_groups])
    return (
        f"Equal ratios need unequal pruning: {ratio(shared.ratio)} is {low_pct} % pruning for {low} but {high_pct} % for "
        f"{high}. See [Cross-model equivalence](equivalence.md)."
    )


def index_page(records: tuple[ExpansionRecord, ...], views: list[FamilyView]) -> str:
    """Home: what is exact, what the catalogue is, an example from the data, and a guide to the pages."""
    source = "index.md"
    groups = all_groups(views)
    n_models = sum(len(group.model_ids) for group in groups)
    intro = (
        f"The architecture data of width-pruned [GLU]({GLOSSARY_PAGE}#glu) language models. Width pruning removes "
        f"[neuron pairs]({GLOSSARY_PAGE}#neuron-pair) from every GLU MLP (`gate_proj` and `up_proj` rows, `down_proj` "
        f"columns); the [expansion ratio]({GLOSSARY_PAGE}#expansion-ratio) `intermediate_size / hidden_size`, written as "
        f"a multiplier, is the independent variable of [the study]({STUDY_PAGE}) whose data this is, which prunes "
        f"Llama-3.2 1B and 3B with [optipfair]({OPTIPFAIR_URL}) ([MAW]({GLOSSARY_PAGE}#maw)). The catalogue "
        "produces that data for more models, and every number on this site is rendered from its records."
    )
    ask = (
        f"**Ask it:** the [planner]({PLANNER_PAGE}) answers “what pruning gives model X a 2.4x MLP, and how many "
        "parameters are left?” for every model, in your browser."
    )
    blocks = [exactness_sentence(records, GLOSSARY_PAGE), intro, ask, _example(source, example_record(groups))]
    shared = shared_ratios(groups)
    if shared:
        blocks.append(_unequal_pruning(source, shared[0]))
    level_list = levels(groups)
    blocks.append(
        "## Contents\n\n"
        f"{len(records)} records of {n_models} models in {len(views)} "
        f"famil{'ies' if len(views) != 1 else 'y'}, pruned by {level_range(level_list)} % "
        f"({len(level_list)} levels).\n\n"
        + bullets(
            [
                f"[Planner]({PLANNER_PAGE}): the pruning percentage, kept width, ratio and parameters for any target "
                "ratio or percentage, computed in the browser.",
                f"[Models]({MODELS_PAGE}): every model, with a page each for its table (pruning %, expansion ratio, "
                "intermediate size, parameters, parameter reduction) and its architecture.",
                "[Cross-model equivalence](equivalence.md): for each expansion ratio in the catalogue, the pruning percentage each model needs to reach it.",
                "[Key observations](observations.md): each model's baseline ratio, and why parameter reduction "
                "trails the pruning percentage (the MLPs' share of all parameters).",
                "[Plots](plots.md): parameter reduction and expansion ratio against pruning percentage, every model.",
                f"[Outcomes]({OUTCOMES_PAGE}): what the pruned models score and cost against their expansion ratio, a "
                f"chart per task and metric; [the results as checked]({CHECKED_PAGE}): the files read and every value left out.",
                f"[Glossary]({GLOSSARY_PAGE}): GLU, neuron pair, MAW, the expansion ratio's three units.",
                f"[The study]({STUDY_PAGE}): the study's own description of its data.",
                "[Schema reference](schema-reference.md): every field of the JSON and every column of the CSV.",
                "[Verification](verification.md): what `catalogue verify` checked on this data and what it found.",
                "[Downloads](downloads.md): the JSON, the CSV and their schemas, with sizes and SHA-256.",
                "[Reproduce](reproduce.md): the commands that rebuild and verify the data and this site.",
                "[Cite](cite.md): how to cite the catalogue.",
            ]
        )
    )
    blocks.append("## How the numbers were produced\n\n" + bullets(provenance_lines(records)))
    return page(PAGES["index.md"], *blocks)


def _shared_parts(source: str, shared: SharedRatio) -> str:
    """``40 % for Llama-3.2-1B and 10 % for Llama-3.2-3B``, each model linked to its row."""
    return join_and([f"{' or '.join(str(p) for p in pcts)} % for {group_links(source, group, pcts[0])}" for group, pcts in shared.pcts_by_group])


def _ties(source: str, groups: list[ModelGroup]) -> str:
    """Linked group labels; ``(a tie)`` after several."""
    return groups_links(source, groups) + (" (a tie)" if len(groups) > 1 else "")


# --- equivalence ---------------------------------------------------------------------------------------


def equivalence_cell(source: str, group: ModelGroup, target: float) -> str:
    """``**40**`` from a record (linked to its row), ``*33.34*`` computed, ``—`` unreachable (``†``: lands on another ratio)."""
    found = equivalence(group, target)
    if found.kind == "record":
        pcts = ", ".join(model_link(source, group.model_ids[0], str(pct), pct) for pct in found.pruning_pcts)
        return f"**{pcts}**"
    if found.kind == "computed":
        mark = "" if found.achieved_ratio == target else " †"
        return f"*{number(found.pruning_pct)}*{mark}"
    return "—"


def _baseline_extremes(source: str, groups: list[ModelGroup]) -> tuple[str, str] | None:
    """``(6.00x for gemma-3-1b-pt, 2.67x for A, B, C and D (a tie))``; None with fewer than two baselines."""
    measured = [(group.baseline.expansion_rate, group) for group in groups if group.baseline is not None]
    if len(measured) < 2:
        return None
    (low, lows), (high, highs) = tied_extremes(measured)
    return f"{ratio(high)} for {_ties(source, highs)}", f"{ratio(low)} for {_ties(source, lows)}"


def equivalence_page(groups: list[ModelGroup]) -> str:
    """For each ratio in the catalogue, the pruning percentage every model needs to reach it."""
    source = "equivalence.md"
    shared = shared_ratios(groups)
    extremes = _baseline_extremes(source, groups)
    spread = f" (from {extremes[0]} to {extremes[1]}, see [Key observations](observations.md))" if extremes else ""
    intro = (
        "The study compares models at equal expansion ratio, not at equal pruning percentage. The models "
        f"start from different ratios{spread}, so the same ratio needs a different pruning percentage in each. "
        f"The [planner]({PLANNER_PAGE}) answers for any ratio."
    )
    blocks = [intro]
    if shared:
        blocks.append(
            "Ratios that records of several models reach:\n\n" + bullets(f"**{ratio(item.ratio)}**: {_shared_parts(source, item)}" for item in shared)
        )
    ratios = catalogue_ratios(groups)
    computed = [(group, value) for value in ratios for group in groups if equivalence(group, value).kind == "computed"]
    off = any(equivalence(group, value).achieved_ratio != value for group, value in computed)
    legend = [
        "**Bold**: a record of this model has this ratio (rounded as the data rounds it) at this pruning percentage; the number links to the record's row.",
        "*Italics*: no record has it; computed with optipfair's `expansion_rate` rule, "
        "`p = (1 - R × H / I) × 100`, the percentage `prune_model(expansion_rate=R × 100)` would use. It keeps "
        "`I - min(int(p / 100 × I), I - 1)` neurons, which "
        + ("round to this ratio unless marked †." if off else "round to this ratio.")
        + " Computed cells may lie outside the catalogue's pruning levels.",
        "—: the ratio is not below the model's unpruned ratio; pruning cannot reach it.",
    ]
    blocks.append("## Every ratio in the catalogue\n\nEach row is a pruned expansion ratio some record has.\n\n" + bullets(legend))
    header = ("Expansion Ratio", *(group_links(source, group) for group in groups))
    align = "r" * len(header)

    def rows_of(values: list[float]) -> list[tuple]:
        return [(ratio(value), *(equivalence_cell(source, group, value) for group in groups)) for value in values]

    def wide(values: list[float]) -> str:
        return f'<div class="catalogue-wide" markdown>\n\n{table(header, rows_of(values), align)}\n\n</div>'

    if len(ratios) <= EQUIVALENCE_ROWS_PER_TABLE:
        blocks.append(wide(ratios))
    else:
        bands: dict[int, list[float]] = {}
        for value in ratios:
            bands.setdefault(int(value), []).append(value)
        for whole, values in bands.items():
            upper = whole + 1 - 10**-formulas.DISPLAY_DECIMALS
            blocks.append(f"### {ratio(whole)} to {ratio(upper)}\n\n" + wide(values))
    return page(PAGES["equivalence.md"], *blocks, hide=("navigation", "toc"))


# --- observations ---------------------------------------------------------------------------------


def observations_page(groups: list[ModelGroup], specs: list[PlotSpec]) -> str:
    """The study's key observations, computed: baseline ratios, and the MLP share behind the reductions."""
    source = "observations.md"
    measured = [group for group in groups if group.baseline is not None]
    by_ratio = sorted(measured, key=lambda group: (-group.baseline_ratio, group.label))
    blocks = ["## Different baseline expansion ratios"]
    extremes = _baseline_extremes(source, measured)
    if extremes:
        blocks.append(f"The unpruned models range from {extremes[0]} to {extremes[1]}:")
    if by_ratio:
        blocks.append(
            table(
                ("Model", "Family", "Hidden Size", "Intermediate Size", "Layers", "Baseline Expansion Ratio"),
                [
                    (
                        group_links(source, group),
                        group.family,
                        count(group.baseline.hidden_size),
                        count(group.baseline.intermediate_size),
                        count(group.baseline.num_hidden_layers),
                        ratio(group.baseline.expansion_rate),
                    )
                    for group in by_ratio
                ],
                "llrrrr",
            )
        )
    shared = shared_ratios(groups)
    if shared:
        blocks.append(
            "So an equal expansion ratio needs a different pruning percentage in each model: "
            + " ".join(f"{ratio(item.ratio)} is {_shared_parts(source, item)}." for item in shared)
            + " The [equivalence table](equivalence.md) has every ratio."
        )
    blocks.append("## Parameter reduction is not proportional to pruning")
    blocks.append(
        "Pruning removes MLP neurons only; embeddings, attention and norms stay. Removing a fraction of each "
        "MLP's width therefore removes about that fraction of the MLPs' **share** of all parameters, and never "
        "more than that share."
    )
    example = _reduction_example(source, measured)
    if example:
        blocks.append(example)
    level_list = spread_levels([level for level in levels(measured) if level > 0], OBSERVATION_LEVEL_COLUMNS)
    if measured and level_list:
        rows = []
        for group in sorted(measured, key=lambda group: (-(group.mlp_share_pct or 0), group.label)):
            cells = []
            for level in level_list:
                record = group.at(level)
                cells.append(number(record.reductions.parameter_reduction_pct) if record else "")
            share = group.mlp_share_pct
            rows.append((group_links(source, group), number(share) if share is not None else "", *cells))
        blocks.append(
            "Parameters removed (% of all parameters) at each pruning percentage, next to the MLPs' share:\n\n"
            + table(("Model", "MLP Share %", *(f"{level} % pruned" for level in level_list)), rows, "l" + "r" * (1 + len(level_list)))
        )
    reduction = next((spec for spec in specs if spec.name == "parameter-reduction"), None)
    if reduction is not None:
        blocks.append(chart(source, reduction))
    return page(PAGES["observations.md"], *blocks)


def _reduction_example(source: str, groups: list[ModelGroup]) -> str:
    for group in groups:
        pruned = [record for record in group.successful if record.pruning_pct > 0]
        if len(pruned) >= 2 and group.mlp_share_pct is not None:
            low, high = pruned[0], pruned[-1]
            return (
                f"For {group_links(source, group)}, {low.pruning_pct} % pruning removes "
                f"{number(low.reductions.parameter_reduction_pct)} % of the parameters and {high.pruning_pct} % removes "
                f"{number(high.reductions.parameter_reduction_pct)} %: its MLPs hold {number(group.mlp_share_pct)} % of "
                "all parameters."
            )
    return ""


# --- plots ---------------------------------------------------------------------------------------


def plot_images(spec: PlotSpec) -> str:
    """Both palette variants of a chart (mkdocs-material shows the one matching the palette) and their fingerprints."""
    # Lazy: the browser fetches only the variant it shows, and none where the interactive chart replaces them.
    lines = [f"![{spec.alt}]({spec.file(palette)}#only-{palette}){{ loading=lazy }}" for palette in PALETTES]
    lines += [f"<!-- plot {spec.file(palette)} {spec.fingerprint(palette)} -->" for palette in PALETTES]
    return "\n".join(lines)


def chart(source: str, spec: PlotSpec) -> str:
    """A chart the browser code draws from the site data (hover, legend toggles), the static SVGs for readers
    without JavaScript, and the numbers it shows in a table, each model linked."""
    drawn = f'<div class="catalogue-chart" data-chart="{spec.name}" markdown>\n\n{plot_images(spec)}\n\n</div>'
    return drawn + "\n\n" + details("The numbers behind the chart", chart_table(source, spec), kind="abstract")


def chart_table(source: str, spec: PlotSpec) -> str:
    """One row per series (its models linked), one column per pruning level: the values the chart draws."""
    unit = "x" if spec.value_suffix == "x" else ""
    rows = []
    for (_, points), groups in zip(spec.series, spec.series_groups):
        values = dict(points)
        rows.append((groups_links(source, groups), *(f"{number(values[x])}{unit}" if x in values else "" for x in spec.x_ticks)))
    return table(("Models", *(f"{x} %" for x in spec.x_ticks)), rows, "l" + "r" * len(spec.x_ticks))


def plots_page(specs: list[PlotSpec]) -> str:
    """Both charts, every model on each; the points are the values the tables show."""
    intro = (
        "Every model of the catalogue on one chart each. Hover a line for its model, level and value; click a "
        "name in the legend to hide or show its line. Models with the same value at every level share a line "
        "and are named together. Without JavaScript, a static image of each chart is shown."
    )
    blocks = [intro]
    for spec in specs:
        blocks.append(f"## {spec.title}\n\n{spec.caption}\n\n{chart('plots.md', spec)}")
    return page(PAGES["plots.md"], *blocks)

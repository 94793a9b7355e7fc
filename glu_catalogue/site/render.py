"""The site's pages, rendered from the records: pure functions from data to Markdown text.

``render_pages(content)`` returns every generated page of ``docs/`` (path relative to ``docs/``
-> text); ``glu_catalogue.site.plots`` draws the charts they show. No number is typed into a page: each
comes from a record, the registry, ``schemas/`` or the verifier's report, through
``glu_catalogue.site.views`` and the formats of ``glu_catalogue.site.markdown``. Same content, same bytes.

Standard library only (plus the catalogue's own modules): ``catalogue verify`` re-renders these
pages to find stale ones, within its start-up budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..core import formulas
from ..core.architecture import ARCHITECTURE_FIELDS
from ..core.records import ExpansionRecord, Provenance
from ..store.registry import ModelEntry
from .markdown import bullets, code, flag, join_and, number, page, plain, ratio, table
from .plots import PALETTES, PlotSpec, plot_specs
from .reference import (
    VerificationSummary,
    downloads_page,
    reproduce_page,
    schema_page,
    verification_page,
)
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
)

#: Page paths (relative to docs/) and titles of the pages every site has, in navigation order.
PAGES = {
    "index.md": "Expansion-ratio catalogue",
    "families/index.md": "Model families",
    "equivalence.md": "Cross-model equivalence",
    "observations.md": "Key observations",
    "plots.md": "Plots",
    "schema-reference.md": "Schema reference",
    "verification.md": "Verification",
    "downloads.md": "Downloads",
    "reproduce.md": "Reproduce",
}

#: The study's table, column for column.
STUDY_COLUMNS = ("Pruning %", "Expansion Ratio", "Intermediate Size", "Parameters (M)", "Param Reduction %")

#: Above this many ratios the equivalence table is split by the ratio's integer part.
EQUIVALENCE_ROWS_PER_TABLE = 20
#: Pruning levels shown as columns of the parameter-reduction table.
OBSERVATION_LEVEL_COLUMNS = 7


@dataclass(frozen=True)
class SiteContent:
    """Everything the site is rendered from.

    ``schemas``: file name -> parsed JSON of ``schemas/``; ``downloads``: site path (e.g.
    ``data/expansion_rates.json``) -> the bytes the site offers.
    """

    records: tuple[ExpansionRecord, ...]
    registry: Mapping[str, ModelEntry]
    schemas: Mapping[str, Any]
    downloads: Mapping[str, bytes]
    verification: VerificationSummary
    views: list[FamilyView] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "views", family_views(self.records, self.registry))


def family_page_path(view: FamilyView) -> str:
    """Where a family's page lives, relative to docs/."""
    return f"families/{view.slug}.md"


def render_pages(content: SiteContent) -> dict[str, str]:
    """Every generated page: path relative to docs/ -> Markdown text."""
    views = content.views
    groups = all_groups(views)
    specs = plot_specs(groups)
    pages = {
        "index.md": index_page(content.records, views),
        "families/index.md": families_index_page(views),
        "equivalence.md": equivalence_page(groups),
        "observations.md": observations_page(groups, specs),
        "plots.md": plots_page(specs),
        "schema-reference.md": schema_page(PAGES["schema-reference.md"], content.schemas),
        "verification.md": verification_page(PAGES["verification.md"], content.verification),
        "downloads.md": downloads_page(PAGES["downloads.md"], content.downloads, content.records),
        "reproduce.md": reproduce_page(PAGES["reproduce.md"], content.records),
    }
    for view in views:
        pages[family_page_path(view)] = family_page(view)
    return dict(sorted(pages.items()))


# --- provenance -------------------------------------------------------------------------------------

_HOW_FIELDS = (
    "method", "weights", "weights_source", "weights_revision", "seed", "size_rule", "neuron_selection_method",
    "optipfair_version", "torch_version", "transformers_version", "dtype", "device", "catalogue_version", "note",
)  # fmt: skip


def provenance_lines(records: Iterable[ExpansionRecord]) -> list[str]:
    """One sentence per way the records were produced, with how many records and when."""
    ways: dict[tuple, list[Provenance]] = {}
    missing = 0
    for record in records:
        if record.provenance is None:
            missing += 1
            continue
        key = tuple(getattr(record.provenance, name) for name in _HOW_FIELDS)
        ways.setdefault(key, []).append(record.provenance)
    lines = [_describe(items) for items in ways.values()]
    if missing:
        lines.append(f"{missing} record{'s' if missing != 1 else ''} without provenance (the study's legacy layout).")
    return lines


def _describe(items: list[Provenance]) -> str:
    first = items[0]
    stamps = sorted(item.created_at for item in items)
    when = stamps[0] if stamps[0] == stamps[-1] else f"{stamps[0]} to {stamps[-1]}"
    count = f"{len(items)} record{'s' if len(items) != 1 else ''}, produced {when}"
    if first.method == "closed-form":
        how = (
            "**closed form**: computed by `catalogue.formulas` from the architecture; no model was built "
            "and optipfair was not run"
        )
        if first.size_rule:
            how += f"; size rule {code(first.size_rule)}"
    else:
        versions = [
            f"{name} {value}"
            for name, value in (
                ("optipfair", first.optipfair_version),
                ("torch", first.torch_version),
                ("transformers", first.transformers_version),
            )
            if value
        ]
        how = "**measured with optipfair**: the model was built with transformers, pruned and its parameters counted"
        if versions:
            how += f" ({', '.join(versions)})"
        if first.neuron_selection_method:
            how += f"; neuron selection {first.neuron_selection_method}"
        how += _weights(first)
        if first.dtype or first.device:
            how += f"; {' on '.join(part for part in (first.dtype, first.device) if part)}"
    how += f"; catalogue {first.catalogue_version}"
    if first.note:
        how += f". Note: {plain(first.note)}"
    return f"{how} ({count})."


def _weights(provenance: Provenance) -> str:
    if provenance.weights == "random-init":
        seed = f", seed {provenance.seed}" if provenance.seed is not None else ""
        return (
            f"; weights: random-init{seed} (the real architecture and parameter counts, but not the real "
            "model's choice of kept neurons)"
        )
    if provenance.weights:
        source = f" {code(provenance.weights_source)}" if provenance.weights_source else ""
        revision = f" at revision {code(provenance.weights_revision)}" if provenance.weights_revision else ""
        return f"; weights: {provenance.weights}{source}{revision}"
    return ""


# --- home and families -------------------------------------------------------------------------------


def _level_range(values: list[int]) -> str:
    if not values:
        return "none"
    return str(values[0]) if values[0] == values[-1] else f"{values[0]}–{values[-1]}"


def _models(group: ModelGroup) -> str:
    return ", ".join(code(model_id) for model_id in group.model_ids)


def index_page(records: tuple[ExpansionRecord, ...], views: list[FamilyView]) -> str:
    """The home page: what the catalogue is, an example from the data, and a guide to the pages."""
    groups = all_groups(views)
    n_models = sum(len(group.model_ids) for group in groups)
    intro = (
        "The architecture data of width-pruned GLU language models. Width pruning removes neuron pairs "
        "from every GLU MLP (`gate_proj` and `up_proj` rows, `down_proj` columns); the **expansion ratio** "
        "`intermediate_size / hidden_size`, written as a multiplier, is the study's independent variable. "
        "Every number on this site is rendered from the records in `data/` and checked by `catalogue verify`."
    )
    blocks = [intro, _example(groups)]
    shared = shared_ratios(groups)
    if shared:
        (low, low_pct), (high, high_pct) = shared[0].extremes
        blocks.append(
            f"Equal ratios need unequal pruning: {ratio(shared[0].ratio)} is {low_pct} % pruning for {low.label} but "
            f"{high_pct} % for {high.label}. See [Cross-model equivalence](equivalence.md)."
        )
    level_list = levels(groups)
    blocks.append(
        "## Contents\n\n"
        f"{len(records)} records of {n_models} models in {len(views)} "
        f"famil{'ies' if len(views) != 1 else 'y'}, pruned by {_level_range(level_list)} % "
        f"({len(level_list)} levels).\n\n"
        + bullets(
            [
                "[Model families](families/index.md): one page per family with the study's table (pruning %, "
                "expansion ratio, intermediate size, parameters, parameter reduction), the baseline row and the "
                "architecture.",
                "[Cross-model equivalence](equivalence.md): for each expansion ratio in the catalogue, the pruning "
                "percentage each model needs to reach it.",
                "[Key observations](observations.md): each model's baseline ratio, and why parameter reduction "
                "trails the pruning percentage (the MLPs' share of all parameters).",
                "[Plots](plots.md): parameter reduction and expansion ratio against pruning percentage, every model "
                "on one chart each.",
                "[Schema reference](schema-reference.md): every field of the JSON and every column of the CSV, from "
                "`schemas/`.",
                "[Verification](verification.md): what `catalogue verify` checked on this data and what it found.",
                "[Downloads](downloads.md): the JSON, the CSV and their schemas, with sizes and SHA-256.",
                "[Reproduce](reproduce.md): the commands that rebuild and verify the data and this site.",
            ]
        )
    )
    blocks.append("## How the numbers were produced\n\n" + bullets(provenance_lines(records)))
    return page(PAGES["index.md"], *blocks)


def _example(groups: list[ModelGroup]) -> str:
    """``Llama-3.2-1B has hidden_size 2048 ...``: one model's baseline and one pruned level."""
    shared = shared_ratios(groups)
    if shared:
        group, pcts = shared[0].pcts_by_group[0]
        record = group.at(pcts[0])
    else:
        candidates = [group for group in groups if any(r.pruning_pct > 0 for r in group.successful)]
        if not candidates:
            return ""
        group = candidates[0]
        record = group.successful[-1]
    base, pruned = record.original_architecture, record.pruned_architecture
    return (
        f"For example, {code(group.model_ids[0])} has `hidden_size` {base.hidden_size} and `intermediate_size` "
        f"{base.intermediate_size}: **{ratio(base.expansion_rate)}**. Pruned by {record.pruning_pct} %, it keeps "
        f"{pruned.intermediate_size} neurons per MLP: **{ratio(pruned.expansion_rate)}**."
    )


def _shared_parts(shared: SharedRatio) -> str:
    """``40 % for Llama-3.2-1B and 10 % for Llama-3.2-3B``."""
    return join_and([f"{' or '.join(str(p) for p in pcts)} % for {group.label}" for group, pcts in shared.pcts_by_group])


def families_index_page(views: list[FamilyView]) -> str:
    """The families overview: one row per table on the family pages."""
    rows = []
    for view in views:
        for group in view.groups:
            baseline = group.baseline
            pcts = [record.pruning_pct for record in group.successful]
            rows.append(
                (
                    f"[{view.name}]({view.slug}.md)",
                    group.label,
                    ratio(baseline.expansion_rate) if baseline else "—",
                    len(group.records),
                    _level_range(pcts),
                )
            )
    text = (
        "One page per model family. Models whose records hold identical numbers (an instruct variant has "
        "its base model's architecture) share one table, labelled `Base (+ Variant)`."
    )
    overview = table(("Family", "Models", "Baseline Expansion Ratio", "Records", "Pruning %"), rows, "lllrr")
    return page(PAGES["families/index.md"], text, overview)


def family_page(view: FamilyView) -> str:
    """A family: per group, the study's table with its baseline row, failures, and the architecture."""
    records = [record for group in view.groups for record in group.all_records]
    intro = (
        f"{len(view.model_ids)} model{'s' if len(view.model_ids) != 1 else ''} of the {view.name} family, "
        f"{len(records)} records. Models whose records hold identical numbers share a table."
    )
    how = "How the numbers were produced:\n\n" + bullets(provenance_lines(records))
    return page(view.name, intro, how, *(_group_section(group) for group in view.groups))


def _group_section(group: ModelGroup) -> str:
    blocks = [f"## {group.label}", f"Models: {_models(group)}."]
    baseline = group.baseline
    if baseline is not None:
        blocks.append(table(STUDY_COLUMNS, _study_rows(group), "rrrrr"))
    if group.failed:
        blocks.append(
            "Configurations that could not be produced:\n\n"
            + table(("Pruning %", "Error"), [(record.pruning_pct, plain(record.error or "")) for record in group.failed], "rl")
        )
    if baseline is not None:
        blocks.append("**Architecture details:**\n\n" + table(("Field", "Value"), _architecture_rows(group), "lr"))
    return "\n\n".join(blocks)


def _study_rows(group: ModelGroup) -> list[tuple]:
    rows = []
    if group.at(0) is None:
        base = group.baseline
        rows.append(("baseline", ratio(base.expansion_rate), base.intermediate_size, number(base.total_parameters_millions), number(0)))
    for record in group.successful:
        pruned = record.pruned_architecture
        pct = f"{record.pruning_pct} (baseline)" if record.pruning_pct == 0 else record.pruning_pct
        rows.append(
            (
                pct,
                ratio(pruned.expansion_rate),
                pruned.intermediate_size,
                number(pruned.total_parameters_millions),
                number(record.reductions.parameter_reduction_pct),
            )
        )
    return rows


#: The rows of a model's architecture table: H and L first, then the MLP width and the other fields, then the total.
_ARCHITECTURE_ROWS = ("hidden_size", "num_hidden_layers", *(n for n in ARCHITECTURE_FIELDS if n not in ("hidden_size", "num_hidden_layers")), "total_parameters")


def _architecture_rows(group: ModelGroup) -> list[tuple]:
    baseline = group.baseline
    rows = []
    for name in _ARCHITECTURE_ROWS:
        value = getattr(baseline, name)
        if value is None:
            continue
        label = f"{name} (baseline)" if name in ("intermediate_size", "total_parameters") else name
        rows.append((code(label), flag(value) if isinstance(value, bool) else value))
    share = group.mlp_share_pct
    if share is not None:
        rows.append(("MLP share of parameters %", number(share)))
    return rows


# --- equivalence ---------------------------------------------------------------------------------------


def equivalence_cell(group: ModelGroup, target: float) -> str:
    """``**40**`` from a record, ``*33.34*`` computed, ``—`` unreachable (``†``: lands on another rounded ratio)."""
    found = equivalence(group, target)
    if found.kind == "record":
        return f"**{', '.join(str(pct) for pct in found.pruning_pcts)}**"
    if found.kind == "computed":
        mark = "" if found.achieved_ratio == target else " †"
        return f"*{number(found.pruning_pct)}*{mark}"
    return "—"


def equivalence_page(groups: list[ModelGroup]) -> str:
    """For each ratio in the catalogue, the pruning percentage every model needs to reach it."""
    shared = shared_ratios(groups)
    baselines = sorted(
        ((group.baseline.expansion_rate, group.label) for group in groups if group.baseline is not None), reverse=True
    )
    spread = (
        f" (from {ratio(baselines[0][0])} for {baselines[0][1]} to {ratio(baselines[-1][0])} for {baselines[-1][1]}, "
        "see [Key observations](observations.md))"
        if len(baselines) > 1
        else ""
    )
    intro = (
        "The study compares models at equal expansion ratio, not at equal pruning percentage. The models "
        f"start from different ratios{spread}, so the same ratio needs a different pruning percentage in each."
    )
    blocks = [intro]
    if shared:
        blocks.append(
            "Ratios that records of several models reach:\n\n"
            + bullets(f"**{ratio(item.ratio)}**: {_shared_parts(item)}" for item in shared)
        )
    ratios = catalogue_ratios(groups)
    computed = [
        (group, value) for value in ratios for group in groups if equivalence(group, value).kind == "computed"
    ]
    off = any(equivalence(group, value).achieved_ratio != value for group, value in computed)
    legend = [
        "**Bold**: a record of this model has this ratio (rounded as the data rounds it) at this pruning percentage.",
        "*Italics*: no record has it; computed with optipfair's `expansion_rate` rule, "
        "`p = (1 - R × H / I) × 100` (`formulas.pruning_pct_for_expansion_rate`), the percentage "
        "`prune_model(expansion_rate=R × 100)` would use. It keeps `I - min(int(p / 100 × I), I - 1)` neurons "
        "(`formulas.kept_neurons`), which "
        + ("round to this ratio unless marked †." if off else "round to this ratio.")
        + " Computed cells may lie outside the catalogue's pruning levels.",
        "—: the ratio is not below the model's unpruned ratio; pruning cannot reach it.",
    ]
    blocks.append("## Every ratio in the catalogue\n\nEach row is a pruned expansion ratio some record has.\n\n" + bullets(legend))
    header = ("Expansion Ratio", *(group.label for group in groups))
    align = "r" * len(header)

    def rows_of(values: list[float]) -> list[tuple]:
        return [(ratio(value), *(equivalence_cell(group, value) for group in groups)) for value in values]

    def wide(values: list[float]) -> str:
        return f'<div class="catalogue-wide" markdown>\n\n{table(header, rows_of(values), align)}\n\n</div>'

    if len(ratios) <= EQUIVALENCE_ROWS_PER_TABLE:
        blocks.append(wide(ratios))
    else:
        bands: dict[int, list[float]] = {}
        for value in ratios:
            bands.setdefault(int(value), []).append(value)
        for whole, values in bands.items():
            upper = whole + 1 - 10 ** -formulas.DISPLAY_DECIMALS
            blocks.append(f"### {ratio(whole)} to {ratio(upper)}\n\n" + wide(values))
    return page(PAGES["equivalence.md"], *blocks, hide=("navigation", "toc"))


# --- observations ---------------------------------------------------------------------------------


def observations_page(groups: list[ModelGroup], specs: list[PlotSpec]) -> str:
    """The study's key observations, computed: baseline ratios, and the MLP share behind the reductions."""
    measured = [group for group in groups if group.baseline is not None]
    by_ratio = sorted(measured, key=lambda group: (-group.baseline_ratio, group.label))
    blocks = ["## Different baseline expansion ratios"]
    if by_ratio:
        top, bottom = by_ratio[0], by_ratio[-1]
        blocks.append(
            f"The unpruned models range from {ratio(top.baseline.expansion_rate)} ({top.label}) to "
            f"{ratio(bottom.baseline.expansion_rate)} ({bottom.label}):"
        )
        blocks.append(
            table(
                ("Model", "Family", "Hidden Size", "Intermediate Size", "Layers", "Baseline Expansion Ratio"),
                [
                    (
                        group.label,
                        group.family,
                        group.baseline.hidden_size,
                        group.baseline.intermediate_size,
                        group.baseline.num_hidden_layers,
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
            + " ".join(f"{ratio(item.ratio)} is {_shared_parts(item)}." for item in shared)
            + " The [equivalence table](equivalence.md) has every ratio."
        )
    blocks.append("## Parameter reduction is not proportional to pruning")
    blocks.append(
        "Pruning removes MLP neurons only; embeddings, attention and norms stay. Removing a fraction of each "
        "MLP's width therefore removes about that fraction of the MLPs' **share** of all parameters, and never "
        "more than that share."
    )
    example = _reduction_example(measured)
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
            rows.append((group.label, number(share) if share is not None else "", *cells))
        blocks.append(
            "Parameters removed (% of all parameters) at each pruning percentage, next to the MLPs' share:\n\n"
            + table(("Model", "MLP Share %", *(f"{level} % pruned" for level in level_list)), rows, "l" + "r" * (1 + len(level_list)))
        )
    reduction = next((spec for spec in specs if spec.name == "parameter-reduction"), None)
    if reduction is not None:
        blocks.append(plot_images(reduction))
    return page(PAGES["observations.md"], *blocks)


def _reduction_example(groups: list[ModelGroup]) -> str:
    for group in groups:
        pruned = [record for record in group.successful if record.pruning_pct > 0]
        if len(pruned) >= 2 and group.mlp_share_pct is not None:
            low, high = pruned[0], pruned[-1]
            return (
                f"For {group.label}, {low.pruning_pct} % pruning removes "
                f"{number(low.reductions.parameter_reduction_pct)} % of the parameters and {high.pruning_pct} % removes "
                f"{number(high.reductions.parameter_reduction_pct)} %: its MLPs hold {number(group.mlp_share_pct)} % of "
                "all parameters."
            )
    return ""


# --- plots ---------------------------------------------------------------------------------------


def plot_images(spec: PlotSpec) -> str:
    """Both palette variants of a chart (mkdocs-material shows the one matching the palette) and their fingerprints."""
    lines = [f"![{spec.alt}]({spec.file(palette)}#only-{palette})" for palette in PALETTES]
    lines += [f"<!-- plot {spec.file(palette)} {spec.fingerprint(palette)} -->" for palette in PALETTES]
    return "\n".join(lines)


def plots_page(specs: list[PlotSpec]) -> str:
    """Both charts, every model on each; the data behind them are the records' exact values."""
    intro = (
        "Every model of the catalogue on one chart each; models whose records hold identical numbers share a "
        "line. The points are the records' unrounded values. Each chart comes in a light and a dark variant, "
        "shown with the matching palette."
    )
    blocks = [intro]
    for spec in specs:
        blocks.append(f"## {spec.title}\n\n{spec.caption}\n\n{plot_images(spec)}")
    return page(PAGES["plots.md"], *blocks)

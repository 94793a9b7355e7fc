"""The model pages: one per model with its whole table, one per family, and the list of all models.

Pure functions from the views to Markdown, like ``glu_catalogue.site.render``. A model's page
holds the study's table for that model, each row with a stable anchor (``#pruning-40``) that
other pages link to, and the values measured on its records where it has any (the section
``glu_catalogue.site.outcome_pages`` writes); models whose records hold identical numbers (an
instruct variant) each have their page and say whom they match.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from ..core.architecture import ARCHITECTURE_FIELDS
from ..core.records import ExpansionRecord
from .links import GLOSSARY_PAGE, MODELS_PAGE, PLANNER_PAGE, family_link, family_page, model_link, model_page, relative, row_anchor
from .markdown import code, count, details, flag, join_and, number, page, plain, ratio, table
from .provenance import exactness_sentence, provenance_lines
from .views import FamilyView, ModelGroup, short_name

#: The study's table, column for column.
STUDY_COLUMNS = ("Pruning %", "Expansion Ratio", "Intermediate Size", "Parameters (M)", "Param Reduction %")

#: The models list's columns.
MODELS_COLUMNS = (
    "Model",
    "Family",
    "Size",
    "Hidden Size",
    "Intermediate Size",
    "Layers",
    "Baseline Expansion Ratio",
    "Parameters (M)",
    "MLP Share %",
    "Pruning %",
)

MODELS_TITLE = "Models"


def level_range(values: list[int]) -> str:
    """``0–60``, ``40`` or ``none``: the pruning levels of some records."""
    if not values:
        return "none"
    return str(values[0]) if values[0] == values[-1] else f"{values[0]}–{values[-1]}"


def planner_link(source: str, model_ids: tuple[str, ...]) -> str:
    """A link to the planner with these models chosen (the planner reads them from the query string)."""
    query = "&".join(f"model={quote(model_id, safe='')}" for model_id in model_ids)
    return f"{relative(source, PLANNER_PAGE)}?{query}"


# --- the list of all models ----------------------------------------------------------------------


def models_rows(source: str, views: list[FamilyView]) -> list[tuple]:
    """One row per model: its link, family, size label, baseline architecture and levels."""
    rows = []
    for view in views:
        for group in view.groups:
            baseline = group.baseline
            levels = level_range([record.pruning_pct for record in group.successful])
            for model_id in group.model_ids:
                cells = ("",) * 6
                if baseline is not None:
                    cells = (
                        count(baseline.hidden_size),
                        count(baseline.intermediate_size),
                        count(baseline.num_hidden_layers),
                        ratio(baseline.expansion_rate),
                        number(baseline.total_parameters_millions),
                        number(group.mlp_share_pct) if group.mlp_share_pct is not None else "",
                    )
                rows.append((model_link(source, model_id), family_link(source, view), group.size_label(model_id), *cells, levels))
    return rows


def models_index_page(views: list[FamilyView]) -> str:
    """Every model of the catalogue in one table (sortable and filterable in the browser), then the families."""
    source = MODELS_PAGE
    n_models = sum(len(view.model_ids) for view in views)
    intro = (
        f"{n_models} models in {len(views)} famil{'ies' if len(views) != 1 else 'y'}. Each model has a page with its "
        "whole table; click a column's name to sort by it. The [planner](../planner.md) answers for any target."
    )
    families = "## Families\n\n" + "\n".join(
        f"- {family_link(source, view)}: {join_and([short_name(model_id) for model_id in view.model_ids])}" for view in views
    )
    return page(
        MODELS_TITLE, intro, table(MODELS_COLUMNS, models_rows(source, views), "lllrrrrrrr"), families, meta={"families": [family_page(view) for view in views]}
    )


# --- a family ------------------------------------------------------------------------------------


def family_index_page(view: FamilyView) -> str:
    """A family: its models (each linked to its page) and how their records were produced."""
    source = family_page(view)
    records = [record for group in view.groups for record in group.all_records]
    intro = (
        f"{len(view.model_ids)} model{'s' if len(view.model_ids) != 1 else ''} of the {view.name} family, "
        f"{len(records)} records. Each model's page has its whole table."
    )
    how = details("How these numbers were produced", "\n".join(f"- {line}" for line in provenance_lines(records)))
    return page(
        view.name,
        exactness_sentence(records, relative(source, GLOSSARY_PAGE)),
        intro,
        table(MODELS_COLUMNS, models_rows(source, [view]), "lllrrrrrrr"),
        how,
        meta={"title": view.name, "models": [model_page(model_id) for model_id in view.model_ids]},
    )


# --- a model -------------------------------------------------------------------------------------


def model_page_text(view: FamilyView, group: ModelGroup, model_id: str, outcomes: str = "") -> str:
    """One model: what it is, its table with a row per pruning level, failures, its ``outcomes`` section
    (Markdown, ``glu_catalogue.site.outcome_pages``; "" for none), architecture, provenance."""
    source = model_page(model_id)
    records = group.records_of(model_id)
    glossary = relative(source, GLOSSARY_PAGE)
    blocks = [exactness_sentence(records, glossary), _summary(source, view, group, model_id)]
    if group.baseline is not None:
        blocks.append(
            f"## Pruning levels\n\nThe study's table: [pruning percentage]({glossary}#pruning-percentage), "
            f"[expansion ratio]({glossary}#expansion-ratio), MLP width, parameters (millions) and the share of "
            f"parameters removed. Plan any other target with the [planner]({planner_link(source, (model_id,))}).\n\n"
            + table(STUDY_COLUMNS, study_rows(group), "rrrrr")
        )
    failed = [record for record in records if record.status == "failed"]
    if failed:
        blocks.append(
            "## Configurations that could not be produced\n\n"
            + table(("Pruning %", "Error"), [(record.pruning_pct, plain(record.error or "")) for record in failed], "rl")
        )
    blocks.append(outcomes)
    if group.baseline is not None:
        blocks.append("## Architecture\n\n" + table(("Field", "Value"), architecture_rows(group), "lr"))
    blocks.append(details("How these numbers were produced", "\n".join(f"- {line}" for line in provenance_lines(records))))
    return page(model_id, *blocks, meta={"title": short_name(model_id)})


def _summary(source: str, view: FamilyView, group: ModelGroup, model_id: str) -> str:
    """``Family Llama-3.2, size 1B; unpruned 4.00x (8,192 / 2,048), 1,235,814,400 parameters.``"""
    text = f"Family {family_link(source, view)}, size {group.size_label(model_id)}"
    baseline = group.baseline
    if baseline is not None:
        text += (
            f"; unpruned **{ratio(baseline.expansion_rate)}** ({count(baseline.intermediate_size)} / "
            f"{count(baseline.hidden_size)}), {count(baseline.total_parameters)} parameters"
        )
    text += "."
    twins = [other for other in group.model_ids if other != model_id]
    if twins:
        text += (
            f" {join_and([model_link(source, other) for other in twins])} {'has' if len(twins) == 1 else 'have'} the same architecture and the same numbers."
        )
    return text


def study_rows(group: ModelGroup) -> list[tuple]:
    """The study's table rows, from the baseline down; the first cell carries the row's anchor."""
    rows = []
    if group.at(0) is None and group.baseline is not None:
        base = group.baseline
        rows.append(("baseline", ratio(base.expansion_rate), count(base.intermediate_size), number(base.total_parameters_millions), number(0)))
    for record in group.successful:
        rows.append(_study_row(record))
    return rows


def _study_row(record: ExpansionRecord) -> tuple:
    pruned = record.pruned_architecture
    label = f"{record.pruning_pct} (baseline)" if record.pruning_pct == 0 else str(record.pruning_pct)
    return (
        f'<span id="{row_anchor(record.pruning_pct)}"></span>{label}',
        ratio(pruned.expansion_rate),
        count(pruned.intermediate_size),
        number(pruned.total_parameters_millions),
        number(record.reductions.parameter_reduction_pct),
    )


#: The rows of a model's architecture table: H and L first, then the MLP width and the other fields, then the total.
_ARCHITECTURE_FIELDS = (
    "hidden_size",
    "num_hidden_layers",
    *(name for name in ARCHITECTURE_FIELDS if name not in ("hidden_size", "num_hidden_layers")),
    "total_parameters",
)


def architecture_rows(group: ModelGroup) -> list[tuple]:
    """The unpruned architecture, field by field, and the MLPs' share of the parameters."""
    baseline = group.baseline
    rows = []
    for name in _ARCHITECTURE_FIELDS:
        value = getattr(baseline, name)
        if value is None:
            continue
        label = f"{name} (baseline)" if name in ("intermediate_size", "total_parameters") else name
        rows.append((code(label), flag(value) if isinstance(value, bool) else count(value)))
    share = group.mlp_share_pct
    if share is not None:
        rows.append(("MLP share of parameters %", number(share)))
    return rows


def model_pages(views: list[FamilyView], outcomes: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every family's page and every model's page, by path relative to docs/; ``outcomes``: model id -> its outcomes section."""
    outcomes = outcomes or {}
    pages = {}
    for view in views:
        pages[family_page(view)] = family_index_page(view)
        for group in view.groups:
            for model_id in group.model_ids:
                pages[model_page(model_id)] = model_page_text(view, group, model_id, outcomes.get(model_id, ""))
    return pages

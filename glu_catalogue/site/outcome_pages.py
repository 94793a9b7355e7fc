"""The outcome pages: their list, a page per task or workload with a chart per measure, a model's outcomes table.

Pure functions from ``glu_catalogue.site.outcome_views`` to Markdown, like ``glu_catalogue.site.render``.
The browser code draws each chart from the site data (``glu_catalogue.site.data``): the measure
against the pruned expansion ratio, one series per model, the spread as error bars. The numbers
behind it follow in a table, each value linked to its record's row on its model page, for
readers without JavaScript too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .data import outcome_chart
from .equal_ratios import EQUAL_RATIOS_PAGE, EQUAL_RATIOS_TITLE
from .links import CHECKED_PAGE, GLOSSARY_PAGE, OUTCOMES_PAGE, model_link, model_page, outcome_page, relative, row_anchor
from .markdown import chart_div, code, count, details, join_and, page, ratio, table, unsearched
from .outcome_views import Measure, OutcomePoint, Subject, is_run_part, measure_of, spread_text, subject_of, value_text
from .speedup_view import speedup_section
from .study_tables import STUDY_TABLES_PAGE, STUDY_TABLES_TITLE
from .views import short_name

OUTCOMES_TITLE = "Outcomes"
#: A model page's outcomes table, column for column.
MODEL_OUTCOME_COLUMNS = ("Pruning %", "Expansion Ratio", "Task", "Metric", "Value", "Stderr", "Source")
#: The table of the numbers behind an outcome chart (the spread's column is named by the kind).
MEASURE_COLUMNS = ("Model", "Pruning %", "Expansion Ratio", "Value")
#: The list of outcome pages.
SUBJECT_COLUMNS = ("Task", "Kind", "Charts", "Models", "Values")
_KIND_NAMES = {"score": "lm-eval task", "efficiency": "efficiency workload"}


def spread_header(kind: str) -> str:
    """The spread's column: lm-eval's standard error, or the standard deviation of an efficiency value's runs."""
    return "Stderr" if kind == "score" else "Std of Runs"


def spread_cell(point: OutcomePoint) -> str:
    """``0.0068``; an efficiency value's ``1.2 (std of 5 runs)``; empty where the file gives none."""
    spread = point.spread
    if spread is None:
        return ""
    runs = getattr(point.outcome, "runs", None)
    return spread_text(spread) if point.outcome.kind == "score" else f"{spread_text(spread)} (std of {count(runs.count)} runs)"


def source_anchor(sha256: str) -> str:
    """The anchor of a source file's entry on the checked-results page: ``source-9a96a5ba2bb7``."""
    return f"source-{sha256[:12]}"


def source_link(source_page: str, point: OutcomePoint) -> str:
    """The source file's name, linked to its entry (path, sha256) on the checked-results page."""
    source = point.outcome.source
    name = source.path.replace("\\", "/").rsplit("/", 1)[-1]
    return f"[{code(name)}]({relative(source_page, CHECKED_PAGE)}#{source_anchor(source.sha256)})"


def subject_title(subject: Subject) -> str:
    """A page's title: the task's name, or ``<workload> (efficiency)``."""
    return subject.name if subject.kind == "score" else f"{subject.name} (efficiency)"


def _models(points: Iterable[OutcomePoint]) -> list[str]:
    return sorted({point.outcome.base_model for point in points})


# --- the list of outcome pages -----------------------------------------------------------------------


def outcomes_index_page(subject_list: Sequence[Subject], checked_title: str, left_out_pages: Sequence[str] = ()) -> str:
    """Every task and workload with outcomes, linked to its page, and the checked-results page (then, in the
    navigation, the pages of values left out)."""
    source = OUTCOMES_PAGE
    points = [point for subject in subject_list for point in subject.points]
    checked = f"[{checked_title}]({relative(source, CHECKED_PAGE)})"
    if not points:
        return page(
            OUTCOMES_TITLE,
            f"No outcomes are stored yet: `catalogue results add FILE` checks a results file and stores its values. {checked} lists what was read.",
            meta={"pages": [CHECKED_PAGE, *left_out_pages]},
        )
    models = _models(points)
    intro = (
        f"What the pruned models score (lm-evaluation-harness) and cost (efficiency runs), against the pruned "
        f"[expansion ratio]({relative(source, GLOSSARY_PAGE)}#expansion-ratio): {count(len(points))} values of "
        f"{join_and([model_link(source, model_id) for model_id in models])}. Each task has a page with a chart per metric, "
        f"one series per model, so models meet at equal ratios; [{EQUAL_RATIOS_TITLE.lower()}]({relative(source, EQUAL_RATIOS_PAGE)}) sets each "
        f"model's change from its baseline side by side at every ratio two models reach, and "
        f"[{STUDY_TABLES_TITLE.lower()}]({relative(source, STUDY_TABLES_PAGE)}) recomputes the study's per-model tables. "
        f"{checked} lists the files read and every value left out, with the reason."
    )
    rows = [
        (
            f"[{subject_title(subject)}]({relative(source, outcome_page(subject.kind, subject.name))})",
            _KIND_NAMES[subject.kind],
            count(len(subject.measures)),
            ", ".join(model_link(source, model_id) for model_id in _models(subject.points)),
            count(len(subject.points)),
        )
        for subject in subject_list
    ]
    pages = [EQUAL_RATIOS_PAGE, STUDY_TABLES_PAGE] + [outcome_page(subject.kind, subject.name) for subject in subject_list] + [CHECKED_PAGE, *left_out_pages]
    return page(OUTCOMES_TITLE, intro, table(SUBJECT_COLUMNS, rows, "llrlr"), meta={"pages": pages})


# --- a task's or a workload's page ------------------------------------------------------------------


def chart_block(measure: Measure) -> str:
    """The container the browser code draws the measure's chart in (a note where the script does not run)."""
    return chart_div(measure.chart_name, outcome_chart(measure))


def measure_table(source: str, measure: Measure) -> str:
    """One row per value: its model (linked to the record's row), pruning %, ratio, value, spread and file."""
    rows = [
        (
            model_link(source, point.outcome.base_model, short_name(point.outcome.base_model), point.record.pruning_pct),
            point.record.pruning_pct,
            ratio(point.expansion_ratio),
            value_text(point.outcome.value),
            spread_cell(point),
            source_link(source, point),
        )
        for _, points in measure.series
        for point in sorted(points, key=lambda point: point.record.pruning_pct)
    ]
    return unsearched(table((*MEASURE_COLUMNS, spread_header(measure.kind), "Source"), rows, "lrrrrl"))


def _caption(measure: Measure) -> str:
    models = _models(measure.points)
    directions = {getattr(point.outcome, "higher_is_better", None) for point in measure.points}
    text = (
        f"{code(measure.label)} against the pruned expansion ratio: {count(len(measure.points))} values of {len(models)} model{'s' if len(models) != 1 else ''}"
    )
    if directions == {True}:
        text += ", higher is better"
    elif directions == {False}:
        text += ", lower is better"
    text += "."
    if any(point.spread is not None for point in measure.points):
        text += " Bars: ± one " + ("standard error" if measure.kind == "score" else "standard deviation of the runs") + ", where the file gives one."
    if measure.log_scale:
        text += " Logarithmic scale."
    return text


def _subject_intro(subject: Subject) -> str:
    if subject.kind == "score":
        shots = sorted({point.outcome.n_shot for point in subject.points if point.outcome.n_shot is not None})
        shot = f" ({' or '.join(str(n) for n in shots)}-shot)" if shots else ""
        what = f"The lm-evaluation-harness task {code(subject.name)}{shot}"
    else:
        what = f"The efficiency workload {code(subject.name)}"
    return (
        f"{what}: each chart plots one measure against the pruned expansion ratio, one series per model. Hover a point "
        "for its value; click it to open its record's row; click a name in the legend to hide or show its series."
    )


def subject_page(subject: Subject) -> str:
    """A task's (or workload's) page: a chart per measure, each with the numbers behind it."""
    source = outcome_page(subject.kind, subject.name)
    blocks = [_subject_intro(subject)]
    for measure in subject.measures:
        blocks.append(
            f"## {measure.label} {{ #{measure.chart_name} }}\n\n{_caption(measure)}\n\n{chart_block(measure)}\n\n"
            + details("The numbers behind the chart", measure_table(source, measure), kind="abstract")
        )
    if subject.bound:
        blocks.append(speedup_section(source, subject.bound))
    return page(subject_title(subject), *blocks, meta={"title": subject_title(subject)})


def subject_pages(subject_list: Iterable[Subject]) -> dict[str, str]:
    """Every task's and workload's page, by path relative to docs/."""
    return {outcome_page(subject.kind, subject.name): subject_page(subject) for subject in subject_list}


# --- a model's outcomes ---------------------------------------------------------------------------


def model_outcomes_section(model_id: str, points: Sequence[OutcomePoint]) -> str:
    """The ``Outcomes`` section of a model's page: every value of its records, by task, metric and level."""
    source = model_page(model_id)
    parts = [point for point in points if is_run_part(point.outcome)]
    ordered = sorted((point for point in points if not is_run_part(point.outcome)), key=_table_order)
    rows = []
    for point in ordered:
        outcome = point.outcome
        measure = Measure(outcome.kind, subject_of(outcome)[1], *measure_of(outcome), (point,))
        target = f"{outcome_page(outcome.kind, measure.subject)}#{measure.chart_name}"
        rows.append(
            (
                f"[{point.record.pruning_pct}](#{row_anchor(point.record.pruning_pct)})",
                ratio(point.expansion_ratio),
                f"[{measure.subject}]({relative(source, target)})",
                code(measure.label),
                value_text(outcome.value),
                spread_cell(point),
                source_link(source, point),
            )
        )
    intro = (
        f"{count(len(points))} values measured on this model's records, from the results files `catalogue results add` "
        f"checked ([{OUTCOMES_TITLE.lower()}]({relative(source, OUTCOMES_PAGE)})). Each task links to its chart, each "
        "pruning percentage to its row above."
    )
    if parts:
        intro += (
            f" The {count(len(parts))} single runs of the study's per-run carbon files are on their workloads' pages "
            "(this table lists the runs' means, from the study's aggregate file)."
        )
    return f"## Outcomes\n\n{intro}\n\n" + unsearched(table(MODEL_OUTCOME_COLUMNS, rows, "rrllrrl"))


def _table_order(point: OutcomePoint) -> tuple:
    """Scores before efficiency, then by task, measure and pruning percentage."""
    kind, name = subject_of(point.outcome)
    measure, filter_ = measure_of(point.outcome)
    return (kind != "score", name, measure, filter_ or "", point.record.pruning_pct)

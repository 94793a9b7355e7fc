"""The study's tables regenerated from the stored outcomes: per model, each level's value and change from baseline per task.

The study publishes, per model, one row per expansion ratio and one column per task, each cell the
value and its change from the baseline (``0.2511 (-19.3%)``). Here the same table is computed from
``data/outcomes.json``: one column per task, with the metric it shows written in its header. The
metric of a task is the first of ``HEADLINE_METRICS`` it has (the choice the study's README makes:
``catalogue results check`` matches each of its columns to these); the study's JSON and CSV copies
of a value are one value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..core.comparison import pct_cell, ways_of
from ..core.outcome_records import ScoreOutcome
from ..core.records import ExpansionRecord, successful_by_key
from .links import model_page, relative, row_anchor
from .markdown import page, table, unsearched
from .views import short_name

STUDY_TABLES_PAGE = "outcomes/study-tables.md"
STUDY_TABLES_TITLE = "The study's tables"

#: A task's column shows the first of these metrics (and filters) it has.
HEADLINE_METRICS = (
    ("acc_norm", None),
    ("acc_norm", "none"),
    ("accuracy", None),
    ("acc", "none"),
    ("exact_match", "flexible-extract"),
    ("exact_match", "strict-match"),
    ("prompt_level_strict_acc", "none"),
    ("word_perplexity", "none"),
    ("perplexity", None),
    ("perplexity", "none"),
)


@dataclass(frozen=True)
class Column:
    """One task's column: the task, the metric and filter it shows."""

    task: str
    metric: str
    filter: str | None

    @property
    def header(self) -> str:
        """``mmlu: accuracy``, ``gsm8k: exact_match (flexible-extract)``."""
        return f"{self.task}: {self.metric}" + (f" ({self.filter})" if self.filter not in (None, "none") else "")


def headline_columns(scores: Iterable[ScoreOutcome]) -> list[Column]:
    """Each task's column: the first ``HEADLINE_METRICS`` entry it has; tasks with none of them are left out."""
    have: dict[str, set[tuple[str, str | None]]] = {}
    for outcome in scores:
        have.setdefault(outcome.task, set()).add((outcome.metric, outcome.filter))
    columns = []
    for task in sorted(have):
        chosen = next((pair for pair in HEADLINE_METRICS if pair in have[task]), None)
        if chosen is not None:
            columns.append(Column(task, *chosen))
    return columns


def model_table(source: str, model_id: str, scores: list[ScoreOutcome], records: dict) -> str:
    """One model's table: a row per level (ratio, pruning %), a cell per task: value (change from baseline)."""
    columns = headline_columns(scores)
    values: dict[tuple[int, Column], list[ScoreOutcome]] = {}
    for outcome in scores:
        column = Column(outcome.task, outcome.metric, outcome.filter)
        if column in columns:
            values.setdefault((outcome.pruning_pct, column), []).append(outcome)
    rows = []
    for pct in sorted({outcome.pruning_pct for outcome in scores}):
        record = records[(model_id, pct)]
        ratio = record.pruned_architecture.expansion_ratio_exact
        cells = [f"[{ratio:.2f}x]({relative(source, model_page(model_id))}#{row_anchor(pct)}) ({pct} %)"]
        for column in columns:
            cells.append(_cell(values.get((pct, column), []), values.get((0, column), []), pct))
        rows.append(cells)
    return unsearched(table(("Expansion ratio (pruning)", *(column.header for column in columns)), rows, "l" + "r" * len(columns)))


def _cell(level: list[ScoreOutcome], baseline: list[ScoreOutcome], pct: int) -> str:
    """``0.2511 (-19.3 %)``: the value and its change from the baseline measured the same way; ``-`` for none."""
    if not level:
        return "-"
    outcome = min(level, key=lambda item: item.source.path)
    if pct == 0:
        return f"{outcome.value:g}"
    paired = next((base for way in ways_of(outcome) for base in baseline if way in ways_of(base)), None)
    paired = paired or (baseline[0] if baseline else None)
    if paired is None or paired.value == 0:
        return f"{outcome.value:g} (no baseline)"
    return f"{outcome.value:g} ({pct_cell(100 * (outcome.value - paired.value) / paired.value)})"


def study_tables_page(outcomes: Iterable, records: Iterable[ExpansionRecord]) -> str:
    """The page: per model with scores, its table as the study publishes it, from the stored outcomes."""
    by_key = successful_by_key(records)
    by_model: dict[str, list[ScoreOutcome]] = {}
    for outcome in outcomes:
        if isinstance(outcome, ScoreOutcome) and (outcome.base_model, outcome.pruning_pct) in by_key:
            by_model.setdefault(outcome.base_model, []).append(outcome)
    intro = (
        "Per model, the table the study publishes — a row per expansion ratio, a column per task, each cell the value and "
        "its change from the model's own baseline (0 %) — computed from the stored outcomes. Each column's header names "
        "the metric it shows (acc_norm where the task has it, else accuracy; gsm8k's flexible-extract exact match; "
        "ifeval's prompt-level strict accuracy; the word perplexity of wikitext). A baseline left out by the checks "
        "leaves its levels' changes to the baseline of the study's other copy of the table."
    )
    sections = [f"## {short_name(model_id)}\n\n" + model_table(STUDY_TABLES_PAGE, model_id, scores, by_key) for model_id, scores in sorted(by_model.items())]
    if not sections:
        sections = ["No scores are stored yet."]
    return page(STUDY_TABLES_TITLE, intro, *sections, meta={"title": STUDY_TABLES_TITLE})

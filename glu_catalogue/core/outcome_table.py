"""The long CSV of outcomes (``data/outcomes.csv``): one row per outcome, its columns declared once.

Each column has a name, a type and a description; the rows come from the records of
``outcome_records`` (the JSON is the source of truth, the CSV its projection, checked by
``catalogue verify``) and the Table Schema in ``schemas/`` is generated from these columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .outcome_records import EfficiencyOutcome, ScoreOutcome

#: (name, Table Schema type, description), in the CSV's order.
OUTCOME_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("record", "string", "the catalogue record measured, MODEL@PCT"),
    ("base_model", "string", "registry id of the base model"),
    ("pruning_pct", "integer", "optipfair pruning_percentage, 0-100"),
    ("kind", "string", "score (lm-evaluation-harness) or efficiency"),
    ("task", "string", "lm-eval task, or the efficiency workload's name"),
    ("measure", "string", "the metric (score) or the quantity with its unit (efficiency)"),
    ("filter", "string", "lm-eval's filter of the metric (none, strict-match, ...); empty for efficiency"),
    ("value", "number", "the value (an efficiency quantity: the mean of its runs, or their median where measured by catalogue bench)"),
    ("stderr", "number", "lm-eval's standard error; empty where none was given"),
    ("n_shot", "integer", "few-shot examples"),
    ("n_samples", "integer", "samples evaluated"),
    ("batch_size", "integer", "efficiency: the batch size"),
    ("prompt_count", "integer", "efficiency: the prompts of the workload"),
    ("max_new_tokens", "integer", "efficiency: the most tokens an answer may have"),
    ("runs", "integer", "efficiency: the runs the value aggregates"),
    ("runs_std", "number", "efficiency: standard deviation over the runs, as the file gives it"),
    ("harness_version", "string", "lm-evaluation-harness's version, where the file gives it"),
    ("measured_by", "string", "catalogue evaluate or catalogue bench; empty: read from a file made elsewhere"),
    ("weights", "string", "the weights measured (checkpoint, hub, random-init: a score of random-init weights measures nothing); empty where unknown"),
    ("source_format", "string", "the format of the file the value was read from"),
    ("source_path", "string", "that file, as it was given"),
    ("source_sha256", "string", "sha256 of that file's bytes"),
    ("source_location", "string", "where in that file"),
)

OUTCOME_COLUMN_NAMES = tuple(name for name, _, _ in OUTCOME_COLUMNS)


def outcome_row(outcome: ScoreOutcome | EfficiencyOutcome) -> list[Any]:
    """The CSV row of one outcome, in ``OUTCOME_COLUMNS`` order (None: an empty cell)."""
    common = {"record": outcome.record, "base_model": outcome.base_model, "pruning_pct": outcome.pruning_pct, "kind": outcome.kind, "value": outcome.value}
    if isinstance(outcome, ScoreOutcome):
        cells = {
            **common,
            "task": outcome.task,
            "measure": outcome.metric,
            "filter": outcome.filter,
            "stderr": outcome.stderr,
            "n_shot": outcome.n_shot,
            "n_samples": outcome.n_samples,
            "harness_version": outcome.harness_version,
        }
    else:
        workload = outcome.workload
        cells = {
            **common,
            "task": workload.name,
            "measure": outcome.quantity,
            "batch_size": workload.batch_size,
            "prompt_count": workload.prompt_count,
            "max_new_tokens": workload.max_new_tokens,
            "runs": outcome.runs.count if outcome.runs else None,
            "runs_std": outcome.runs.std if outcome.runs else None,
        }
    if outcome.measurement is not None:
        cells.update(measured_by=outcome.measurement.tool, weights=outcome.measurement.weights)
    source = outcome.source
    cells.update(source_format=source.format, source_path=source.path, source_sha256=source.sha256, source_location=source.location)
    return [cells.get(name) for name in OUTCOME_COLUMN_NAMES]


def outcome_rows(outcomes: Iterable[ScoreOutcome | EfficiencyOutcome]) -> list[list[Any]]:
    """Every outcome's row, in the order given."""
    return [outcome_row(outcome) for outcome in outcomes]

"""The outcomes as one table: each outcome's fields flattened, beside the architecture of the record it measured.

One row per outcome, in the order given (``outcomes.json``'s). A nested field is named
``parent_field`` (``workload_batch_size``, ``runs_std``, ``meter_idle_power_w``,
``source_sha256``, ``measurement_device``; ``measurement_seeds`` and ``measurement_versions``
stay one mapping each); a field an outcome does not have (a score's workload, an efficiency value's
metric) is empty; ``measure`` is the metric or the quantity, whichever the outcome has. ``value``
and ``runs_*`` are in the unit of the ``quantity`` (efficiency) or are the ``metric`` itself (score). The record's columns are its pruned architecture: the
expansion ratio I / H as a factor (``formulas.expansion_ratio``), the widths, the layers and the
parameter total; they are empty for an outcome whose record the catalogue lacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas

from ..core.formulas import expansion_ratio
from ..core.outcome_records import EfficiencyOutcome, ScoreOutcome
from ..core.records import ExpansionRecord, successful_by_key

#: The outcome's columns, in the table's order: every field of both kinds, nested ones flattened.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "record",
    "base_model",
    "pruning_pct",
    "kind",
    "task",
    "metric",
    "filter",
    "value",
    "stderr",
    "n_shot",
    "n_samples",
    "higher_is_better",
    "harness",
    "harness_version",
    "task_version",
    "task_hash",
    "workload_name",
    "workload_task",
    "workload_batch_size",
    "workload_prompt_count",
    "workload_max_new_tokens",
    "quantity",
    "runs_count",
    "runs_mean",
    "runs_std",
    "runs_min",
    "runs_max",
    "runs_seeds",
    "runs_outliers_excluded",
    "meter_tool",
    "meter_version",
    "meter_mode",
    "meter_idle_power_w",
    "meter_device",
    "source_path",
    "source_sha256",
    "source_format",
    "source_location",
    "runs_aggregate",
    "runs_median",
    "measurement_tool",
    "measurement_catalogue_version",
    "measurement_inputs_sha256",
    "measurement_kept_indices_sha256",
    "measurement_weights",
    "measurement_weights_source",
    "measurement_weights_revision",
    "measurement_seed",
    "measurement_device",
    "measurement_dtype",
    "measurement_machine",
    "measurement_seeds",
    "measurement_versions",
    "measurement_note",
)

#: Nested fields kept whole, as a mapping in one cell: their keys differ from one outcome to the next.
WHOLE_MAPPINGS = frozenset({"measurement_seeds", "measurement_versions"})

#: The record's columns: its pruned architecture.
RECORD_COLUMNS: tuple[str, ...] = ("expansion_ratio", "intermediate_size", "hidden_size", "num_hidden_layers", "total_parameters")

#: What is measured, for every outcome: the metric of a score, the quantity of an efficiency value.
MEASURE_COLUMN = "measure"

COLUMNS = OUTCOME_COLUMNS + (MEASURE_COLUMN,) + RECORD_COLUMNS

#: Columns of counts (pandas' nullable integers, so an empty cell does not turn them into floats).
INTEGER_COLUMNS = (
    "pruning_pct",
    "n_shot",
    "n_samples",
    "workload_batch_size",
    "workload_prompt_count",
    "workload_max_new_tokens",
    "runs_count",
    "runs_outliers_excluded",
    "measurement_seed",
    "intermediate_size",
    "hidden_size",
    "num_hidden_layers",
    "total_parameters",
)


def flat_fields(document: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``document`` with its nested mappings flattened: ``{"runs": {"std": 1}}`` -> ``{"runs_std": 1}``."""
    cells: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, Mapping) and f"{prefix}{key}" not in WHOLE_MAPPINGS:
            cells.update(flat_fields(value, f"{prefix}{key}_"))
        else:
            cells[f"{prefix}{key}"] = value
    return cells


def record_cells(record: ExpansionRecord) -> dict[str, Any]:
    """The record's columns of a successful record."""
    block = record.pruned_architecture
    return {
        "expansion_ratio": expansion_ratio(block.intermediate_size, block.hidden_size),
        "intermediate_size": block.intermediate_size,
        "hidden_size": block.hidden_size,
        "num_hidden_layers": block.num_hidden_layers,
        "total_parameters": block.total_parameters,
    }


def _measure(outcome: ScoreOutcome | EfficiencyOutcome) -> str:
    """What is measured: a score's metric, an efficiency value's quantity (the CSV's ``measure``)."""
    return outcome.metric if isinstance(outcome, ScoreOutcome) else outcome.quantity


def outcome_frame(outcomes: Iterable[ScoreOutcome | EfficiencyOutcome], records: Iterable[ExpansionRecord]) -> pandas.DataFrame:
    """One row per outcome (``COLUMNS``), joined to its successful record by base model and pruning %."""
    by_label = {key: record_cells(record) for key, record in successful_by_key(records).items()}
    rows = [
        {**flat_fields(outcome.model_dump(exclude_none=True)), MEASURE_COLUMN: _measure(outcome), **by_label.get((outcome.base_model, outcome.pruning_pct), {})}
        for outcome in outcomes
    ]
    frame = pandas.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({name: "Int64" for name in INTEGER_COLUMNS} | {"higher_is_better": "boolean"})

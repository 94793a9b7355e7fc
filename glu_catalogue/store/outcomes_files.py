"""The outcome files of a data directory: ``outcomes.json`` (the truth) and ``outcomes.csv`` (its long projection).

``read_outcomes(data_dir)`` gives the stored ``OutcomesFile`` (an empty one where there is none);
``outcomes_texts`` the two files' texts for a write, deterministic: outcomes sorted by record,
kind, task, measure and source, JSON with sorted keys within each record as the model declares them.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from ..core.outcome_records import OutcomesFile, outcome_key
from ..core.outcome_table import OUTCOME_COLUMN_NAMES, outcome_rows
from ..errors import ReadError
from .reading import MAX_CATALOGUE_BYTES, parse_json, path_exists, read_bytes
from .writing import csv_lines

OUTCOMES_FILE = "outcomes.json"
OUTCOMES_CSV_FILE = "outcomes.csv"


def read_outcomes(data_dir: Path) -> OutcomesFile:
    """The outcomes stored in ``data_dir`` (none yet: an empty file); ``ReadError`` for one that is not valid."""
    path = Path(data_dir) / OUTCOMES_FILE
    if not path_exists(path):
        return OutcomesFile()
    document = parse_json(path, read_bytes(path, MAX_CATALOGUE_BYTES, "outcomes.json"))
    try:
        return OutcomesFile.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        raise ReadError(path, f"{'.'.join(map(str, first['loc']))}: {first['msg']} ({error.error_count()} problems; `catalogue verify` lists them)") from None


def sorted_outcomes(outcomes: OutcomesFile) -> OutcomesFile:
    """``outcomes`` in the files' order: by record's model and pct, then kind, measurement and source."""

    def order(outcome):
        record, kind, *rest = outcome_key(outcome)
        return (outcome.base_model, outcome.pruning_pct, kind, tuple(str(part) for part in rest))

    left_out = sorted(outcomes.left_out, key=lambda item: (item.record or "", item.source.sha256, item.source.location))
    return OutcomesFile(outcomes=sorted(outcomes.outcomes, key=order), left_out=left_out)


def outcomes_texts(data_dir: Path, outcomes: OutcomesFile) -> dict[Path, str]:
    """Path -> text of ``outcomes.json`` and ``outcomes.csv`` for ``outcomes`` (sorted)."""
    outcomes = sorted_outcomes(outcomes)
    document = outcomes.model_dump(mode="json", exclude_none=True)
    table = csv_lines([OUTCOME_COLUMN_NAMES, *outcome_rows(outcomes.outcomes)])
    return {
        Path(data_dir) / OUTCOMES_FILE: json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        Path(data_dir) / OUTCOMES_CSV_FILE: table,
    }

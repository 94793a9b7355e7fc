"""``catalogue compare`` and ``glu_catalogue.compare()``: the stored outcomes compared at equal ratio or pruning %.

Reads ``outcomes.json`` and the catalogue of a data directory and hands them to
``core.comparison.compare``; ``comparison_frame`` gives its rows as a DataFrame (one column per
field, the change and % change included).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from ..core.comparison import DEFAULT_RATIO_TOLERANCE, Comparison, compare
from ..core.records import Catalogue
from ..errors import InputError
from ..store.outcomes_files import read_outcomes
from ..store.paths import CATALOGUE_FILE, default_data_dir
from ..store.reading import load_catalogue

#: The DataFrame's columns, in order (``Compared.as_dict``'s keys).
COMPARISON_COLUMNS = (
    "kind",
    "task",
    "measure",
    "filter",
    "base_model",
    "record",
    "pruning_pct",
    "expansion_ratio",
    "value",
    "spread",
    "baseline_record",
    "baseline_value",
    "baseline_spread",
    "spread_kind",
    "change",
    "change_pct",
    "sources",
    "note",
)


def compare_stored(
    data_dir: Path | None = None,
    *,
    ratio: float | None = None,
    pruning_pct: int | None = None,
    tolerance: float = DEFAULT_RATIO_TOLERANCE,
    models: Sequence[str] = (),
) -> Comparison:
    """The stored outcomes of ``data_dir`` (default: the shipped data) compared at ``ratio`` or ``pruning_pct``.

    ``InputError`` for a bad request: neither or both of ratio and pct, a ratio not above 0, a
    negative tolerance, a pct outside 0-100, a model the catalogue does not hold.
    """
    if (ratio is None) == (pruning_pct is None):
        raise InputError("give --ratio R or --pct P (one of them)")
    if ratio is not None and not 0 < ratio < math.inf:
        raise InputError(f"--ratio {ratio:g}: an expansion ratio is a factor above 0 (2.4 for 2.4x)")
    if not 0 <= tolerance < math.inf:
        raise InputError(f"--tolerance {tolerance:g}: a tolerance is a factor of 0 or more")
    if pruning_pct is not None and not 0 <= pruning_pct <= 100:
        raise InputError(f"--pct {pruning_pct}: a pruning % is from 0 to 100")
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    catalogue: Catalogue = load_catalogue(data_dir / CATALOGUE_FILE)
    known = {record.base_model for record in catalogue.models}
    unknown = [model for model in models if model not in known]
    if unknown:
        raise InputError(f"--model {unknown[0]}: the catalogue in {data_dir} holds no record of it")
    return compare(read_outcomes(data_dir).outcomes, catalogue.models, ratio=ratio, pruning_pct=pruning_pct, tolerance=tolerance, models=models)


def comparison_frame(comparison: Comparison):
    """The rows of ``comparison`` as a pandas DataFrame (``COMPARISON_COLUMNS``; ``sources`` a tuple per row)."""
    import pandas

    rows = [{**row.as_dict(), "sources": row.sources} for row in comparison.rows]
    frame = pandas.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    return frame.astype({"pruning_pct": "Int64"})

"""The catalogue records a checkpoint is shaped like: every architecture field and the total equal.

A published pruned checkpoint rarely says which record it is. ``matching_records`` compares
what its headers hold (the config's architecture with the weights' uniform MLP width, and the
total counted from the tensor shapes) with the pruned side of every successful record of a
catalogue. Equal shapes are not equal weights: a base model and its instruct twin have the same
architecture at every level, so both are named, and the match is reported as one of architecture, not of weights.
Nothing is matched for a checkpoint whose layers differ in width, or whose layout the closed
form does not count (a mixture of experts).
"""

from __future__ import annotations

from pathlib import Path

from ..core.architecture import ARCHITECTURE_FIELDS, DEFAULTS
from ..core.records import ExpansionRecord
from ..store.reading import ReadError
from .inspection import Inspection

#: Fields a catalogue record states that the headers do not decide (measured counts stand in for them).
NOT_COMPARED = frozenset({"non_mlp_parameters", "num_mlp_layers"})


def comparable(inspection: Inspection) -> bool:
    """True when a record could have the checkpoint's architecture: every layer one width, a layout the closed form counts."""
    return inspection.uniform and bool(inspection.layers) and inspection.standard_layout


def matching_records(
    inspection: Inspection, catalogue_path: Path | None = None, records: dict[tuple[str, int], ExpansionRecord] | None = None
) -> list[ExpansionRecord]:
    """The successful records of the catalogue (a JSON file or data directory, default data/; or ``records``, read
    once by a caller that matches many checkpoints) the checkpoint is shaped like."""
    from .inspect import successful_records

    if not comparable(inspection):
        return []
    if records is None:
        try:
            _, records = successful_records(catalogue_path)
        except ReadError:
            return []  # no catalogue to compare with is not a problem of the checkpoint
    architecture = inspection.architecture.model_copy(update={"intermediate_size": inspection.layer_intermediate_sizes[0]})
    wanted = {name: getattr(architecture, name) for name in ARCHITECTURE_FIELDS if name not in NOT_COMPARED}
    found = []
    for record in records.values():
        block = record.pruned_architecture
        if block is None or block.total_parameters != inspection.total_parameters:
            continue
        if all(_stated(block, name) == value for name, value in wanted.items()):
            found.append(record)
    return sorted(found, key=lambda record: (record.base_model, record.pruning_pct))


def _stated(block, name: str):
    """A field of a record's architecture block; one a record omits holds its default (``LATER_FIELDS``)."""
    value = getattr(block, name, None)
    return DEFAULTS.get(name) if value is None else value

"""One repository the Hub lists as derived from a base model, read as ``catalogue inspect`` reads a hub id, and classified.

``scan_repository`` reads config.json, the index and every safetensors header (never a weight:
``checkpoints.hub_checkpoint``), inspects them (``checkpoints.inspect``) and says: each layer's GLU
width, whether every layer has one width, the expansion ratio (each layer's, and the one ratio
of a uniform model), the parameters, and the catalogue records of the same shape
(``checkpoints.matching``). A repository that cannot be read says why, in one of a few kinds
(``UNREADABLE_KINDS``) and one line. Pure reading: nothing is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..checkpoints.hub_checkpoint import read_hub_checkpoint
from ..checkpoints.inspect import inspect_checkpoint
from ..checkpoints.matching import matching_records
from ..core import formulas
from ..core.records import ExpansionRecord
from ..errors import CatalogueError
from ..store.hub_files import open_repository
from ..store.hub_reach import HubTooSlow

#: Why a repository could not be read, by kind (the first that fits its error).
UNREADABLE_KINDS = (
    ("gated", "a gated repository"),
    ("too-slow", "was too slow"),
    ("not-glu", "not a GLU decoder checkpoint"),
    ("no-config", "has no config.json"),
    ("no-safetensors-headers", "not a safetensors repository"),
    ("missing", "no such repository"),
)


@dataclass
class ScannedRepository:
    """What the scan found of one repository: its shape when readable, else why not (``kind`` and ``reason``)."""

    repo_id: str
    kind: str  # uniform, non-uniform, or an unreadable kind
    commit: str | None = None
    reason: str | None = None
    model_type: str | None = None
    hidden_size: int | None = None
    layer_widths: list[int | None] = field(default_factory=list)
    uniform: bool | None = None
    expansion_ratio: float | None = None
    expansion_ratio_min: float | None = None
    expansion_ratio_max: float | None = None
    total_parameters: int | None = None
    matching_records: list[str] = field(default_factory=list)
    bytes_read: int = 0

    @property
    def readable(self) -> bool:
        """True when its headers were read and inspected."""
        return self.kind in ("uniform", "non-uniform")

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (the state file's line, and ``--format json``)."""
        return asdict(self)


def scan_repository(repo_id: str, records: dict[tuple[str, int], ExpansionRecord]) -> ScannedRepository:
    """Read one repository's config and headers and say what it is (``records``: the catalogue's successful ones,
    to name those of its shape), or why it cannot be read."""
    repository = None
    try:
        repository = open_repository(repo_id)
        checkpoint, repository = read_hub_checkpoint(repo_id, repository=repository)
        inspection = inspect_checkpoint(checkpoint)
    except HubTooSlow as error:
        return _unreadable(repo_id, "too-slow", str(error), repository)
    except CatalogueError as error:
        text = str(error)
        kind = next((kind for kind, phrase in UNREADABLE_KINDS if phrase in text), "unreadable")
        return _unreadable(repo_id, kind, text, repository)
    hidden = inspection.weights_hidden_size
    widths = inspection.layer_intermediate_sizes
    ratios = [ratio for ratio in inspection.layer_expansion_ratios if ratio is not None]
    dense = [width for width in widths if width is not None]
    return ScannedRepository(
        repo_id,
        "uniform" if inspection.uniform else "non-uniform",
        repository.commit,
        model_type=checkpoint.config.get("model_type") if isinstance(checkpoint.config.get("model_type"), str) else None,
        hidden_size=hidden,
        layer_widths=widths,
        uniform=inspection.uniform,
        expansion_ratio=formulas.expansion_ratio(dense[0], hidden) if inspection.uniform and dense else None,
        expansion_ratio_min=min(ratios) if ratios else None,
        expansion_ratio_max=max(ratios) if ratios else None,
        total_parameters=inspection.total_parameters,
        matching_records=[f"{record.base_model}@{record.pruning_pct}" for record in matching_records(inspection, records=records)],
        bytes_read=repository.bytes_read,
    )


def _unreadable(repo_id: str, kind: str, reason: str, repository) -> ScannedRepository:
    return ScannedRepository(
        repo_id,
        kind,
        repository.commit if repository else None,
        reason=reason.partition(": ")[2] if reason.startswith(repo_id) else reason,
        bytes_read=repository.bytes_read if repository else 0,
    )

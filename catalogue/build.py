"""``catalogue build``: decide what to (re)build, produce the records, write and check the result.

This module holds the orchestration only; records come from ``derive`` (closed form). It
imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .derive import closed_form_provenance, closed_form_record
from .paths import CATALOGUE_FILE
from .publish import write_catalogue
from .records import Catalogue, ExpansionRecord
from .registry import get_model
from .store import ReadError, load_catalogue

#: The study's pruning levels, in percent.
DEFAULT_LEVELS = (0, 10, 20, 30, 40, 50, 60)

#: The study's four models.
STUDY_MODELS = (
    "meta-llama/Llama-3.2-1B",
    "meta-llama/Llama-3.2-1B-Instruct",
    "meta-llama/Llama-3.2-3B",
    "meta-llama/Llama-3.2-3B-Instruct",
)


class BuildError(Exception):
    """The build cannot start (bad options, unreadable existing catalogue); nothing was written."""


def parse_levels(text: str) -> tuple[int, ...]:
    """``"0,10,20"`` -> ``(0, 10, 20)``; each an integer percentage 0-100, duplicates dropped."""
    levels = []
    for part in text.split(","):
        part = part.strip()
        try:
            level = int(part)
        except ValueError:
            raise BuildError(f"--levels: {part!r} is not an integer percentage (e.g. --levels 0,10,20)") from None
        if not 0 <= level <= 100:
            raise BuildError(f"--levels: {level} is outside 0-100")
        levels.append(level)
    return tuple(sorted(set(levels)))


def existing_records(data_dir: Path) -> list[ExpansionRecord]:
    """The records already in ``data_dir`` (none if there is no catalogue yet)."""
    path = data_dir / CATALOGUE_FILE
    if not path.exists():
        return []
    try:
        catalogue: Catalogue = load_catalogue(path)
    except ReadError as error:
        raise BuildError(f"{error}; fix or move the file, the build will not overwrite it") from None
    except ValueError as error:  # pydantic's ValidationError
        raise BuildError(f"{path}: not a valid catalogue ({str(error).splitlines()[0]}); run `catalogue verify {path}`") from None
    return list(catalogue.models)


@dataclass
class ClosedFormResult:
    """What a closed-form build wrote."""

    records: list[ExpansionRecord] = field(default_factory=list)
    changed_files: list[Path] = field(default_factory=list)


def build_closed_form(model_ids: tuple[str, ...], levels: tuple[int, ...], data_dir: Path) -> ClosedFormResult:
    """Replace the records of ``model_ids`` x ``levels`` with closed-form ones and write the catalogue.

    Records of other models and levels are kept as they are.
    """
    entries = [get_model(model_id) for model_id in model_ids]
    provenance = closed_form_provenance()
    built = [closed_form_record(entry.model_id, entry.shape, level, provenance) for entry in entries for level in levels]
    keys = {(record.base_model, record.pruning_pct) for record in built}
    kept = [record for record in existing_records(data_dir) if (record.base_model, record.pruning_pct) not in keys]
    records = kept + built
    changed = write_catalogue(data_dir, records, optipfair_version="none (closed form of the 0.4.2 size rule)")
    return ClosedFormResult(records=built, changed_files=changed)

"""``catalogue results export --format eee``: the stored scores as Every Eval Ever records, each validated before it is written.

Every record is checked against the vendored 0.3.0 schema (``interop.eee_schema``) before any file
is written; one that does not validate is a bug of the export and stops it with nothing written.
The files are written in one atomic step (``store.writing``) under the directory given, which is
made if it is missing; nothing else is touched.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..core.records import successful_by_key
from ..core.text import whole_number
from ..errors import BuildError, InputError
from ..interop.eee_export import eee_records
from ..interop.eee_schema import schema_errors
from ..store.local_paths import path_kind
from ..store.outcomes_files import read_outcomes
from ..store.paths import default_data_dir
from ..store.writing import recover_data_dir, write_files
from .build import existing_catalogue


@dataclass
class Exported:
    """What an export wrote: every record's file (relative to the output directory), and those whose content changed."""

    out_dir: Path
    files: tuple[str, ...]
    changed: tuple[Path, ...]
    scores: int


def retrieved_timestamp() -> str:
    """Now in Unix seconds, as Every Eval Ever writes it; ``$SOURCE_DATE_EPOCH`` where set (reproducible files)."""
    fixed = whole_number(os.environ.get("SOURCE_DATE_EPOCH", ""), max_digits=12)
    return str(fixed) if fixed is not None else str(int(time.time()))


def export_eee(out_dir: Path, data_dir: Path | None = None) -> Exported:
    """Write one Every Eval Ever record per (record, source) of ``data_dir``'s stored scores under ``out_dir``."""
    data_dir = Path(data_dir or default_data_dir())
    out_dir = Path(out_dir)
    kind = path_kind(str(out_dir))
    if kind not in (None, "directory"):
        raise InputError(f"{out_dir}: --out must be a directory (it is a {kind})")
    recover_data_dir(data_dir)
    catalogue = existing_catalogue(data_dir)
    outcomes = read_outcomes(data_dir).outcomes
    documents = eee_records(outcomes, successful_by_key(catalogue.models if catalogue else []), retrieved_timestamp())
    for name, document in documents.items():
        errors = schema_errors(document)
        if errors:
            raise BuildError(f"{name}: the record written would not validate against Every Eval Ever's schema ({errors[0]}); nothing written")
    texts = {out_dir / name: json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n" for name, document in documents.items()}
    if texts:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"{out_dir}: cannot make the directory ({error.strerror or type(error).__name__})") from None
    changed = write_files(texts, journal_dir=out_dir, roots=(out_dir,)) if texts else []
    scores = sum(len(document["evaluation_results"]) for document in documents.values())
    return Exported(out_dir, tuple(documents), tuple(changed), scores)

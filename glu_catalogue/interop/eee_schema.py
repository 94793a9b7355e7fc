"""The vendored Every Eval Ever schema (``vendor/``, with its licence and provenance) and validation against it.

``jsonschema`` is a runtime dependency: the export promises that every record it writes validates,
and a promise that holds only when an optional package happens to be installed is not one.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

#: The schema version the export writes and validates against.
EEE_SCHEMA_VERSION = "0.3.0"

#: The vendored schema file (unchanged copy of Every Eval Ever's ``eval.schema.json``).
EEE_SCHEMA_FILE = Path(__file__).parent / "vendor" / f"every_eval_ever_{EEE_SCHEMA_VERSION}.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator(json.loads(EEE_SCHEMA_FILE.read_text(encoding="utf-8")))


def schema_errors(document: Any) -> list[str]:
    """Each way ``document`` breaks the vendored schema, as ``path: message`` (empty: it validates)."""
    errors = sorted(_validator().iter_errors(document), key=lambda error: list(map(str, error.absolute_path)))
    return [f"{'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message[:200]}" for error in errors]

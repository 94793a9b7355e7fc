"""The user's cache of per-type facts derived on the meta device for a transformers release the shipped facts do not hold for.

Where a model type's modelling source in the installed transformers differs from the one its shipped
facts were derived with (``store.known_types``), the facts are derived once on the meta device
(``generate.type_facts.cache_type_facts``) and kept here, one small JSON file per release, type and
source digest, so the next call counts without torch. The directory is ``$CATALOGUE_CACHE_DIR``, else
the user's cache directory (platformdirs: ``~/.cache/glu-catalogue`` on Linux); nothing in it is needed:
delete it at will. A file that cannot be read, or does not say what its name says, is ignored with a
warning on stderr and derived again; a cache that cannot be written costs time, never an answer.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import WriteError

#: Environment variable naming the cache directory (tests point it at a temporary directory).
CACHE_DIR_ENV = "CATALOGUE_CACHE_DIR"

#: The cache file's format; a file of another format is derived again.
CACHE_FORMAT = 1

#: A cache file holds a few kilobytes: anything much larger is not one of ours.
MAX_CACHE_FILE_BYTES = 1 << 20

#: Cache files this process has warned about (a command may look a type up several times).
_WARNED: set[Path] = set()

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def cache_dir() -> Path:
    """``$CATALOGUE_CACHE_DIR``, else the user's cache directory for glu-catalogue (platformdirs)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("glu-catalogue", appauthor=False))


def cache_path(transformers_version: str, model_type: str, source_digest: str) -> Path:
    """The file holding ``model_type``'s facts for this release and source digest."""
    version, name = _UNSAFE.sub("_", transformers_version), _UNSAFE.sub("_", model_type)
    return cache_dir() / "type-facts" / f"transformers-{version}" / f"{name}.{source_digest[:16]}.json"


def read_cached(transformers_version: str, model_type: str, source_digest: str, entry_problem) -> dict[str, Any] | None:
    """The cached document (``entry`` or ``not_countable``) for this key; None when absent or unusable (warned).

    ``entry_problem(entry)`` says what is wrong with a cached entry's facts, or None when they are usable.
    """
    path = cache_path(transformers_version, model_type, source_digest)
    try:
        if path.stat().st_size > MAX_CACHE_FILE_BYTES:
            return _ignored(path, f"larger than {MAX_CACHE_FILE_BYTES} bytes")
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        return _ignored(path, f"cannot be read ({getattr(error, 'strerror', None) or error})")
    except ValueError as error:
        return _ignored(path, f"not JSON ({error})")
    key = {"format": CACHE_FORMAT, "transformers_version": transformers_version, "model_type": model_type, "source_digest": source_digest}
    if not isinstance(document, dict) or any(document.get(name) != value for name, value in key.items()):
        return _ignored(path, "not the facts its name says (format, transformers version, model type or source digest)")
    if isinstance(document.get("not_countable"), str) and "entry" not in document:
        return document
    problem = entry_problem(document.get("entry")) if "not_countable" not in document else "both facts and a reason"
    if problem is not None:
        return _ignored(path, problem)
    return document


def write_cached(transformers_version: str, model_type: str, source_digest: str, result: Mapping[str, Any]) -> Path | None:
    """Keep ``result`` (``{"entry": facts}`` or ``{"not_countable": why}``) for this key, atomically; the path, or
    None (with a warning) when the cache cannot be written."""
    path = cache_path(transformers_version, model_type, source_digest)
    document = {
        "format": CACHE_FORMAT,
        "written_by": "glu-catalogue: facts of one model type derived on the meta device; delete at will",
        "transformers_version": transformers_version,
        "model_type": model_type,
        "source_digest": source_digest,
        **result,
    }
    from .writing import write_files  # its imports cost a command that only reads the cache 50 ms

    try:
        write_files({path: json.dumps(document, indent=1, sort_keys=True) + "\n"})
    except WriteError as error:
        print(f"warning: the facts of {model_type} are not kept for the next call: {error}", file=sys.stderr)
        return None
    return path


def _ignored(path: Path, why: str) -> None:
    """Warn (once per file and process) that a cache file is not used."""
    if path not in _WARNED:
        _WARNED.add(path)
        print(f"warning: {path}: {why}; ignored, the facts are derived again", file=sys.stderr)

"""The installed transformers, found and read as files, never imported: its version, its directory, a digest of some of its files.

Importing transformers costs seconds and, for a modelling module, torch; ``store.known_types``
needs only to know whether a type's source is the one its shipped facts were derived from.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path


@lru_cache(maxsize=1)
def installed_transformers_version() -> str | None:
    """The installed transformers' version, read from its package metadata (not imported, 5-10 ms: read once); None if absent."""
    try:
        return metadata.version("transformers")
    except metadata.PackageNotFoundError:
        return None


def transformers_root() -> Path | None:
    """The directory of the transformers package Python would import (found, not imported); None if there is none."""
    try:
        spec = importlib.util.find_spec("transformers")
    except (ImportError, ValueError):  # ValueError: a None in sys.modules, as a test blocks it
        return None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    return Path(locations[0]) if locations else None


#: transformers' auto mappings: which config class, module and causal-LM class each model type has. They change with
#: every release (new types), so only their lines that name the type enter its digest.
AUTO_MAPPING_FILES = ("models/auto/auto_mappings.py", "models/auto/configuration_auto.py", "models/auto/modeling_auto.py")


def source_digest(root: Path, files: Sequence[str], model_type: str) -> str:
    """sha256 of ``files`` (paths inside the transformers package, in order) as bytes, a missing file marked as such,
    and of the lines of ``AUTO_MAPPING_FILES`` that name ``model_type`` (in quotes): a type mapped to another class,
    config or module in a release whose modelling files did not change gets another digest all the same."""
    digest = hashlib.sha256()
    for name in files:
        content = _read(root / name)
        digest.update(f"{name}\0{-1 if content is None else len(content)}\0".encode())
        digest.update(content or b"")
    token = f'"{model_type}"'.encode()
    for name in AUTO_MAPPING_FILES:
        lines = [line.strip() for line in (_read(root / name) or b"").splitlines() if token in line]
        digest.update(f"{name}\0".encode() + b"\n".join(lines) + b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=16)
def _read(path: Path) -> bytes | None:
    """A file's bytes, None when it cannot be read (kept for the process: a command may digest several types)."""
    try:
        return path.read_bytes()
    except OSError:
        return None

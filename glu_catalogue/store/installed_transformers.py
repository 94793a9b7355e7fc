"""The installed transformers, found and read as files, never imported: its version, its directory, a digest of some of its files.

Importing transformers costs seconds and, for a modelling module, torch; ``store.known_types``
needs only to know whether a type's source is the one its shipped facts were derived from.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path


def installed_transformers_version() -> str | None:
    """The installed transformers' version, read from its package metadata (not imported); None if absent."""
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


def source_digest(root: Path, files: Sequence[str]) -> str:
    """sha256 of ``files`` (paths inside the transformers package, in order) as bytes, a missing file marked as such."""
    digest = hashlib.sha256()
    for name in files:
        try:
            content = (root / name).read_bytes()
        except OSError:
            content = None
        digest.update(f"{name}\0{-1 if content is None else len(content)}\0".encode())
        digest.update(content or b"")
    return digest.hexdigest()

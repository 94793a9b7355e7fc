"""Where the catalogue's files live: a source checkout, or the copies shipped in the wheel."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
_SHIPPED_DIR = PACKAGE_DIR / "_shipped"

#: File names inside a data directory.
CATALOGUE_FILE = "expansion_rates.json"
SUMMARY_FILE = "expansion_rates_summary.csv"
MODELS_DIR = "models"


def repository_root() -> Path | None:
    """The source checkout this package runs from (editable install), or None when installed."""
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file() and (candidate / "data").is_dir():
        return candidate
    return None


def _top_level(name: str) -> Path:
    root = repository_root()
    return root / name if root is not None else _SHIPPED_DIR / name


def default_data_dir() -> Path:
    """``$CATALOGUE_DATA_DIR``, else the checkout's ``data/``, else the data shipped in the wheel."""
    override = os.environ.get("CATALOGUE_DATA_DIR")
    return Path(override) if override else _top_level("data")


def schemas_dir() -> Path:
    """The committed JSON Schemas (``schemas/``)."""
    return _top_level("schemas")


def registry_dir() -> Path:
    """``$CATALOGUE_REGISTRY_DIR``, else the model registry ``data/models/`` of the checkout (or the wheel's)."""
    override = os.environ.get("CATALOGUE_REGISTRY_DIR")
    return Path(override) if override else _top_level("data") / MODELS_DIR


def docs_dir() -> Path | None:
    """The checkout's ``docs/``; None in an installed wheel, which ships no site sources."""
    root = repository_root()
    return root / "docs" if root is not None else None


def is_default_data_dir(data_dir: Path) -> bool:
    """True when ``data_dir`` is ``default_data_dir()`` (the one with the checkout's schemas/ and site)."""
    try:
        return Path(data_dir).resolve() == default_data_dir().resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic-link loop (Python < 3.13)
        return False


def write_roots(data_dir: Path) -> tuple[Path, ...]:
    """The directories a write of ``data_dir`` may touch: it, then (for the default data directory only)
    the checkout's ``schemas/`` and the site's ``docs/`` that shows it."""
    if not is_default_data_dir(data_dir):
        return (Path(data_dir),)
    docs = site_docs_dir(data_dir)
    return (Path(data_dir), schemas_dir(), *((docs,) if docs is not None else ()))


def site_docs_dir(data_dir: Path) -> Path | None:
    """The ``docs/`` whose generated pages show ``data_dir``, or None when no site shows it.

    Only the default data directory (``default_data_dir()``) has a site: the checkout's
    ``docs/`` beside its ``data/`` (required, even if it went missing), or, for a data
    directory named by ``$CATALOGUE_DATA_DIR``, a ``docs/`` beside it where one exists. Any
    other directory is a copy the site does not show.
    """
    data_dir = Path(data_dir)
    if not is_default_data_dir(data_dir):
        return None
    candidate = data_dir.parent / "docs"
    checkout_docs = docs_dir()
    try:
        if checkout_docs is not None and candidate.resolve() == checkout_docs.resolve():
            return checkout_docs
    except (OSError, RuntimeError):
        return None
    return candidate if candidate.is_dir() else None


def display_path(path: Path) -> str:
    """``path`` relative to the working directory where it lies below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # elsewhere, or a symbolic-link loop (RuntimeError before 3.13)
        return str(path)

"""Where the catalogue's files live: the workspace the command runs in, the shipped layer, a source checkout.

Two layers make one catalogue. The *shipped layer* (registry, records, outcomes, schemas, the
site's templates) is the checkout's ``data/`` and ``schemas/`` in a source checkout, else the
copies installed with the package (``glu_catalogue/_shipped/``); it is never written by an
installed package. A *workspace* (``store.workspace``: a directory with ``catalogue.toml``, found
by walking up from the working directory) holds a catalogue of one's own, which extends the
shipped layer; every write of a command goes there. This repository is a workspace too, whose
own data *is* the shipped layer (one layer, not two).

``$CATALOGUE_DATA_DIR`` and ``$CATALOGUE_REGISTRY_DIR`` name a data directory and a registry
outright (no layers, no workspace), as ``--data DIR`` does for one command.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from .workspace import Workspace

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


#: What a command that writes says outside a workspace, without a target.
NO_WORKSPACE = "not in a catalogue workspace: `catalogue init DIR` starts one (then run this in DIR), or name where to write with --data DIR"


def installed_package_dir() -> Path | None:
    """The installed package's directory (nothing under it is ever written); None in a source checkout."""
    return PACKAGE_DIR if repository_root() is None else None


def is_inside_installed_package(path: Path) -> bool:
    """True when ``path`` lies in the installed package (its shipped layer included)."""
    package = installed_package_dir()
    if package is None:
        return False
    try:
        Path(os.path.abspath(path)).resolve().relative_to(package)
    except ValueError:
        return False
    except (OSError, RuntimeError):
        return True  # cannot tell: refuse
    return True


def shipped_data_dir() -> Path:
    """The shipped layer's data: the checkout's ``data/``, else the data installed with the package."""
    return _top_level("data")


def current_workspace() -> Workspace | None:
    """The workspace the working directory lies in (or below), read from its settings; None outside one.

    ``UsageError`` for settings this package cannot use (a newer workspace, a bad value).
    """
    from .workspace import SETTINGS_FILE, find_workspace

    root = find_workspace()
    if root is None:
        return None
    stat = (root / SETTINGS_FILE).stat()
    return _load_workspace(root, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load_workspace(root: Path, mtime_ns: int, size: int) -> Workspace:
    from .workspace import load_workspace

    return load_workspace(root)


def _layered_workspace() -> Workspace | None:
    """The current workspace when it is one of its own over the shipped layer (not the repository's), and no override names another place."""
    if os.environ.get("CATALOGUE_DATA_DIR"):
        return None
    workspace = current_workspace()
    if workspace is None or _same(workspace.data_dir, shipped_data_dir()):
        return None
    return workspace


def _same(first: Path, second: Path) -> bool:
    try:
        return Path(first).resolve() == Path(second).resolve()
    except (OSError, RuntimeError):
        return False


def default_data_dir() -> Path:
    """``$CATALOGUE_DATA_DIR``, else the current workspace's ``data/``, else the shipped layer's data (read-only)."""
    override = os.environ.get("CATALOGUE_DATA_DIR")
    if override:
        return Path(override)
    workspace = current_workspace()
    return workspace.data_dir if workspace is not None else shipped_data_dir()


def write_data_dir(given: Path | None = None) -> Path:
    """Where a command that writes data writes: ``given`` (``--data``), ``$CATALOGUE_DATA_DIR``, the workspace's ``data/``.

    Outside a workspace and without either, ``UsageError`` (``NO_WORKSPACE``): the shipped layer is never written.
    """
    if given is not None:
        return Path(given)
    override = os.environ.get("CATALOGUE_DATA_DIR")
    if override:
        return Path(override)
    workspace = current_workspace()
    if workspace is None:
        raise UsageError(NO_WORKSPACE)
    return workspace.data_dir


def write_registry_dir(data_dir: Path | None = None) -> Path:
    """Where ``catalogue add`` writes: ``DATA_DIR/models`` (``--data``), ``$CATALOGUE_REGISTRY_DIR``, the workspace's
    ``data/models`` (the repository's: the shipped registry); with only ``$CATALOGUE_DATA_DIR`` set, the registry
    commands read. Outside a workspace and without either, ``UsageError`` (``NO_WORKSPACE``)."""
    if data_dir is not None:
        return Path(data_dir) / MODELS_DIR
    override = os.environ.get("CATALOGUE_REGISTRY_DIR")
    if override:
        return Path(override)
    if os.environ.get("CATALOGUE_DATA_DIR"):
        return registry_dir()
    workspace = current_workspace()
    if workspace is None:
        raise UsageError(NO_WORKSPACE)
    return workspace.registry_dir


def registry_layers() -> tuple[tuple[Path, bool], ...]:
    """The registry directories that make the registry, shipped first: (directory, filtered by the workspace's ``shipped.models``).

    One directory with ``$CATALOGUE_REGISTRY_DIR``, in the repository and outside a workspace;
    in a workspace of one's own, the shipped registry (unless it includes none) and the workspace's additions.
    """
    override = os.environ.get("CATALOGUE_REGISTRY_DIR")
    if override:
        return ((Path(override), False),)
    workspace = _layered_workspace()
    if workspace is None:
        return ((registry_dir(), False),)
    layers: list[tuple[Path, bool]] = []
    if workspace.shipped_models != "none":
        layers.append((shipped_data_dir() / MODELS_DIR, True))
    return (*layers, (workspace.registry_dir, False))


def is_layered(data_dir: Path) -> bool:
    """True when ``data_dir`` is the data of a workspace of one's own, which the shipped layer extends."""
    workspace = _layered_workspace()
    return workspace is not None and _same(workspace.data_dir, data_dir)


def schemas_dir() -> Path:
    """The committed JSON Schemas (``schemas/``)."""
    return _top_level("schemas")


def registry_dir() -> Path:
    """``$CATALOGUE_REGISTRY_DIR``, else a workspace of one's own's ``data/models/`` (its additions), else the
    shipped registry (the checkout's ``data/models``; ``registry_layers`` lists what a workspace reads)."""
    override = os.environ.get("CATALOGUE_REGISTRY_DIR")
    if override:
        return Path(override)
    workspace = _layered_workspace()
    return workspace.registry_dir if workspace is not None else shipped_data_dir() / MODELS_DIR


def shipped_site_dir() -> Path:
    """The site's sources shipped with the package: mkdocs.yml, mkdocs_hooks.py, overrides/, docs/, README.md, CITATION.cff
    (the checkout's root, where they are edited)."""
    root = repository_root()
    return root if root is not None else _SHIPPED_DIR / "site"


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
    """The directories a write of ``data_dir`` may touch: it, then (for the default data directory only,
    not a workspace of one's own) the checkout's ``schemas/`` and the site's ``docs/`` that shows it."""
    if not is_default_data_dir(data_dir) or is_layered(data_dir):
        return (Path(data_dir),)
    docs = site_docs_dir(data_dir)
    return (Path(data_dir), schemas_dir(), *((docs,) if docs is not None else ()))


def site_docs_dir(data_dir: Path) -> Path | None:
    """The ``docs/`` whose generated pages show ``data_dir``, or None when no site shows it.

    Only the default data directory (``default_data_dir()``) has a site: the checkout's
    ``docs/`` beside its ``data/`` (required, even if it went missing), or, for a data
    directory named by ``$CATALOGUE_DATA_DIR``, a ``docs/`` beside it where one exists. Any
    other directory is a copy the site does not show. A workspace of one's own keeps no
    generated pages: ``catalogue site`` renders them when it builds the site.
    """
    data_dir = Path(data_dir)
    if not is_default_data_dir(data_dir) or is_layered(data_dir):
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

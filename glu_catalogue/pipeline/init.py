"""``catalogue init``: a directory made a workspace (``store.workspace``)."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..store.paths import is_inside_installed_package
from ..store.workspace import SETTINGS_FILE, Workspace, load_workspace, settings_text
from ..store.writing import write_files

#: What ``catalogue init`` puts beside the settings: the built site is not a source.
GITIGNORE_TEXT = "# catalogue site builds the site here\nsite/\n"


def create_workspace(directory: Path, title: str | None = None) -> Workspace:
    """Make ``directory`` (created if missing) a workspace: ``catalogue.toml`` and a ``.gitignore`` for ``site/``.

    ``UsageError`` for a directory that is a workspace already, is not a directory, or lies in the installed package.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: exists and is not a directory")
    if (directory / SETTINGS_FILE).exists():
        raise UsageError(f"{directory / SETTINGS_FILE}: this directory is a workspace already")
    if is_inside_installed_package(directory):
        raise UsageError(f"{directory}: inside the installed package, which is never written: choose a directory of your own")
    directory.mkdir(parents=True, exist_ok=True)
    texts = {directory / SETTINGS_FILE: settings_text(title or directory.resolve().name)}
    if not (directory / ".gitignore").exists():
        texts[directory / ".gitignore"] = GITIGNORE_TEXT
    write_files(texts, journal_dir=directory)
    return load_workspace(directory)

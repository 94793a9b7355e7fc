"""Every error the catalogue raises on purpose: one base, a subclass for each thing a caller can act on.

``str(error)`` is one line a person can act on (what, where, expected, found, the fix); the
command line prints it as ``error: ...`` and exits with ``exit_code``, mapped in one place
(``glu_catalogue.cli.commands``). Standard library only, so every part of the package may raise
these without importing anything heavy.

| class | exit | raised when |
| --- | --- | --- |
| ``CatalogueError`` | 2 | (base) |
| ``InputError`` | 2 | input cannot be used: a file, a registry entry, a record label, a weights source |
| ``ReadError`` | 2 | a file cannot be read at all (missing, special, not JSON/CSV, wrong top-level shape) |
| ``RegistryError`` | 2 | a registry file is missing, unreadable or inconsistent |
| ``UnknownModelError`` | 2 | a model id the registry does not hold (with the closest ids) |
| ``RecordNotFound`` | 2 | ``MODEL@PCT`` names no successful record |
| ``WeightsError`` | 2 | a ``--weights`` option that cannot be understood |
| ``SourceError`` | 2 | a model source (config.json, checkpoint, hub id) that cannot be read or resolved |
| ``ArchitectureError`` | 2 | a model transformers cannot build, or one the catalogue cannot describe |
| ``ExtraNeeded`` | 2 | a model that can only be described on the meta device, without torch installed (names the extra) |
| ``NotGluModel`` | 2 | a model without a GLU MLP (it names the MLP it found) |
| ``UsageError`` | 2 | an option value that makes no sense (the command line is wrong) |
| ``BuildError`` | 2 | a build cannot start; nothing was written |
| ``WriteError`` | 2 | files could not be written; the previous files stay (or the next command finishes the write) |
| ``SiteError`` | 2 | the site cannot be rendered from the data |
| ``PruningError`` | 2 | optipfair would refuse these pruning arguments |
| ``ModelFailed`` | 1 | one model could not be built (the build goes on with the others) |
"""

from __future__ import annotations

from pathlib import Path

#: Exit codes of every command: nothing wrong, problems found, input or usage unusable.
EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


class CatalogueError(Exception):
    """Base of the catalogue's errors; ``exit_code`` is what the command line exits with."""

    exit_code = EXIT_UNUSABLE


class InputError(CatalogueError):
    """Input that cannot be used as it is."""


class ReadError(InputError):
    """A file that cannot be read at all: missing, not a regular file, not JSON/CSV, or the wrong top-level shape."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.path = Path(path)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = str(self.path)
        if len(where) > 200:  # a path nobody can read on one line: its start and its length
            where = f"{where[:100]}... ({len(where)} characters)"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class RegistryError(InputError):
    """A registry file is missing, unreadable or inconsistent."""


class UnknownModelError(InputError, LookupError):
    """A model id that is not in the registry; ``suggestions`` holds the closest ids."""

    def __init__(self, model_id: str, suggestions: list[str], hub_reason: str | None = None):
        super().__init__(model_id)
        self.model_id = model_id
        self.suggestions = suggestions
        self.hub_reason = hub_reason

    def __str__(self) -> str:
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        text = f"unknown model id {self.model_id!r}{hint} (`catalogue models` lists them)"
        return text + (f"; as a hub id: {self.hub_reason}" if self.hub_reason else "")


class RecordNotFound(InputError, LookupError):
    """``MODEL@PCT`` names no successful record of the catalogue; the message suggests some."""


class WeightsError(InputError, ValueError):
    """A ``--weights`` option that cannot be understood."""


class SourceError(InputError):
    """A model source that cannot be used: a config.json or checkpoint that cannot be read, a hub id not resolved."""


class ArchitectureError(InputError):
    """A model the catalogue cannot describe: transformers cannot build it, or its layers have no GLU MLP."""


class ExtraNeeded(ArchitectureError):
    """A model the catalogue describes only with an extra that is not installed; the message names the pip install."""


class NotGluModel(ArchitectureError):
    """A model whose layers have no GLU MLP (gate/up/down projections) and no GLU experts."""


class UsageError(CatalogueError, ValueError):
    """An option value that makes no sense; the message names the option."""


class BuildError(CatalogueError):
    """The build cannot start (bad options, unreadable catalogue, another build running); nothing was written."""


class WriteError(CatalogueError):
    """Files could not be written (a target is a directory, the disk is full, a journal cannot be completed)."""


class SiteError(CatalogueError):
    """The site cannot be rendered: the data it would show is not a valid catalogue."""


class PruningError(CatalogueError, ValueError):
    """optipfair would refuse these pruning arguments; the message is the reason."""


class ModelFailed(CatalogueError):
    """A model could not be built; the message says why (shown on screen and in the summary)."""

    exit_code = EXIT_PROBLEMS


class PruningUnsupported(ModelFailed):
    """The model has no GLU MLP the generator knows how to prune."""


def failure_reason(error: Exception) -> str:
    """One line saying why a model or a level failed (its error's first line; the type where it is not the catalogue's)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "out of memory" in text.lower():
        return f"out of memory: {text}"
    if isinstance(error, CatalogueError):
        return text
    return f"{type(error).__name__}: {text}"

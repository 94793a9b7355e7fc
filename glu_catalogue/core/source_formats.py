"""The names of the outcome-file formats a stored outcome may name: a list core declares and the readers fill.

Each reader declares its format names once, in its own module (``outcomes/readers/``); core cannot
import the readers (they stand above it), yet a stored outcome's ``source.format`` must be one of
their names and the JSON Schema must list them. So core keeps the list and the package root
(``glu_catalogue/__init__.py``, which every import of the package runs first) installs the one
function that fills it (``install_loader``): the readers are found and imported the first time a
name is asked for, not when the package is imported.
"""

from __future__ import annotations

from collections.abc import Callable

_loader: Callable[[], tuple[str, ...]] | None = None
_formats: tuple[str, ...] | None = None


def install_loader(loader: Callable[[], tuple[str, ...]]) -> None:
    """Set the function that gives every reader's format names, in the registry's order (called once, by the package root)."""
    global _loader, _formats
    _loader, _formats = loader, None


def source_formats() -> tuple[str, ...]:
    """Every format name the readers declare, in the registry's fixed order; ``RuntimeError`` when no loader is installed."""
    global _formats
    if _formats is None:
        if _loader is None:
            raise RuntimeError("no outcome readers are registered: glu_catalogue/__init__.py installs their loader")
        _formats = tuple(_loader())
    return _formats


def known_format(name: str) -> str:
    """``name`` when a reader declares it; ``ValueError`` (pydantic reports it at the field) for any other."""
    if name not in source_formats():
        raise ValueError(f"{name!r} is not a format the readers know: one of {', '.join(source_formats())}")
    return name


def add_format_enum(schema: dict) -> None:
    """Write the known names into a field's JSON Schema as its ``enum`` (``json_schema_extra`` of ``SourceFormat``)."""
    schema["enum"] = list(source_formats())

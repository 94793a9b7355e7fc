"""What a command was asked to select: ``--models`` and ``--levels`` read into model ids and pruning percentages.

``build``, ``evaluate``, ``bench`` and ``results`` read these options the same way: a model is
resolved as it is read (an unknown id, with suggestions, or an unreadable source stops the
command before it starts); a level is a whole percentage 0-100.
"""

from __future__ import annotations

from ..core.problems import show
from ..core.text import whole_number
from ..errors import BuildError, UsageError
from ..store.registry import load_registry
from .models import resolve_model


def parse_levels(text: str) -> tuple[int, ...]:
    """``"0,10,20"`` -> ``(0, 10, 20)``; each an integer percentage 0-100, duplicates dropped."""
    levels = []
    for part in text.split(","):
        part = part.strip()
        level = whole_number(part, signed=True)  # ASCII digits only: int() takes "²" and "1_0"
        if level is None:
            raise BuildError(f"--levels: {show(part)!r} is not an integer percentage (e.g. --levels 0,10,20)")
        if not 0 <= level <= 100:
            raise BuildError(f"--levels: {level} is outside 0-100")
        levels.append(level)
    return tuple(sorted(set(levels)))


def parse_models(text: str | None) -> tuple[str, ...]:
    """``"a/b,c/d"`` -> the models, each a registry id, config.json, checkpoint or hub id; None -> the registry.

    Each is resolved now, so that an unknown id (with suggestions) or an unreadable source stops
    the command before it starts. An option that names no model (``""``, ``","``) is a usage
    error, not "every model".
    """
    if text is None:
        return tuple(load_registry())
    models = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not models:
        raise UsageError(f"--models {text!r} names no model id: give MODEL[,MODEL...] (`catalogue models` lists them), or leave it out for every model")
    for model in models:
        resolve_model(model)
    return models

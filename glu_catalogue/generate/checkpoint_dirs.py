"""Where ``--save-pruned`` puts each pruned checkpoint, and writing one so that none is ever half there (no torch).

Both build paths write a checkpoint the same way: every file goes into ``<target>.partial``
(``begin``), is flushed to disk, and the directory then takes the target's name (``swap_in``).
``save_pretrained`` writes each weights file through a temporary file beside it (safetensors
writes ``.tmpXXXXXX`` and renames it when complete), so a save killed midway leaves that file,
hundreds of megabytes for a real model, inside the partial directory, never beside a target.

An older target is renamed ``<target>.old`` before the new one takes its name, and removed after:
a crash at any moment leaves the target complete (old or new), or, between the two renames,
only ``<target>.old``, complete. ``sweep``, run before a build saves anything, puts such an old
target back and removes what killed saves left: partial directories, old ones already replaced,
and checkpoints that ``save_pretrained`` wrote in place and never finished (versions before this
one did; a safetensors temporary file inside says so).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..checkpoints.reading import is_plain_file_name
from ..errors import ModelFailed

PARTIAL_SUFFIX = ".partial"
OLD_SUFFIX = ".old"

#: One level's checkpoint directory, as ``pruned_directory`` names it.
LEVEL_DIRECTORY = re.compile(r"^pruned-\d{2,3}pct$")

#: The temporary file safetensors writes a weights file through (Rust ``tempfile``: ``.tmp`` and six letters or digits).
SAFETENSORS_TEMPORARY = re.compile(r"^\.tmp[A-Za-z0-9]{6}$")


@dataclass(frozen=True)
class Leftover:
    """What an interrupted save left in a model's directory, and what ``sweep`` did with it (a phrase for the screen)."""

    path: Path
    action: str


def model_directory(root: Path, model_id: str) -> Path:
    """``root/<org>__<name>``: one model's pruned checkpoints; ``ModelFailed`` for an id that makes no directory name."""
    name = model_id.replace("/", "__")
    if not is_plain_file_name(name):
        raise ModelFailed(f"--save-pruned: model id {model_id!r} does not make a directory name inside {root}")
    return root / name


def pruned_directory(root: Path, model_id: str, level: int) -> Path:
    """Where ``--save-pruned`` puts one level's checkpoint: ``root/<org>__<name>/pruned-<level>pct``."""
    return model_directory(root, model_id) / f"pruned-{level:02d}pct"


def beside(target: Path, suffix: str) -> Path:
    """``<target><suffix>`` in the target's directory."""
    return target.with_name(target.name + suffix)


def begin(target: Path) -> Path:
    """An empty ``<target>.partial`` (an older one removed) to write ``target``'s checkpoint into."""
    partial = beside(target, PARTIAL_SUFFIX)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    return partial


def swap_in(partial: Path, target: Path) -> Path:
    """Flush ``partial``'s files to disk, then give it ``target``'s name; an older target is removed once replaced."""
    for path in partial.iterdir():
        _fsync(path)
    _fsync(partial)
    old = beside(target, OLD_SUFFIX)
    if os.path.lexists(target):
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(partial, target)
    _fsync(target.parent)
    shutil.rmtree(old, ignore_errors=True)
    return target


def abandon(partial: Path) -> None:
    """Remove a partial checkpoint: its save failed."""
    shutil.rmtree(partial, ignore_errors=True)


def sweep(directory: Path) -> list[Leftover]:
    """Put back or remove what interrupted saves left in one model's directory (``model_directory``)."""
    if not directory.is_dir() or directory.is_symlink():
        return []
    leftovers = []
    for path in sorted(directory.iterdir()):
        if not path.is_dir() or path.is_symlink():
            continue
        if _is_level(path.name, OLD_SUFFIX):
            leftovers.append(_settle_old(path, path.with_name(path.name.removesuffix(OLD_SUFFIX))))
        elif _is_level(path.name, PARTIAL_SUFFIX):
            shutil.rmtree(path)
            leftovers.append(Leftover(path, "removed: the partial checkpoint of a save that was interrupted"))
        elif LEVEL_DIRECTORY.match(path.name) and any(SAFETENSORS_TEMPORARY.match(child.name) for child in path.iterdir()):
            shutil.rmtree(path)
            leftovers.append(Leftover(path, "removed: a checkpoint whose save was interrupted (a safetensors temporary file in it)"))
    return leftovers


def _is_level(name: str, suffix: str) -> bool:
    return name.endswith(suffix) and LEVEL_DIRECTORY.match(name.removesuffix(suffix)) is not None


def _settle_old(old: Path, target: Path) -> Leftover:
    """An old target beside its replacement is removed; alone (a replace interrupted between its renames), it is put back."""
    if os.path.lexists(target):
        shutil.rmtree(old)
        return Leftover(old, "removed: the previous checkpoint, already replaced")
    os.replace(old, target)
    return Leftover(old, f"restored as {target.name}: the previous checkpoint, moved aside by a replace that was interrupted")


def _fsync(path: Path) -> None:
    """Flush a file or a directory (its entries) to disk."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

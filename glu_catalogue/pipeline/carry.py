"""The files a shard's outcomes were read from, carried into the merged directory byte for byte (``catalogue merge``).

An outcome names its source file by path (as ``results add`` was given it, relative to the
working directory then) and sha256. A source that lies inside the shard's directory is found
there (or, when the shard was moved or the merge runs elsewhere, under its ``measurements/`` by
the part of the path after ``measurements``), its bytes checked against that sha256, and carried
to the same place under the output; the outcome then names it there. A measurement's file
(``catalogue evaluate`` and ``bench``) must be found so, or still be where it was stored with
its digest; other sources outside the shard keep their path. Two directories holding different
files under one name are refused: nothing is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..store.reading import MAX_CATALOGUE_BYTES, ReadError, read_bytes
from .measurements import MEASUREMENTS_DIR, shown_path


class CarryConflict(UsageError):
    """A source file that is not there, not what its outcomes name, or unlike another under the same name (nothing is written)."""


@dataclass
class Carried:
    """The files carried into ``out`` so far: name -> (sha256, the directory it came from); the texts still to write."""

    out: Path
    files: dict[Path, tuple[str, Path]] = field(default_factory=dict)
    texts: dict[Path, str] = field(default_factory=dict)

    def add(self, name: Path, file: Path, sha256: str, directory: Path, record: str) -> Path:
        """Carry ``file`` of ``directory`` to ``out/name`` after checking its bytes against ``sha256``; the target's path."""
        held = self.files.get(name)
        if held is not None:
            if held[0] != sha256:
                raise CarryConflict(f"{held[1]} and {directory} hold different files named {name.as_posix()}: merge them separately; nothing written")
            return self.out / name
        content = _checked_bytes(file, sha256, directory, record)
        target = self.out / name
        if target.resolve() != file.resolve():
            try:
                there = read_bytes(target, MAX_CATALOGUE_BYTES) if target.exists() else None
            except ReadError:
                there = b""
            if there is not None and there != content:
                raise CarryConflict(f"{self.out} holds another file named {name.as_posix()} than {directory}: merge into another directory; nothing written")
            if there is None:
                self.texts[target] = _utf8(content, file)
        self.files[name] = (sha256, directory)
        return target


def carry(outcome, directory: Path, carried: Carried):
    """``outcome`` (or a value left out) naming its source where ``carried`` puts it (the outcome as it is when its source is not inside ``directory``)."""
    source = outcome.source
    found = _locate(Path(source.path), Path(directory))
    if found is None:
        if getattr(outcome, "measurement", None) is not None and not _still_there(Path(source.path), source.sha256):
            raise CarryConflict(
                f"{directory}: {source.path}, which {outcome.record}'s measurement was read from, is neither there with sha256 "
                f"{source.sha256[:12]}... nor under {Path(directory) / MEASUREMENTS_DIR}: nothing written"
            )
        return outcome
    file, name = found
    target = carried.add(name, file, source.sha256, Path(directory), outcome.record or "-")
    return outcome.model_copy(update={"source": source.model_copy(update={"path": str(shown_path(target))})})


def _locate(path: Path, directory: Path) -> tuple[Path, Path] | None:
    """The file at ``path`` inside ``directory`` and its name there, or under its ``measurements/`` by the path's tail; None elsewhere."""
    root = directory.resolve()
    candidates = [path]
    if MEASUREMENTS_DIR in path.parts[:-1]:
        tail = path.parts[len(path.parts) - 1 - path.parts[::-1].index(MEASUREMENTS_DIR) :]
        candidates.append(directory.joinpath(*tail))
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved.is_relative_to(root) and resolved.is_file():
            return resolved, resolved.relative_to(root)
    return None


def _still_there(path: Path, sha256: str) -> bool:
    try:
        return hashlib.sha256(read_bytes(path, MAX_CATALOGUE_BYTES)).hexdigest() == sha256
    except ReadError:
        return False


def _checked_bytes(file: Path, sha256: str, directory: Path, record: str) -> bytes:
    try:
        content = read_bytes(file, MAX_CATALOGUE_BYTES)
    except ReadError as error:
        raise CarryConflict(f"{error}; nothing written") from None
    found = hashlib.sha256(content).hexdigest()
    if found != sha256:
        raise CarryConflict(
            f"{file}: sha256 {found[:12]}..., but {directory}'s outcomes of {record} name {sha256[:12]}...: "
            "the file changed after it was stored; nothing written"
        )
    return content


def _utf8(content: bytes, file: Path) -> str:
    """The file's text, which the journalled write gives back byte for byte (measurement files are UTF-8 JSON)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or text.encode("utf-8") != content:
        raise CarryConflict(f"{file}: not UTF-8 text, which merge carries byte for byte; nothing written")
    return text

"""Writing the catalogue's files; every write is atomic.

Writing goes through ``write_files``: each file is written to a temporary file beside it,
flushed to disk, then all are renamed into place, so an interrupted write leaves the old files
intact.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..core.records import ExpansionRecord, Metadata
from ..core.summary import COLUMNS, Cell


def catalogue_json(metadata: Metadata, records: Iterable[ExpansionRecord]) -> str:
    """The catalogue file's text: the study's key order, 2-space indent, newline at the end."""
    document = {
        "metadata": metadata.model_dump(mode="json", exclude_none=True),
        "models": [record.model_dump(mode="json", exclude_none=True) for record in records],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def summary_csv_text(rows: Iterable[Sequence[Cell]]) -> str:
    """The summary CSV's text: the header, then ``rows`` (values in ``COLUMNS`` order)."""
    return summary_csv_lines([COLUMNS]) + summary_csv_lines(rows)


def summary_csv_lines(rows: Iterable[Sequence[Cell]]) -> str:
    """CSV lines of ``rows``, ``\\n`` line ends; floats by ``str`` = ``repr``, which reads back exactly."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_files(texts: Mapping[Path, str]) -> list[Path]:
    """Write every file atomically; returns the paths whose content changed.

    Unchanged files are not touched. All new contents are on disk in temporary files before
    the first rename, so a failure while writing leaves every old file as it was.
    """
    changed = {Path(path): text for path, text in texts.items() if _current(Path(path)) != text}
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in changed.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", newline="", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
            )
            staged.append((Path(handle.name), path))
            with handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(handle.name, _file_mode(path))
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _ in staged:
            if temporary.exists():
                temporary.unlink()
    return list(changed)


def _file_mode(path: Path) -> int:
    """The mode a rewritten file keeps: its old one, else what the umask gives a new file."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None

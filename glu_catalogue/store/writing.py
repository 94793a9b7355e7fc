"""Writing the catalogue's files: one write is atomic across all its files and directories.

``write_files`` writes a set of files (and deletes some) as one transaction, with a journal
(``JOURNAL_FILE``) in one directory:

1. the journal is written in state ``pending``: the temporary file it is about to create for
   each target (``.<name>.<16 hex>.tmp`` beside it) and the files it will delete;
2. every new content goes to its temporary file and is flushed to disk;
3. the journal is replaced by one in state ``committed``: the commit point;
4. the temporary files are renamed over their targets, the deletions done, the directories
   flushed, and the journal removed.

A crash before step 3 leaves the old files and a pending journal: ``recover`` deletes the
temporary files. A crash after it leaves a committed journal: ``recover`` finishes the
renames. Either way the next command sees the complete old set of files or the complete new
set, and no temporary file stays behind. Every command that reads the catalogue recovers
first (``recover_data_dir``). A write and a recovery of one journal directory hold an
exclusive lock on it, so a reader never undoes a write in progress.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.records import ExpansionRecord, Metadata
from ..core.summary import COLUMNS, Cell
from ..errors import ReadError, WriteError
from .paths import NO_WORKSPACE, is_inside_installed_package, write_roots
from .reading import MAX_CATALOGUE_BYTES, MAX_SMALL_FILE_BYTES, read_text

#: The journal of a write in progress (or interrupted), in the write's journal directory.
JOURNAL_FILE = ".catalogue-write.journal"
_JOURNAL_TEMP = JOURNAL_FILE + ".tmp"
_STATES = ("pending", "committed")
_TEMP_TOKEN = re.compile(r"^[0-9a-f]{16}$")


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
    """CSV lines of ``rows`` (``csv_lines``)."""
    return csv_lines(rows)


#: What makes a spreadsheet evaluate a cell as a formula when it starts one (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Text a spreadsheet reads as a plain number: a leading sign here is a number's, not a formula's.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def spreadsheet_safe(cell: Any) -> Any:
    """``cell`` as a CSV the catalogue writes holds it: text a spreadsheet would evaluate gets a leading ``'``
    (OWASP's advice), so ``=HYPERLINK(...)`` from someone's file is shown, never run; numbers, and text that is
    a plain number (``-0.5``), stay as they are. The JSON beside the CSV keeps the text exact."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def csv_lines(rows: Iterable[Sequence[Any]]) -> str:
    """CSV lines of ``rows``: ``\\n`` line ends, None an empty cell, floats by ``str`` = ``repr`` (reads back
    exactly), text cells ``spreadsheet_safe``. Every CSV the catalogue writes is written by this function."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([["" if cell is None else spreadsheet_safe(cell) for cell in row] for row in rows])
    return buffer.getvalue()


# --- the transaction ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """What one write does: rename each temporary file over its target, then delete ``deletions``."""

    renames: tuple[tuple[Path, Path], ...]
    deletions: tuple[Path, ...]


def write_files(texts: Mapping[Path, str], *, delete: Iterable[Path] = (), journal_dir: Path | None = None, roots: Sequence[Path] = ()) -> list[Path]:
    """Write every file of ``texts`` and delete ``delete`` in one atomic step; returns the paths whose content changed.

    Unchanged files are not touched. ``journal_dir`` (default: the deepest directory holding
    every path) keeps the journal; every path must lie in it or in one of ``roots``. Raises
    ``WriteError`` (one line) when the write fails: before the commit point nothing changed;
    after it, the next command that reads these files finishes the write.
    """
    changed = {Path(path): text for path, text in texts.items() if _current(Path(path)) != text}
    deletions = tuple(Path(path) for path in delete if os.path.lexists(path))
    if not changed and not deletions:
        return []
    journal_dir = Path(journal_dir) if journal_dir is not None else _common_dir([*changed, *deletions])
    _refuse_package(journal_dir, *changed, *deletions)
    transaction = Transaction(tuple((_temporary_path(path), path) for path in changed), deletions)
    allowed = (journal_dir, *roots)
    _check_inside(journal_dir / JOURNAL_FILE, transaction, allowed)
    for path in changed:
        _prepare_target(path)
    try:
        with _locked(journal_dir):
            _recover_locked(journal_dir, allowed)
            _stage(journal_dir, transaction, changed)
            _finish(journal_dir, transaction)
    except OSError as error:
        raise WriteError(_write_failure(error, journal_dir)) from None
    return list(changed)


def _refuse_package(*paths: Path) -> None:
    """Nothing is ever written under the installed package (its shipped layer is read-only)."""
    for path in paths:
        if is_inside_installed_package(path):
            raise WriteError(f"{path}: inside the installed package, which is never written: {NO_WORKSPACE}")


def _stage(journal_dir: Path, transaction: Transaction, texts: Mapping[Path, str]) -> None:
    """Steps 1-3: the pending journal, the temporary files, the committed journal; undone on failure."""
    try:
        _write_journal(journal_dir, "pending", transaction)
        for temporary, target in transaction.renames:
            _write_new_file(temporary, texts[target].encode("utf-8"), _file_mode(target))
        _prepare_journal(journal_dir, "committed", transaction)
        os.replace(journal_dir / _JOURNAL_TEMP, journal_dir / JOURNAL_FILE)  # the commit point
    except BaseException:
        _undo(journal_dir, transaction)
        raise


def _finish(journal_dir: Path, transaction: Transaction) -> None:
    """Step 4, after the commit point: renames, deletions, flushes; then the journal goes."""
    _fsync_directory(journal_dir)
    for temporary, target in transaction.renames:
        if os.path.lexists(temporary):
            os.replace(temporary, target)
    for path in transaction.deletions:
        _delete(path)
    for directory in sorted({target.parent for _, target in transaction.renames} | {path.parent for path in transaction.deletions}):
        _fsync_directory(directory)
    os.unlink(journal_dir / JOURNAL_FILE)
    _fsync_directory(journal_dir)


def _undo(journal_dir: Path, transaction: Transaction) -> None:
    """Before the commit point: delete the temporary files and the journal (best effort; ``recover`` finishes)."""
    leftovers = [temporary for temporary, _ in transaction.renames] + [journal_dir / _JOURNAL_TEMP, journal_dir / JOURNAL_FILE]
    for path in leftovers:
        try:
            if os.path.lexists(path):
                os.unlink(path)
        except OSError:
            return  # the pending journal stays; the next recover removes what is left


def _write_failure(error: OSError, journal_dir: Path) -> str:
    where = error.filename or journal_dir
    if os.path.lexists(journal_dir / JOURNAL_FILE):
        after = "the write is interrupted; the next catalogue command that reads these files completes or undoes it"
    else:
        after = "nothing was changed"
    return f"{where}: cannot write: {error.strerror or error}; {after}"


# --- recovery -----------------------------------------------------------------------------------


def recover(directory: Path, roots: Sequence[Path] = ()) -> bool:
    """Finish (committed) or undo (pending) the write a crash interrupted in ``directory``.

    Returns True if there was one. Every path the journal names must lie in ``directory`` or
    one of ``roots``; a journal naming others is refused (``WriteError``), not obeyed.
    """
    directory = Path(directory)
    if not (os.path.lexists(directory / JOURNAL_FILE) or os.path.lexists(directory / _JOURNAL_TEMP)):
        return False
    try:
        with _locked(directory):
            return _recover_locked(directory, (directory, *roots))
    except OSError as error:
        raise WriteError(f"{error.filename or directory}: cannot complete an interrupted write: {error.strerror or error}") from None


def recover_data_dir(data_dir: Path) -> None:
    """``recover`` every write that may touch ``data_dir``: its own, and those of schemas/ and the site."""
    roots = write_roots(Path(data_dir))
    recover(roots[0], roots)
    for root in roots[1:]:
        recover(root)


def _recover_locked(directory: Path, allowed: Sequence[Path]) -> bool:
    journal = directory / JOURNAL_FILE
    if os.path.lexists(directory / _JOURNAL_TEMP):
        os.unlink(directory / _JOURNAL_TEMP)  # a journal that never became current
    if not os.path.lexists(journal):
        return False
    state, transaction = _read_journal(journal, directory)
    _check_inside(journal, transaction, allowed)
    if state == "committed":
        _finish(directory, transaction)
    else:
        for temporary, _ in transaction.renames:
            _delete(temporary)
        os.unlink(journal)
        _fsync_directory(directory)
    return True


def _delete(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# --- the journal file ---------------------------------------------------------------------------


def _journal_text(directory: Path, state: str, transaction: Transaction) -> str:
    def relative(path: Path) -> str:
        return os.path.relpath(os.path.abspath(path), os.path.abspath(directory))

    document = {
        "state": state,
        "renames": [[relative(temporary), relative(target)] for temporary, target in transaction.renames],
        "deletions": [relative(path) for path in transaction.deletions],
    }
    return json.dumps(document, indent=1) + "\n"


def _prepare_journal(directory: Path, state: str, transaction: Transaction) -> None:
    """The journal's next version, flushed to disk under its temporary name."""
    _write_new_file(directory / _JOURNAL_TEMP, _journal_text(directory, state, transaction).encode("utf-8"), 0o644, exclusive=False)


def _write_journal(directory: Path, state: str, transaction: Transaction) -> None:
    """Make the journal in ``state`` current: write it aside, flush, rename into place, flush the directory."""
    _prepare_journal(directory, state, transaction)
    os.replace(directory / _JOURNAL_TEMP, directory / JOURNAL_FILE)
    _fsync_directory(directory)


def _read_journal(journal: Path, directory: Path) -> tuple[str, Transaction]:
    """The state and transaction a journal records; ``WriteError`` if it is not one this module wrote."""
    try:
        document = json.loads(read_text(journal, MAX_SMALL_FILE_BYTES))
    except (ReadError, ValueError) as error:
        raise _foreign_journal(journal, f"unreadable: {error}") from None
    if not _journal_shape_ok(document):
        raise _foreign_journal(journal, "not the layout of a catalogue journal")
    renames = tuple((directory / temporary, directory / target) for temporary, target in document["renames"])
    deletions = tuple(directory / path for path in document["deletions"])
    return document["state"], Transaction(renames, deletions)


def _journal_shape_ok(document: Any) -> bool:
    if not isinstance(document, dict) or document.get("state") not in _STATES:
        return False
    renames, deletions = document.get("renames"), document.get("deletions")
    pairs_ok = isinstance(renames, list) and all(isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) for pair in renames)
    return pairs_ok and isinstance(deletions, list) and all(isinstance(path, str) for path in deletions)


def _check_inside(journal: Path, transaction: Transaction, allowed: Sequence[Path]) -> None:
    """Every path inside an allowed directory; every temporary file beside its target, named as this module names them."""
    roots = [os.path.abspath(root) for root in allowed]
    paths = [path for pair in transaction.renames for path in pair] + list(transaction.deletions)
    for path in paths:
        absolute = os.path.abspath(path)
        if not any(absolute.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
            raise _foreign_journal(journal, f"it names {path}, outside {', '.join(map(str, allowed))}")
    for temporary, target in transaction.renames:
        if not _is_temporary_of(temporary, target):
            raise _foreign_journal(journal, f"{temporary} is not a temporary file of {target}")


def _foreign_journal(journal: Path, reason: str) -> WriteError:
    return WriteError(f"{journal}: not a journal the catalogue can complete ({reason}); check the files it names, then delete it")


# --- files --------------------------------------------------------------------------------------


def _temporary_path(target: Path) -> Path:
    return target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp"


def _is_temporary_of(temporary: Path, target: Path) -> bool:
    prefix, suffix = f".{target.name}.", ".tmp"
    name = temporary.name
    token = name[len(prefix) : -len(suffix)] if name.startswith(prefix) and name.endswith(suffix) else ""
    return temporary.parent == target.parent and bool(_TEMP_TOKEN.match(token))


def _common_dir(paths: list[Path]) -> Path:
    return Path(os.path.commonpath([os.path.abspath(path.parent) for path in paths]))


def _prepare_target(path: Path) -> None:
    """The target's directory exists and the target is not a directory; ``WriteError`` otherwise."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = os.lstat(path).st_mode if os.path.lexists(path) else None
    except OSError as error:
        raise WriteError(f"{error.filename or path.parent}: cannot create the directory: {error.strerror}; nothing was changed") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise WriteError(f"{path}: is a directory where the catalogue writes a file; move it away; nothing was changed")


def _write_new_file(path: Path, content: bytes, mode: int, exclusive: bool = True) -> None:
    """Create ``path`` (never through a link) holding ``content``, with ``mode``, flushed to disk."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_EXCL if exclusive else os.O_TRUNC)
    descriptor = os.open(path, flags, 0o600)
    try:
        os.fchmod(descriptor, mode)
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` (created if missing) for one write or recovery."""
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _file_mode(path: Path) -> int:
    """The mode a rewritten file keeps: its old one, else what the umask gives a new file."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _current(path: Path) -> str | None:
    """What ``path`` holds now, as text; None when it is missing or not a readable regular text file."""
    try:
        return read_text(path, MAX_CATALOGUE_BYTES)
    except ReadError:
        return None

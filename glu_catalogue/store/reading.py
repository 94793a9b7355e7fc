"""Reading the catalogue's files, and every other file a command reads.

Every read goes through ``open_regular``: the path is stat'ed first and anything but a regular
file (a directory, a FIFO, a device, a socket, a symbolic-link loop) is refused with one line
before it is opened, so no input can hang a command or feed it endless bytes; files read whole
are capped in size (``read_bytes``). JSON is parsed by ``parse_json``, which also refuses a key
repeated inside one object (readers would disagree on which value counts).

Reading returns raw data (the verifier validates it and reports every problem) or raises
``ReadError``, a one-line message naming the file and, where known, line and column.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

import jiter

from ..core.records import Catalogue
from ..errors import ReadError

#: The most bytes a catalogue JSON or CSV may hold (100,000 records are 214 MB of JSON).
MAX_CATALOGUE_BYTES = 1 << 30
#: The most bytes a small JSON file may hold: a config.json, an index, a registry entry, a journal.
MAX_SMALL_FILE_BYTES = 64 << 20

_SPECIAL_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

_OS_ERRORS = {
    errno.ENOENT: "no such file",
    errno.ELOOP: "a symbolic link loop (too many levels of links)",
    errno.ENOTDIR: "a component of the path is not a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENAMETOOLONG: "file name too long",
}

_JITER_PLACE = re.compile(r"^(?P<message>.*) at line (?P<line>\d+) column (?P<column>\d+)$", re.S)
_DUPLICATE_KEY = re.compile(r'^Detected duplicate key "(?P<key>.*)"$', re.S)


def file_error(path: Path | str, error: OSError, expected: str = "a file") -> ReadError:
    """The one-line ``ReadError`` for an ``OSError`` met while opening or reading ``path``."""
    if error.errno == errno.EISDIR:
        return ReadError(path, f"is a directory, expected {expected}")
    reason = _OS_ERRORS.get(error.errno)
    return ReadError(path, reason or f"cannot read: {error.strerror or error}")


def path_exists(path: Path | str) -> bool:
    """Whether ``path`` exists; ``ReadError`` naming it when it never can be read (a name too long, a loop, no permission)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise file_error(path, error) from None
    except ValueError:  # an embedded NUL: no file has this name
        return False
    return True


def special_kind(mode: int) -> str | None:
    """What a non-regular file of ``mode`` is (``a FIFO (named pipe)``, ...); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), "not a regular file")


def _require_regular(path: Path | str, mode: int, expected: str) -> None:
    kind = special_kind(mode)
    if kind is not None:
        raise ReadError(path, f"is {kind}, expected {expected}")


def open_regular(path: Path | str, expected: str = "a file") -> BinaryIO:
    """``path`` opened for binary reading; ``ReadError`` unless it is (a link to) a regular file.

    The file is stat'ed before it is opened (a FIFO would block the open, a device never end),
    opened without blocking, and checked again on the open descriptor, in case it was swapped.
    """
    try:
        _require_regular(path, os.stat(path).st_mode, expected)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise file_error(path, error, expected) from None
    try:
        _require_regular(path, os.fstat(descriptor).st_mode, expected)
        os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb")


def read_bytes(path: Path | str, limit_bytes: int, expected: str = "a file") -> bytes:
    """The whole content of the regular file ``path``; ``ReadError`` if it holds more than ``limit_bytes``."""
    try:
        with open_regular(path, expected) as handle:
            size = os.fstat(handle.fileno()).st_size
            content = b"" if size > limit_bytes else handle.read(limit_bytes + 1)
    except OSError as error:
        raise file_error(path, error, expected) from None
    if size > limit_bytes or len(content) > limit_bytes:
        raise ReadError(path, f"{max(size, len(content))} bytes, more than the {limit_bytes} such a file may hold: is it the right file?")
    return content


def decode_text(path: Path | str, content: bytes) -> str:
    """``content`` as UTF-8 text with universal newlines (as ``Path.read_text``); ``ReadError`` if not UTF-8."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReadError(path, f"not UTF-8 text (byte {error.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def read_text(path: Path | str, limit_bytes: int = MAX_SMALL_FILE_BYTES, expected: str = "a file") -> str:
    """``read_bytes`` of ``path`` decoded by ``decode_text``."""
    return decode_text(path, read_bytes(path, limit_bytes, expected))


def parse_json(path: Path | str, content: bytes) -> Any:
    """``content`` parsed as JSON; NaN and Infinity literals are kept so the schema can name them.

    A key repeated inside one object is an error (``json`` and most readers keep the last value,
    others the first). jiter parses fast; when it refuses, ``json`` parses again for its
    precise message (line and column).
    """
    try:
        return jiter.from_json(content, allow_inf_nan=True, catch_duplicate_keys=True)
    except ValueError as error:
        refusal = str(error)
    place = _JITER_PLACE.match(refusal)
    message, line, column = (place["message"], int(place["line"]), int(place["column"])) if place else (refusal, None, None)
    duplicate = _DUPLICATE_KEY.match(message)
    if duplicate:
        raise ReadError(
            path, f'invalid JSON: key "{duplicate["key"]}" appears twice in one object (readers disagree on which value counts): keep one', line, column
        )
    _raise_precise_json_error(path, content)
    raise ReadError(path, f"invalid JSON: {message}", line, column)


def _raise_precise_json_error(path: Path | str, content: bytes) -> None:
    """Raise ``json``'s message for ``content`` if ``json`` refuses it too."""
    text = decode_text(path, content)
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise ReadError(path, f"invalid JSON: {error.msg}", error.lineno, error.colno) from None
    except RecursionError:
        raise ReadError(path, "invalid JSON: nested too deeply") from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise ReadError(path, f"invalid JSON: {error}") from None


def read_json(path: Path | str, limit_bytes: int = MAX_SMALL_FILE_BYTES) -> Any:
    """Parsed JSON of the regular file ``path`` (at most ``limit_bytes``), by ``parse_json``."""
    return parse_json(path, read_bytes(path, limit_bytes, "a JSON file"))


def read_catalogue_raw(path: Path) -> dict[str, Any]:
    """The raw catalogue of ``path``: an object with a ``metadata`` object and a ``models`` list."""
    return catalogue_shape(path, read_json(path, MAX_CATALOGUE_BYTES))


def catalogue_raw_from_bytes(path: Path, content: bytes) -> dict[str, Any]:
    """``read_catalogue_raw`` of ``content``, what ``path`` holds or is about to hold."""
    return catalogue_shape(path, parse_json(path, content))


def catalogue_shape(path: Path, data: Any) -> dict[str, Any]:
    """``data`` if it has the catalogue's top-level shape, else ``ReadError`` naming ``path``."""
    if not isinstance(data, dict):
        raise ReadError(path, f"wrong top-level shape: expected an object with 'metadata' and 'models', found {kind_of(data)}")
    missing = [key for key in ("metadata", "models") if key not in data]
    if missing:
        raise ReadError(path, f"wrong top-level shape: no {' or '.join(repr(key) for key in missing)} key")
    if not isinstance(data["metadata"], dict):
        raise ReadError(path, f"wrong top-level shape: 'metadata' must be an object, found {kind_of(data['metadata'])}")
    if not isinstance(data["models"], list):
        raise ReadError(path, f"wrong top-level shape: 'models' must be a list, found {kind_of(data['models'])}")
    return data


def load_catalogue(path: Path) -> Catalogue:
    """The validated catalogue of ``path`` (``ReadError`` if unreadable, pydantic's error if invalid)."""
    return Catalogue.model_validate(read_catalogue_raw(path))


@contextmanager
def reported_as(shown_as: Path | str | None) -> Iterator[None]:
    """A ``ReadError`` raised in the block names ``shown_as`` (when given) instead of the file read: a hub file's
    ``org/name@commit/config.json`` rather than the cache's copy of it."""
    try:
        yield
    except ReadError as error:
        if shown_as is None:
            raise
        raise ReadError(shown_as, error.message, error.line, error.column) from None


def kind_of(value: Any) -> str:
    """What a JSON value is, for messages: ``an object``, ``a list``, ``a string``, ``null``, ..."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


class CsvTable:
    """A CSV file's text, parsed on first use into its header and rows (cells as text).

    ``lines[i]`` is the line row ``i`` starts on. Parsing raises ``ReadError`` for ragged rows
    or bad quoting. ``records()`` gives the rows one at a time instead (a large file's rows are never all held).
    """

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text

    @cached_property
    def _parsed(self) -> tuple[list[str], list[list[str]], list[int]]:
        rows: list[list[str]] = []
        lines: list[int] = []
        for line, row in self.records():
            rows.append(row)
            lines.append(line)
        return self.first_row, rows, lines

    @cached_property
    def first_row(self) -> list[str]:
        """The header, parsed alone (the rows are not); empty for an empty file."""
        return next(self.records(with_header=True), (0, []))[1]

    def records(self, with_header: bool = False) -> Iterator[tuple[int, list[str]]]:
        """(the line it starts on, the row) of every non-empty row after the header (``with_header``: the header
        first), parsed as they are asked for, so a reader of a large file holds one row at a time; ``ReadError``
        for an empty file, ragged rows or bad quoting."""
        reader = csv.reader(_lines(self.text), strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise ReadError(self.path, "empty file: expected a header row")
            if with_header:
                yield reader.line_num, header
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise ReadError(self.path, f"CSV syntax: expected {len(header)} fields as in the header, found {len(row)}", reader.line_num)
                yield reader.line_num, row
        except csv.Error as error:
            raise ReadError(self.path, f"CSV syntax: {error}", reader.line_num) from None

    @property
    def header(self) -> list[str]:
        """The first row; ``ReadError`` for an empty file."""
        if not self.first_row:
            raise ReadError(self.path, "empty file: expected a header row")
        return self.first_row

    @property
    def rows(self) -> list[list[str]]:
        """Every non-empty row after the header."""
        return self._parsed[1]

    @property
    def lines(self) -> list[int]:
        """The line each row starts on (1-based)."""
        return self._parsed[2]


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` (newlines already ``\\n``), each with its end, one at a time: ``io.StringIO`` would copy
    the whole text at four bytes a character."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


#: The byte-order mark Excel writes at the start of a UTF-8 CSV ("CSV UTF-8"); it is not data.
BYTE_ORDER_MARK = "\ufeff"


def csv_text(path: Path, content: bytes) -> str:
    """The text of a CSV file's ``content``: UTF-8, universal newlines, a leading byte-order mark dropped."""
    return decode_text(path, content).removeprefix(BYTE_ORDER_MARK)


def read_csv_table(path: Path) -> CsvTable:
    """The CSV at ``path`` (``ReadError`` if missing or not text); rows are parsed on first use."""
    table = CsvTable(path, csv_text(path, read_bytes(path, MAX_CATALOGUE_BYTES, "a CSV file")))
    if not table.text.strip():
        raise ReadError(path, "empty file: expected a header row")
    return table

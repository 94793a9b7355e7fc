"""Reading the catalogue's files.

Reading returns raw data (the verifier validates it and reports every problem) or raises
``ReadError``, a one-line message naming the file and, where known, line and column.
"""

from __future__ import annotations

import csv
import io
import json
from functools import cached_property
from pathlib import Path
from typing import Any

import pydantic_core

from ..core.records import Catalogue
from ..errors import ReadError


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReadError(path, "no such file") from None
    except IsADirectoryError:
        raise ReadError(path, "is a directory, expected a file") from None
    except UnicodeDecodeError as error:
        raise ReadError(path, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ReadError(path, f"cannot read: {error.strerror}") from None


def read_json(path: Path) -> Any:
    """Parsed JSON of ``path``; NaN and Infinity literals are kept so the schema can name them.

    pydantic-core's parser is several times faster than ``json``; when it refuses the file,
    ``json`` parses it again for its precise message (line and column).
    """
    try:
        return pydantic_core.from_json(path.read_bytes(), allow_inf_nan=True)
    except (ValueError, OSError):
        pass
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ReadError(path, f"invalid JSON: {error.msg}", error.lineno, error.colno) from None
    except RecursionError:
        raise ReadError(path, "invalid JSON: nested too deeply") from None


def read_catalogue_raw(path: Path) -> dict[str, Any]:
    """The raw catalogue of ``path``: an object with a ``metadata`` object and a ``models`` list."""
    return catalogue_shape(path, read_json(path))


def catalogue_raw_from_bytes(path: Path, content: bytes) -> dict[str, Any]:
    """``read_catalogue_raw`` of ``content``, what ``path`` holds or is about to hold."""
    try:
        data = pydantic_core.from_json(content, allow_inf_nan=True)
    except ValueError:
        try:
            data = json.loads(content.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise ReadError(path, f"not UTF-8 text (byte {error.start})") from None
        except json.JSONDecodeError as error:
            raise ReadError(path, f"invalid JSON: {error.msg}", error.lineno, error.colno) from None
    return catalogue_shape(path, data)


def catalogue_shape(path: Path, data: Any) -> dict[str, Any]:
    """``data`` if it has the catalogue's top-level shape, else ``ReadError`` naming ``path``."""
    if not isinstance(data, dict):
        raise ReadError(path, f"wrong top-level shape: expected an object with 'metadata' and 'models', found {_kind(data)}")
    missing = [key for key in ("metadata", "models") if key not in data]
    if missing:
        raise ReadError(path, f"wrong top-level shape: no {' or '.join(repr(key) for key in missing)} key")
    if not isinstance(data["metadata"], dict):
        raise ReadError(path, f"wrong top-level shape: 'metadata' must be an object, found {_kind(data['metadata'])}")
    if not isinstance(data["models"], list):
        raise ReadError(path, f"wrong top-level shape: 'models' must be a list, found {_kind(data['models'])}")
    return data


def load_catalogue(path: Path) -> Catalogue:
    """The validated catalogue of ``path`` (``ReadError`` if unreadable, pydantic's error if invalid)."""
    return Catalogue.model_validate(read_catalogue_raw(path))


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


class CsvTable:
    """A CSV file's text, parsed on first use into its header and rows (cells as text).

    ``lines[i]`` is the line row ``i`` starts on. Parsing raises ``ReadError`` for ragged rows
    or bad quoting.
    """

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text

    @cached_property
    def _parsed(self) -> tuple[list[str], list[list[str]], list[int]]:
        reader = csv.reader(io.StringIO(self.text, newline=""), strict=True)
        rows: list[list[str]] = []
        lines: list[int] = []
        try:
            header = next(reader, None)
            if header is None:
                raise ReadError(self.path, "empty file: expected a header row")
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise ReadError(
                        self.path,
                        f"CSV syntax: expected {len(header)} fields as in the header, found {len(row)}",
                        reader.line_num,
                    )
                rows.append(row)
                lines.append(reader.line_num)
        except csv.Error as error:
            raise ReadError(self.path, f"CSV syntax: {error}", reader.line_num) from None
        return header, rows, lines

    @property
    def header(self) -> list[str]:
        """The first row."""
        return self._parsed[0]

    @property
    def rows(self) -> list[list[str]]:
        """Every non-empty row after the header."""
        return self._parsed[1]

    @property
    def lines(self) -> list[int]:
        """The line each row starts on (1-based)."""
        return self._parsed[2]


def read_csv_table(path: Path) -> CsvTable:
    """The CSV at ``path`` (``ReadError`` if missing or not text); rows are parsed on first use."""
    table = CsvTable(path, _read_text(path))
    if not table.text.strip():
        raise ReadError(path, "empty file: expected a header row")
    return table



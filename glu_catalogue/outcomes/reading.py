"""What every outcome reader returns, and the helpers they share: the file read once, numbers taken as they stand.

A reader turns one file into a ``Reading``: its sha256 and format, and one ``ModelGroup`` per
model the file measured. A group holds the file's ``Claim`` about that model (its name,
repository or checkpoint, pruning %, expansion ratio, parameter count, as the file writes them)
and the outcomes' values, column by column (``columns.ValueColumns``), without the record they belong
to (``linking`` completes them). A
value the file gives twice, or a derived value whose parts it also gives, is compared by the
reader and any disagreement is a ``Problem`` in ``Reading.problems``: reported, never corrected.

Standard library and ``store.reading`` (every file checked before it is opened, size-capped).
"""

from __future__ import annotations

import functools
import hashlib
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..core.architecture import MAX_EXACT_INT
from ..core.problems import Problem, show
from ..core.text import whole_number
from ..errors import ReadError
from ..store.reading import MAX_SMALL_FILE_BYTES, decode_text, parse_json, read_bytes
from .columns import Location, ValueColumns

T = TypeVar("T")

#: The most bytes an outcome file may hold (lm-eval's results files are a few MB at most).
MAX_OUTCOME_FILE_BYTES = MAX_SMALL_FILE_BYTES


@dataclass
class Claim:
    """What a file says about the model it measured, as it says it (None: the file does not say)."""

    where: str
    name: str | None = None
    family: str | None = None
    repository: str | None = None
    revision: str | None = None
    pruning_pct: int | None = None
    expansion_ratio: float | None = None
    expansion_ratio_as_written: str | None = None
    total_parameters: int | None = None
    weight_bytes: int | None = None
    #: The catalogue record a file of ``catalogue evaluate`` or ``bench`` names, and the digest of the neurons its model kept.
    record: str | None = None
    kept_indices_sha256: str | None = None
    #: What the file claims in a form that cannot be read: its place -> (the value as written, what was
    #: expected). The checks report each: a claim is never dropped in silence, nor guessed.
    unreadable: dict[str, tuple[Any, str]] = field(default_factory=dict)
    #: Where the file states a claim whose place is not ``<where>.<the study's key>``: attribute -> place
    #: (lm-eval's repository is in ``config.model_args``); problems name the key the file really holds.
    places: dict[str, str] = field(default_factory=dict)

    def place(self, attribute: str, key: str) -> str:
        """Where the file states ``attribute``: its place in ``places``, else ``<where>.<key>``."""
        return self.places.get(attribute) or f"{self.where}.{key}"

    def read(self, where: str, value: Any, parse: Callable[[Any], T | None], expected: str) -> T | None:
        """``parse(value)``; a value the file gives (not null, ``"N/A"`` or empty) that does not parse is kept in ``unreadable``."""
        parsed = parse(value)
        if parsed is None and not is_missing(value):
            self.unreadable[where] = (value, expected)
        return parsed


@dataclass
class ModelGroup:
    """One model's values in a file: the claim, then each value's fields (record fields left to linking), column by column."""

    claim: Claim
    values: ValueColumns = field(default_factory=ValueColumns)


@dataclass
class Reading:
    """One outcome file read: where it is, its sha256 and format, its models and values, and what is wrong in it."""

    path: Path
    sha256: str
    format: str
    groups: list[ModelGroup] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Single runs' values the file gives, for comparing files that give the same run:
    #: (group index, workload, run number, quantity) -> (value, location).
    run_values: dict[tuple[int, str, int, str], tuple[float, str]] = field(default_factory=dict)

    def add(self, group: ModelGroup, value: dict[str, Any]) -> None:
        """Add ``value`` (its fields as a dict, ``source`` from ``source``) to ``group``."""
        group.values.append(value)

    def add_columns(
        self,
        group: ModelGroup,
        common: dict[str, Any],
        task: str | None,
        measure: str,
        filter_name: str | None,
        value: float,
        stderr: float | None,
        n_shot: int | None,
        location: Location,
    ) -> None:
        """Add one value to ``group`` by its columns (``ValueColumns.add``), without a dict of its own: the way of
        readers of files of millions of values. ``common``: its other fields, ``kind`` first, one object for many values;
        ``location``: its place, or its parts (``columns.Location``: made text only when asked)."""
        columns = group.values
        if columns.origin is None:
            columns.origin = (str(self.path), self.sha256, self.format)
        columns.add(common, task, measure, filter_name, value, stderr, n_shot, location)

    def source(self, location: str) -> dict[str, str]:
        """The ``source`` of a value at ``location`` of this file."""
        return {"path": str(self.path), "sha256": self.sha256, "format": self.format, "location": location}

    def problem(self, record: str, where: str, expected: Any, found: Any, message: str, kind: str) -> None:
        """Report what is wrong at ``where`` of this file."""
        self.problems.append(Problem(str(self.path), record, where, show(expected), show(found), message, kind))

    def finite(self, record: str, where: str, value: Any, what: str) -> float | None:
        """``value`` as a finite float; None where the file gives none; a problem at ``where`` for anything else (text, NaN, Infinity, a list)."""
        parsed = number(value)
        if parsed is None and not is_missing(value):
            self.problem(record, where, "a finite number or 'N/A'", value, f"{what} must be a number", "outcome-nature")
        return parsed

    def names_ok(self, record: str, where: str, names: dict[str, str | None]) -> bool:
        """True when every name of ``names`` (what -> the name; None: not given) can be stored; a problem at ``where``
        for the first that is empty or holds a control character (it would reach the CSV, the site, a terminal)."""
        for what, name in names.items():
            reason = None if name is None else name_fault(name) if isinstance(name, str) else "is not text"
            if reason is not None:
                self.problem(record, where, "a name: not empty, no control characters", ascii(name), f"the {what} name {reason}", "outcome-nature")
                return False
        return True

    def count(self, record: str, where: str, value: Any, what: str) -> int | None:
        """``value`` as a count (a whole number, 0 to 2**53); None where the file gives none; a problem at ``where`` for anything else."""
        parsed = whole(value)
        if parsed is not None and 0 <= parsed <= MAX_EXACT_INT:
            return parsed
        if not is_missing(value):
            self.problem(record, where, f"a whole number from 0 to {MAX_EXACT_INT}", value, f"{what} must be a count", "outcome-nature")
        return None


def efficiency_value(
    reading: Reading, workload: dict[str, Any], quantity: str, value: float, location: str, runs: dict | None = None, meter: dict | None = None
) -> dict[str, Any]:
    """One efficiency value's fields as a reader hands them to linking (the record's fields are added there)."""
    return {"kind": "efficiency", "workload": workload, "quantity": quantity, "value": value, "runs": runs, "meter": meter, "source": reading.source(location)}


def read_file(path: Path) -> tuple[bytes, str]:
    """The bytes of an outcome file and their sha256; ``ReadError`` for a special, missing or huge file."""
    content = read_bytes(path, MAX_OUTCOME_FILE_BYTES, "an outcome file (JSON or CSV)")
    return content, hashlib.sha256(content).hexdigest()


#: The most JSON items (counted by commas and opening brackets, an upper bound) an outcome file may hold: each
#: becomes a Python object of 30-100 bytes, so 64 MiB of ``[[],[],...]`` would take gigabytes once parsed. An lm-eval
#: file of 64 MiB holds about 4.1 million (20 MiB: 1.5 million), the study's capability JSON of 60 MiB 3.5 million,
#: so every file of a known layout under the size cap is read; 5 million of the densest (one object of short keys)
#: take 0.9 GiB once parsed.
MAX_JSON_ITEMS = 5_000_000


def read_json_document(path: Path, content: bytes) -> Any:
    """The JSON value in ``content``; the study's files write ``NaN`` as a value, which JSON does not allow (refused).

    ``ReadError`` before parsing when ``content`` may hold more than ``MAX_JSON_ITEMS`` items."""
    items = content.count(b",") + content.count(b"[") + content.count(b"{")
    if items > MAX_JSON_ITEMS:
        raise ReadError(
            path, f"up to {items:,} JSON items (commas and brackets), more than the {MAX_JSON_ITEMS:,} an outcome file may hold: is it the right file?"
        )
    return parse_json(path, content)


def text_of(path: Path, content: bytes) -> str:
    """``content`` as text (UTF-8, a byte-order mark dropped)."""
    return decode_text(path, content).removeprefix("\ufeff")


def number(value: Any) -> float | None:
    """``value`` as a finite float; None for ``"N/A"``, null, empty text, or anything not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            parsed = float(value)
        except OverflowError:  # an integer of more digits than a float holds
            return None
        return parsed if math.isfinite(parsed) else None
    if isinstance(value, str):
        text = value.strip()
        if text in ("", "N/A", "NA", "nan", "None", "null"):
            return None
        try:
            parsed = float(text)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def text(value: Any) -> str | None:
    """``value`` if it is text; else None."""
    return value if isinstance(value, str) else None


def gib_bytes(value: Any) -> int | None:
    """A size a file writes in GiB (``model_size_gb``, which the study computes as bytes / 2**30) in bytes."""
    size = number(value)
    return None if size is None or not math.isfinite(size * 2**30) else round(size * 2**30)


#: Unicode categories no name may hold: controls, formats (bidirectional overrides, zero-width), line and paragraph
#: separators, surrogates.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


@functools.lru_cache(maxsize=4096)  # a file repeats its few task and metric names on every row
def name_fault(name: str) -> str | None:
    """Why ``name`` (a task, metric, filter or workload) cannot be stored: ``is empty`` or ``holds a control
    character U+0000``; None when it can."""
    if not isinstance(name, str):
        return "is not text"
    if not name.strip():
        return "is empty"
    bad = next((character for character in name if unicodedata.category(character) in _FORBIDDEN_CATEGORIES), None)
    return None if bad is None else f"holds a control character U+{ord(bad):04X}"


def is_missing(value: Any) -> bool:
    """True where a file gives no value on purpose: null, ``"N/A"`` or empty text."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "N/A", "NA"))


def whole(value: Any) -> int | None:
    """``value`` as a whole number (an integer, a float with no fraction, or text ``core.text.whole_number`` reads); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return whole_number(value, signed=True)
    return None


def unknown_layout(path: Path, expected: str) -> ReadError:
    """The one-line error for a file of a layout no reader knows."""
    return ReadError(path, f"not an outcome file the catalogue reads: expected {expected}")

"""One model's values in an outcome file, kept column by column: millions of values in bounded memory.

A reader hands each value as a dict (``Reading.add``) or by its columns (``Reading.add_columns``, the
way of the readers of large CSVs); ``ValueColumns`` keeps its varying fields (task, metric or
quantity, filter, value, stderr, n-shot, place) in parallel columns, and what many values share
(kind, harness, workload, meter, runs, measurement) once, each row naming its shared part by
number; a CSV cell's place is kept as its line and column (``Places``). A value costs under 100
bytes instead of the few kB of a dict and a record, so a 64 MiB file of 2.6 million values is checked
whole. ``row`` gives a value back as its reader wrote it; ``first_of_each_signature`` picks the rows
whose records validate for all the others (``ingest`` builds only those); ``Hashed`` finds the rows
whose key another row may share (the one-value rule compares only those).

Standard library, and numpy for ``repeated`` (a sort of 8-byte hashes, not a dict of millions of keys).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from operator import is_
from typing import Any

from ..core.architecture import MAX_EXACT_INT

#: A score's fields kept in columns (the rest is shared).
SCORE_FIELDS = ("task", "metric", "filter", "value", "stderr", "n_shot", "source")

#: An efficiency value's fields kept in columns.
EFFICIENCY_FIELDS = ("quantity", "value", "source")


#: A place as a reader may give it: its text; a CSV cell's (line, column) for ``line N, column C``; or a JSON value's
#: (parent, key) for ``parent.key``, the parent (``models_evaluated.baseline.results.mmlu``) shared by its values.
Location = str | tuple[int, str] | tuple[str, str]


def place_text(location: Location) -> str:
    """A place as text (``source.location``)."""
    if type(location) is str:
        return location
    parent, key = location
    return f"line {parent}, column {key}" if type(parent) is int else f"{parent}.{key}"


class Places:
    """Each value's place in its file (``source.location``), as text made when asked: a CSV cell's
    ``line N, column C`` is kept as its line and column, a JSON value's ``parent.key`` as its parent's number
    and its key (16 bytes a value, not a string of 80)."""

    __slots__ = ("lines", "parts", "parents")

    def __init__(self) -> None:
        #: A CSV cell's line (>= 0); -1 where ``parts`` holds the whole place; -2 - n for a key of ``parents[n]``.
        self.lines = array("l")
        self.parts: list[str] = []
        #: The parents of JSON values' places, each once for the values that follow one another under it.
        self.parents: list[str] = []

    def append(self, location: Location) -> None:
        """Add a place (``Location``)."""
        if type(location) is str:
            self.lines.append(-1)
            self.parts.append(location)
            return
        parent, key = location
        if type(parent) is not int:
            if not self.parents or self.parents[-1] != parent:
                self.parents.append(parent)
            parent = -1 - len(self.parents)
        self.lines.append(parent)
        self.parts.append(key)

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index: int) -> str:
        return self._text(self.lines[index], self.parts[index])

    def _text(self, line: int, part: str) -> str:
        if line >= 0:
            return f"line {line}, column {part}"
        return part if line == -1 else f"{self.parents[-2 - line]}.{part}"

    def __iter__(self) -> Iterator[str]:
        return (self._text(line, part) for line, part in zip(self.lines, self.parts))

    def keys(self, rows: Sequence[int]) -> Iterator:
        """A key per place of ``rows``, equal where the places are: (line, column) where every place of these columns
        is a CSV cell's (no text to make: the text and the pair name each other), else the text."""
        if min(self.lines, default=0) >= 0:
            return zip([self.lines[row] for row in rows], [self.parts[row] for row in rows])
        return (self[row] for row in rows)


class ValueColumns:
    """One model's values in a file, in the order a reader added them, column by column."""

    __slots__ = (
        "task",
        "measure",
        "filter",
        "value",
        "stderr",
        "n_shot",
        "location",
        "shared",
        "commons",
        "is_score",
        "origin",
        "_common_of",
        "_by_id",
        "_names",
    )

    def __init__(self) -> None:
        self.task: list[str | None] = []
        #: A score's metric, an efficiency value's quantity.
        self.measure: list[str] = []
        self.filter: list[str | None] = []
        self.value = array("d")
        self.stderr: list[float | None] = []
        self.n_shot: list[int | None] = []
        #: Each value's place in its file (``source.location``).
        self.location = Places()
        #: Each row's shared part: an index into ``commons``.
        self.shared = array("l")
        #: The distinct shared parts (every field but the columns'), and whether each is a score's.
        self.commons: list[dict[str, Any]] = []
        self.is_score: list[bool] = []
        #: The file's (path, sha256, format), the same for every value of a reading.
        self.origin: tuple[str, str, str] | None = None
        self._common_of: dict[Any, int] = {}
        self._by_id: dict[int, int] = {}
        self._names: dict[str, str] = {}

    def append(self, value: dict[str, Any]) -> None:
        """Add one value as a reader builds it (``kind``, its fields, ``source``)."""
        source = value["source"]
        if self.origin is None:
            self.origin = (source["path"], source["sha256"], source["format"])
        if value["kind"] == "score":
            common = {key: item for key, item in value.items() if key not in SCORE_FIELDS}
            task, metric, stderr, n_shot = value.get("task"), value.get("metric"), value.get("stderr"), value.get("n_shot")
            self.add(common, task, metric, value.get("filter"), value["value"], stderr, n_shot, source["location"])
        else:
            common = {key: item for key, item in value.items() if key not in EFFICIENCY_FIELDS}
            self.add(common, None, value.get("quantity"), None, value["value"], None, None, source["location"])

    def add(
        self,
        common: dict[str, Any],
        task: str | None,
        measure: str,
        filter_name: str | None,
        value: float,
        stderr: float | None,
        n_shot: int | None,
        location: Location,
    ) -> None:
        """Add one value by its columns; ``common`` holds its other fields (``kind`` first), the same object for many
        values where a reader can (it is kept once either way); ``location`` its place (``Location``).
        ``origin`` must be set."""
        index = self._by_id.get(id(common))
        if index is None or self.commons[index] is not common:
            index = self._common(common)
        names = self._names
        self.task.append(names.setdefault(task, task) if type(task) is str else task)
        self.measure.append(measure)
        self.filter.append(filter_name)
        self.value.append(value)
        self.stderr.append(stderr)
        self.n_shot.append(n_shot)
        self.location.append(location)
        self.shared.append(index)

    def _common(self, common: dict[str, Any]) -> int:
        """The index of ``common`` among the distinct shared parts, added when new."""
        try:
            key = _frozen(common)
        except TypeError:  # a part that cannot be compared (none of the readers' does): kept on its own
            key = object()
        index = self._common_of.get(key)
        if index is None:
            index = self._common_of[key] = len(self.commons)
            self.commons.append(common)
            self.is_score.append(common.get("kind") == "score")
        if self.commons[index] is common:
            self._by_id[id(common)] = index  # held by ``commons``: its id names it while this object lives
        return index

    def __len__(self) -> int:
        return len(self.location)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self.row(index) for index in range(len(self)))

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.row(range(len(self))[index])

    def row(self, index: int) -> dict[str, Any]:
        """The value at ``index`` as its reader gave it: a new dict (its shared parts are shared, not copied)."""
        path, sha256, file_format = self.origin
        source = {"path": path, "sha256": sha256, "format": file_format, "location": self.location[index]}
        common = self.commons[self.shared[index]]
        if self.is_score[self.shared[index]]:
            fields = {
                "task": self.task[index],
                "metric": self.measure[index],
                "filter": self.filter[index],
                "stderr": self.stderr[index],
                "n_shot": self.n_shot[index],
            }
            return {**common, **fields, "value": self.value[index], "source": source}
        return {**common, "quantity": self.measure[index], "value": self.value[index], "source": source}

    def is_score_row(self, index: int) -> bool:
        """True for a score (else an efficiency value)."""
        return self.is_score[self.shared[index]]

    def first_of_each_signature(self, rows: Sequence[int]) -> list[int]:
        """The first of ``rows`` (ascending) of each signature: what decides whether a row's record validates is its
        shared part, its metric or quantity, and which optional fields it has. Two rows of one signature validate
        alike: their other columns hold any text or finite number, which the record takes. A row whose columns hold
        anything else is its own signature (its record is built and validated on its own)."""
        whole = isinstance(rows, range) and rows == range(len(self))

        def pick(column: Sequence) -> Sequence:
            return column if whole else [column[row] for row in rows]

        tasks, measures, filters, stderrs, shots = pick(self.task), pick(self.measure), pick(self.filter), pick(self.stderr), pick(self.n_shot)
        odd = _odd(tasks, (str, type(None))) | _odd(measures, (str,)) | _odd(filters, (str, type(None)))
        odd |= _odd(stderrs, (float, type(None)), math.isfinite) | _odd(pick(self.value), (float,), math.isfinite)
        odd |= _odd(shots, (int, type(None)), lambda shot: 0 <= shot <= MAX_EXACT_INT)
        nothing = repeat(None)
        keys = zip(pick(self.shared), measures, map(is_, tasks, nothing), map(is_, filters, nothing), map(is_, stderrs, nothing), map(is_, shots, nothing))
        first: dict[tuple, int] = {}
        for index, key in enumerate(keys):
            first.setdefault(key, index)
        return [rows[index] for index in sorted(set(first.values()) | odd)]


def _odd(column: Sequence, types: tuple[type, ...], fits: Callable[[Any], bool] | None = None) -> set[int]:
    """The indices of ``column`` whose cell is of none of ``types`` (exactly), or, given ``fits``, is not None and does not fit."""
    if set(map(type, column)) <= set(types) and (fits is None or all(map(fits, (cell for cell in column if cell is not None)))):
        return set()
    return {index for index, cell in enumerate(column) if type(cell) not in types or (fits is not None and cell is not None and not fits(cell))}


def _frozen(item: Any) -> Any:
    """``item`` as a hashable key: mappings and lists as tuples, recursively (``TypeError`` for anything else unhashable)."""
    if isinstance(item, dict):
        return ("{}", tuple((key, _frozen(value)) for key, value in item.items()))
    if isinstance(item, list):
        return ("[]", tuple(_frozen(value) for value in item))
    hash(item)
    return (type(item).__name__, item)


class Hashed:
    """Hashes of keys of rows, appended a run of rows at a time, and the rows whose hash another shares.

    Rows whose key hashes alike include every pair of rows of one key (and, rarely, two keys whose hashes
    collide): the caller compares their real keys. 8 bytes a row, not a dict of millions of keys."""

    def __init__(self) -> None:
        self.hashes = array("q")
        self.runs: list[tuple[int, Any, Sequence[int]]] = []  # (first index, the run's name, its rows)

    def extend(self, name: Any, rows: Sequence[int], keys: Iterator) -> None:
        """Add the keys of ``rows`` (one per row, in order) under ``name``."""
        self.runs.append((len(self.hashes), name, rows))
        self.hashes.extend(map(hash, keys))

    def repeated(self) -> list[tuple[Any, int]]:
        """(name, row), in the order added, of every row whose key's hash another row's shares."""
        starts = [run[0] for run in self.runs]
        found = []
        for index in repeated(self.hashes):
            start, name, rows = self.runs[bisect_right(starts, index) - 1]
            found.append((name, rows[index - start]))
        return found


def repeated(hashes: Sequence[int]) -> list[int]:
    """The positions, in order, of the hashes that occur more than once in ``hashes`` (an ``array("q")``).

    Rows whose key hashes alike include every pair of rows of one key (and, rarely, two keys whose
    hashes collide): the caller compares their real keys.
    """
    import numpy

    codes = numpy.frombuffer(hashes, dtype=numpy.int64) if len(hashes) else numpy.zeros(0, dtype=numpy.int64)
    _, inverse, counts = numpy.unique(codes, return_inverse=True, return_counts=True)
    return numpy.flatnonzero(counts[inverse] > 1).tolist()

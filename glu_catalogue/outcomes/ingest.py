"""Outcome files read, linked and checked: the outcomes to store, the values left out and why, every problem.

``ingest(paths, records, registry_ids)`` reads each file (``readers``), joins each of its models
to one record (``linking``; a file that cannot be joined raises ``LinkError`` and nothing of it is
kept), checks the claims and the values (``checks``), then leaves out every value a check
rejected: a model whose claims disagree with its record loses all its values; a value whose place
a problem names is left out alone (a problem with its stderr or n-shot names it too). A file
given twice (the same bytes) is read once. One value per thing (``agreement``): a file giving two
values of one record, task, metric, filter and n-shot keeps neither; two files' scores must agree
within their stated uncertainty (else the rounding both write), and the first file's is kept.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from ..core.outcome_records import LeftOut, Outcome
from ..core.problems import Problem, show
from ..errors import ReadError
from .agreement import Disagreement, disagreements
from .checks import check_claims, check_nature
from .columns import Hashed, ValueColumns
from .linking import Link, Records, family_names, link_groups
from .readers import read_outcome_file
from .reading import Reading

OUTCOME = TypeAdapter(Outcome)

#: Problems that leave out every value of a model: what the file claims of it, or names it as, is not its record's.
WHOLE_MODEL_KINDS = ("outcome-claim", "outcome-model")

#: Suffixes of one aggregated value's parts (``energy_kwh_mean``, ``energy_kwh_std``): a problem with one rejects them all.
_AGGREGATE_SUFFIXES = ("_mean", "_std", "_min", "_max")


@dataclass
class Selection:
    """One linked model's values in a reading: the rows to store, in order, and the rows left out with the problem rejecting each."""

    reading: Reading
    link: Link
    kept: Sequence[int]
    left: list[tuple[int, Problem]] = field(default_factory=list)

    @property
    def columns(self) -> ValueColumns:
        """The model's values, column by column."""
        return self.link.group.values

    def document(self, row: int) -> dict:
        """The outcome of ``row`` as fields, joined to the record."""
        record = self.link.record
        return {**self.columns.row(row), "record": self.link.label, "base_model": record.base_model, "pruning_pct": record.pruning_pct}


@dataclass
class Ingested:
    """What a set of outcome files gives: outcomes to store, values left out, problems, and each file's links.

    The values stay in their readings' columns (``selections``); ``outcomes`` and ``left_out`` build the
    records (``results add`` stores them), ``n_outcomes`` and ``n_left_out`` count them without building.
    """

    selections: list[Selection] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    links: dict[Path, list[Link]] = field(default_factory=dict)
    readings: list[Reading] = field(default_factory=list)
    #: Values the one-value rule leaves out (after the values the checks leave out).
    refused: list[LeftOut] = field(default_factory=list)
    #: (position, row) of each value of ``refused`` (None for a stored one).
    refused_at: list[tuple[int, int] | None] = field(default_factory=list)
    _built: dict[tuple[int, int], Outcome] = field(default_factory=dict, repr=False)
    _built_left: dict[tuple[int, int], LeftOut] = field(default_factory=dict, repr=False)
    _places: dict[int, tuple[int, int]] = field(default_factory=dict, repr=False)

    def outcome(self, position: int, row: int) -> Outcome:
        """The record of row ``row`` of ``selections[position]``, built once (``ReadError`` where it does not validate)."""
        key = (position, row)
        built = self._built.get(key)
        if built is None:
            selection = self.selections[position]
            try:
                built = self._built[key] = OUTCOME.validate_python(selection.document(row))
            except ValidationError as error:
                first = error.errors()[0]
                where = selection.columns.location[row]
                raise ReadError(selection.reading.path, f"{where}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
            self._places[id(built)] = key
        return built

    def left(self, position: int, index: int) -> LeftOut:
        """The ``index``-th value the checks leave out of ``selections[position]``, built once."""
        key = (position, index)
        if key not in self._built_left:
            selection = self.selections[position]
            row, problem = selection.left[index]
            self._built_left[key] = _left_out(selection.columns.row(row), selection.link.label, problem)
        return self._built_left[key]

    @property
    def outcomes(self) -> list[Outcome]:
        """Every outcome to store, in the files' order (built: a few kB each)."""
        return [self.outcome(position, row) for position, selection in enumerate(self.selections) for row in selection.kept]

    @property
    def left_out(self) -> list[LeftOut]:
        """Every value left out, with its reason: those the checks reject, then those the one-value rule refuses."""
        return [self.left(position, index) for position, selection in enumerate(self.selections) for index in range(len(selection.left))] + self.refused

    @property
    def n_outcomes(self) -> int:
        """How many outcomes there are to store."""
        return sum(len(selection.kept) for selection in self.selections)

    @property
    def n_left_out(self) -> int:
        """How many values are left out."""
        return sum(len(selection.left) for selection in self.selections) + len(self.refused)

    def rows(self, wanted: Callable[[Selection], bool] = lambda selection: True) -> Iterator[tuple[int, int]]:
        """(position, row) of every outcome to store, in order, of the selections ``wanted`` accepts."""
        for position, selection in enumerate(self.selections):
            if wanted(selection):
                yield from ((position, row) for row in selection.kept)

    def drop(self, places: set[tuple[int, int]]) -> None:
        """Store none of the outcomes at ``places`` ((position, row) pairs)."""
        for position, selection in enumerate(self.selections):
            if any(place[0] == position for place in places):
                selection.kept = array("l", (row for row in selection.kept if (position, row) not in places))

    def place_of(self, outcome: Outcome) -> tuple[int, int] | None:
        """(position, row) of an outcome ``outcome`` built; None for another (a stored one)."""
        return self._places.get(id(outcome))


def ingest(paths: Sequence[Path], records: Records, registry_ids: set[str], record_label: str | None = None) -> Ingested:
    """Read, link and check every file of ``paths``; ``ReadError``/``LinkError`` (one line) for one that cannot be used."""
    result = Ingested()
    readings = []
    for path in paths:
        reading = read_outcome_file(Path(path))
        if any(other.sha256 == reading.sha256 for other in readings):
            continue  # the same bytes given twice (one file named twice, or a copy): their values count once
        readings.append(reading)
    named: dict[str, str] = {}  # model names a file gives with their family (the study's JSON), for its CSV
    for reading in readings:
        if any(group.claim.family for group in reading.groups):
            named.update(family_names(link_groups(reading.path, reading.groups, records, registry_ids, record_label)))
    for reading in readings:
        links = link_groups(reading.path, reading.groups, records, registry_ids, record_label, named)
        check_nature(reading, {index: link.label for index, link in enumerate(links)})
        check_claims(reading, links)
        result.links[reading.path] = links
        result.readings.append(reading)
        for selection in _selections(reading, links):
            result.selections.append(selection)
            _validate(result, len(result.selections) - 1)
    runs = same_run_problems(result.readings, result.links)
    result.problems = [problem for reading in result.readings for problem in reading.problems] + runs
    disagreeing = {(problem.file, problem.field) for problem in runs}
    if disagreeing:
        result.drop({(position, row) for position, row in result.rows() if _place(result, position, row) in disagreeing})
    settle(result, disagreements(result.outcome(*place) for place in repeated_things(result)))
    return result


def _place(result: Ingested, position: int, row: int) -> tuple[str, str]:
    """(path, location) of a row, as its outcome's source names it."""
    columns = result.selections[position].columns
    return columns.origin[0], columns.location[row]


def _validate(result: Ingested, position: int) -> None:
    """Every outcome of ``selections[position]`` validates as a record: one record built per ``ValueColumns`` signature."""
    selection = result.selections[position]
    for row in selection.columns.first_of_each_signature(selection.kept):
        result.outcome(position, row)


def repeated_things(result: Ingested) -> list[tuple[int, int]]:
    """The places (position, row), in order, of the scores to store whose thing (``agreement.thing``: record, task,
    metric, filter) another may share: the only ones the one-value rule can compare (``columns.Hashed``)."""
    hashed = Hashed()
    for position, selection in enumerate(result.selections):
        columns, rows = selection.columns, selection.kept
        if not all(columns.is_score):  # efficiency values are not compared: only the scores are hashed
            rows = array("l", (row for row in rows if columns.is_score_row(row)))
        if len(rows) == len(columns):
            tasks, measures, filters = columns.task, columns.measure, columns.filter
        else:
            tasks, measures, filters = ([column[row] for row in rows] for column in (columns.task, columns.measure, columns.filter))
        hashed.extend(position, rows, zip(repeat(selection.link.label), tasks, measures, filters))
    return hashed.repeated()


def settle(result: Ingested, found: Sequence[Disagreement]) -> None:
    """Apply the one-value rule's findings to ``result``: each a problem, and the values it refuses left out instead of stored."""
    refused: set[tuple[int, int]] = set()
    for disagreement in found:
        result.problems += disagreement.problems()
        outcomes = [disagreement.other] + ([disagreement.kept] if disagreement.same_source else [])
        for item, outcome in zip(disagreement.left_out(), outcomes):
            place = result.place_of(outcome)
            result.refused.append(item)
            result.refused_at.append(place)
            if place is not None:
                refused.add(place)
    if refused:
        result.drop(refused)


def _selections(reading: Reading, links: list[Link]) -> list[Selection]:
    """Each linked model's values, less those the reading's problems reject (each left out with its problem)."""
    by_place = {_stem(problem.field): problem for problem in reading.problems}
    selections = []
    for link in links:
        columns = link.group.values
        claim_problems = [p for p in reading.problems if p.kind in WHOLE_MODEL_KINDS and _within(p.field, link.group.claim.where)]
        if claim_problems:
            selections.append(Selection(reading, link, array("l"), [(row, claim_problems[0]) for row in range(len(columns))]))
            continue
        if not by_place:
            selections.append(Selection(reading, link, range(len(columns))))
            continue
        kept, left = array("l"), []
        for row, location in enumerate(columns.location):
            problem = by_place.get(_stem(location))
            if problem is None:
                kept.append(row)
            else:
                left.append((row, problem))
        selections.append(Selection(reading, link, kept, left))
    return selections


def _within(field: str, where: str) -> bool:
    """True for a place inside ``where`` (``line 2, column x`` is in ``line 2``; ``line 20`` is not)."""
    return field == where or field.startswith((f"{where}.", f"{where},"))


def _stem(location: str) -> str:
    """A value's place without the part naming one statistic of it (``_mean``, ``_std``, ...) or a part of it
    (`` (stderr)``, `` (n-shot)``: a problem with its stderr or n-shot is a problem with the value)."""
    location = re.sub(r" \([^()]*\)$", "", location)
    for suffix in _AGGREGATE_SUFFIXES:
        if location.endswith(suffix):
            return location[: -len(suffix)]
    return location


def _left_out(value: dict, label: str, problem: Problem) -> LeftOut:
    what = value.get("metric") or value.get("quantity")
    task = value.get("task") or value.get("workload", {}).get("name")
    return LeftOut(
        source=value["source"],
        record=label,
        what=f"{task} {what}",
        value=show(value["value"]),
        reason=f"{problem.message} (at {problem.field}: expected {problem.expected}, found {problem.found})",
        kind=problem.kind,
    )


def same_run_problems(readings: Sequence[Reading], links: dict[Path, list[Link]]) -> list[Problem]:
    """One run's values that two files give (the study's aggregate and its per-run file) and that differ."""
    seen: dict[tuple, tuple[float, Reading, str]] = {}
    problems = []
    for reading in readings:
        labels = [link.label for link in links[reading.path]]
        for (group, workload, run, quantity), (value, location) in reading.run_values.items():
            key = (labels[group], workload, run, quantity)
            other = seen.setdefault(key, (value, reading, location))
            if other[1] is reading or other[1].sha256 == reading.sha256:
                continue
            if not math.isclose(other[0], value, rel_tol=1e-9):
                problems.append(
                    Problem(
                        str(reading.path),
                        labels[group],
                        location,
                        show(other[0]),
                        show(value),
                        f"{other[1].path} ({other[2]}) gives run {run} of {workload} as {show(other[0])}",
                        "outcome-consistency",
                    )
                )
    return problems

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from pydantic import TypeAdapter, ValidationError

from ..core.outcome_records import LeftOut, Outcome
from ..core.problems import Problem, show
from ..errors import ReadError
from .agreement import Disagreement, disagreements
from .checks import check_claims, check_nature
from .linking import Link, Records, family_names, link_groups
from .readers import read_outcome_file
from .reading import Reading

OUTCOME = TypeAdapter(Outcome)

#: Problems that leave out every value of a model: what the file claims of it, or names it as, is not its record's.
WHOLE_MODEL_KINDS = ("outcome-claim", "outcome-model")

#: Suffixes of one aggregated value's parts (``energy_kwh_mean``, ``energy_kwh_std``): a problem with one rejects them all.
_AGGREGATE_SUFFIXES = ("_mean", "_std", "_min", "_max")


@dataclass
class Ingested:
    """What a set of outcome files gives: outcomes to store, values left out, problems, and each file's links."""

    outcomes: list = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    links: dict[Path, list[Link]] = field(default_factory=dict)
    readings: list[Reading] = field(default_factory=list)


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
        kept, left_out = _outcomes(reading, links)
        result.outcomes += kept
        result.left_out += left_out
    runs = same_run_problems(result.readings, result.links)
    result.problems = [problem for reading in result.readings for problem in reading.problems] + runs
    disagreeing = {(problem.file, problem.field) for problem in runs}
    result.outcomes = [outcome for outcome in result.outcomes if (outcome.source.path, outcome.source.location) not in disagreeing]
    settle(result, disagreements(result.outcomes))
    return result


def settle(result: Ingested, found: Sequence[Disagreement]) -> None:
    """Apply the one-value rule's findings to ``result``: each a problem, and the values it refuses left out instead of stored."""
    refused: set[int] = set()
    for disagreement in found:
        result.problems += disagreement.problems()
        result.left_out += disagreement.left_out()
        refused |= {id(disagreement.other)} | ({id(disagreement.kept)} if disagreement.same_source else set())
    result.outcomes = [outcome for outcome in result.outcomes if id(outcome) not in refused]


def _outcomes(reading: Reading, links: list[Link]) -> tuple[list, list[LeftOut]]:
    """The outcomes of a reading's linked values, less those its problems reject (each left out with its reason)."""
    by_place = {_stem(problem.field): problem for problem in reading.problems}
    kept, left_out = [], []
    for link in links:
        claim_problems = [p for p in reading.problems if p.kind in WHOLE_MODEL_KINDS and _within(p.field, link.group.claim.where)]
        for value in link.group.values:
            location = value["source"]["location"]
            problem = claim_problems[0] if claim_problems else by_place.get(_stem(location))
            if problem is not None:
                left_out.append(_left_out(value, link.label, problem))
                continue
            document = {**value, "record": link.label, "base_model": link.record.base_model, "pruning_pct": link.record.pruning_pct}
            try:
                kept.append(OUTCOME.validate_python(document))
            except ValidationError as error:
                first = error.errors()[0]
                raise ReadError(reading.path, f"{location}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return kept, left_out


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
        source=value["source"], record=label, what=f"{task} {what}", value=show(value["value"]),
        reason=f"{problem.message} (at {problem.field}: expected {problem.expected}, found {problem.found})", kind=problem.kind,
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
                        str(reading.path), labels[group], location, show(other[0]), show(value),
                        f"{other[1].path} ({other[2]}) gives run {run} of {workload} as {show(other[0])}", "outcome-consistency",
                    )
                )  # fmt: skip
    return problems

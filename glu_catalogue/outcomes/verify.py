"""``catalogue verify`` of a data directory's outcomes: every stored value against its record, its nature and the CSV.

Checks ``outcomes.json`` against its schema, that each outcome names a successful record of the
catalogue beside it (and that record's model and pruning %), that no value is stored twice, each
value against its nature (the same rules as on the way in), and that ``outcomes.csv`` is the
projection of the JSON; the one-value rule (``agreement``); and that each source file the directory
keeps (under ``measurements/`` or ``sources/``) still exists with the sha256 its outcomes name. A
directory without ``outcomes.json`` has nothing to check here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path, PurePath

from ..core.outcome_records import OutcomesFile, ScoreOutcome, outcome_key
from ..core.problems import Report
from ..core.records import ExpansionRecord
from ..errors import ReadError
from ..store.outcomes_files import OUTCOMES_CSV_FILE, OUTCOMES_FILE, outcomes_texts, read_outcomes
from ..store.reading import path_exists, read_bytes, read_text
from .agreement import disagreements, second_record_message, second_records
from .checks import is_proportion
from .reading import MAX_OUTCOME_FILE_BYTES

#: The folders of a data directory whose files outcomes are read from and kept: ``catalogue evaluate``/``bench``'s and copies of others'.
KEPT_DIRS = ("measurements", "sources")


def verify_outcomes(data_dir: Path, records: Mapping[tuple[str, int], ExpansionRecord], report: Report) -> None:
    """Add every problem of ``data_dir``'s outcomes to ``report`` (and count what was checked)."""
    data_dir = Path(data_dir)
    path = data_dir / OUTCOMES_FILE
    if not path_exists(path):
        return
    try:
        stored = read_outcomes(data_dir)
    except ReadError as error:
        report.add(path, "-", "-", "a valid outcomes.json", "-", error.message, kind="schema")
        return
    report.checked["outcomes"] += len(stored.outcomes)
    seen: set[tuple] = set()
    for outcome in stored.outcomes:
        where = outcome.source.location
        key = outcome_key(outcome)
        if key in seen:
            report.add(path, outcome.record, where, "once", "twice", "the same value is stored twice", kind="duplicate")
        seen.add(key)
        record = records.get((outcome.base_model, outcome.pruning_pct))
        if outcome.record != f"{outcome.base_model}@{outcome.pruning_pct}":
            report.add(
                path,
                outcome.record,
                "record",
                f"{outcome.base_model}@{outcome.pruning_pct}",
                outcome.record,
                "the label is not the record's model and pruning %",
                kind="outcome-link",
            )
        elif record is None:
            report.add(
                path,
                outcome.record,
                "record",
                "a successful record of expansion_rates.json",
                "none",
                "the outcome names a record the catalogue does not hold",
                kind="outcome-link",
            )
        if isinstance(outcome, ScoreOutcome):
            _score_nature(path, outcome, report)
        elif outcome.value < 0:
            report.add(path, outcome.record, where, ">= 0", outcome.value, f"{outcome.quantity} cannot be negative", kind="outcome-nature")
    _check_agreement(path, stored, report)
    sources = check_kept_sources(data_dir, stored, report)
    if sources:
        report.checked["outcome_sources"] += sources
    _check_csv(data_dir, stored, report)


def _check_agreement(path: Path, stored: OutcomesFile, report: Report) -> None:
    """The one-value rule (``agreement``) over what is stored: one record per place of a source, one value per thing."""
    for first, second in second_records([*stored.outcomes, *stored.left_out]):
        report.add(path, second.record, second.source.location, first.record, second.record, second_record_message(first, second), kind="outcome-link")
    for disagreement in disagreements(stored.outcomes):
        for problem in disagreement.problems():
            report.add(path, problem.record, problem.field, problem.expected, problem.found, problem.message, kind=problem.kind)


def kept_source(data_dir: Path, source_path: str) -> tuple[Path, bool] | None:
    """Where ``data_dir`` would keep a stored source whose path runs through a ``measurements/`` or ``sources/`` folder
    (``data/sources/study/x.json``, ``/abs/data/measurements/...``): that folder and what follows, in ``data_dir``;
    and whether the path names this directory itself (the folder follows the directory's name, or starts a relative
    path). None for a path through neither folder: a file the catalogue does not keep.

    The path is read from the folder on, so a data directory copied or moved whole still finds its files.
    """
    parts = PurePath(source_path.replace("\\", "/")).parts
    index = next((index for index, part in enumerate(parts) if part in KEPT_DIRS), None)
    if index is None or ".." in parts[index:]:
        return None
    named_here = parts[index - 1] == data_dir.name if index else not PurePath(source_path).is_absolute()
    return data_dir.joinpath(*parts[index:]), named_here


def check_kept_sources(data_dir: Path, stored: OutcomesFile, report: Report) -> int:
    """Each source file the data directory keeps still exists and has the sha256 its outcomes name; returns how many were checked.

    A source found in the directory's ``measurements/`` or ``sources/`` is checked by its digest; one that is not
    there is reported gone when its path names this directory (a path elsewhere is a file the catalogue never kept).
    """
    checked = 0
    for source_path, sha256 in sorted({(item.source.path, item.source.sha256) for item in [*stored.outcomes, *stored.left_out]}):
        kept = kept_source(data_dir, source_path)
        if kept is None or not (path_exists(kept[0]) or kept[1]):
            continue
        checked += 1
        problem = _kept_source_problem(kept[0], sha256)
        if problem is not None:
            report.add(kept[0], "-", problem[0], f"the file of sha256 {sha256}" if problem[0] == "-" else sha256, problem[1], problem[2], kind="outcome-source")
    return checked


def _kept_source_problem(path: Path, sha256: str) -> tuple[str, str, str] | None:
    """(field, found, message) for a kept source that is gone, unreadable or edited; None when it has its digest."""
    if not path_exists(path):
        return "-", "missing", "the source of stored outcomes is gone: restore it, or its outcomes cannot be traced to it"
    try:
        found = hashlib.sha256(read_bytes(path, MAX_OUTCOME_FILE_BYTES, "an outcome source")).hexdigest()
    except ReadError as error:
        return "-", "unreadable", error.message
    if found != sha256:
        return "sha256", found, "the source was edited after its outcomes were stored: restore it (or add it again as a new source)"
    return None


def _score_nature(path: Path, outcome: ScoreOutcome, report: Report) -> None:
    where = outcome.source.location
    if is_proportion(outcome.metric) and not 0 <= outcome.value <= 1:
        report.add(path, outcome.record, where, "a proportion in [0, 1]", outcome.value, f"{outcome.metric} is a share of examples", kind="outcome-nature")
    if "perplexity" in outcome.metric and outcome.value < 1:
        report.add(path, outcome.record, where, ">= 1", outcome.value, f"a {outcome.metric} below 1 is impossible", kind="outcome-nature")
    if outcome.stderr is not None and outcome.stderr < 0:
        report.add(path, outcome.record, where, ">= 0", outcome.stderr, "a standard error cannot be negative", kind="outcome-nature")


def _check_csv(data_dir: Path, stored, report: Report) -> None:
    """``outcomes.csv`` must be what the JSON projects to, byte for byte."""
    expected = outcomes_texts(data_dir, stored)[data_dir / OUTCOMES_CSV_FILE]
    csv_path = data_dir / OUTCOMES_CSV_FILE
    try:
        found = read_text(csv_path, 1 << 30, "outcomes.csv") if path_exists(csv_path) else None
    except ReadError as error:
        report.add(csv_path, "-", "-", "the CSV of outcomes.json", "-", error.message, kind="csv")
        return
    if found != expected:
        line = next((index for index, (a, b) in enumerate(zip((found or "").splitlines(), expected.splitlines()), 1) if a != b), None)
        report.add(
            csv_path,
            "-",
            f"line {line}" if line else "-",
            "the projection of outcomes.json",
            "missing" if found is None else "differs",
            "outcomes.csv is not outcomes.json's projection: `catalogue results add` rewrites both",
            kind="csv",
        )

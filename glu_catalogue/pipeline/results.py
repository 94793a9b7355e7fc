"""``catalogue results add`` and ``results check``: outcome files joined to the catalogue, checked, stored.

``check_results`` reads, links and checks files without writing (its report lists every problem;
a file that cannot be read or linked raises one line). ``add_results`` does the same, then merges
the outcomes into the data directory's ``outcomes.json`` and ``outcomes.csv`` under the build
lock, in one journalled write with ``schemas/`` and, for the default data directory, the site's
generated files (``publish.default_site_update``: the pages show the merged outcomes). A value
the checks reject is left out (listed in ``left_out`` with the reason), adding the same file
again changes nothing, and a file whose value differs from the one stored for the same record,
measurement and source is refused, naming both. The one-value rule (``outcomes.agreement``) holds
against what is stored too: a file already stored under another record is refused (``check``
reports it), and a score that disagrees with the stored one of the same thing is left out, naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.outcome_records import OutcomesFile, ScoreOutcome, outcome_key
from ..core.problems import Report
from ..core.records import successful_by_key
from ..errors import InputError, UsageError
from ..outcomes.agreement import disagreements, second_record_message, second_records, thing
from ..outcomes.columns import Hashed
from ..outcomes.ingest import Ingested, ingest, settle
from ..store.catalogue_dir import existing_catalogue
from ..store.outcomes_files import outcomes_texts, read_outcomes
from ..store.paths import CATALOGUE_FILE, default_data_dir, schemas_dir, write_roots
from ..store.reading import path_exists
from ..store.registry import load_registry
from ..store.schemas import rendered_schemas
from ..store.writing import recover_data_dir, write_files
from .lock import build_lock
from .publish import default_site_update

#: The most values one ``results add`` stores (outcomes.json and its CSV are read whole by verify, the site and the
#: API; a value takes about 1 kB there). ``results check`` checks a file of any number of values.
MAX_STORED_VALUES = 150_000


class TooManyToStore(InputError):
    """Outcome files giving more values than ``results add`` stores at once."""


class OutcomeConflict(InputError):
    """An outcome file whose value differs from the one stored for the same record, measurement and source."""


@dataclass
class ResultsOutcome:
    """What ``check_results`` or ``add_results`` found and did."""

    ingested: Ingested
    report: Report
    added: int = 0
    unchanged: int = 0
    changed_files: tuple[Path, ...] = ()


def check_results(paths: Sequence[Path], data_dir: Path | None = None, record: str | None = None) -> ResultsOutcome:
    """Read, link and check outcome files against the catalogue in ``data_dir``; nothing is written."""
    data_dir = Path(data_dir or default_data_dir())
    recover_data_dir(data_dir)
    ingested = _ingest(paths, data_dir, record)
    stored = read_outcomes(data_dir)
    clashes = _with_stored(ingested, stored)
    report = _report(ingested)
    for first, second in clashes:
        report.add(
            second.source.path, second.record, second.source.location, first.record, second.record, second_record_message(first, second), kind="outcome-link"
        )
    _conflicts(ingested, stored, report)
    return ResultsOutcome(ingested, report)


def add_results(paths: Sequence[Path], data_dir: Path | None = None, record: str | None = None, wait: bool | None = None) -> ResultsOutcome:
    """Check outcome files and store what passes in ``data_dir`` (one atomic write); ``OutcomeConflict`` refuses a file.

    ``wait``: the caller's ``--wait`` (wait for another write to the data directory); None where it has no such option.
    """
    data_dir = Path(data_dir or default_data_dir())
    if not path_exists(data_dir / CATALOGUE_FILE):
        raise no_catalogue(data_dir)  # before the lock, which would make the directory
    with build_lock(data_dir, wait=wait):
        recover_data_dir(data_dir)
        ingested = _ingest(paths, data_dir, record)
        given = ingested.n_outcomes + ingested.n_left_out
        if given > MAX_STORED_VALUES:
            raise TooManyToStore(
                f"{', '.join(map(str, paths))}: {given:,} values, more than the {MAX_STORED_VALUES:,} `results add` stores at once "
                "(outcomes.json is read whole by every command); `catalogue results check` checks the file whole; nothing written"
            )
        stored = read_outcomes(data_dir)
        clashes = _with_stored(ingested, stored)
        if clashes:
            raise OutcomeConflict(f"{second_record_message(*clashes[0])}; nothing written")
        report = _report(ingested)
        conflict = Report()
        _conflicts(ingested, stored, conflict)
        if conflict.problems:
            first = conflict.problems[0]
            raise OutcomeConflict(f"{first.file} ({first.field}): {first.message}; nothing written")
        known = {outcome_key(outcome) for outcome in stored.outcomes}
        new = [outcome for outcome in ingested.outcomes if outcome_key(outcome) not in known]
        left_known = {(item.source.sha256, item.source.location, item.reason) for item in stored.left_out}
        left_new = [item for item in ingested.left_out if (item.source.sha256, item.source.location, item.reason) not in left_known]
        merged = OutcomesFile(outcomes=[*stored.outcomes, *new], left_out=[*stored.left_out, *left_new])
        texts = outcomes_texts(data_dir, merged)
        replaced = {f"data/{path.name}": text.encode("utf-8") for path, text in texts.items()}
        roots = write_roots(data_dir)
        if schemas_dir() in roots:
            schemas = rendered_schemas()
            texts.update({schemas_dir() / name: text for name, text in schemas.items()})
            replaced.update({f"schemas/{name}": text.encode("utf-8") for name, text in schemas.items()})
        site = default_site_update(data_dir, load_registry(), replaced)
        texts.update(site.texts)
        changed = write_files(texts, delete=site.obsolete, journal_dir=data_dir, roots=roots)
    return ResultsOutcome(ingested, report, added=len(new), unchanged=len(ingested.outcomes) - len(new), changed_files=tuple(changed))


def _ingest(paths: Sequence[Path], data_dir: Path, record: str | None) -> Ingested:
    catalogue = existing_catalogue(data_dir)
    if catalogue is None:
        raise no_catalogue(data_dir)
    return ingest(paths, successful_by_key(catalogue.models), set(load_registry()), record)


def no_catalogue(data_dir: Path) -> UsageError:
    """The one line for a ``--data`` that holds no catalogue to join outcome files to."""
    there = "no such directory, so it holds no catalogue" if not path_exists(data_dir) else f"the directory holds no catalogue (no {CATALOGUE_FILE})"
    return UsageError(f"--data {data_dir}: {there}; outcome files are joined to a catalogue's records (`catalogue build --data {data_dir}` makes one)")


def _with_stored(ingested: Ingested, stored: OutcomesFile) -> list[tuple]:
    """The one-value rule between these files and what is stored (``agreement``): a score that disagrees with a stored
    one is left out, naming it; returns the places of a source already stored under another record.

    Only the values that can meet a stored one, or another of these files' at its place, are built as records and
    compared: the rule compares values of one place or one thing, so the others cannot breach it."""
    stored_items = [*stored.outcomes, *stored.left_out]
    stored_files = {item.source.sha256 for item in stored_items}
    new = _new_items(ingested, stored_files, _places_in_two_records(ingested, stored_files))
    new_ids = {id(item) for item in new}
    clashes = [pair for pair in second_records([*stored_items, *new]) if id(pair[1]) in new_ids]
    things = {thing(outcome) for outcome in stored.outcomes if isinstance(outcome, ScoreOutcome)}
    meeting = [ingested.outcome(*place) for place in _meeting(ingested, things)]
    stored_ids = {id(outcome) for outcome in stored.outcomes}
    found = disagreements([*stored.outcomes, *meeting])
    settle(ingested, [item for item in found if id(item.kept) in stored_ids and ingested.place_of(item.other) is not None])
    return clashes


def _meeting(ingested: Ingested, things: set[tuple]) -> list[tuple[int, int]]:
    """(position, row), in order, of the scores to store whose thing (``agreement.thing``) is one of ``things``."""
    labels = {key[0] for key in things}
    found = []
    for position, selection in enumerate(ingested.selections):
        label = selection.link.label
        if label not in labels:
            continue
        columns = selection.columns
        shared, is_score, tasks, measures, filters = columns.shared, columns.is_score, columns.task, columns.measure, columns.filter
        found += [(position, row) for row in selection.kept if is_score[shared[row]] and (label, tasks[row], measures[row], filters[row]) in things]
    return found


def _places_in_two_records(ingested: Ingested, stored_files: set[str]) -> set[tuple[str, int, int]]:
    """Values (``("o", position, row)``, ``("l", position, index)``, ``("r", 0, index)``: an outcome, a value left out,
    one the rule refused) of a file of several models whose place another of its values may
    share (found by hashing; ``second_records`` compares the places themselves). Files already stored are compared whole."""
    several = {
        reading.sha256 for reading in ingested.readings if reading.sha256 not in stored_files and len({link.label for link in ingested.links[reading.path]}) > 1
    }
    hashed = Hashed()
    for position, selection in enumerate(ingested.selections):
        if selection.reading.sha256 in several:
            hashed.extend(("o", position), selection.kept, selection.columns.location.keys(selection.kept))
            left = [row for row, _ in selection.left]
            hashed.extend(("l", position), range(len(left)), selection.columns.location.keys(left))
    for index, place in enumerate(ingested.refused_at):
        if place is not None and ingested.selections[place[0]].reading.sha256 in several:
            hashed.extend(("r", 0), [index], ingested.selections[place[0]].columns.location.keys([place[1]]))
    return {(kind, position, index) for (kind, position), index in hashed.repeated()}


def _new_items(ingested: Ingested, stored_files: set[str], shared: set[tuple[str, int, int]]) -> list:
    """These files' outcomes, then the values they leave out, that a stored file gives or that stand at a ``shared``
    place (as records, in that order)."""
    selections = ingested.selections
    outcomes = [ingested.outcome(p, r) for p, r in ingested.rows() if selections[p].reading.sha256 in stored_files or ("o", p, r) in shared]
    left = [
        ingested.left(position, index)
        for position, selection in enumerate(selections)
        for index in range(len(selection.left))
        if selection.reading.sha256 in stored_files or ("l", position, index) in shared
    ]
    refused = [item for index, item in enumerate(ingested.refused) if item.source.sha256 in stored_files or ("r", 0, index) in shared]
    return [*outcomes, *left, *refused]


def _report(ingested: Ingested) -> Report:
    report = Report()
    report.problems.extend(ingested.problems)
    report.checked["outcome_files"] = len(ingested.readings)
    report.checked["outcomes"] = ingested.n_outcomes + ingested.n_left_out
    return report


def _conflicts(ingested: Ingested, stored: OutcomesFile, report: Report) -> None:
    """Values of these files that differ from the stored value of the same record, measurement and source (only a file
    already stored can give one)."""
    by_key = {outcome_key(outcome): outcome for outcome in stored.outcomes}
    stored_files = {outcome.source.sha256 for outcome in stored.outcomes}
    for position, row in ingested.rows(lambda selection: selection.reading.sha256 in stored_files):
        outcome = ingested.outcome(position, row)
        old = by_key.get(outcome_key(outcome))
        if old is not None and old.model_dump(exclude={"source": {"path"}}) != outcome.model_dump(exclude={"source": {"path"}}):
            report.add(
                outcome.source.path,
                outcome.record,
                outcome.source.location,
                old.value,
                outcome.value,
                f"outcomes.json holds another value for {outcome.record} from this file's place (read from {old.source.path})",
                kind="outcome-conflict",
            )

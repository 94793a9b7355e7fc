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

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..core.outcome_records import OutcomesFile, outcome_key
from ..core.problems import Report
from ..core.records import successful_by_key
from ..errors import InputError, UsageError
from ..outcomes.agreement import disagreements, second_record_message, second_records
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
    one is left out, naming it; returns the places of a source already stored under another record."""
    new = [*ingested.outcomes, *ingested.left_out]
    new_ids = {id(item) for item in new}
    clashes = [pair for pair in second_records([*stored.outcomes, *stored.left_out, *new]) if id(pair[1]) in new_ids]
    stored_ids = {id(outcome) for outcome in stored.outcomes}
    found = disagreements([*stored.outcomes, *ingested.outcomes])
    settle(ingested, [item for item in found if id(item.kept) in stored_ids and id(item.other) in new_ids])
    return clashes


def _report(ingested: Ingested) -> Report:
    report = Report()
    report.problems.extend(ingested.problems)
    report.checked["outcome_files"] = len(ingested.readings)
    report.checked["outcomes"] = len(ingested.outcomes) + len(ingested.left_out)
    return report


def _conflicts(ingested: Ingested, stored: OutcomesFile, report: Report) -> None:
    """Values of these files that differ from the stored value of the same record, measurement and source."""
    by_key = {outcome_key(outcome): outcome for outcome in stored.outcomes}
    for outcome in ingested.outcomes:
        old = by_key.get(outcome_key(outcome))
        if old is not None and old.model_dump(exclude={"source": {"path"}}) != outcome.model_dump(exclude={"source": {"path"}}):
            report.add(
                outcome.source.path, outcome.record, outcome.source.location, old.value, outcome.value,
                f"outcomes.json holds another value for {outcome.record} from this file's place (read from {old.source.path})",
                kind="outcome-conflict",
            )  # fmt: skip

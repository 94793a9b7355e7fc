"""``catalogue results add`` and ``results check``: outcome files joined to the catalogue, checked, stored.

``check_results`` reads, links and checks files without writing (its report lists every problem;
a file that cannot be read or linked raises one line). ``add_results`` does the same, then merges
the outcomes into the data directory's ``outcomes.json`` and ``outcomes.csv`` under the build
lock, in one journalled write with ``schemas/`` and, for the default data directory, the site's
generated files (``publish.default_site_update``: the pages show the merged outcomes). A value
the checks reject is left out (listed in ``left_out`` with the reason), adding the same file
again changes nothing, and a file whose value differs from the one stored for the same record,
measurement and source is refused, naming both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..core.outcome_records import OutcomesFile, outcome_key
from ..core.problems import Report
from ..core.records import successful_by_key
from ..errors import InputError
from ..outcomes.ingest import Ingested, ingest
from ..store.catalogue_dir import existing_catalogue
from ..store.outcomes_files import outcomes_texts, read_outcomes
from ..store.paths import default_data_dir, schemas_dir, write_roots
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
    report = _report(ingested)
    _conflicts(ingested, read_outcomes(data_dir), report)
    return ResultsOutcome(ingested, report)


def add_results(paths: Sequence[Path], data_dir: Path | None = None, record: str | None = None) -> ResultsOutcome:
    """Check outcome files and store what passes in ``data_dir`` (one atomic write); ``OutcomeConflict`` refuses a file."""
    data_dir = Path(data_dir or default_data_dir())
    with build_lock(data_dir, wait=False):
        recover_data_dir(data_dir)
        ingested = _ingest(paths, data_dir, record)
        report = _report(ingested)
        stored = read_outcomes(data_dir)
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
    return ingest(paths, successful_by_key(catalogue.models if catalogue else []), set(load_registry()), record)


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

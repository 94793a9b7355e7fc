"""``catalogue merge``: one catalogue from the data directories of shards (``build``, ``evaluate``, ``bench --shard``).

Every shard's records and outcomes are read and checked as they are loaded; the output's own
catalogue, where it has one, is merged too, so merging the same shards again changes nothing. A
record (model and pruning %) or an outcome that two directories hold with different values is
refused, naming both, and nothing is written. One neuron-selection method per catalogue, as for a
build. The files the outcomes were read from that lie inside a shard (its ``measurements/``)
are carried byte for byte to the same place in the output (``carry``), each checked against the
sha256 its outcomes name, and the outcomes then name them there; two directories holding
different files under one name are refused. The carried files are written first, in one
journalled write (a file no outcome names yet is harmless, and the same bytes are not written
again); then the merged data in one transaction (records, CSV, outcomes, schemas, and the site
where the output is the default data directory), then verified. A refused merge leaves no
output directory it created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.outcome_records import OutcomesFile, outcome_key
from ..core.problems import Report
from ..core.records import ExpansionRecord, optipfair_versions
from ..errors import UsageError
from ..outcomes.agreement import refusal
from ..store.catalogue_dir import existing_catalogue
from ..store.outcomes_files import outcomes_texts, read_outcomes
from ..store.paths import CATALOGUE_FILE
from ..store.reading import path_exists
from ..store.writing import recover_data_dir, write_files
from .carry import Carried, carry
from .check import check
from .lock import build_lock
from .publish import write_catalogue


class MergeConflict(UsageError):
    """Two directories hold the same record or outcome with different values (nothing is written)."""


@dataclass
class MergeResult:
    """What a merge wrote: records and outcomes from each directory, the files changed, the check of the output."""

    records: int
    outcomes: int
    changed_files: list[Path]
    report: Report
    carried: int = 0  # measurement (and other source) files the merged outcomes name, carried into the output


def merge(directories: Sequence[Path], out: Path, wait: bool = False) -> MergeResult:
    """Merge the catalogues of ``directories`` (and ``out``'s own) into ``out``; ``MergeConflict`` refuses a disagreement.

    ``wait``: wait for another build writing ``out`` instead of refusing (``--wait``)."""
    out = Path(out)
    sources = [Path(directory) for directory in dict.fromkeys(directories)]
    for directory in sources:
        if not path_exists(directory / CATALOGUE_FILE):
            raise UsageError(f"{directory}: no {CATALOGUE_FILE} here (a shard writes one once it has built a model)")
    with build_lock(out, wait=wait):  # creates OUT, and removes it again if the merge leaves nothing there
        recover_data_dir(out)
        inputs = ([out] if path_exists(out / CATALOGUE_FILE) and out.resolve() not in {d.resolve() for d in sources} else []) + sources
        records, method = _merged_records(inputs)
        carried = Carried(out)
        outcomes = _merged_outcomes(inputs, carried)
        changed = write_files(carried.texts, journal_dir=out) if carried.texts else []
        extra = outcomes_texts(out, outcomes) if outcomes.outcomes or outcomes.left_out else {}
        ordered = list(records.values())
        written, _ = write_catalogue(out, ordered, optipfair_versions(ordered), method, extra_texts=extra)
    report = check([out])
    return MergeResult(len(records), len(outcomes.outcomes), [*changed, *written], report, carried=len(carried.files))


def _merged_records(directories: Sequence[Path]) -> tuple[dict[tuple[str, int], ExpansionRecord], str]:
    records: dict[tuple[str, int], ExpansionRecord] = {}
    found_in: dict[tuple[str, int], Path] = {}
    methods: dict[str, Path] = {}
    for directory in directories:
        catalogue = existing_catalogue(directory)
        methods.setdefault(catalogue.metadata.pruning_method, directory)
        for record in catalogue.models:
            key = (record.base_model, record.pruning_pct)
            other = records.setdefault(key, record)
            if other is not record and other != record:
                raise MergeConflict(
                    f"{found_in[key]} and {directory} hold {record.base_model}@{record.pruning_pct} with different values "
                    f"(`catalogue verify` each; rebuild one or leave it out); nothing written"
                )
            found_in.setdefault(key, directory)
    if len(methods) > 1:
        named = ", ".join(f"{method} ({directory})" for method, directory in methods.items())
        raise MergeConflict(f"the catalogues were pruned with different methods: {named}; one catalogue holds one method; nothing written")
    return records, next(iter(methods))


def _merged_outcomes(directories: Sequence[Path], carried: Carried) -> OutcomesFile:
    outcomes: dict[tuple, object] = {}
    found_in: dict[tuple, Path] = {}
    left_out: dict[tuple, object] = {}
    for directory in directories:
        stored = read_outcomes(directory)
        for outcome in stored.outcomes:
            outcome = carry(outcome, directory, carried)
            key = outcome_key(outcome)
            other = outcomes.setdefault(key, outcome)
            if other is not outcome and other != outcome:
                raise MergeConflict(
                    f"{found_in[key]} and {directory} hold different values for {outcome.record} from {outcome.source.path} "
                    f"({outcome.source.location}); nothing written"
                )
            found_in.setdefault(key, directory)
        for item in stored.left_out:
            item = carry(item, directory, carried)
            left_out.setdefault((item.source.sha256, item.source.location, item.reason), item)
    breach = refusal(list(outcomes.values()), list(left_out.values()))  # one record per source, one value per thing
    if breach is not None:
        raise MergeConflict(f"{breach}; nothing written")
    return OutcomesFile(outcomes=list(outcomes.values()), left_out=list(left_out.values()))

"""The verifier: recompute every number of a catalogue in closed form and report every problem.

``verify(paths)`` returns a ``Report``; it never prints or exits. It checks, all at once:

* the schema of the header and of every record (field path and reason for each failure);
* duplicate ``(base_model, pruning_pct)`` records, and the header's counts against the records;
* every integer (sizes, parameter counts, reductions) against the closed form of the record's
  architecture (or, for a legacy record without one, the registry's), exactly;
* every display value against the exact value rounded to ``DISPLAY_DECIMALS`` places;
* a record's architecture against the registry entry of its ``base_model``;
* the summary CSV: columns, the pandera table schema, one row per successful record, no extra
  rows, every cell equal to the record it projects (``summary_checks``);
* that ``schemas/`` holds what the code generates.

The site is not the verifier's business: ``glu_catalogue.pipeline.check`` runs these checks and
then the site's (``glu_catalogue.site.generated.check_site``).

The per-record work is in ``record_checks``; catalogues of many records are checked in worker
processes, one per core. Unreadable input (missing file, JSON or CSV syntax, wrong top-level
shape) raises ``store.ReadError`` instead: there is nothing to check.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..core.problems import Problem, Report
from ..core.records import Metadata
from ..store.paths import CATALOGUE_FILE, SUMMARY_FILE, default_data_dir, display_path, schemas_dir
from ..store.reading import CsvTable, catalogue_raw_from_bytes, csv_text, read_catalogue_raw, read_csv_table
from ..store.registry import ModelEntry, load_registry
from .records import RecordsResult, check_records, schema_problem
from .summary import check_summary

__all__ = ["Problem", "Report", "verify", "verify_path", "verify_schemas", "verify_contents"]

#: Below this many records a single process is faster than starting workers.
PARALLEL_MIN_RECORDS = 5_000


def verify(paths: Sequence[Path] = (), *, check_schemas: bool = True) -> Report:
    """Check every catalogue in ``paths`` (files or data directories; none = the default data dir) and ``schemas/``.

    A directory must hold ``expansion_rates.json`` and ``expansion_rates_summary.csv``; a file
    is a catalogue JSON checked alone. The site is not checked here: ``pipeline.check`` runs
    this, then the site's checks. Raises ``ReadError`` for unreadable input.
    """
    report = Report()
    registry = load_registry()
    for path in paths or (default_data_dir(),):
        verify_path(Path(path), report, registry)
    if check_schemas:
        verify_schemas(schemas_dir(), report)
    return report


def verify_path(path: Path, report: Report, registry: dict[str, ModelEntry]) -> None:
    """Check one data directory (its JSON and CSV) or one catalogue JSON file into ``report``."""
    if path.is_dir():
        raw = read_catalogue_raw(path / CATALOGUE_FILE)
        verify_data(path / CATALOGUE_FILE, raw, read_csv_table(path / SUMMARY_FILE), report, registry)
    else:
        verify_catalogue(path, read_catalogue_raw(path), report, registry)


def verify_data(json_path: Path, raw: dict[str, Any], table: CsvTable, report: Report, registry: dict[str, ModelEntry]) -> None:
    """Check one data directory's catalogue (``raw``, read from ``json_path``) and its summary CSV."""
    records = verify_catalogue(json_path, raw, report, registry)
    check_summary(display_path(table.path), table, records, is_legacy(raw), report)


def verify_contents(data_dir: Path, files: dict[str, bytes], registry: dict[str, ModelEntry]) -> Report:
    """``verify([data_dir])``'s checks of data and schemas, on contents not (yet) on disk.

    ``files`` maps site paths to bytes: ``data/expansion_rates.json``,
    ``data/expansion_rates_summary.csv`` and ``schemas/<name>`` (``glu_catalogue.site.generated.read_site_files``).
    """
    from ..store.schemas import SCHEMA_FILES, schema_differences

    report = Report()
    json_path, csv_path = data_dir / CATALOGUE_FILE, data_dir / SUMMARY_FILE
    raw = catalogue_raw_from_bytes(json_path, files[f"data/{CATALOGUE_FILE}"])
    table = CsvTable(csv_path, csv_text(csv_path, files[f"data/{SUMMARY_FILE}"]))
    verify_data(json_path, raw, table, report, registry)
    committed = {name: _text(files.get(f"schemas/{name}")) for name in SCHEMA_FILES}
    _report_stale_schemas(schemas_dir(), *schema_differences(committed), report)
    return report


def _text(content: bytes | None) -> str | None:
    """``content`` as ``Path.read_text`` would read it (universal newlines); None if missing or not UTF-8."""
    try:
        text = None if content is None else content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if text is None else text.replace("\r\n", "\n").replace("\r", "\n")


def is_legacy(raw: dict[str, Any]) -> bool:
    """The study's own layout: a header without ``schema_version``."""
    return "schema_version" not in raw["metadata"]


def verify_catalogue(path: Path, raw: dict[str, Any], report: Report, registry: dict[str, ModelEntry]) -> RecordsResult:
    """Check one catalogue file (header, records, duplicates); returns the per-record results."""
    file = display_path(path)
    models = raw["models"]
    report.checked["files"] += 1
    report.checked["records"] += len(models)
    metadata = _check_metadata(file, raw["metadata"], models, report)
    method = metadata.pruning_method if metadata is not None else None
    result = _check_all_records(file, models, is_legacy(raw), method, registry)
    report.problems += result.problems
    report.checked["values"] += result.values_checked
    _check_duplicates(file, result, report)
    return result


def _check_metadata(file: str, raw_metadata: dict[str, Any], models: list[Any], report: Report) -> Metadata | None:
    try:
        metadata = Metadata.model_validate(raw_metadata)
    except ValidationError as error:
        for detail in error.errors():
            report.problems.append(schema_problem(file, "metadata", ("metadata", *detail["loc"]), detail))
        metadata = None
    statuses = [entry.get("status") if isinstance(entry, dict) else None for entry in models]
    counts = {"total_models": len(models), "successful": statuses.count("success"), "failed": statuses.count("failed")}
    for name, actual in counts.items():
        written = raw_metadata.get(name)
        report.checked["values"] += 1
        if written != actual:
            report.add(file, "metadata", f"metadata.{name}", actual, written, f"metadata.{name} must count the entries of models[]", kind="header")
    return metadata


def _check_duplicates(file: str, result: RecordsResult, report: Report) -> None:
    first_seen: dict[tuple[str, int], int] = {}
    for index, key in enumerate(result.keys):
        if key is None:
            continue
        if key in first_seen:
            report.add(
                file,
                result.labels[index],
                "(record)",
                "one record per model and pruning_pct",
                f"models[{index}]",
                f"duplicate of models[{first_seen[key]}]: remove one of them",
                kind="duplicate",
            )
        else:
            first_seen[key] = index


# --- many records: worker processes -----------------------------------------------------------

_SHARED: tuple | None = None  # what forked workers inherit: (file, models, legacy, method, registry)


def _check_all_records(file: str, models: list[Any], legacy: bool, method: str | None, registry: dict[str, ModelEntry]) -> RecordsResult:
    workers = min(os.cpu_count() or 1, 8)
    if len(models) < PARALLEL_MIN_RECORDS or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return check_records(file, models, 0, legacy, method, registry)
    global _SHARED
    _SHARED = (file, models, legacy, method, registry)
    step = -(-len(models) // workers)
    slices = [(start, min(start + step, len(models))) for start in range(0, len(models), step)]
    try:
        # fork: the workers inherit the parsed records instead of receiving them pickled.
        with multiprocessing.get_context("fork").Pool(len(slices)) as pool:
            parts = pool.map(_check_slice, slices)
    finally:
        _SHARED = None
    result = RecordsResult()
    for part in parts:
        result.extend(part)
    return result


def _check_slice(bounds: tuple[int, int]) -> RecordsResult:
    file, models, legacy, method, registry = _SHARED
    start, stop = bounds
    return check_records(file, models[start:stop], start, legacy, method, registry)


# --- schemas ------------------------------------------------------------------------------------


def verify_schemas(directory: Path, report: Report) -> None:
    """Report each file of ``schemas/`` that differs from what the code generates."""
    from ..store.schemas import stale_schemas

    _report_stale_schemas(directory, *stale_schemas(directory), report)


def _report_stale_schemas(directory: Path, stale: list[tuple[str, str]], checked: int, report: Report) -> None:
    report.checked["schemas"] += checked
    for name, reason in stale:
        report.add(
            display_path(directory / name),
            "(file)",
            "(content)",
            "the generated schema",
            reason,
            "schemas/ is stale: run `catalogue schemas` and commit the result",
            kind="stale-schema",
        )

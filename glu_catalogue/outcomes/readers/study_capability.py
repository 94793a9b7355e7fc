"""The study's capability files: ``*_complete_results_latest.json`` and the CSV of the same scores.

The JSON holds ``experiment_metadata.model_family``, ``benchmarks`` (task and n-shot) and
``models_evaluated.<key>`` with the model's ``name``, ``pruning_pct``, ``expansion_rate`` (a factor),
``hf_repo`` and ``results.<task>.<metric>``: lm-eval's values, some renamed by the study's notebook
(``accuracy`` for ``acc``) and rounded to 4 decimals, ``"N/A"`` where there is none. The CSV has one
row per model and task: ``model, pruning_pct, is_star, task`` and a column per metric.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..columns import Location, place_text
from ..reading import Claim, ModelGroup, Reading, gib_bytes, name_fault, number, text, whole
from .registry import OutcomeReader

JSON_FORMAT = "study-capability-json"
CSV_FORMAT = "study-capability-csv"

#: What every score of the study's shares: the study does not say the harness's version.
SCORE_FIELDS = {"kind": "score", "harness_version": None}

#: The CSV's leading columns; every other column is a metric.
CSV_KEYS = ("model", "pruning_pct", "is_star", "task")


def first_results(document: Any) -> dict[str, Any] | None:
    """``models_evaluated.<first>.results`` of one of the study's files (capability or carbon), or None."""
    models = document.get("models_evaluated") if isinstance(document, dict) else None
    if not isinstance(models, dict) or not models:
        return None
    first = next(iter(models.values()))
    results = first.get("results") if isinstance(first, dict) else None
    return results if isinstance(results, dict) else None


def is_study_capability(document: Any) -> bool:
    """True for the study's capability JSON: ``models_evaluated`` whose entries hold ``results`` of tasks with metric values."""
    results = first_results(document)
    return results is not None and all(isinstance(value, dict) and not _looks_like_carbon(value) for value in results.values())


def _looks_like_carbon(values: dict[str, Any]) -> bool:
    return any(key.startswith(("energy_kwh", "throughput")) for key in values)


def read_study_capability(path: Path, sha256: str, document: dict[str, Any]) -> Reading:
    """Every model's scores in the study's capability JSON, each model with its claim."""
    reading = Reading(path, sha256, JSON_FORMAT)
    shots = benchmark_shots(reading, document.get("benchmarks"))
    for where, results, group in study_groups(reading, document):
        for task, metrics in results.items():
            if not isinstance(metrics, dict):
                reading.problem("-", f"{where}.results.{task}", "an object of metric values", metrics, "not a task's results", "outcome-nature")
                continue
            parent = f"{where}.results.{task}"
            for metric_key, value in metrics.items():
                add_score(reading, group, (parent, metric_key), task, metric_key, value, metrics, shots.get(task))
    return reading


def benchmark_shots(reading: Reading, benchmarks: Any) -> dict[str, Any]:
    """Task -> n-shot as ``benchmarks`` (a list of ``{name, num_fewshot}``) writes it; an entry that is not one is reported."""
    return {name: item.get("num_fewshot") for name, item in benchmark_entries(reading, benchmarks, "num_fewshot", "n-shot").items()}


def benchmark_entries(reading: Reading, benchmarks: Any, key: str, what: str) -> dict[str, dict[str, Any]]:
    """Name -> entry of the study's ``benchmarks`` (a list of ``{name, <key>, ...}``, which gives each task's or workload's
    ``what``); ``benchmarks`` that is no list, or an entry with no name, is reported."""
    if benchmarks is None:
        return {}
    if not isinstance(benchmarks, list):
        reading.problem("-", "benchmarks", f"a list of {{name, {key}}}", benchmarks, f"the {what} cannot be read", "outcome-nature")
        return {}
    entries = {}
    for index, item in enumerate(benchmarks):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            entries[item["name"]] = item
        else:
            reading.problem("-", f"benchmarks[{index}]", f"{{name: <name>, {key}: <n>}}", item, f"the {what} of an entry cannot be read", "outcome-nature")
    return entries


def study_groups(reading: Reading, document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], ModelGroup]]:
    """Each model of ``models_evaluated`` (capability or carbon) as (its place, its results, its group, added to ``reading``).

    An entry that is not a model's results is reported and skipped.
    """
    family = study_family(document)
    for key, model in document["models_evaluated"].items():
        where = f"models_evaluated.{key}"
        if not isinstance(model, dict) or not isinstance(model.get("results"), dict):
            reading.problem("-", where, "an object with name, pruning_pct and results", model, "not a model's results", "outcome-nature")
            continue
        group = ModelGroup(study_claim(where, model, family))
        reading.groups.append(group)
        yield where, model["results"], group


def study_claim(where: str, model: dict[str, Any], family: str | None) -> Claim:
    """What the study writes about one model: its name, family, repository, pruning % and expansion ratio."""
    claim = Claim(where=where, family=family)
    claim.name = claim.read(f"{where}.name", model.get("name"), text, "the model's name (text)")
    claim.repository = claim.read(f"{where}.hf_repo", model.get("hf_repo"), text, "a hub id (text)")
    claim.pruning_pct = claim.read(f"{where}.pruning_pct", model.get("pruning_pct"), whole, "a whole number from 0 to 100")
    ratio = model.get("expansion_rate")
    claim.expansion_ratio = claim.read(f"{where}.expansion_rate", ratio, number, "a finite number (a factor, or a percentage above 20)")
    claim.expansion_ratio_as_written = None if ratio is None else str(ratio)
    claim.weight_bytes = claim.read(f"{where}.model_size_gb", model.get("model_size_gb"), gib_bytes, "a finite size in GiB")
    return claim


def study_family(document: dict[str, Any]) -> str | None:
    """``experiment_metadata.model_family`` of one of the study's files, or None."""
    metadata = document.get("experiment_metadata")
    family = metadata.get("model_family") if isinstance(metadata, dict) else None
    return family if isinstance(family, str) else None


def add_score(reading: Reading, group: ModelGroup, where: Location, task: str, metric_key: str, value: Any, row: dict[str, Any], n_shot: Any) -> None:
    """One score of the study's (JSON or CSV), its stderr beside it where the file gives one; stderr keys are not scores.
    ``where``: its place, or its parts (``columns.Location``: made text only where a problem names it).

    A score, stderr or n-shot (``n_shot``, as the file writes it) that is not a number is reported
    at the score's place, which leaves the score out.
    """
    metric, filter_name, stderr_key = _metric_parts(str(metric_key))
    if metric.endswith("_stderr"):
        return
    label = group.claim.name or "-"
    parsed = number(value)
    if parsed is None:
        reading.finite(label, place_text(where), value, "a score")  # a problem unless the file gives none on purpose
        return
    if not _names_fine(task, metric, filter_name) and not reading.names_ok(label, place_text(where), {"task": task, "metric": metric, "filter": filter_name}):
        return
    stderr = row.get(stderr_key)
    stderr = None if stderr is None else reading.finite(label, f"{place_text(where)} (stderr)", stderr, "a standard error")
    shots = None if n_shot is None else reading.count(label, f"{place_text(where)} (n-shot)", n_shot, "the n-shot of a task")
    reading.add_columns(group, SCORE_FIELDS, task, metric, filter_name, parsed, stderr, shots, where)


@functools.lru_cache(maxsize=4096)  # a file repeats its few metric keys on every row
def _metric_parts(metric_key: str) -> tuple[str, str | None, str]:
    """A metric key's metric, its filter (None where it names none) and the key of its stderr: ``acc,none`` ->
    (``acc``, ``none``, ``acc_stderr,none``)."""
    metric, _, filter_name = metric_key.partition(",")
    return metric, filter_name or None, f"{metric}_stderr,{filter_name}" if filter_name else f"{metric}_stderr"


@functools.lru_cache(maxsize=65536)
def _names_fine(task: Any, metric: str, filter_name: str | None) -> bool:
    """True when the task, metric and filter can all be stored (``name_fault``); else ``Reading.names_ok`` says why."""
    return all(name is None or (isinstance(name, str) and name_fault(name) is None) for name in (task, metric, filter_name))


def read_study_capability_csv(path: Path, sha256: str, header: list[str], records: Iterable[tuple[int, list[str]]]) -> Reading:
    """Every model's scores in the study's capability CSV (``records``: each row with its line), grouped by (model, pruning %)."""
    reading = Reading(path, sha256, CSV_FORMAT)
    groups: dict[tuple[str, str], ModelGroup] = {}
    for line, row in records:
        cells = dict(zip(header, row))
        key = (cells.get("model", ""), cells.get("pruning_pct", ""))
        if key not in groups:
            claim = Claim(where=f"line {line}", name=key[0] or None, family=None)
            claim.pruning_pct = claim.read(f"line {line}, column pruning_pct", key[1], whole, "a whole number from 0 to 100")
            groups[key] = ModelGroup(claim)
        task = cells.get("task", "").strip()
        if not task:
            reading.problem(key[0] or "-", f"line {line}, column task", "the task the row's scores are of", "", "a score needs its task", "outcome-nature")
            continue
        for column in header:
            if column in CSV_KEYS:
                continue
            add_score(reading, groups[key], (line, column), task, column, cells.get(column, ""), cells, None)
    reading.groups.extend(groups.values())
    return reading


def is_study_capability_csv(header: list[str]) -> bool:
    """True for a CSV whose first columns are the study's ``model, pruning_pct, is_star, task``."""
    return tuple(header[: len(CSV_KEYS)]) == CSV_KEYS


#: This module's layouts, as the registry (``registry.py``) finds them.
READERS = (
    OutcomeReader(
        format=JSON_FORMAT, kind="json", detects=is_study_capability, expects="the study's capability JSON (models_evaluated)", reads=read_study_capability
    ),
    OutcomeReader(
        format=CSV_FORMAT,
        kind="csv",
        detects=is_study_capability_csv,
        expects="the study's capability CSV (model, pruning_pct, is_star, task, ...)",
        reads=read_study_capability_csv,
    ),
)

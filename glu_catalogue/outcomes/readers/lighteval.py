"""lighteval's results files (``results_<date>.json``), read as its ``EvaluationTracker`` writes them.

The layout (lighteval's ``logging/evaluation_tracker.py``, property ``results``, and
``logging/info_loggers.py``): ``config_general`` holds ``lighteval_sha`` (lighteval's commit, ``"?"``
outside a git checkout), ``model_name`` and ``model_config`` (the model's settings: ``model_name``,
``revision`` for a transformers model; older releases wrote ``model_sha`` beside ``model_name``
instead); ``results`` maps ``"<task>|<n-shot>"`` (older releases: ``"<suite>|<task>|<n-shot>"``) to
``{"<metric>": value, "<metric>_stderr": value}``; ``versions`` maps the same keys to the task's
version and ``summary_tasks.<key>.hashes.hash_examples`` hashes its examples.

Two entries of ``results`` are lighteval's own means: ``"<family>:_average|<n-shot>"``, the mean of
the family's subtasks (stored, as lm-eval's groups are), and ``all``, each metric's mean over every
task (not stored: it averages unlike tasks). Both are recomputed here from the tasks the file
gives, and a disagreement is a problem at the value. The file does not say which way a metric is
better in a form every release shares, so ``higher_is_better`` is left unknown.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from ..reading import Claim, ModelGroup, Reading, text
from .registry import OutcomeReader

FORMAT = "lighteval-results"

#: The key of the mean over every task, and the suffix of a family's mean.
ALL_KEY = "all"
AVERAGE = ":_average"

#: lighteval sums and divides the same floats in the same order: they agree to rounding.
REL_TOLERANCE = 1e-9


def is_lighteval(document: Any) -> bool:
    """True for a JSON object with lighteval's ``config_general`` (an object) and ``results`` (an object) at the top."""
    return isinstance(document, dict) and isinstance(document.get("config_general"), dict) and isinstance(document.get("results"), dict)


def read_lighteval(path: Path, sha256: str, document: dict[str, Any]) -> Reading:
    """The one model's scores of a lighteval results file, with its claim (the model's hub id or path, its revision)."""
    reading = Reading(path, sha256, FORMAT)
    general = document["config_general"]
    group = ModelGroup(_claim(reading, general))
    version = text(general.get("lighteval_sha"))
    parsed: dict[str, dict[str, float]] = {}
    for key, values in document["results"].items():
        where = f"results.{key}"
        if not isinstance(values, dict):
            reading.problem("-", where, "an object of metric values", values, "not a task's results", "outcome-nature")
            continue
        scores = {metric: reading.finite("-", f"{where}.{metric}", value, "a score") for metric, value in values.items()}
        parsed[key] = {metric: value for metric, value in scores.items() if value is not None}
        if key != ALL_KEY:
            _add_task(reading, group, document, key, parsed[key], version)
    _check_means(reading, parsed)
    reading.groups.append(group)
    return reading


def _claim(reading: Reading, general: dict[str, Any]) -> Claim:
    """What ``config_general`` says of the model: ``model_config.model_name`` (or ``model_name``), its revision."""
    config = general.get("model_config") if isinstance(general.get("model_config"), dict) else {}
    name, configured = text(general.get("model_name")), text(config.get("model_name"))
    if name is not None and configured is not None and name != configured:
        reading.problem("-", "config_general.model_name", configured, name, "model_name differs from model_config.model_name", "outcome-link")
    claim = Claim(where="config_general", repository=configured or name, revision=text(config.get("revision")) or text(general.get("model_sha")))
    claim.places["repository"] = "config_general.model_config.model_name" if configured else "config_general.model_name"
    if claim.repository is None:
        reading.problem(
            "-",
            "config_general.model_name",
            "the model's hub id or path",
            general.get("model_name"),
            "the file does not name the model it evaluated",
            "outcome-link",
        )
    return claim


def _add_task(reading: Reading, group: ModelGroup, document: dict[str, Any], key: str, scores: dict[str, float], version: str | None) -> None:
    """One ``results`` entry's scores, each with its standard error, n-shot (from the key), task version and hash."""
    where = f"results.{key}"
    task, separator, shot = key.rpartition("|")
    n_shot = reading.count("-", where, shot, "the n-shot after the task's last '|'") if separator else None
    if not separator or n_shot is None:
        if not separator:
            reading.problem("-", where, "a key '<task>|<n-shot>'", key, "not a task of lighteval's results", "outcome-nature")
        return
    hashes = _at(document, "summary_tasks", key, "hashes")
    for metric, value in scores.items():
        if metric.endswith("_stderr") or not reading.names_ok("-", f"{where}.{metric}", {"task": task, "metric": metric}):
            continue
        reading.add(
            group,
            {
                "kind": "score",
                "task": task,
                "metric": metric,
                "filter": None,
                "value": value,
                "stderr": scores.get(f"{metric}_stderr"),
                "n_shot": n_shot,
                "n_samples": None,
                "higher_is_better": None,
                "harness": "lighteval",
                "harness_version": version,
                "task_version": _version(_at(document, "versions", key)),
                "task_hash": text(hashes.get("hash_examples")) if isinstance(hashes, dict) else None,
                "measurement": None,
                "source": reading.source(f"{where}.{metric}"),
            },
        )


def _check_means(reading: Reading, parsed: dict[str, dict[str, float]]) -> None:
    """Each family's ``_average`` against its subtasks' mean, ``all`` against every task's mean, metric by metric."""
    tasks = {key: scores for key, scores in parsed.items() if key != ALL_KEY and AVERAGE not in key}
    for key, scores in parsed.items():
        if key == ALL_KEY:
            parts = list(tasks.values())
        elif AVERAGE in key:
            family, _, shot = key.partition(AVERAGE)
            parts = [values for task, values in tasks.items() if task.startswith(f"{family}:") and task.endswith(shot)]
        else:
            continue
        for metric, value in scores.items():
            found = [part[metric] for part in parts if metric in part]
            if found and not math.isclose(value, statistics.fmean(found), rel_tol=REL_TOLERANCE, abs_tol=1e-15):
                reading.problem(
                    "-", f"results.{key}.{metric}", statistics.fmean(found), value, f"not the mean of the {len(found)} tasks' {metric}", "outcome-consistency"
                )


def _at(document: dict[str, Any], section: str, key: str, field: str | None = None) -> Any:
    """``document[section][key]`` (and its ``field``), or None where the file has no such object."""
    table = document.get(section)
    value = table.get(key) if isinstance(table, dict) else None
    if field is None:
        return value
    return value.get(field) if isinstance(value, dict) else None


def _version(value: Any) -> str | None:
    """A task's version as text (lighteval writes a number); None for anything that is not one."""
    return str(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None


#: This module's layout, as the registry (``registry.py``) finds it.
READERS = (
    OutcomeReader(format=FORMAT, kind="json", detects=is_lighteval, expects="a lighteval results_*.json (config_general, results)", reads=read_lighteval),
)

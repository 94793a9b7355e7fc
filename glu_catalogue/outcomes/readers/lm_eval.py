"""lm-evaluation-harness results files (``results_*.json``, the 0.4.x layout), read as they are written.

``results[task]`` holds ``"<metric>,<filter>"`` values and ``"<metric>_stderr,<filter>"`` standard
errors (the string ``"N/A"`` where none was computed); ``n-shot``, ``n-samples``, ``versions``,
``task_hashes`` and ``higher_is_better`` are keyed by task; ``config`` names the model:
``model_args`` (``pretrained=<checkpoint directory or hub id>,...``), ``model_num_parameters``,
``model_dtype``, ``model_revision``, ``model_sha``. Groups (``group_subtasks``) carry their own
aggregated values, read like a task's. A file written by ``catalogue evaluate`` also holds a
``catalogue`` object: the record it measured, the digest of the neurons that model kept, and how
it was measured (``Measurement``); lm-eval's own tools ignore it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..reading import Claim, ModelGroup, Reading, whole
from .registry import OutcomeReader

FORMAT = "lm-eval-results"

#: What marks a file as lm-eval's: its top-level keys.
REQUIRED_KEYS = ("results", "config")


def is_lm_eval(document: Any) -> bool:
    """True for a JSON object with lm-eval's ``results`` (an object) and ``config`` (an object) at the top."""
    return (
        isinstance(document, dict)
        and all(isinstance(document.get(key), dict) for key in REQUIRED_KEYS)
        and ("lm_eval_version" in document or "versions" in document or "n-shot" in document)
    )


def model_arguments(text: Any) -> dict[str, str]:
    """lm-eval's ``model_args`` (``pretrained=x,dtype=y`` or already a mapping) as a mapping."""
    if isinstance(text, dict):
        return {str(key): str(value) for key, value in text.items()}
    if not isinstance(text, str):
        return {}
    pairs = (part.partition("=") for part in text.split(",") if part.strip())
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}


def read_lm_eval(path: Path, sha256: str, document: dict[str, Any]) -> Reading:
    """The one model's scores of an lm-eval results file, with its claim (checkpoint or hub id, parameter count)."""
    reading = Reading(path, sha256, FORMAT)
    config = document["config"]
    arguments = model_arguments(config.get("model_args"))
    claim = Claim(where="config", repository=arguments.get("pretrained"), revision=arguments.get("revision") or _text(config.get("model_revision")))
    claim.places["repository"] = "config.model_args"
    claim.total_parameters = claim.read("config.model_num_parameters", config.get("model_num_parameters"), whole, "a whole number of parameters")
    measurement = catalogue_measurement(reading, claim, document.get("catalogue"))
    if claim.repository is None and claim.record is None:
        reading.problem(
            "-",
            "config.model_args",
            "pretrained=<checkpoint or hub id>",
            config.get("model_args"),
            "the file does not name the model it evaluated",
            "outcome-link",
        )
    group = ModelGroup(claim)
    version = _text(document.get("lm_eval_version"))
    for task, values in sorted(document["results"].items()):
        if not isinstance(values, dict):
            reading.problem("-", f"results.{task}", "an object of metric values", values, "not a task's results", "outcome-nature")
            continue
        for key, value in values.items():
            metric, _, filter_name = str(key).partition(",")
            if key == "alias" or metric.endswith("_stderr") or not filter_name:
                continue
            where = f"results.{task}.{key}"
            parsed = reading.finite("-", where, value, "a score")
            if parsed is None or not reading.names_ok("-", where, {"task": task, "metric": metric, "filter": filter_name}):
                continue
            samples = _by_task(document, "n-samples", task)
            reading.add(
                group,
                {
                    "kind": "score",
                    "task": task,
                    "metric": metric,
                    "filter": filter_name,
                    "value": parsed,
                    "stderr": reading.finite("-", f"{where} (stderr)", values.get(f"{metric}_stderr,{filter_name}"), "a standard error"),
                    "n_shot": reading.count("-", f"{where} (n-shot)", _by_task(document, "n-shot", task), "the n-shot of a task"),
                    "n_samples": reading.count(
                        "-", f"{where} (n-samples)", samples.get("effective") if isinstance(samples, dict) else samples, "the samples of a task"
                    ),
                    "higher_is_better": _direction(document, task, metric),
                    "harness_version": version,
                    "task_version": _text(_by_task(document, "versions", task)),
                    "task_hash": _text(_by_task(document, "task_hashes", task)),
                    "measurement": measurement,
                    "source": reading.source(where),
                },
            )
    reading.groups.append(group)
    return reading


def catalogue_measurement(reading: Reading, claim: Claim, block: Any) -> dict[str, Any] | None:
    """The ``catalogue`` object of a file written by ``catalogue evaluate`` or ``bench``: the record and kept-neuron
    digest go into ``claim`` (linking and checks use them), the rest is the values' ``measurement``."""
    if block is None:
        return None
    if not isinstance(block, dict) or not isinstance(block.get("record"), str) or not isinstance(block.get("measurement"), dict):
        reading.problem("-", "catalogue", "an object with record and measurement", block, "the file's catalogue block cannot be read", "outcome-link")
        return None
    claim.record = block["record"]
    claim.kept_indices_sha256 = _text(block["measurement"].get("kept_indices_sha256"))
    return block["measurement"]


def _by_task(document: dict[str, Any], section: str, task: str) -> Any:
    table = document.get(section)
    return table.get(task) if isinstance(table, dict) else None


def _direction(document: dict[str, Any], task: str, metric: str) -> bool | None:
    table = _by_task(document, "higher_is_better", task)
    value = table.get(metric) if isinstance(table, dict) else None
    return value if isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, (dict, list)) else str(value)


#: This module's layouts, as the registry (``registry.py``) finds them.
READERS = (
    OutcomeReader(format=FORMAT, kind="json", detects=is_lm_eval, expects="an lm-evaluation-harness results_*.json (results, config)", reads=read_lm_eval),
)

"""Every Eval Ever records (EvalEval's one JSON record per model and evaluation source; schema 0.2 and 0.3), read as they are written.

``model_info.id`` names the model; a record written by ``catalogue results export`` also names
the catalogue record in ``model_info.additional_details`` (``catalogue_record``, with its
kept-neuron digest, pruning %, expansion ratio and parameters, checked against the record as any
claim is). Each of ``evaluation_results`` is one score: ``evaluation_name`` the task,
``metric_config.metric_id`` (else ``metric_name``, else ``score``) the metric, ``lower_is_better``
its direction, ``score_details.score`` the value, ``uncertainty.standard_error.value`` its standard
error; n-shot, filter, task version and hash where the catalogue's export wrote them. Linking is by
the model the record names, never by its name's likeness to one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..reading import Claim, ModelGroup, Reading, number, text, whole
from .registry import OutcomeReader

FORMAT = "every-eval-ever"

#: The schema versions whose layout this reader knows (the 0.2 records of the public datastore, and 0.3).
KNOWN_VERSIONS = ("0.2.", "0.3.")


def is_eee(document: Any) -> bool:
    """True for a JSON object with Every Eval Ever's ``schema_version``, ``model_info`` and ``evaluation_results``."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("schema_version"), str)
        and isinstance(document.get("model_info"), dict)
        and "evaluation_results" in document
    )


def read_eee(path: Path, sha256: str, document: dict[str, Any]) -> Reading:
    """The one model's scores of an Every Eval Ever record, with its claim (the model id, the catalogue record it names)."""
    reading = Reading(path, sha256, FORMAT)
    version = document["schema_version"]
    if not version.startswith(KNOWN_VERSIONS):
        reading.problem(
            "-", "schema_version", "0.2.x or 0.3.x", version, "a schema version this reader does not know: its fields may mean other things", "outcome-nature"
        )
    claim = _claim(document["model_info"])
    if claim.repository is None and claim.record is None:
        reading.problem(
            "-", "model_info.id", "the model's hub id", document["model_info"].get("id"), "the record does not name the model it evaluated", "outcome-link"
        )
    library = document.get("eval_library") if isinstance(document.get("eval_library"), dict) else {}
    library_details = library.get("additional_details") if isinstance(library.get("additional_details"), dict) else {}
    harness = text(library_details.get("harness")) or _harness(text(library.get("name")))
    harness_version = text(library.get("version"))
    group = ModelGroup(claim)
    results = document["evaluation_results"]
    if not isinstance(results, list):
        reading.problem("-", "evaluation_results", "a list of results", results, "not a list of evaluation results", "outcome-nature")
        results = []
    for index, result in enumerate(results):
        value = _score(reading, f"evaluation_results[{index}]", result)
        if value is not None:
            value.update(harness=harness, harness_version=None if harness_version in (None, "unknown") else harness_version)
            reading.add(group, value)
    reading.groups.append(group)
    return reading


def _claim(info: dict[str, Any]) -> Claim:
    """What ``model_info`` says of the model: its id, and the catalogue record the export wrote in its details."""
    details = info.get("additional_details") if isinstance(info.get("additional_details"), dict) else {}
    claim = Claim(where="model_info")  # no name: a name is never linked by its likeness to a family
    model_id = text(info.get("id"))
    claim.record = text(details.get("catalogue_record"))
    if claim.record is None and model_id:
        claim.repository = model_id
    claim.kept_indices_sha256 = text(details.get("kept_indices_sha256"))
    claim.pruning_pct = claim.read("model_info.additional_details.pruning_pct", details.get("pruning_pct"), whole, "a whole pruning %")
    claim.total_parameters = claim.read(
        "model_info.additional_details.total_parameters", details.get("total_parameters"), whole, "a whole number of parameters"
    )
    ratio = details.get("expansion_ratio")
    claim.expansion_ratio = claim.read("model_info.additional_details.expansion_ratio", ratio, number, "a ratio (a factor such as 2.4)")
    claim.expansion_ratio_as_written = text(ratio)
    return claim


def _score(reading: Reading, where: str, result: Any) -> dict[str, Any] | None:
    """One evaluation result as a score value; a problem (and None) for one that cannot be read."""
    if not isinstance(result, dict) or not isinstance(result.get("evaluation_name"), str) or not isinstance(result.get("metric_config"), dict):
        reading.problem("-", where, "an object with evaluation_name and metric_config", result, "not an evaluation result", "outcome-nature")
        return None
    config = result["metric_config"]
    details = config.get("additional_details") if isinstance(config.get("additional_details"), dict) else {}
    scored = result.get("score_details") if isinstance(result.get("score_details"), dict) else {}
    value = reading.finite("-", f"{where}.score_details.score", scored.get("score"), "a score")
    if value is None:
        if scored.get("score") is None:
            reading.problem("-", f"{where}.score_details.score", "a number", None, "the result gives no score", "outcome-nature")
        return None
    metric = text(config.get("metric_id")) or text(config.get("metric_name")) or "score"
    if not reading.names_ok("-", where, {"task": result["evaluation_name"], "metric": metric, "filter": text(details.get("filter"))}):
        return None
    uncertainty = scored.get("uncertainty") if isinstance(scored.get("uncertainty"), dict) else {}
    error = uncertainty.get("standard_error") if isinstance(uncertainty.get("standard_error"), dict) else {}
    lower = config.get("lower_is_better")
    measurement = _measurement(reading, where, details.get("catalogue_measurement"))
    return {
        "kind": "score",
        "task": result["evaluation_name"],
        "metric": metric,
        "filter": text(details.get("filter")),
        "value": value,
        "stderr": reading.finite("-", f"{where}.score_details (stderr)", error.get("value"), "a standard error"),
        "n_shot": reading.count("-", f"{where}.metric_config (n-shot)", details.get("n_shot"), "the n-shot of a task"),
        "n_samples": reading.count("-", f"{where}.score_details (samples)", uncertainty.get("num_samples"), "the samples of a score"),
        "higher_is_better": None if not isinstance(lower, bool) or details.get("direction") == "not stated by the source" else not lower,
        "task_version": text(details.get("task_version")),
        "task_hash": text(details.get("task_hash")),
        "measurement": measurement,
        "source": reading.source(where),
    }


def _measurement(reading: Reading, where: str, written: Any) -> dict[str, Any] | None:
    """How ``catalogue evaluate`` measured a score, as the export wrote it (JSON text: the schema's details are strings)."""
    if written is None:
        return None
    try:
        measurement = json.loads(written) if isinstance(written, str) else None
    except ValueError:
        measurement = None
    if not isinstance(measurement, dict):
        reading.problem("-", f"{where}.metric_config (catalogue_measurement)", "the JSON of a measurement", written, "cannot be read", "outcome-nature")
    return measurement if isinstance(measurement, dict) else None


def _harness(library: str | None) -> str:
    """The harness as the catalogue names it: Every Eval Ever's ``lm_eval`` is lm-evaluation-harness; a record that
    names no library (schema 0.2) says nothing, and nothing is guessed."""
    if library is None:
        return "unknown"
    return "lm-evaluation-harness" if library in ("lm_eval", "lm-eval", "lm-evaluation-harness") else library


#: This module's layouts, as the registry (``registry.py``) finds them.
READERS = (OutcomeReader(format=FORMAT, kind="json", detects=is_eee, expects="an Every Eval Ever record", reads=read_eee),)

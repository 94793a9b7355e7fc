"""The files ``catalogue bench`` writes (``bench_*.json``): one pruned model's speed and memory, run by run.

The file names the record it measured and the digest of the neurons its model kept
(``measurement.kept_indices_sha256``), its parameter count and weight bytes (checked against
the record), and, per workload, every timed run (warm-up runs are not in it):

* ``prefill-<P>``: a batch of prompts of ``P`` tokens, one forward pass; ``prefill_s`` per run;
* ``decode-b<B>``: ``B`` prompts, then ``new_tokens`` tokens each, greedy, one step at a time;
  ``prefill_s`` (prompt to first token) and ``decode_s`` (the other ``new_tokens - 1`` steps) per run,
  and the energy of the timed runs when codecarbon measured it.

Its peak memory over all workloads (``memory_peak_bytes``) and weight bytes are stored under the
workload ``memory``.

The quantities are computed here from the runs, the same way for the writer and every reader:
prefill tokens/s = B x P / prefill_s; time to first token = prefill_s; whole answer =
prefill_s + decode_s; decode tokens/s = B x (new_tokens - 1) / decode_s; joules per token =
kWh x 3.6e6 / tokens generated. Each stored value is the median of its runs, with their spread;
the file's own ``summary`` must agree with what its runs give. Standard library only.
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from ..reading import Claim, ModelGroup, Reading, efficiency_value, number, whole
from .registry import OutcomeReader

FORMAT = "catalogue-bench"

#: The key that marks a file of ``catalogue bench``, and the layout version it holds.
MARKER = "glu_catalogue_bench"
LAYOUT_VERSION = 1

#: The workload of the figures that belong to the whole level, not to one workload (peak memory, weight bytes).
WHOLE_LEVEL_WORKLOAD = "memory"

#: Joules in a kilowatt-hour.
JOULES_PER_KWH = 3.6e6

#: How close the file's summary must be to its runs' statistics (it is written from them, rounded by JSON only).
SUMMARY_RELATIVE_TOLERANCE = 1e-9


def is_catalogue_bench(document: Any) -> bool:
    """True for a JSON object written by ``catalogue bench``."""
    return isinstance(document, dict) and MARKER in document


def run_quantities(workload: dict[str, Any]) -> dict[str, list[float]]:
    """Each quantity of one workload, run by run (``ValueError`` for a run that cannot give it)."""
    batch, prompt, new = (_whole_or_refused(workload[key], key) for key in ("batch_size", "prompt_tokens", "new_tokens"))
    quantities: dict[str, list[float]] = {}
    for run in workload["runs"]:
        prefill = float(run["prefill_s"])
        if not prefill > 0:
            raise ValueError("prefill_s must be above 0")
        if workload["kind"] == "prefill":
            quantities.setdefault("prefill_tokens_per_s", []).append(batch * prompt / prefill)
            continue
        decode = float(run["decode_s"])
        if not decode > 0 or new < 2:
            raise ValueError("a decode run needs decode_s above 0 and at least 2 new tokens")
        quantities.setdefault("latency_first_token_ms", []).append(prefill * 1000)
        quantities.setdefault("latency_whole_answer_ms", []).append((prefill + decode) * 1000)
        quantities.setdefault("decode_tokens_per_s", []).append(batch * (new - 1) / decode)
    return quantities


def _whole_or_refused(value: Any, what: str) -> int:
    """``value`` as a whole number (``reading.whole``); ``ValueError`` naming ``what`` otherwise."""
    parsed = whole(value)
    if parsed is None:
        raise ValueError(f"{what} must be a whole number")
    return parsed


def statistics_of(values: list[float]) -> dict[str, float | int | None]:
    """Count, median, mean, sample standard deviation (None for one run), extremes."""
    return {
        "count": len(values),
        "median": statistics.median(values),
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else None,
        "min": min(values),
        "max": max(values),
    }


def summary_of(document: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The file's summary as its runs give it: workload -> quantity -> statistics."""
    return {workload["name"]: {q: statistics_of(v) for q, v in run_quantities(workload).items()} for workload in document["workloads"]}


def read_catalogue_bench(path: Path, sha256: str, document: dict[str, Any]) -> Reading:
    """The speed and memory values of one record's bench file, each the median of its runs."""
    reading = Reading(path, sha256, FORMAT)
    if document.get(MARKER) != LAYOUT_VERSION:
        reading.problem("-", MARKER, LAYOUT_VERSION, document.get(MARKER), "a layout of catalogue bench this version does not read", "outcome-nature")
        return reading
    measurement = document.get("measurement")
    claim = Claim(where="measurement", record=document.get("record") if isinstance(document.get("record"), str) else None)
    if claim.record is None:
        reading.problem(
            "-", "record", "the record it measured (MODEL@PCT)", document.get("record"), "the file does not name the record it measured", "outcome-link"
        )
        return reading
    if not isinstance(measurement, dict):
        reading.problem(
            claim.record,
            "measurement",
            "an object: how the level was measured",
            type(measurement).__name__,
            "the file does not say how it was measured",
            "outcome-nature",
        )
        return reading
    if "summary" in document and not isinstance(document["summary"], dict):
        reading.problem(
            claim.record,
            "summary",
            "an object: workload -> quantity -> statistics",
            type(document["summary"]).__name__,
            "the summary cannot be read",
            "outcome-nature",
        )
    claim.kept_indices_sha256 = measurement.get("kept_indices_sha256")
    claim.total_parameters = claim.read("measurement.total_parameters", document.get("total_parameters"), whole, "a whole number of parameters")
    claim.weight_bytes = claim.read("measurement.weights_bytes", document.get("weights_bytes"), whole, "a whole number of bytes")
    group = ModelGroup(claim)
    reading.groups.append(group)
    try:
        computed = summary_of(document)
    except (KeyError, TypeError, ValueError) as error:  # the workloads' values are left out; the level's memory is still read
        reading.problem(claim.record, "workloads", "runs with their seconds", "-", f"the runs cannot be read ({error})", "outcome-nature")
        computed = None
    workloads = document["workloads"] if computed is not None else ()
    names = Counter(workload["name"] for workload in workloads)
    for index, workload in enumerate(workloads):
        if not reading.names_ok(claim.record, f"workloads[{index}].name", {"workload": workload["name"]}):
            continue
        if names[workload["name"]] > 1:  # ``computed`` holds one of them: which runs a value is of cannot be told
            reading.problem(
                claim.record,
                f"workloads[{index}].name",
                "a name no other workload has",
                workload["name"],
                f"{names[workload['name']]} workloads share this name: their values cannot be told apart",
                "outcome-consistency",
            )
            continue
        _workload_values(reading, group, workload, index, computed[workload["name"]], _summary_of(document, workload["name"]), measurement)
    for quantity in ("memory_peak_bytes", "weights_bytes"):
        value = number(document.get(quantity))
        if value is None and document.get(quantity) is not None:
            reading.problem(claim.record, quantity, "a number of bytes", document.get(quantity), "not a number", "outcome-nature")
        elif value is not None:
            shape = {"name": WHOLE_LEVEL_WORKLOAD, "task": None, "batch_size": None, "prompt_count": None, "max_new_tokens": None}
            reading.add(reading.groups[0], {**efficiency_value(reading, shape, quantity, value, quantity), "measurement": measurement})
    return reading


def _workload_values(reading: Reading, group: ModelGroup, workload: dict, index: int, computed: dict, written: dict, measurement: dict) -> None:
    where = f"workloads[{index}]"
    shape = {
        "name": workload["name"],
        "task": "synthetic prompts (token ids from a seed)",
        "batch_size": workload["batch_size"],
        "prompt_count": workload["batch_size"],
        "max_new_tokens": workload["new_tokens"],
    }
    listed = workload.get("seeds", [])
    seeds = [whole(seed) for seed in listed] if isinstance(listed, list) else [None]  # a seed that is not one fails validation: one line
    for quantity, stats in computed.items():
        stated = written.get(quantity)
        stated = stated.get("median") if isinstance(stated, dict) else stated
        if stated is not None and not _close(stated, stats["median"]):
            reading.problem(
                group.claim.record,
                f"summary.{workload['name']}.{quantity}.median",
                stats["median"],
                stated,
                "the summary is not what the file's runs give",
                "outcome-consistency",
            )
        runs = {
            "count": stats["count"],
            "aggregate": "median",
            "median": stats["median"],
            "mean": stats["mean"],
            "std": stats["std"],
            "min": stats["min"],
            "max": stats["max"],
            "seeds": seeds,
        }
        reading.add(group, {**efficiency_value(reading, shape, quantity, stats["median"], f"{where}.{quantity}", runs), "measurement": measurement})
    energy = workload.get("energy")
    if isinstance(energy, dict):
        kwh, tokens = number(energy.get("kwh")), whole(energy.get("tokens"))
        if kwh is None or not tokens:
            reading.problem(group.claim.record, f"{where}.energy", "kwh and tokens", energy, "the energy of the runs cannot be read", "outcome-nature")
            return
        runs = {"count": len(workload["runs"]), "aggregate": "mean", "mean": kwh / len(workload["runs"]), "seeds": seeds}
        meter = energy.get("meter") if isinstance(energy.get("meter"), dict) else None
        reading.add(
            group,
            {**efficiency_value(reading, shape, "energy_raw_kwh", kwh / len(workload["runs"]), f"{where}.energy.kwh", runs, meter), "measurement": measurement},
        )
        reading.add(
            group,
            {
                **efficiency_value(reading, shape, "joules_per_token", kwh * JOULES_PER_KWH / tokens, f"{where}.energy.joules_per_token", None, meter),
                "measurement": measurement,
            },
        )


def _summary_of(document: dict[str, Any], workload: str) -> dict[str, Any]:
    """The file's own summary of one workload (empty where it has none or it is not an object)."""
    summary = document.get("summary")
    written = summary.get(workload) if isinstance(summary, dict) else None
    return written if isinstance(written, dict) else {}


def _close(a: Any, b: float) -> bool:
    value = number(a)
    return value is not None and abs(value - b) <= SUMMARY_RELATIVE_TOLERANCE * max(abs(b), 1e-300)


#: This module's layouts, as the registry (``registry.py``) finds them.
READERS = (OutcomeReader(format=FORMAT, kind="json", detects=is_catalogue_bench, expects="a catalogue bench file", reads=read_catalogue_bench),)

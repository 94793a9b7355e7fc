"""The study's carbon files: the aggregate ``*_carbon_complete_results_latest.json`` and one file per run.

The aggregate holds ``experiment_metadata`` (family, device, the idle power subtracted),
``benchmarks`` (each workload's prompts and answer length) and ``models_evaluated.<key>.results.
<workload>``: ``<quantity>_mean/_std/_min/_max`` over the runs kept, ``num_runs_aggregated``,
``seeds_used``, ``outliers_excluded`` and ``raw_runs_data.run_N`` with each run's parts (energy
net, raw and idle, tokens, duration). A per-run file (``metadata.mode == "carbon_profiling"``)
holds one run's ``results.<workload>`` with codecarbon's ``hardware_metadata``.

Everything the file gives twice or can derive from its parts is recomputed here and a
disagreement is a problem at the value it concerns (so that value is left out): the mean, sample
standard deviation and extremes of the kept runs; each run's J/token from its energy and tokens,
net energy from raw less idle, idle energy from the idle power and the duration (to the precision
the idle power is written with), throughput from tokens and time.
"""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path
from typing import Any

from ..reading import Claim, ModelGroup, Reading, efficiency_value, gib_bytes, number, whole
from .registry import OutcomeReader
from .study_capability import benchmark_entries, first_results, study_groups

AGGREGATE_FORMAT = "study-carbon-json"
RUN_FORMAT = "study-carbon-run"

#: kWh -> J.
JOULES_PER_KWH = 3.6e6

#: The aggregate's quantities: file prefix -> (quantity, the key of each raw run).
AGGREGATED = {
    "energy_kwh": ("energy_net_kwh", "energy_kwh"),
    "joules_per_token": ("joules_per_token", "joules_per_token"),
    "throughput": ("throughput_tokens_per_s", "throughput"),
    "ttlt": ("latency_whole_answer_ms", "ttlt_ms"),
}

#: A per-run file's quantities: key in ``results.<workload>`` -> quantity.
RUN_QUANTITIES = {
    "energy_kwh": "energy_net_kwh",
    "energy_raw_kwh": "energy_raw_kwh",
    "energy_idle_kwh": "energy_idle_kwh",
    "joules_per_token": "joules_per_token",
    "throughput_tokens_per_sec": "throughput_tokens_per_s",
    "avg_ttft_ms": "latency_first_token_ms",
    "max_memory_allocated_gb": "memory_peak_gib",
}

#: Each raw run's quantities that a per-run file gives too: run key -> quantity.
RUN_PARTS = {"energy_kwh": "energy_net_kwh", "energy_raw_kwh": "energy_raw_kwh", "energy_idle_kwh": "energy_idle_kwh", "joules_per_token": "joules_per_token"}

#: Relative agreement asked of values the file computed in floating point from its own parts.
REL_TOLERANCE = 1e-9

#: Throughput may differ this much from tokens / time (timers start and stop at slightly different places).
THROUGHPUT_REL_TOLERANCE = 0.01

#: A per-run file's model name: ``Llama-3.2-1B-baseline-run1``, ``Llama-3.2-1B-pruned-40%-run2``.
RUN_NAME = re.compile(r"^(?P<family>.+?)-(?:baseline|pruned-(?P<pct>[0-9]{1,3})(?:%|pct)?)-run(?P<run>[0-9]{1,9})$")


# --- telling the layouts apart ------------------------------------------------------------------


def is_study_carbon(document: Any) -> bool:
    """True for the study's aggregate carbon JSON: ``models_evaluated`` whose results hold ``energy_kwh_mean``."""
    results = first_results(document)
    return results is not None and any(isinstance(value, dict) and "energy_kwh_mean" in value for value in results.values())


def is_study_carbon_run(document: Any) -> bool:
    """True for one of the study's per-run carbon files: ``metadata.mode`` ``carbon_profiling`` and ``results``."""
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        return False
    return document["metadata"].get("mode") == "carbon_profiling" and isinstance(document.get("results"), dict)


# --- the aggregate --------------------------------------------------------------------------------


def read_study_carbon(path: Path, sha256: str, document: dict[str, Any]) -> Reading:
    """Every model's efficiency in the study's aggregate carbon JSON, checked against its raw runs."""
    reading = Reading(path, sha256, AGGREGATE_FORMAT)
    metadata = document.get("experiment_metadata") if isinstance(document.get("experiment_metadata"), dict) else {}
    hardware = metadata.get("hardware_details") if isinstance(metadata.get("hardware_details"), dict) else {}
    idle_watts = hardware.get("idle_power_watts")
    meter = {
        "tool": "codecarbon",
        "idle_power_w": number(idle_watts),
        "device": hardware.get("gpu_model") if isinstance(hardware.get("gpu_model"), str) else None,
    }
    benchmarks = benchmark_entries(reading, document.get("benchmarks"), "num_prompts", "prompts")
    for where, results, group in study_groups(reading, document):
        for workload_name, measured in results.items():
            place = f"{where}.results.{workload_name}"
            if not isinstance(measured, dict):
                reading.problem(group.claim.name or "-", place, "an object of measurements", measured, "not a workload's results", "outcome-nature")
                continue
            if not reading.names_ok(group.claim.name or "-", place, {"workload": workload_name}):
                continue
            if group.claim.weight_bytes is None:
                group.claim.weight_bytes = gib_bytes(measured.get("model_size_gb"))
            workload = _workload(reading, group, place, workload_name, measured, benchmarks.get(workload_name))
            _read_workload(reading, group, place, workload, measured, meter, idle_watts, len(reading.groups) - 1)
    return reading


def _workload(reading: Reading, group: ModelGroup, place: str, name: str, measured: dict, benchmark: dict | None) -> dict:
    """The workload of a result: its task (the name's first word), batch, prompts, answer length; prompts checked against ``benchmarks``."""
    prompts = whole(measured.get("num_prompts"))
    declared = whole(benchmark.get("num_prompts")) if benchmark else None
    if prompts is not None and declared is not None and prompts != declared:
        reading.problem(
            group.claim.name or "-", f"{place}.num_prompts", declared, prompts, "benchmarks gives this workload another prompt count", "outcome-consistency"
        )
    return {
        "name": name,
        "task": name.split("_")[0] or None,
        "batch_size": whole(measured.get("batch_size")),
        "prompt_count": prompts if prompts is not None else declared,
        "max_new_tokens": whole(benchmark.get("max_new_tokens")) if benchmark else None,
    }


def _read_workload(reading: Reading, group: ModelGroup, place: str, workload: dict, measured: dict, meter: dict, idle_watts: Any, group_index: int) -> None:
    """One workload's aggregated quantities, each checked against the runs it says it aggregates (``group_index``: the group's place in ``reading``)."""
    label = group.claim.name or "-"
    raw = measured.get("raw_runs_data")
    runs = {key: run for key, run in raw.items() if isinstance(run, dict)} if isinstance(raw, dict) else {}
    if not runs:
        reading.problem(label, f"{place}.raw_runs_data", "the runs as objects", raw, "the aggregate gives no runs to check it against", "outcome-consistency")
    excluded = _excluded_runs(reading, label, place, measured, runs)
    kept = {key: run for key, run in runs.items() if key not in excluded}
    count = whole(measured.get("num_runs_aggregated"))
    if runs and count != len(kept):
        reading.problem(
            label,
            f"{place}.num_runs_aggregated",
            len(kept),
            measured.get("num_runs_aggregated"),
            f"{len(runs)} runs less {len(excluded)} outliers",
            "outcome-consistency",
        )
    seeds = _seeds(reading, label, f"{place}.seeds_used", measured.get("seeds_used"))
    deviations = {key: _check_run_parts(reading, label, place, key, run, idle_watts) for key, run in runs.items()}
    for key, run in runs.items():
        run_number = whole(key.removeprefix("run_"))
        for part, quantity in RUN_PARTS.items():
            if run_number is not None and number(run.get(part)) is not None:
                reading.run_values[(group_index, workload["name"], run_number, quantity)] = (number(run[part]), f"{place}.raw_runs_data.{key}.{part}")
    off = {key: deviation for key, deviation in deviations.items() if deviation is not None and abs(deviation) > THROUGHPUT_REL_TOLERANCE}
    if off:
        first = next(iter(off))
        reading.problem(
            label,
            f"{place}.throughput_mean",
            "total_new_tokens / inference_duration_sec of each run",
            f"{min(off.values()):+.0%} to {max(off.values()):+.0%} off",
            f"throughput is not tokens / duration in {len(off)} of {len(runs)} runs ({first}: {number(runs[first].get('throughput')):.2f} tokens/s, "
            f"{runs[first].get('total_new_tokens')} tokens in {number(runs[first].get('inference_duration_sec')):.2f} s)",
            "outcome-consistency",
        )
    for prefix, (quantity, run_key) in AGGREGATED.items():
        mean = measured.get(f"{prefix}_mean")
        if mean is None:
            continue
        location = f"{place}.{prefix}_mean"
        value = number(mean)
        if value is None:
            reading.problem(label, location, "a finite number", mean, f"{prefix}_mean must be a number", "outcome-nature")
            continue
        statistics_given = {name: measured.get(f"{prefix}_{name}") for name in ("std", "min", "max")}
        if kept:
            _check_statistics(reading, label, place, prefix, value, statistics_given, [run.get(run_key) for run in kept.values()])
        runs_summary = {
            "count": count if count is not None else len(kept),
            "mean": value,
            "std": number(statistics_given["std"]),
            "min": number(statistics_given["min"]),
            "max": number(statistics_given["max"]),
            "seeds": seeds,
            "outliers_excluded": whole(measured.get("outliers_count")),
        }
        reading.add(group, efficiency_value(reading, workload, quantity, value, location, runs_summary, meter))
    size = number(measured.get("model_size_gb"))
    if size is not None:
        reading.add(group, efficiency_value(reading, workload, "model_size_gib", size, f"{place}.model_size_gb"))


def _seeds(reading: Reading, label: str, where: str, listed: Any) -> list[int]:
    """The seeds ``seeds_used`` lists; anything but a list of whole numbers is reported and gives none (never a guess)."""
    if listed is None:
        return []
    seeds = [whole(seed) for seed in listed] if isinstance(listed, list) else [None]
    if None in seeds:
        reading.problem(label, where, "a list of whole numbers", listed, "the runs' seeds cannot be read", "outcome-nature")
        return []
    return seeds


def _excluded_runs(reading: Reading, label: str, place: str, measured: dict, runs: dict) -> set[str]:
    """The runs ``outliers_excluded`` names; each entry's values must be its run's."""
    entries = measured.get("outliers_excluded") or []
    if not isinstance(entries, list):
        reading.problem(label, f"{place}.outliers_excluded", "a list of runs", entries, "not a list of excluded runs", "outcome-nature")
        return set()
    excluded = set()
    for index, entry in enumerate(entries):
        key = entry.get("run_key") if isinstance(entry, dict) else None
        if not isinstance(key, str) or key not in runs:
            reading.problem(
                label, f"{place}.outliers_excluded[{index}]", f"one of {', '.join(runs)}", entry, "names no run of raw_runs_data", "outcome-consistency"
            )
            continue
        excluded.add(key)
        for field_name in ("energy_kwh", "joules_per_token"):
            stated, actual = number(entry.get(field_name)), number(runs[key].get(field_name))
            if stated is not None and actual is not None and not _close(stated, actual):
                reading.problem(
                    label,
                    f"{place}.outliers_excluded[{index}].{field_name}",
                    actual,
                    stated,
                    f"the excluded run {key} has {field_name} {actual!r} in raw_runs_data",
                    "outcome-consistency",
                )
    count = whole(measured.get("outliers_count"))
    if count is not None and count != len(entries):
        reading.problem(label, f"{place}.outliers_count", len(entries), count, "outliers_excluded lists another number of runs", "outcome-consistency")
    return excluded


def _check_statistics(reading: Reading, label: str, place: str, prefix: str, mean: float, given: dict, raw_values: list) -> None:
    """Mean, sample standard deviation and extremes of the kept runs against those the file gives."""
    values = [number(value) for value in raw_values]
    if any(value is None for value in values):
        reading.problem(label, f"{place}.{prefix}_mean", "a number in every kept run", raw_values, f"a kept run has no {prefix}", "outcome-consistency")
        return
    expected = {"mean": statistics.fmean(values), "min": min(values), "max": max(values), "std": statistics.stdev(values) if len(values) > 1 else None}
    stated = {"mean": mean, **{name: given[name] for name in ("std", "min", "max")}}
    for name, want in expected.items():
        found = stated[name]
        if found is None:
            continue
        if want is None:
            reading.problem(
                label,
                f"{place}.{prefix}_{name}",
                "none (one run has no spread)",
                found,
                f"the standard deviation of {len(values)} run is undefined; the file gives {found!r}",
                "outcome-consistency",
            )
        elif number(found) is None or not _close(number(found), want, absolute=abs(mean) * REL_TOLERANCE):
            reading.problem(label, f"{place}.{prefix}_{name}", want, found, f"the {name} of the {len(values)} kept runs", "outcome-consistency")


def _check_run_parts(reading: Reading, label: str, place: str, key: str, run: dict, idle_watts: Any) -> float | None:
    """One raw run's derived values against their parts; a disagreement rejects the aggregate it feeds.

    Returns how far the run's throughput is from its tokens / duration (a fraction), for the caller
    to report once per workload.
    """
    energy, tokens, duration = number(run.get("energy_kwh")), whole(run.get("total_new_tokens")), number(run.get("inference_duration_sec"))
    at = f"{place}.raw_runs_data.{key}"
    if energy is not None and tokens:
        _derived(
            reading,
            label,
            f"{place}.joules_per_token_mean",
            f"{at}.joules_per_token",
            run.get("joules_per_token"),
            energy * JOULES_PER_KWH / tokens,
            "energy_kwh x 3.6e6 / total_new_tokens",
        )
    raw, idle = number(run.get("energy_raw_kwh")), number(run.get("energy_idle_kwh"))
    if energy is not None and raw is not None and idle is not None and not _close(energy, raw - idle, absolute=raw * REL_TOLERANCE):
        reading.problem(
            label, f"{place}.energy_kwh_mean", raw - idle, energy, f"{at}: net energy is not energy_raw_kwh - energy_idle_kwh", "outcome-consistency"
        )
    watts = number(idle_watts)
    if watts is not None and idle is not None and duration is not None:
        expected = watts * duration / JOULES_PER_KWH
        # The idle power is written rounded (31.55 for 31.553...): allow what that rounding moves.
        rounding_kwh = 0.5 * 10 ** -_decimals(idle_watts) * abs(duration) / JOULES_PER_KWH
        if not math.isclose(idle, expected, rel_tol=REL_TOLERANCE, abs_tol=rounding_kwh):
            reading.problem(
                label,
                f"{place}.energy_kwh_mean",
                expected,
                idle,
                f"{at}: idle energy is not idle_power_watts x inference_duration_sec / 3.6e6",
                "outcome-consistency",
            )
    throughput = number(run.get("throughput"))
    if throughput is not None and tokens and duration:
        return throughput / (tokens / duration) - 1
    return None


def _derived(reading: Reading, label: str, rejects: str, at: str, stated: Any, expected: float, formula: str) -> None:
    found = number(stated)
    if found is not None and not _close(found, expected):
        reading.problem(label, rejects, expected, stated, f"{at} is not {formula}", "outcome-consistency")


# --- one run ---------------------------------------------------------------------------------------


def read_study_carbon_run(path: Path, sha256: str, document: dict[str, Any]) -> Reading:
    """One run's efficiency in a per-run carbon file: each workload's quantities, checked against their parts."""
    reading = Reading(path, sha256, RUN_FORMAT)
    name = document["metadata"].get("model_name") if isinstance(document["metadata"].get("model_name"), str) else None
    named = RUN_NAME.match(name or "")
    claim = Claim(where="metadata", name=name, family=named["family"] if named else None, pruning_pct=(int(named["pct"] or 0) if named else None))
    group = ModelGroup(claim)
    seed = re.search(r"seed([0-9]{1,18})(?![0-9])", path.name)
    for workload_name, measured in document["results"].items():
        place = f"results.{workload_name}"
        if not isinstance(measured, dict):
            reading.problem(name or "-", place, "an object of measurements", measured, "not a workload's results", "outcome-nature")
            continue
        if not reading.names_ok(name or "-", place, {"workload": workload_name}):
            continue
        hardware = measured.get("hardware_metadata") if isinstance(measured.get("hardware_metadata"), dict) else {}
        workload = {
            "name": workload_name,
            "task": workload_name.split("_")[0] or None,
            "batch_size": whole(measured.get("batch_size")),
            "prompt_count": whole(measured.get("num_prompts")),
            "max_new_tokens": whole(measured.get("max_new_tokens")),
        }
        meter = {
            "tool": "codecarbon",
            "version": _text(hardware.get("codecarbon_version")),
            "mode": _text(document["metadata"].get("mode")),
            "idle_power_w": number(hardware.get("idle_power_watts")),
            "device": _text(hardware.get("gpu_name_torch")),
        }
        _check_run_file_parts(reading, name or "-", place, measured, hardware)
        runs = {"count": 1, "seeds": [int(seed[1])] if seed else []}
        for key, quantity in RUN_QUANTITIES.items():
            value = number(measured.get(key))
            if value is None:
                if measured.get(key) is not None and not isinstance(measured.get(key), str):
                    reading.problem(name or "-", f"{place}.{key}", "a finite number", measured.get(key), f"{key} must be a number", "outcome-nature")
                continue
            reading.add(group, efficiency_value(reading, workload, quantity, value, f"{place}.{key}", runs, meter))
            if named and quantity in RUN_PARTS.values():
                reading.run_values[(0, workload_name, int(named["run"]), quantity)] = (value, f"{place}.{key}")
        duration = number(hardware.get("duration_sec"))
        if duration is not None:
            reading.add(group, efficiency_value(reading, workload, "duration_s", duration, f"{place}.hardware_metadata.duration_sec", runs, meter))
    reading.groups.append(group)
    return reading


def _check_run_file_parts(reading: Reading, label: str, place: str, measured: dict, hardware: dict) -> None:
    """A run's J/token, net and idle energy, its codecarbon block's copies and its latency's name, against their parts."""
    energy, tokens = number(measured.get("energy_kwh")), whole(measured.get("total_new_tokens"))
    if energy is not None and tokens:
        _derived(
            reading,
            label,
            f"{place}.joules_per_token",
            f"{place}.joules_per_token",
            measured.get("joules_per_token"),
            energy * JOULES_PER_KWH / tokens,
            "energy_kwh x 3.6e6 / total_new_tokens",
        )
    raw, idle = number(measured.get("energy_raw_kwh")), number(measured.get("energy_idle_kwh"))
    if energy is not None and raw is not None and idle is not None and not _close(energy, raw - idle, absolute=raw * REL_TOLERANCE):
        reading.problem(label, f"{place}.energy_kwh", raw - idle, energy, "net energy is not energy_raw_kwh - energy_idle_kwh", "outcome-consistency")
    for ours, theirs in (("energy_kwh", "energy_net_kwh"), ("energy_raw_kwh", "energy_raw_kwh"), ("energy_idle_kwh", "energy_idle_contribution_kwh")):
        mine, copy = number(measured.get(ours)), number(hardware.get(theirs))
        if mine is not None and copy is not None and not _close(mine, copy):
            reading.problem(label, f"{place}.{ours}", copy, mine, f"hardware_metadata.{theirs} gives this value as {copy!r}", "outcome-consistency")
    watts, duration = number(hardware.get("idle_power_watts")), number(hardware.get("duration_sec"))
    if watts is not None and duration is not None and idle is not None and not math.isclose(idle, watts * duration / JOULES_PER_KWH, rel_tol=1e-6):
        reading.problem(
            label,
            f"{place}.energy_idle_kwh",
            watts * duration / JOULES_PER_KWH,
            idle,
            "idle energy is not idle_power_watts x duration_sec / 3.6e6",
            "outcome-consistency",
        )
    throughput, loop_s = number(measured.get("throughput_tokens_per_sec")), number(measured.get("total_loop_time_sec"))
    if throughput is not None and tokens and loop_s and not math.isclose(throughput, tokens / loop_s, rel_tol=THROUGHPUT_REL_TOLERANCE):
        reading.problem(
            label,
            f"{place}.throughput_tokens_per_sec",
            round(tokens / loop_s, 2),
            round(throughput, 2),
            f"throughput is not total_new_tokens / total_loop_time_sec ({tokens} / {loop_s:.2f} s, {throughput / (tokens / loop_s) - 1:+.0%})",
            "outcome-consistency",
        )
    first_token, per_prompt = number(measured.get("avg_ttft_ms")), number(measured.get("avg_new_tokens_per_prompt"))
    if first_token is not None and per_prompt and throughput and per_prompt > 1:
        answer_ms = per_prompt / throughput * 1000
        if math.isclose(first_token, answer_ms, rel_tol=1e-6):
            reading.problem(
                label,
                f"{place}.avg_ttft_ms",
                "the time to the first token",
                f"{first_token:.2f} ms",
                f"named time to first token, it is avg_new_tokens_per_prompt / throughput ({per_prompt:g} tokens at {throughput:.2f} tokens/s): the "
                "whole answer's time",
                "outcome-consistency",
            )


# --- small helpers ------------------------------------------------------------------------------------


def _close(found: float, expected: float, absolute: float = 0.0) -> bool:
    return math.isclose(found, expected, rel_tol=REL_TOLERANCE, abs_tol=absolute)


def _decimals(value: Any) -> int:
    text = repr(float(value)) if isinstance(value, (int, float)) else str(value)
    return 0 if "e" in text else len(text.partition(".")[2])


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value not in ("", "N/A") else None


#: This module's layouts, as the registry (``registry.py``) finds them.
READERS = (
    OutcomeReader(format=AGGREGATE_FORMAT, kind="json", detects=is_study_carbon, expects="the study's carbon JSON (models_evaluated)", reads=read_study_carbon),
    OutcomeReader(
        format=RUN_FORMAT, kind="json", detects=is_study_carbon_run, expects="the study's per-run carbon file (metadata, results)", reads=read_study_carbon_run
    ),
)

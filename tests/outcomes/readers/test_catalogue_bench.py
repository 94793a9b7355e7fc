"""The reader of ``catalogue bench``'s files, in-process on small documents in its layout.

Each quantity is computed from the runs (prefill tokens/s = batch x prompt / prefill_s; the latencies
from prefill_s and decode_s; decode tokens/s = batch x (new - 1) / decode_s; J/token from the energy),
stored as the runs' median with their spread; the file's summary must be what its runs give.
"""

from __future__ import annotations

import copy
import statistics
from pathlib import Path

import pytest

from glu_catalogue.outcomes.readers.catalogue_bench import JOULES_PER_KWH, is_catalogue_bench, read_catalogue_bench, run_quantities, summary_of
from glu_catalogue.outcomes.reading import Reading

SHA = "0" * 64
RECORD = "HuggingFaceTB/SmolLM2-135M@40"
MEASUREMENT = {"tool": "catalogue bench", "kept_indices_sha256": "1" * 64, "device": "cpu"}
PREFILL = {
    "name": "prefill-64",
    "kind": "prefill",
    "batch_size": 2,
    "prompt_tokens": 64,
    "new_tokens": 0,
    "seeds": [0],
    "runs": [{"prefill_s": 0.5}, {"prefill_s": 0.25}, {"prefill_s": 1.0}],
}
DECODE = {
    "name": "decode-b1",
    "kind": "decode",
    "batch_size": 1,
    "prompt_tokens": 32,
    "new_tokens": 5,
    "seeds": [0],
    "runs": [{"prefill_s": 0.1, "decode_s": 0.4}, {"prefill_s": 0.2, "decode_s": 0.8}],
}


def bench(**changes) -> dict:
    document = {
        "glu_catalogue_bench": 1,
        "record": RECORD,
        "total_parameters": 102_685_248,
        "weights_bytes": 410_740_992,
        "memory_peak_bytes": 943_669_248,
        "measurement": MEASUREMENT,
        "workloads": [copy.deepcopy(PREFILL), copy.deepcopy(DECODE)],
    }
    document.update(changes)
    return document


def read(document: dict) -> Reading:
    return read_catalogue_bench(Path("bench.json"), SHA, document)


def values(reading: Reading) -> dict[tuple[str, str], dict]:
    return {(value["workload"]["name"], value["quantity"]): value for value in reading.groups[0].values}


def fields(reading: Reading) -> dict[str, str]:
    return {problem.field: problem.kind for problem in reading.problems}


def test_the_marker_tells_the_layout():
    assert is_catalogue_bench(bench()) and is_catalogue_bench({"glu_catalogue_bench": 2})
    assert not is_catalogue_bench({"record": RECORD}) and not is_catalogue_bench(["glu_catalogue_bench"])


def test_the_quantities_are_computed_from_the_runs():
    assert run_quantities(PREFILL) == {"prefill_tokens_per_s": [256.0, 512.0, 128.0]}
    decode = run_quantities(DECODE)
    assert decode["latency_first_token_ms"] == [100.0, 200.0]
    assert decode["latency_whole_answer_ms"] == pytest.approx([500.0, 1000.0])
    assert decode["decode_tokens_per_s"] == [10.0, 5.0]  # 1 x (5 - 1) / decode_s


def test_each_value_is_the_median_of_its_runs_with_their_spread_the_claim_and_the_measurement():
    reading = read(bench())
    assert reading.format == "catalogue-bench" and not reading.problems
    claim = reading.groups[0].claim
    assert (claim.record, claim.kept_indices_sha256, claim.total_parameters, claim.weight_bytes) == (RECORD, "1" * 64, 102_685_248, 410_740_992)
    found = values(reading)
    prefill = found[("prefill-64", "prefill_tokens_per_s")]
    assert prefill["value"] == 256.0 and prefill["measurement"] == MEASUREMENT
    assert prefill["runs"] == {
        "count": 3,
        "aggregate": "median",
        "median": 256.0,
        "mean": statistics.fmean([256.0, 512.0, 128.0]),
        "std": statistics.stdev([256.0, 512.0, 128.0]),
        "min": 128.0,
        "max": 512.0,
        "seeds": [0],
    }
    assert prefill["workload"] == {
        "name": "prefill-64",
        "task": "synthetic prompts (token ids from a seed)",
        "batch_size": 2,
        "prompt_count": 2,
        "max_new_tokens": 0,
    }
    assert found[("decode-b1", "decode_tokens_per_s")]["value"] == 7.5
    assert {quantity: found[("memory", quantity)]["value"] for quantity in ("memory_peak_bytes", "weights_bytes")} == {
        "memory_peak_bytes": 943_669_248,
        "weights_bytes": 410_740_992,
    }
    assert found[("memory", "memory_peak_bytes")]["source"]["location"] == "memory_peak_bytes"


def test_a_summary_that_agrees_with_the_runs_is_no_problem_and_one_that_does_not_is_reported():
    document = bench()
    document["summary"] = summary_of(document)
    assert not read(document).problems
    document["summary"]["prefill-64"]["prefill_tokens_per_s"]["median"] = 257.0
    reading = read(document)
    assert fields(reading) == {"summary.prefill-64.prefill_tokens_per_s.median": "outcome-consistency"}
    [problem] = reading.problems
    assert (problem.expected, problem.found) == ("256.0", "257.0")


def test_one_run_has_no_standard_deviation():
    document = bench(workloads=[{**PREFILL, "runs": [{"prefill_s": 0.5}]}])
    [value] = [v for v in read(document).groups[0].values if v["quantity"] == "prefill_tokens_per_s"]
    assert value["runs"]["std"] is None and value["runs"]["count"] == 1


@pytest.mark.parametrize(
    "workload",
    [
        {**PREFILL, "runs": [{"prefill_s": 0}]},
        {**PREFILL, "runs": [{"prefill_s": -0.5}]},
        {**PREFILL, "runs": [{}]},
        {**PREFILL, "batch_size": 1.5},
        {**DECODE, "new_tokens": 1},
        {**DECODE, "runs": [{"prefill_s": 0.1}]},
        {**DECODE, "runs": [{"prefill_s": 0.1, "decode_s": "fast"}]},
        {key: value for key, value in PREFILL.items() if key != "runs"},
    ],
)
def test_runs_that_cannot_give_their_quantities_leave_the_workloads_out_and_the_memory_in(workload):
    reading = read(bench(workloads=[workload]))
    assert fields(reading) == {"workloads": "outcome-nature"}
    assert sorted(values(reading)) == [("memory", "memory_peak_bytes"), ("memory", "weights_bytes")]


@pytest.mark.parametrize(
    ("changes", "place", "kind"),
    [
        ({"glu_catalogue_bench": 2}, "glu_catalogue_bench", "outcome-nature"),
        ({"record": None}, "record", "outcome-link"),
        ({"record": ["x@40"]}, "record", "outcome-link"),
        ({"measurement": "cpu"}, "measurement", "outcome-nature"),
    ],
)
def test_a_file_this_version_cannot_read_gives_no_values(changes, place, kind):
    reading = read(bench(**changes))
    assert fields(reading) == {place: kind}
    assert all(not group.values for group in reading.groups)


def test_counts_and_sizes_that_are_no_numbers_are_unreadable_claims_or_problems():
    reading = read(bench(total_parameters="100M", weights_bytes=4.5, memory_peak_bytes="lots", summary=[1]))
    claim = reading.groups[0].claim
    assert claim.unreadable == {
        "measurement.total_parameters": ("100M", "a whole number of parameters"),
        "measurement.weights_bytes": (4.5, "a whole number of bytes"),
    }
    assert fields(reading) == {"summary": "outcome-nature", "memory_peak_bytes": "outcome-nature"}  # an unreadable claim: checks' outcome-claim


def test_a_workload_name_that_could_not_be_stored_is_a_problem():
    reading = read(bench(workloads=[{**PREFILL, "name": "prefill\x1b[31m"}]))
    assert fields(reading) == {"workloads[0].name": "outcome-nature"}
    assert not any(value["workload"]["name"].startswith("prefill") for value in reading.groups[0].values)


def test_the_energy_of_the_runs_gives_the_mean_raw_energy_and_joules_per_token():
    meter = {"tool": "codecarbon", "version": "3.3.2"}
    document = bench(workloads=[{**DECODE, "energy": {"kwh": 0.002, "tokens": 8, "meter": meter}}])
    found = values(read(document))
    energy = found[("decode-b1", "energy_raw_kwh")]
    assert energy["value"] == 0.001 and energy["runs"]["aggregate"] == "mean" and energy["meter"] == meter
    assert found[("decode-b1", "joules_per_token")]["value"] == 0.002 * JOULES_PER_KWH / 8


@pytest.mark.parametrize("energy", [{"kwh": "x", "tokens": 8}, {"kwh": 0.002, "tokens": 0}, {"kwh": 0.002}])
def test_energy_that_cannot_be_read_is_a_problem(energy):
    reading = read(bench(workloads=[{**DECODE, "energy": energy}]))
    assert fields(reading) == {"workloads[0].energy": "outcome-nature"}
    assert ("decode-b1", "joules_per_token") not in values(reading)


def test_two_workloads_of_one_name_are_a_problem_and_neither_is_read():
    """The runs are summarised by workload name: the first workload's values were the second's, at the first's place."""
    slower = {**PREFILL, "runs": [{"prefill_s": 1.0}, {"prefill_s": 2.0}]}
    reading = read(bench(workloads=[copy.deepcopy(PREFILL), slower, copy.deepcopy(DECODE)]))
    assert fields(reading) == {"workloads[0].name": "outcome-consistency", "workloads[1].name": "outcome-consistency"}
    assert {name for name, _ in values(reading)} == {"decode-b1", "memory"}

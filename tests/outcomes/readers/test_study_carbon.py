"""The study's carbon files, aggregate and per run: read as shipped in data/sources/study/ (byte-exact copies)
and as copies with one value changed, to show each check finds what it claims to. Every command runs as a
subprocess, as a user runs it. Then each check in-process on small documents in the study's layouts.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from conftest import DATA
from outcome_reports import check, messages

from glu_catalogue.outcomes.readers.study_carbon import is_study_carbon, is_study_carbon_run, read_study_carbon, read_study_carbon_run

STUDY = DATA / "sources" / "study"
AGGREGATE = STUDY / "llama_1b_carbon_complete_results_latest.json"
RUN_FILE = STUDY / "individual_files" / "llama_3.2_1b_pruned_40pct_carbon_run2_seed123.json"


def changed_copy(source: Path, target: Path, change) -> Path:
    document = json.loads(source.read_text())
    change(document)
    target.write_text(json.dumps(document))
    return target


def test_the_study_aggregate_links_its_seven_models_and_reports_what_is_wrong_in_it():
    code, report = check(AGGREGATE)
    assert code == 1
    [labels] = report["links"].values()
    assert labels == [f"meta-llama/Llama-3.2-1B@{pct}" for pct in range(0, 70, 10)]
    ifeval = "models_evaluated.baseline.results.ifeval_latency_b1"
    # Two excluded runs listed with one and the same J/token, neither that of its raw run.
    assert "the excluded run run_2 has joules_per_token 0.34347035734133313 in raw_runs_data" in messages(
        report, f"{ifeval}.outliers_excluded[0].joules_per_token"
    )
    assert messages(report, f"{ifeval}.energy_kwh_std") == ["the standard deviation of 1 run is undefined; the file gives 0.0"]
    assert any("throughput is not tokens / duration in 3 of 3 runs" in text for text in messages(report, f"{ifeval}.throughput_mean"))
    assert any("Instruct" in text for text in messages(report, "models_evaluated.baseline.hf_repo"))
    assert report["outcomes"] + report["left_out"] == report["checked"]["outcomes"]


def test_the_per_run_files_agree_with_the_aggregates_raw_runs():
    code, report = check(AGGREGATE, *sorted((STUDY / "individual_files").glob("*.json")))
    assert code == 1
    assert not [p for p in report["problems"] if "gives run" in p["message"]], "a per-run file disagrees with the aggregate"
    run_problems = [p for p in report["problems"] if p["file"].endswith("seed123.json") and "40pct" in p["file"]]
    assert any("named time to first token" in p["message"] for p in run_problems)


def test_a_changed_run_is_found_in_its_file_and_against_the_aggregate(tmp_path):
    def change(document):
        document["results"]["mmlu_latency_b1"]["energy_kwh"] *= 1.01

    copy = changed_copy(RUN_FILE, tmp_path / RUN_FILE.name, change)
    _, report = check(AGGREGATE, copy)
    place = "results.mmlu_latency_b1.energy_kwh"
    found = messages(report, place)
    assert any("gives run 2 of mmlu_latency_b1" in text for text in found), report["problems"]
    assert any("hardware_metadata.energy_net_kwh gives this value" in text for text in found)
    assert any("energy_kwh x 3.6e6 / total_new_tokens" in text for text in messages(report, "results.mmlu_latency_b1.joules_per_token"))


@pytest.mark.parametrize(
    ("field", "factor", "message"),
    [
        ("energy_kwh_mean", 1.001, "the mean of the 3 kept runs"),
        ("joules_per_token_max", 0.99, "the max of the 3 kept runs"),
        ("energy_kwh_std", 2.0, "the std of the 3 kept runs"),
    ],
)
def test_an_aggregate_that_is_not_its_runs_is_left_out(tmp_path, field, factor, message):
    workload = "models_evaluated.40pct.results.mmlu_latency_b1"

    def change(document):
        document["models_evaluated"]["40pct"]["results"]["mmlu_latency_b1"][field] *= factor

    copy = changed_copy(AGGREGATE, tmp_path / "carbon.json", change)
    _, report = check(copy)
    assert message in messages(report, f"{workload}.{field}")
    _, original = check(AGGREGATE)
    assert report["outcomes"] == original["outcomes"] - 1  # that quantity of that workload, no other


def test_idle_energy_is_checked_against_idle_power_and_duration(tmp_path):
    def change(document):
        run = document["models_evaluated"]["30pct"]["results"]["hellaswag_latency_b1"]["raw_runs_data"]["run_1"]
        run["energy_idle_kwh"] *= 1.01
        run["energy_raw_kwh"] = run["energy_idle_kwh"] + run["energy_kwh"]  # net still raw - idle: only idle is off

    copy = changed_copy(AGGREGATE, tmp_path / "carbon.json", change)
    _, report = check(copy)
    found = messages(report, "models_evaluated.30pct.results.hellaswag_latency_b1.energy_kwh_mean")
    assert any("idle energy is not idle_power_watts x inference_duration_sec / 3.6e6" in text for text in found), found


# --- the reader in-process: small documents in the study's layouts ---------------------------------------------

SHA = "0" * 64
PLACE = "models_evaluated.40pct.results.mmlu_latency_b1"


def raw_run(energy_kwh: float) -> dict:
    """One run of 100 tokens in 10 s whose parts agree: idle 0.0005 kWh (180 W x 10 s), raw = net + idle, J/token from them."""
    return {
        "energy_kwh": energy_kwh,
        "energy_raw_kwh": energy_kwh + 0.0005,
        "energy_idle_kwh": 0.0005,
        "total_new_tokens": 100,
        "inference_duration_sec": 10.0,
        "joules_per_token": energy_kwh * 3.6e6 / 100,
        "throughput": 10.0,
    }


def workload(**changes) -> dict:
    """An aggregate of two runs whose statistics are theirs (``changes`` replace its keys)."""
    measured = {
        "energy_kwh_mean": 0.0015,
        "energy_kwh_std": statistics.stdev([0.001, 0.002]),
        "energy_kwh_min": 0.001,
        "energy_kwh_max": 0.002,
        "num_runs_aggregated": 2,
        "seeds_used": [42, 123],
        "num_prompts": 10,
        "batch_size": 1,
        "model_size_gb": 2.0,
        "raw_runs_data": {"run_1": raw_run(0.001), "run_2": raw_run(0.002)},
    }
    measured.update(changes)
    return measured


def aggregate(measured: dict | None = None, **changes) -> dict:
    document = {
        "experiment_metadata": {"model_family": "Llama-3.2-1B", "hardware_details": {"idle_power_watts": 180.0, "gpu_model": "L4"}},
        "benchmarks": [{"name": "mmlu_latency_b1", "num_prompts": 10, "max_new_tokens": 50}],
        "models_evaluated": {"40pct": {"name": "Llama-3.2-1B-pruned-40%", "pruning_pct": 40, "results": {"mmlu_latency_b1": measured or workload()}}},
    }
    document.update(changes)
    return document


def read_aggregate(document: dict):
    return read_study_carbon(Path("carbon.json"), SHA, document)


def problems(reading) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in reading.problems:
        found.setdefault(problem.field, []).append(problem.message)
    return found


def test_the_layouts_are_told_apart():
    assert is_study_carbon(aggregate()) and not is_study_carbon_run(aggregate())
    assert is_study_carbon_run(run_file()) and not is_study_carbon(run_file())
    assert not is_study_carbon({"models_evaluated": {"m": {"results": {"mmlu": {"accuracy": 0.5}}}}})
    assert not is_study_carbon_run({"metadata": {"mode": "capability"}, "results": {}})


def test_an_aggregate_whose_statistics_are_its_runs_is_read_without_problems():
    reading = read_aggregate(aggregate())
    assert reading.format == "study-carbon-json" and reading.problems == []
    [group] = reading.groups
    assert (group.claim.name, group.claim.family, group.claim.pruning_pct, group.claim.weight_bytes) == (
        "Llama-3.2-1B-pruned-40%",
        "Llama-3.2-1B",
        40,
        2 * 2**30,
    )
    by_quantity = {value["quantity"]: value for value in group.values}
    assert sorted(by_quantity) == ["energy_net_kwh", "model_size_gib"]  # the file gives no joules_per_token_mean, throughput_mean, ttlt_mean
    energy = by_quantity["energy_net_kwh"]
    assert energy["value"] == 0.0015 and energy["source"]["location"] == f"{PLACE}.energy_kwh_mean"
    assert energy["runs"] == {
        "count": 2,
        "mean": 0.0015,
        "std": statistics.stdev([0.001, 0.002]),
        "min": 0.001,
        "max": 0.002,
        "seeds": [42, 123],
        "outliers_excluded": None,
    }
    assert energy["workload"] == {"name": "mmlu_latency_b1", "task": "mmlu", "batch_size": 1, "prompt_count": 10, "max_new_tokens": 50}
    assert energy["meter"] == {"tool": "codecarbon", "idle_power_w": 180.0, "device": "L4"}
    assert reading.run_values[(0, "mmlu_latency_b1", 2, "energy_net_kwh")] == (0.002, f"{PLACE}.raw_runs_data.run_2.energy_kwh")


@pytest.mark.parametrize(
    ("changes", "place", "message"),
    [
        ({"energy_kwh_mean": 0.0016}, "energy_kwh_mean", "the mean of the 2 kept runs"),
        ({"energy_kwh_max": 0.003}, "energy_kwh_max", "the max of the 2 kept runs"),
        ({"energy_kwh_std": "wide"}, "energy_kwh_std", "the std of the 2 kept runs"),
        ({"num_runs_aggregated": 3}, "num_runs_aggregated", "2 runs less 0 outliers"),
        ({"energy_kwh_mean": "high"}, "energy_kwh_mean", "energy_kwh_mean must be a number"),
        ({"num_prompts": 11}, "num_prompts", "benchmarks gives this workload another prompt count"),
        ({"outliers_excluded": "run_1"}, "outliers_excluded", "not a list of excluded runs"),
        ({"outliers_excluded": [{"run_key": "run_9"}]}, "outliers_excluded[0]", "names no run of raw_runs_data"),
        ({"outliers_count": 1}, "outliers_count", "outliers_excluded lists another number of runs"),
        ({"raw_runs_data": {}}, "raw_runs_data", "the aggregate gives no runs to check it against"),
    ],
)
def test_an_aggregate_that_is_not_its_runs_is_reported_at_its_place(changes, place, message):
    assert message in problems(read_aggregate(aggregate(workload(**changes))))[f"{PLACE}.{place}"]


def test_an_excluded_run_is_not_in_the_statistics_and_its_values_must_be_its_runs():
    runs = {"run_1": raw_run(0.001), "run_2": raw_run(0.002), "run_3": raw_run(0.009)}
    excluded = [{"run_key": "run_3", "energy_kwh": 0.009}]
    assert problems(read_aggregate(aggregate(workload(raw_runs_data=runs, outliers_excluded=excluded, outliers_count=1)))) == {}
    excluded = [{"run_key": "run_3", "energy_kwh": 0.008}]
    found = problems(read_aggregate(aggregate(workload(raw_runs_data=runs, outliers_excluded=excluded))))
    assert found == {f"{PLACE}.outliers_excluded[0].energy_kwh": ["the excluded run run_3 has energy_kwh 0.009 in raw_runs_data"]}


@pytest.mark.parametrize(
    ("part", "value", "rejected", "message"),
    [
        ("joules_per_token", 37.0, "joules_per_token_mean", "is not energy_kwh x 3.6e6 / total_new_tokens"),
        ("energy_raw_kwh", 0.0016, "energy_kwh_mean", "net energy is not energy_raw_kwh - energy_idle_kwh"),
        ("inference_duration_sec", 12.0, "energy_kwh_mean", "idle energy is not idle_power_watts x inference_duration_sec / 3.6e6"),
    ],
)
def test_a_run_whose_parts_do_not_recompute_rejects_the_aggregate_it_feeds(part, value, rejected, message):
    runs = {"run_1": {**raw_run(0.001), part: value}, "run_2": raw_run(0.002)}
    found = problems(read_aggregate(aggregate(workload(raw_runs_data=runs))))
    assert any(message in text for text in found[f"{PLACE}.{rejected}"]), found


def test_idle_energy_may_differ_by_what_rounding_the_idle_power_moves():
    """The study writes the idle power rounded (180.0 for 180.04...): the idle energy is checked to that precision (+-0.05 W)."""

    def runs_at(watts: float) -> dict:
        idle = watts * 10.0 / 3.6e6
        return {key: {**raw_run(energy), "energy_idle_kwh": idle, "energy_raw_kwh": energy + idle} for key, energy in (("run_1", 0.001), ("run_2", 0.002))}

    assert problems(read_aggregate(aggregate(workload(raw_runs_data=runs_at(180.04))))) == {}
    found = problems(read_aggregate(aggregate(workload(raw_runs_data=runs_at(180.06)))))
    assert any("idle energy is not idle_power_watts" in text for text in found[f"{PLACE}.energy_kwh_mean"])


def test_throughput_off_from_tokens_over_time_is_one_problem_for_the_workload():
    runs = {"run_1": {**raw_run(0.001), "throughput": 12.0}, "run_2": {**raw_run(0.002), "throughput": 10.05}}
    [message] = problems(read_aggregate(aggregate(workload(raw_runs_data=runs))))[f"{PLACE}.throughput_mean"]
    assert message.startswith("throughput is not tokens / duration in 1 of 2 runs (run_1: 12.00 tokens/s")


def test_one_run_has_no_standard_deviation():
    document = aggregate(
        workload(
            raw_runs_data={"run_1": raw_run(0.001)},
            energy_kwh_mean=0.001,
            energy_kwh_std=0.0,
            energy_kwh_min=0.001,
            energy_kwh_max=0.001,
            num_runs_aggregated=1,
        )
    )
    assert problems(read_aggregate(document)) == {f"{PLACE}.energy_kwh_std": ["the standard deviation of 1 run is undefined; the file gives 0.0"]}


def test_a_workload_name_that_could_not_be_stored_and_a_workload_that_is_no_object():
    document = aggregate()
    document["models_evaluated"]["40pct"]["results"] = {"mmlu\x07": workload(), "piqa_latency_b1": 3}
    found = problems(read_aggregate(document))
    assert set(found) == {"models_evaluated.40pct.results.mmlu\x07", "models_evaluated.40pct.results.piqa_latency_b1"}


# --- one run's file ---


def run_file(**changes) -> dict:
    """One run of one workload: 100 tokens, 0.001 kWh net, 180 W idle over 10 s, codecarbon's copies of the energies."""
    measured = {
        "energy_kwh": 0.001,
        "energy_raw_kwh": 0.0015,
        "energy_idle_kwh": 0.0005,
        "joules_per_token": 36.0,
        "total_new_tokens": 100,
        "throughput_tokens_per_sec": 10.0,
        "total_loop_time_sec": 10.0,
        "avg_ttft_ms": 50.0,
        "avg_new_tokens_per_prompt": 10,
        "batch_size": 1,
        "num_prompts": 10,
        "max_new_tokens": 50,
        "hardware_metadata": {
            "energy_net_kwh": 0.001,
            "energy_raw_kwh": 0.0015,
            "energy_idle_contribution_kwh": 0.0005,
            "idle_power_watts": 180.0,
            "duration_sec": 10.0,
            "codecarbon_version": "2.8.3",
            "gpu_name_torch": "NVIDIA L4",
        },
    }
    measured.update(changes)
    return {"metadata": {"mode": "carbon_profiling", "model_name": "Llama-3.2-1B-pruned-40%-run2"}, "results": {"mmlu_latency_b1": measured}}


def read_run(document: dict, name: str = "llama_3.2_1b_pruned_40pct_carbon_run2_seed123.json"):
    return read_study_carbon_run(Path(name), SHA, document)


def test_a_run_file_is_read_with_its_name_seed_and_meter():
    reading = read_run(run_file())
    assert reading.format == "study-carbon-run" and reading.problems == []
    claim = reading.groups[0].claim
    assert (claim.name, claim.family, claim.pruning_pct) == ("Llama-3.2-1B-pruned-40%-run2", "Llama-3.2-1B", 40)
    by_quantity = {value["quantity"]: value for value in reading.groups[0].values}
    assert by_quantity["latency_first_token_ms"]["value"] == 50.0 and by_quantity["duration_s"]["value"] == 10.0
    assert by_quantity["energy_net_kwh"]["runs"] == {"count": 1, "seeds": [123]}
    assert by_quantity["energy_net_kwh"]["meter"] == {
        "tool": "codecarbon",
        "version": "2.8.3",
        "mode": "carbon_profiling",
        "idle_power_w": 180.0,
        "device": "NVIDIA L4",
    }
    assert reading.run_values[(0, "mmlu_latency_b1", 2, "energy_idle_kwh")] == (0.0005, "results.mmlu_latency_b1.energy_idle_kwh")


def test_a_baseline_run_is_at_0_pct_and_a_name_of_another_form_claims_nothing():
    document = run_file()
    document["metadata"]["model_name"] = "Llama-3.2-1B-baseline-run1"
    assert read_run(document).groups[0].claim.pruning_pct == 0
    document["metadata"]["model_name"] = "my model"
    claim = read_run(document, "run.json").groups[0].claim
    assert (claim.family, claim.pruning_pct) == (None, None)
    assert read_run(document, "run.json").run_values == {}  # no run number: nothing to compare with an aggregate


@pytest.mark.parametrize(
    ("changes", "place", "message"),
    [
        ({"joules_per_token": 40.0}, "joules_per_token", "is not energy_kwh x 3.6e6 / total_new_tokens"),
        ({"energy_kwh": 0.0011}, "energy_kwh", "net energy is not energy_raw_kwh - energy_idle_kwh"),
        ({"throughput_tokens_per_sec": 12.0}, "throughput_tokens_per_sec", "throughput is not total_new_tokens / total_loop_time_sec"),
        ({"avg_ttft_ms": 1000.0}, "avg_ttft_ms", "named time to first token, it is avg_new_tokens_per_prompt / throughput"),
        ({"energy_idle_kwh": 0.0006, "energy_raw_kwh": 0.0016}, "energy_idle_kwh", "idle energy is not idle_power_watts x duration_sec / 3.6e6"),
        ({"max_memory_allocated_gb": [3]}, "max_memory_allocated_gb", "max_memory_allocated_gb must be a number"),
    ],
)
def test_a_run_whose_parts_do_not_recompute_is_reported(changes, place, message):
    found = problems(read_run(run_file(**changes)))
    assert any(message in text for text in found[f"results.mmlu_latency_b1.{place}"]), found


def test_a_value_codecarbons_block_gives_otherwise_is_reported():
    document = run_file()
    document["results"]["mmlu_latency_b1"]["hardware_metadata"]["energy_raw_kwh"] = 0.0017
    assert problems(read_run(document)) == {"results.mmlu_latency_b1.energy_raw_kwh": ["hardware_metadata.energy_raw_kwh gives this value as 0.0017"]}


# --- what the aggregate holds in place of a value: reported, never a traceback ---


@pytest.mark.parametrize("watts", [0, 0.0, -180.0])
def test_an_idle_power_of_zero_or_below_is_checked_against_the_idle_energy_not_divided_by(watts):
    document = aggregate()
    document["experiment_metadata"]["hardware_details"]["idle_power_watts"] = watts
    found = problems(read_aggregate(document))
    assert any("idle energy is not idle_power_watts" in text for text in found[f"{PLACE}.energy_kwh_mean"])


@pytest.mark.parametrize("seeds", [42, "42,123", {"run_1": 42}, [42, "x"]])
def test_seeds_that_are_no_list_of_whole_numbers_are_a_problem_not_guessed(seeds):
    reading = read_aggregate(aggregate(workload(seeds_used=seeds)))
    assert list(problems(reading)) == [f"{PLACE}.seeds_used"]
    assert {tuple(value["runs"]["seeds"]) for value in reading.groups[0].values if value["runs"]} == {()}


@pytest.mark.parametrize("entry", [{"run_key": ["run_1"]}, {"run_key": {"run": 1}}, "run_1"])
def test_an_excluded_run_named_by_no_run_key_is_a_problem(entry):
    found = problems(read_aggregate(aggregate(workload(outliers_excluded=[entry]))))
    assert found == {f"{PLACE}.outliers_excluded[0]": ["names no run of raw_runs_data"]}


@pytest.mark.parametrize("benchmarks", [5, "mmlu_latency_b1", {"mmlu_latency_b1": {"num_prompts": 10}}])
def test_benchmarks_that_are_no_list_are_a_problem_and_the_values_are_read(benchmarks):
    reading = read_aggregate(aggregate(benchmarks=benchmarks))
    assert list(problems(reading)) == ["benchmarks"]
    assert {value["workload"]["max_new_tokens"] for value in reading.groups[0].values} == {None}


def test_a_benchmark_whose_name_is_no_text_is_a_problem():
    reading = read_aggregate(aggregate(benchmarks=[{"name": ["mmlu_latency_b1"], "num_prompts": 10}]))
    assert list(problems(reading)) == ["benchmarks[0]"]

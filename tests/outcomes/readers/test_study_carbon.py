"""The study's carbon files, aggregate and per run: read as shipped in data/sources/study/ (byte-exact copies)
and as copies with one value changed, to show each check finds what it claims to. Every command runs as a
subprocess, as a user runs it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATA
from outcome_reports import check, messages

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
    assert "the excluded run run_2 has joules_per_token 0.34347035734133313 in raw_runs_data" in messages(report, f"{ifeval}.outliers_excluded[0].joules_per_token")
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

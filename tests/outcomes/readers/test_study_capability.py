"""The study's capability JSON and CSV reader, in-process on small documents in the study's layout.

What each model claims (name, family, hub id, pruning %, expansion ratio, size) is read as written,
a claim that cannot be read is kept as unreadable (never guessed), and a value that is no number is
a problem at its place. The shipped files are read whole by the command's tests (tests/e2e/).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from glu_catalogue.outcomes.readers.study_capability import (
    CSV_KEYS,
    benchmark_shots,
    is_study_capability,
    is_study_capability_csv,
    read_study_capability,
    read_study_capability_csv,
)
from glu_catalogue.outcomes.reading import Reading

SHA = "0" * 64


def model(**changes) -> dict:
    """One model of ``models_evaluated`` as the study writes it (``changes`` replace its keys)."""
    entry = {
        "name": "Llama-3.2-1B-pruned-40%",
        "pruning_pct": 40,
        "expansion_rate": 2.4,
        "hf_repo": "org/Llama-3.2-1B-pruned-40",
        "results": {"arc_easy": {"accuracy": 0.61, "acc_norm": "N/A", "accuracy_stderr": 0.01}},
    }
    entry.update(changes)
    return entry


def capability(*models: dict, **changes) -> dict:
    document = {
        "experiment_metadata": {"model_family": "Llama-3.2-1B"},
        "benchmarks": [{"name": "arc_easy", "num_fewshot": 0}],
        "models_evaluated": {f"m{index}": entry for index, entry in enumerate(models or (model(),))},
    }
    document.update(changes)
    return document


def read(document: dict) -> Reading:
    return read_study_capability(Path("capability.json"), SHA, document)


def fields(reading: Reading) -> dict[str, str]:
    return {problem.field: problem.kind for problem in reading.problems}


def test_the_layout_is_told_from_carbon_and_from_other_files():
    assert is_study_capability(capability())
    carbon = capability(model(results={"mmlu_latency_b1": {"energy_kwh_mean": 0.1}}))
    assert not is_study_capability(carbon)
    assert not is_study_capability({"models_evaluated": {}}) and not is_study_capability({"models_evaluated": {"a": {"results": []}}})
    assert not is_study_capability([capability()])


def test_each_score_with_its_stderr_and_n_shot_and_the_claim_as_written():
    reading = read(capability())
    assert reading.format == "study-capability-json" and not reading.problems
    [group] = reading.groups
    claim = group.claim
    assert (claim.where, claim.name, claim.family, claim.repository) == (
        "models_evaluated.m0",
        "Llama-3.2-1B-pruned-40%",
        "Llama-3.2-1B",
        "org/Llama-3.2-1B-pruned-40",
    )
    assert (claim.pruning_pct, claim.expansion_ratio, claim.expansion_ratio_as_written, claim.unreadable) == (40, 2.4, "2.4", {})
    [score] = group.values  # "N/A" is no value; the stderr key is no score
    assert (score["task"], score["metric"], score["filter"], score["value"], score["stderr"], score["n_shot"]) == ("arc_easy", "accuracy", None, 0.61, 0.01, 0)
    assert score["source"]["location"] == "models_evaluated.m0.results.arc_easy.accuracy"


def test_a_metric_with_a_filter_finds_its_stderr_under_the_filter():
    reading = read(capability(model(results={"gsm8k": {"exact_match,strict": 0.3, "exact_match_stderr,strict": 0.02}})))
    [score] = reading.groups[0].values
    assert (score["metric"], score["filter"], score["stderr"]) == ("exact_match", "strict", 0.02)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("pruning_pct", "forty", "a whole number from 0 to 100"),
        ("pruning_pct", 40.5, "a whole number from 0 to 100"),
        ("expansion_rate", "2.4x", "a finite number (a factor, or a percentage above 20)"),
        ("expansion_rate", [2.4], "a finite number (a factor, or a percentage above 20)"),
        ("hf_repo", 7, "a hub id (text)"),
        ("name", ["x"], "the model's name (text)"),
        ("model_size_gb", "big", "a finite size in GiB"),
    ],
)
def test_a_claim_that_cannot_be_read_is_kept_unreadable_not_guessed(key, value, expected):
    claim = read(capability(model(**{key: value}))).groups[0].claim
    assert claim.unreadable == {f"models_evaluated.m0.{key}": (value, expected)}


def test_claims_as_numeric_text_are_read_and_missing_ones_are_none():
    claim = read(capability(model(pruning_pct="40", expansion_rate="240.04", model_size_gb=2.0))).groups[0].claim
    assert (claim.pruning_pct, claim.expansion_ratio, claim.expansion_ratio_as_written, claim.weight_bytes) == (40, 240.04, "240.04", 2 * 2**30)
    claim = read(capability(model(pruning_pct=None, expansion_rate=None, hf_repo=None))).groups[0].claim
    assert (claim.pruning_pct, claim.expansion_ratio, claim.expansion_ratio_as_written, claim.repository, claim.unreadable) == (None, None, None, None, {})


def test_a_model_or_task_that_is_no_object_is_a_problem_and_the_rest_is_read():
    document = capability(model(), model(results={"arc_easy": [0.5], "piqa": {"acc": 0.7}}))
    document["models_evaluated"]["broken"] = "Llama"
    reading = read(document)
    assert fields(reading) == {"models_evaluated.broken": "outcome-nature", "models_evaluated.m1.results.arc_easy": "outcome-nature"}
    assert [len(group.values) for group in reading.groups] == [1, 1]


@pytest.mark.parametrize("value", ["0.6 (approx)", float("nan"), float("-inf"), [0.6], True])
def test_a_score_that_is_no_finite_number_is_a_problem_at_its_place(value):
    reading = read(capability(model(results={"arc_easy": {"accuracy": value}})))
    assert len(reading.groups[0].values) == 0
    assert fields(reading) == {"models_evaluated.m0.results.arc_easy.accuracy": "outcome-nature"}


def test_benchmark_shots_reads_the_list_and_reports_entries_that_are_not_tasks():
    reading = Reading(Path("x.json"), SHA, "study-capability-json")
    shots = benchmark_shots(reading, [{"name": "arc_easy", "num_fewshot": 5}, "mmlu", {"num_fewshot": 1}])
    assert shots == {"arc_easy": 5}
    assert fields(reading) == {"benchmarks[1]": "outcome-nature", "benchmarks[2]": "outcome-nature"}
    assert benchmark_shots(reading, None) == {}
    benchmark_shots(reading, {"arc_easy": 5})
    assert fields(reading)["benchmarks"] == "outcome-nature"


def test_an_n_shot_that_is_no_count_is_a_problem_at_the_score():
    reading = read(capability(benchmarks=[{"name": "arc_easy", "num_fewshot": "few"}]))
    assert fields(reading) == {"models_evaluated.m0.results.arc_easy.accuracy (n-shot)": "outcome-nature"}


# --- the CSV ---------------------------------------------------------------------------------------------------

HEADER = [*CSV_KEYS, "accuracy", "accuracy_stderr"]


def read_csv(*rows: list[str], header: list[str] = HEADER) -> Reading:
    return read_study_capability_csv(Path("capability.csv"), SHA, header, [(line, row) for line, row in enumerate(rows, start=2)])


def test_the_csv_is_told_by_its_leading_columns():
    assert is_study_capability_csv(HEADER) and is_study_capability_csv(list(CSV_KEYS))
    assert not is_study_capability_csv(["pruning_pct", "model", "is_star", "task"]) and not is_study_capability_csv(["model"])


def test_csv_rows_are_grouped_by_model_and_pruning_pct_with_their_lines():
    reading = read_csv(
        ["Llama-3.2-1B", "0", "False", "arc_easy", "0.7", "0.01"],
        ["Llama-3.2-1B-pruned-40%", "40", "False", "arc_easy", "0.6", ""],
        ["Llama-3.2-1B", "0", "False", "piqa", "0.75", "0.02"],
    )
    assert reading.format == "study-capability-csv" and not reading.problems
    assert [(group.claim.name, group.claim.pruning_pct, group.claim.where, len(group.values)) for group in reading.groups] == [
        ("Llama-3.2-1B", 0, "line 2", 2),
        ("Llama-3.2-1B-pruned-40%", 40, "line 3", 1),
    ]
    baseline = reading.groups[0].values
    assert [(v["task"], v["value"], v["stderr"], v["n_shot"]) for v in baseline] == [("arc_easy", 0.7, 0.01, None), ("piqa", 0.75, 0.02, None)]
    assert baseline[1]["source"]["location"] == "line 4, column accuracy"


def test_a_csv_row_without_its_task_or_with_a_pct_that_is_no_number():
    reading = read_csv(["Llama-3.2-1B", "0", "False", " ", "0.7", ""], ["Llama-3.2-1B", "ten", "False", "arc_easy", "0.7", ""])
    assert fields(reading) == {"line 2, column task": "outcome-nature"}
    assert reading.groups[1].claim.unreadable == {"line 3, column pruning_pct": ("ten", "a whole number from 0 to 100")}


def test_a_csv_cell_that_is_no_number_is_a_problem_at_its_line_and_column():
    reading = read_csv(["Llama-3.2-1B", "0", "False", "arc_easy", "0,7", "x"])
    assert fields(reading) == {"line 2, column accuracy": "outcome-nature"}

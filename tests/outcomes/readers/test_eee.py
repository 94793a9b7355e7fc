"""The Every Eval Ever reader, in-process on small records in its layout (schema 0.2 and 0.3).

The round trip with the catalogue's own export, and the public datastore's record, are tested in
tests/interop/test_eee_export.py; here each field's edge cases.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from glu_catalogue.outcomes.readers.eee import is_eee, read_eee
from glu_catalogue.outcomes.reading import Reading

SHA = "0" * 64
RESULT = {
    "evaluation_name": "arc_easy",
    "metric_config": {"metric_id": "acc", "lower_is_better": False, "additional_details": {"filter": "none", "n_shot": "5", "task_version": "1.0"}},
    "score_details": {"score": 0.61, "uncertainty": {"standard_error": {"value": 0.01}, "num_samples": 2376}},
}


def record(*results: dict, **changes) -> dict:
    document = {
        "schema_version": "0.3.0",
        "model_info": {"id": "meta-llama/Llama-3.2-1B"},
        "eval_library": {"name": "lm_eval", "version": "0.4.13"},
        "evaluation_results": [copy.deepcopy(result) for result in results or (RESULT,)],
    }
    document.update(changes)
    return document


def result(**changes) -> dict:
    edited = copy.deepcopy(RESULT)
    edited.update(changes)
    return edited


def read(document: dict) -> Reading:
    return read_eee(Path("eee.json"), SHA, document)


def fields(reading: Reading) -> dict[str, str]:
    return {problem.field: problem.kind for problem in reading.problems}


def test_the_layout_needs_a_version_a_model_and_results():
    assert is_eee(record())
    assert not is_eee({**record(), "schema_version": 3}) and not is_eee({**record(), "model_info": "m"})
    assert not is_eee({key: value for key, value in record().items() if key != "evaluation_results"})


def test_a_score_with_its_stderr_samples_shots_direction_and_harness():
    reading = read(record())
    assert reading.format == "every-eval-ever" and not reading.problems
    [group] = reading.groups
    assert (group.claim.where, group.claim.repository, group.claim.record, group.claim.name) == ("model_info", "meta-llama/Llama-3.2-1B", None, None)
    [score] = group.values
    assert (score["task"], score["metric"], score["filter"], score["value"], score["stderr"]) == ("arc_easy", "acc", "none", 0.61, 0.01)
    assert (score["n_shot"], score["n_samples"], score["higher_is_better"], score["task_version"]) == (5, 2376, True, "1.0")
    assert (score["harness"], score["harness_version"], score["measurement"]) == ("lm-evaluation-harness", "0.4.13", None)
    assert score["source"]["location"] == "evaluation_results[0]"


@pytest.mark.parametrize(
    ("config", "metric"), [({"metric_id": "acc_norm", "metric_name": "Accuracy"}, "acc_norm"), ({"metric_name": "Accuracy"}, "Accuracy"), ({}, "score")]
)
def test_the_metric_is_its_id_else_its_name_else_score(config, metric):
    [score] = read(record(result(metric_config=config))).groups[0].values
    assert score["metric"] == metric


@pytest.mark.parametrize(
    ("lower", "direction", "higher"),
    [(True, None, False), (False, None, True), ("no", None, None), (None, None, None), (False, "not stated by the source", None)],
)
def test_the_direction_is_only_what_the_record_says(lower, direction, higher):
    config = {"metric_id": "acc", "lower_is_better": lower, "additional_details": {"direction": direction}}
    [score] = read(record(result(metric_config=config))).groups[0].values
    assert score["higher_is_better"] is higher


@pytest.mark.parametrize(("library", "harness"), [({"name": "lm_eval"}, "lm-evaluation-harness"), ({"name": "helm"}, "helm"), ({}, "unknown")])
def test_the_harness_is_the_library_the_record_names_and_unknown_when_it_names_none(library, harness):
    [score] = read(record(eval_library=library)).groups[0].values
    assert score["harness"] == harness and score["harness_version"] is None


def test_a_record_written_by_the_catalogue_names_its_record_and_claims():
    details = {
        "catalogue_record": "meta-llama/Llama-3.2-1B@40",
        "kept_indices_sha256": "a" * 64,
        "pruning_pct": 40,
        "total_parameters": "913770496",
        "expansion_ratio": "2.40",
    }
    claim = read(record(model_info={"id": "org/Llama-3.2-1B-pruned-40", "additional_details": details})).groups[0].claim
    assert (claim.record, claim.repository, claim.kept_indices_sha256) == ("meta-llama/Llama-3.2-1B@40", None, "a" * 64)  # the record, not the id
    assert (claim.pruning_pct, claim.total_parameters, claim.expansion_ratio, claim.expansion_ratio_as_written) == (40, 913_770_496, 2.4, "2.40")


def test_claims_that_cannot_be_read_are_kept_unreadable():
    details = {"pruning_pct": "forty", "total_parameters": 1.5, "expansion_ratio": "wide"}
    claim = read(record(model_info={"id": "m/x", "additional_details": details})).groups[0].claim
    assert claim.unreadable == {
        "model_info.additional_details.pruning_pct": ("forty", "a whole pruning %"),
        "model_info.additional_details.total_parameters": (1.5, "a whole number of parameters"),
        "model_info.additional_details.expansion_ratio": ("wide", "a ratio (a factor such as 2.4)"),
    }


def test_a_record_that_names_no_model_or_an_unknown_schema_is_a_problem():
    assert fields(read(record(model_info={"name": "Llama"}))) == {"model_info.id": "outcome-link"}
    reading = read(record(schema_version="1.0.0"))
    assert fields(reading) == {"schema_version": "outcome-nature"} and len(reading.groups[0].values) == 1


@pytest.mark.parametrize(
    ("results", "place"),
    [
        ("arc_easy", "evaluation_results"),
        (["arc_easy"], "evaluation_results[0]"),
        ([result(evaluation_name=None)], "evaluation_results[0]"),
        ([result(metric_config="acc")], "evaluation_results[0]"),
        ([result(score_details={})], "evaluation_results[0].score_details.score"),
        ([result(score_details={"score": "high"})], "evaluation_results[0].score_details.score"),
        ([result(score_details={"score": float("nan")})], "evaluation_results[0].score_details.score"),
    ],
)
def test_a_result_that_cannot_be_read_is_a_problem_and_gives_no_value(results, place):
    reading = read(record(evaluation_results=results))
    assert fields(reading) == {place: "outcome-nature"} and len(reading.groups[0].values) == 0


@pytest.mark.parametrize(
    ("scored", "place"),
    [
        ({"score": 0.5, "uncertainty": {"standard_error": {"value": "x"}}}, "evaluation_results[0].score_details (stderr)"),
        ({"score": 0.5, "uncertainty": {"num_samples": -3}}, "evaluation_results[0].score_details (samples)"),
    ],
)
def test_a_stderr_or_sample_count_that_is_no_number_is_a_problem(scored, place):
    assert fields(read(record(result(score_details=scored)))) == {place: "outcome-nature"}


def test_the_catalogues_measurement_is_read_from_its_json_text_and_broken_text_is_a_problem():
    measurement = {"tool": "catalogue evaluate", "device": "cpu"}
    config = {"metric_id": "acc", "additional_details": {"catalogue_measurement": json.dumps(measurement)}}
    [score] = read(record(result(metric_config=config))).groups[0].values
    assert score["measurement"] == measurement
    config["additional_details"]["catalogue_measurement"] = "{not json"
    reading = read(record(result(metric_config=config)))
    assert fields(reading) == {"evaluation_results[0].metric_config (catalogue_measurement)": "outcome-nature"}


@pytest.mark.parametrize(
    "changes",
    [
        {"evaluation_name": ""},
        {"evaluation_name": "arc\x00easy"},
        {"metric_config": {"metric_id": "acc\u202e"}},
        {"metric_config": {"metric_id": "acc", "additional_details": {"filter": "none\n"}}},
    ],
)
def test_a_name_that_could_not_be_stored_is_a_problem_as_in_every_reader(changes):
    """A task, metric or filter that is empty or holds a control character would reach the CSV, the site, a terminal."""
    reading = read(record(result(**changes)))
    assert fields(reading) == {"evaluation_results[0]": "outcome-nature"} and len(reading.groups[0].values) == 0


def test_every_value_is_kept_in_the_groups_columns():
    """Values go through ``Reading.add`` into the group's ``ValueColumns`` (bounded memory for a file of millions of
    values, as every reader's), never appended to a list of dicts of their own."""
    from glu_catalogue.outcomes.columns import ValueColumns

    values = read(record(RESULT, RESULT, RESULT)).groups[0].values
    assert isinstance(values, ValueColumns) and len(values) == 3

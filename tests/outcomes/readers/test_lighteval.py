"""lighteval's results files: the scores read as the file gives them, its own means recomputed, what cannot be read reported.

The fixture has the layout lighteval's ``EvaluationTracker.results`` writes (config_general, results,
versions, config_tasks, summary_tasks, summary_general; huggingface/lighteval at 3fd15266,
``logging/evaluation_tracker.py`` and ``logging/info_loggers.py``); its scores are those of a made-up
run, with ``mmlu:_average|5`` and ``all`` computed the way lighteval's ``MetricsLogger.aggregate`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, run_here

from glu_catalogue.outcomes.readers import read_outcome_file

EXAMPLE = next((FIXTURES / "lighteval").glob("results_*.json"))
DOCUMENT = json.loads(EXAMPLE.read_text())


def read_changed(tmp_path: Path, change) -> object:
    """The reading of a copy of the example after ``change(document)``."""
    document = json.loads(EXAMPLE.read_text())
    change(document)
    path = tmp_path / EXAMPLE.name
    path.write_text(json.dumps(document))
    return read_outcome_file(path)


def problems_at(reading) -> dict[str, str]:
    return {problem.field: problem.message for problem in reading.problems}


def test_the_example_gives_every_task_score_with_its_stderr_n_shot_version_and_hash_and_no_problem():
    reading = read_outcome_file(EXAMPLE)
    assert (reading.format, reading.problems) == ("lighteval-results", [])
    (group,) = reading.groups
    assert (group.claim.repository, group.claim.revision) == (DOCUMENT["config_general"]["model_config"]["model_name"], "main")
    expected = {
        (key.rpartition("|")[0], metric, int(key.rpartition("|")[2])): (value, values.get(f"{metric}_stderr"))
        for key, values in DOCUMENT["results"].items()
        if key != "all"
        for metric, value in values.items()
        if not metric.endswith("_stderr")
    }
    assert {(value["task"], value["metric"], value["n_shot"]): (value["value"], value["stderr"]) for value in group.values} == expected
    assert {value["harness"] for value in group.values} == {"lighteval"}
    anatomy = next(value for value in group.values if value["task"] == "mmlu:anatomy")
    assert (anatomy["task_version"], anatomy["task_hash"]) == ("0", DOCUMENT["summary_tasks"]["mmlu:anatomy|5"]["hashes"]["hash_examples"])
    assert anatomy["source"]["location"] == "results.mmlu:anatomy|5.acc"


def test_an_older_files_suite_in_the_key_and_model_sha_are_read(tmp_path):
    def older(document):
        general = document["config_general"]
        del general["model_config"]
        general["model_sha"] = "607a30d783dfa663caf39e06633721c8d4cfcd7e"
        document["results"] = {"leaderboard|gsm8k|5": document["results"]["gsm8k|0"]}

    reading = read_changed(tmp_path, older)
    assert reading.problems == []
    assert reading.groups[0].claim.revision == "607a30d783dfa663caf39e06633721c8d4cfcd7e"
    assert {(value["task"], value["n_shot"]) for value in reading.groups[0].values} == {("leaderboard|gsm8k", 5)}


def set_at(path: str, value):
    """A change setting ``document[a][b]...`` (``path`` split on ``/``) to ``value``."""

    def change(document):
        *parents, last = path.split("/")
        target = document
        for key in parents:
            target = target[key]
        target[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (set_at("results/gsm8k|0/em", "high"), "results.gsm8k|0.em", "a score must be a number"),
        (set_at("results/mmlu:_average|5/acc", 0.3), "results.mmlu:_average|5.acc", "not the mean of the 2 tasks' acc"),
        (set_at("results/all/em", 0.5), "results.all.em", "not the mean of the 1 tasks' em"),
        (set_at("results/gsm8k", {"em": 0.1}), "results.gsm8k", "not a task of lighteval's results"),
        (set_at("results/gsm8k|five", {"em": 0.1}), "results.gsm8k|five", "the n-shot after the task's last '|' must be a count"),
        (set_at("results/gsm8k|0", [0.1]), "results.gsm8k|0", "not a task's results"),
        (set_at("config_general/model_name", "other/model"), "config_general.model_name", "model_name differs from model_config.model_name"),
    ],
)
def test_what_cannot_be_read_or_disagrees_with_the_files_own_means_is_a_problem_at_its_place(tmp_path, change, where, message):
    reading = read_changed(tmp_path, change)
    assert problems_at(reading).get(where) == message, problems_at(reading)


def test_a_file_naming_no_model_is_a_problem(tmp_path):
    def anonymous(document):
        del document["config_general"]["model_config"], document["config_general"]["model_name"]

    reading = read_changed(tmp_path, anonymous)
    assert problems_at(reading)["config_general.model_name"] == "the file does not name the model it evaluated"


def test_results_check_links_the_file_to_the_record_of_the_model_it_names():
    completed = run_here("results", "check", str(EXAMPLE), "--format", "json")
    report = json.loads(completed.stdout)
    assert (completed.returncode, report["problems"], report["outcomes"]) == (0, [], 4)
    assert list(report["links"].values()) == [["meta-llama/Llama-3.2-1B@0"]]

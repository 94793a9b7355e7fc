"""Outcomes from results files written by lm-evaluation-harness itself, linked to the records they measured.

Tiny random-init models are registered with ``catalogue add`` and pruned at two levels by
``catalogue build --save-pruned``; a tokenizer built with the ``tokenizers`` library is saved beside
each checkpoint; lm-eval evaluates each checkpoint on a task defined in a local YAML file over local
JSON data (no network, CPU) and writes its ``results_*.json``: one by its own command line, as a
process, the others by what that command line calls (``simple_evaluate`` with the same arguments, its
``EvaluationTracker`` writing the file) in this process, sharing one task index; then
``catalogue results add`` joins each file to its record by the checkpoint's safetensors headers.
A model and its Instruct sibling share every count, so their checkpoints are refused without --record.

The reader's edge cases (what it reads from ``config``, a value that is no number, a name that could not
be stored) are tested in-process on small documents in lm-eval's layout, below.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, load_json, run_cli, run_here
from lm_eval_tasks import TINY, save_tokenizer, write_task

from glu_catalogue.outcomes.readers.lm_eval import is_lm_eval, model_arguments, read_lm_eval


def lm_eval_run(test):
    """Marks a test of lm-eval's own files: it needs torch, and one worker builds the checkpoints and runs lm-eval once."""
    return pytest.mark.torch(pytest.mark.xdist_group("lm-eval")(test))


def evaluate(checkpoint: Path, tasks_dir: Path, output: Path) -> subprocess.Popen:
    """lm-eval's command line on ``checkpoint``, writing its results file under ``output`` (started, not awaited)."""
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [
        sys.executable,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={checkpoint},dtype=float32",
        "--tasks",
        "tiny_choice",
        "--include_path",
        str(tasks_dir),
        "--device",
        "cpu",
        "--batch_size",
        "4",
        "--output_path",
        str(output),
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def results_file(output: Path) -> Path:
    found = sorted(output.rglob("results_*.json"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="session")  # session: a module fixture is rebuilt when xdist interleaves other modules
def evaluated(tmp_path_factory):
    """Three models built and pruned into one catalogue; lm-eval's results files of three checkpoints."""
    root = tmp_path_factory.mktemp("outcomes")
    registry = root / "registry"
    registry.mkdir()
    env = {**os.environ, "CATALOGUE_REGISTRY_DIR": str(registry)}
    for model_id, width in (("me/tiny-64m", 256), ("me/tiny-64m-Instruct", 256), ("me/other-64m", 192)):
        config = root / "configs" / model_id.replace("/", "__") / "config.json"
        config.parent.mkdir(parents=True)
        config.write_text(json.dumps({**TINY, "intermediate_size": width}))
        added = run_here("add", str(config), "--id", model_id, env=env)  # setting up, in this process
        assert added.returncode == 0, added.stdout + added.stderr
    data, pruned = root / "data", root / "pruned"
    built = run_here(
        "build",
        "--models",
        "me/tiny-64m,me/tiny-64m-Instruct,me/other-64m",
        "--levels",
        "0,40",
        "--dtype",
        "fp32",
        "--data",
        str(data),
        "--save-pruned",
        str(pruned),
        "--quiet",
        env=env,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    tasks = write_task(root / "tasks")
    checkpoints = {
        "other@0": pruned / "me__other-64m" / "pruned-00pct",
        "other@40": pruned / "me__other-64m" / "pruned-40pct",
        "tiny@40": pruned / "me__tiny-64m" / "pruned-40pct",
    }
    outputs = {name: root / "lm-eval" / name.replace("@", "-") for name in checkpoints}
    for checkpoint in checkpoints.values():
        save_tokenizer(checkpoint)
    process = evaluate(checkpoints[BY_COMMAND_LINE], tasks, outputs[BY_COMMAND_LINE])
    for name in (name for name in checkpoints if name != BY_COMMAND_LINE):
        evaluate_in_process(checkpoints[name], tasks, outputs[name])
    log, _ = process.communicate(timeout=300)
    assert process.returncode == 0, log[-3000:]
    files = {name: results_file(output) for name, output in outputs.items()}
    return {"env": env, "data": data, "files": files, "checkpoints": checkpoints}


#: The checkpoint lm-eval's command line evaluates as a process (the others: its Python API, in this process).
BY_COMMAND_LINE = "other@40"


def evaluate_in_process(checkpoint: Path, tasks_dir: Path, output: Path) -> None:
    """What lm-eval's command line does for ``evaluate``'s arguments, in this process: ``simple_evaluate`` and its tracker's file.

    The task index holds ``tasks_dir``'s task alone (lm-eval's ~15,000 own tasks cost seconds to index, once per process)."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(output))
    results = simple_evaluate(
        model="hf",
        model_args={"pretrained": str(checkpoint), "dtype": "float32"},  # as the command line parses --model_args
        tasks=["tiny_choice"],
        batch_size=4,
        device="cpu",
        log_samples=False,
        task_manager=local_task_manager(tasks_dir),
        evaluation_tracker=tracker,
    )
    tracker.save_results_aggregated(results=results, samples=None)


@functools.cache
def local_task_manager(tasks_dir: Path):
    """lm-eval's task index of ``tasks_dir``'s files alone, made once."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(tasks_dir), include_defaults=False)


@lm_eval_run
def test_lm_eval_results_of_pruned_checkpoints_link_by_their_checkpoint(evaluated):
    files, data, env = evaluated["files"], evaluated["data"], evaluated["env"]
    written = load_json(files["other@40"])
    assert written["config"]["model_num_parameters"] > 0 and "tiny_choice" in written["results"]
    result = run_here("results", "add", str(files["other@0"]), str(files["other@40"]), "--data", str(data), "--format", "json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["links"] == {str(files["other@0"]): ["me/other-64m@0"], str(files["other@40"]): ["me/other-64m@40"]}
    stored = load_json(data / "outcomes.json")["outcomes"]
    by_record = {(o["record"], o["metric"]): o for o in stored}
    for name, record in (("other@0", "me/other-64m@0"), ("other@40", "me/other-64m@40")):
        harness = load_json(files[name])["results"]["tiny_choice"]
        outcome = by_record[(record, "acc")]
        assert outcome["value"] == harness["acc,none"] and outcome["stderr"] == harness["acc_stderr,none"]
        assert outcome["harness_version"] == "0.4.13" and outcome["task_version"] == "1.0" and outcome["filter"] == "none"
        assert outcome["source"]["format"] == "lm-eval-results" and len(outcome["source"]["sha256"]) == 64
    again = run_here("results", "add", str(files["other@40"]), "--data", str(data), "--format", "json", env=env)
    assert json.loads(again.stdout)["added"] == 0 and json.loads(again.stdout)["files_written"] == []
    verified = run_here("verify", str(data), env=env)
    assert verified.returncode == 0, verified.stdout


@lm_eval_run
def test_a_checkpoint_a_model_shares_with_its_instruct_sibling_is_refused_without_record(evaluated):
    files, data, env = evaluated["files"], evaluated["data"], evaluated["env"]
    refused = run_here("results", "check", str(files["tiny@40"]), "--data", str(data), env=env)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "2 records (me/tiny-64m@40, me/tiny-64m-Instruct@40)" in refused.stderr and "give --record" in refused.stderr
    named = run_here("results", "check", str(files["tiny@40"]), "--data", str(data), "--record", "me/tiny-64m@40", "--format", "json", env=env)
    assert named.returncode == 0, named.stdout + named.stderr
    assert json.loads(named.stdout)["links"] == {str(files["tiny@40"]): ["me/tiny-64m@40"]}


@lm_eval_run
def test_a_parameter_count_that_differs_from_the_record_is_left_out(evaluated, tmp_path):
    files, data, env = evaluated["files"], evaluated["data"], evaluated["env"]
    document = load_json(files["other@40"])
    document["config"]["model_num_parameters"] += 1
    edited = tmp_path / "results_edited.json"
    edited.write_text(json.dumps(document))
    result = run_here("results", "check", str(edited), "--data", str(data), "--format", "json", env=env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["outcomes"] == 0 and report["left_out"] >= 1
    assert [problem["kind"] for problem in report["problems"]] == ["outcome-claim"]


@lm_eval_run
def test_a_results_file_naming_a_hub_checkpoint_links_by_its_headers_over_the_network(evaluated, tmp_path):
    """lm-eval run with ``pretrained=org/name`` names the hub id: the checkpoint is read from a fake Hub (headers only).

    The results file is lm-eval's own, with ``model_args`` naming the hub id it would name had it
    loaded the same checkpoint from the hub; the fake Hub serves that checkpoint directory.
    """
    from fake_hub import FakeHub

    files, data, env = evaluated["files"], evaluated["data"], evaluated["env"]
    hub = FakeHub().start()
    try:
        hub.add_directory("someone/other-64m-pruned-40", evaluated["checkpoints"]["other@40"])
        document = load_json(files["other@40"])
        document["config"]["model_args"] = "pretrained=someone/other-64m-pruned-40,dtype=float32"
        named = tmp_path / "results_hub.json"
        named.write_text(json.dumps(document))
        hub_env = {key: value for key, value in env.items() if key != "HF_HUB_OFFLINE"}
        hub_env.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(tmp_path / "hf-home"))
        result = run_cli("results", "check", str(named), "--data", str(data), "--format", "json", env=hub_env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["links"] == {str(named): ["me/other-64m@40"]}
        weights = sum(
            len(content) for name, content in hub.repositories["someone/other-64m-pruned-40"].commits.popitem()[1].items() if name.endswith(".safetensors")
        )
        assert hub.bytes_sent < weights / 2  # headers, not weights
        offline = run_cli("results", "check", str(named), "--data", str(data), env={**hub_env, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "empty")})
        assert offline.returncode == 2 and "catalogue add someone/other-64m-pruned-40" in offline.stderr, offline.stderr
    finally:
        hub.stop()


def test_a_problem_with_the_files_model_names_the_key_the_file_holds():
    """lm-eval names its model in ``config.model_args``; a problem with it named ``config.hf_repo``, a key no such file has."""
    from outcome_builders import shipped_records

    from glu_catalogue.outcomes.checks import check_claims
    from glu_catalogue.outcomes.linking import link_groups

    document = json.loads((FIXTURES / "lm_eval" / "results_2026-01-21T03-44-18.458309.json").read_text())
    document["config"].update(model_args="pretrained=meta-llama/Llama-3.2-1B-Instruct,dtype=bfloat16", model_num_parameters=1_235_814_400)
    reading = read(document)
    links = link_groups(
        reading.path, reading.groups, shipped_records(), {"meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B-Instruct"}, "meta-llama/Llama-3.2-1B@0"
    )
    check_claims(reading, links)
    fields = {problem.field for problem in reading.problems if problem.kind == "outcome-claim"}
    assert "config.model_args" in fields and not any("hf_repo" in field for field in fields), fields


# --- the reader in-process: a results file's edge cases on small documents ---------------------------------------

SHA = "0" * 64


def lm_eval_results(**changes) -> dict:
    """A small document in lm-eval 0.4's layout: one task of one metric and its stderr (``changes`` replace top-level keys)."""
    document = {
        "results": {"arc_easy": {"alias": "arc_easy", "acc,none": 0.5, "acc_stderr,none": 0.01, "acc_norm,none": 0.55, "acc_norm_stderr,none": "N/A"}},
        "config": {"model": "hf", "model_args": "pretrained=meta-llama/Llama-3.2-1B,dtype=bfloat16", "model_num_parameters": 1_235_814_400},
        "versions": {"arc_easy": 1.0},
        "n-shot": {"arc_easy": 5},
        "n-samples": {"arc_easy": {"original": 2376, "effective": 100}},
        "higher_is_better": {"arc_easy": {"acc": True, "acc_norm": True}},
        "task_hashes": {"arc_easy": "abc123"},
        "lm_eval_version": "0.4.13",
    }
    document.update(changes)
    return document


def read(document: dict):
    return read_lm_eval(Path("results.json"), SHA, document)


def by_metric(reading) -> dict:
    [group] = reading.groups
    return {value["metric"]: value for value in group.values}


def problems_at(reading) -> dict[str, str]:
    return {problem.field: problem.kind for problem in reading.problems}


def test_is_lm_eval_needs_results_and_config_objects_and_a_version_mark():
    assert is_lm_eval(lm_eval_results())
    assert is_lm_eval({"results": {}, "config": {}, "n-shot": {}})
    assert not is_lm_eval({"results": {}, "config": {}})  # no lm_eval_version, versions or n-shot
    assert not is_lm_eval({"results": [], "config": {}, "versions": {}})
    assert not is_lm_eval({"results": {}, "config": "hf", "versions": {}})
    assert not is_lm_eval([{"results": {}, "config": {}, "versions": {}}])


def test_model_arguments_reads_text_and_mappings_and_skips_what_has_no_value():
    assert model_arguments("pretrained=org/m, revision=abc ,dtype=bfloat16") == {"pretrained": "org/m", "revision": "abc", "dtype": "bfloat16"}
    assert model_arguments("pretrained=/a=b,trust_remote_code") == {"pretrained": "/a=b"}  # a path may hold '='; a flag has no value
    assert model_arguments({"pretrained": "org/m", "trust_remote_code": True}) == {"pretrained": "org/m", "trust_remote_code": "True"}
    assert model_arguments(None) == {} and model_arguments(["pretrained=org/m"]) == {}


def test_each_score_with_its_stderr_n_shot_samples_direction_and_versions():
    reading = read(lm_eval_results())
    assert reading.format == "lm-eval-results" and not reading.problems
    values = by_metric(reading)
    assert sorted(values) == ["acc", "acc_norm"]  # the alias and the stderr keys are not scores
    acc = values["acc"]
    assert (acc["task"], acc["filter"], acc["value"], acc["stderr"]) == ("arc_easy", "none", 0.5, 0.01)
    assert (acc["n_shot"], acc["n_samples"], acc["higher_is_better"]) == (5, 100, True)  # effective samples, not original
    assert (acc["harness_version"], acc["task_version"], acc["task_hash"], acc["measurement"]) == ("0.4.13", "1.0", "abc123", None)
    assert acc["source"] == {"path": "results.json", "sha256": SHA, "format": "lm-eval-results", "location": "results.arc_easy.acc,none"}
    assert values["acc_norm"]["stderr"] is None  # "N/A": no stderr, not a problem


def test_the_claim_is_read_from_config_model_args_with_its_revision_and_count():
    claim = read(lm_eval_results()).groups[0].claim
    assert (claim.repository, claim.revision, claim.total_parameters, claim.record) == ("meta-llama/Llama-3.2-1B", None, 1_235_814_400, None)
    assert claim.place("repository", "hf_repo") == "config.model_args"  # problems name the key the file holds
    config = {"model_args": "pretrained=org/pruned,revision=v2", "model_revision": "main"}
    claim = read(lm_eval_results(config=config)).groups[0].claim
    assert (claim.repository, claim.revision, claim.total_parameters) == ("org/pruned", "v2", None)  # model_args' revision= first
    claim = read(lm_eval_results(config={"model_args": "pretrained=org/pruned", "model_revision": "abc"})).groups[0].claim
    assert claim.revision == "abc"


@pytest.mark.parametrize("count", ["1.2e9", "many", 1.5, True, [1]])
def test_a_parameter_count_that_is_no_whole_number_is_kept_unreadable_never_guessed(count):
    reading = read(lm_eval_results(config={"model_args": "pretrained=org/m", "model_num_parameters": count}))
    claim = reading.groups[0].claim
    assert claim.total_parameters is None
    assert claim.unreadable == {"config.model_num_parameters": (count, "a whole number of parameters")}


@pytest.mark.parametrize("count", [None, "N/A", ""])
def test_a_parameter_count_the_file_does_not_give_is_no_claim(count):
    claim = read(lm_eval_results(config={"model_args": "pretrained=org/m", "model_num_parameters": count})).groups[0].claim
    assert claim.total_parameters is None and claim.unreadable == {}


def test_a_file_that_names_no_model_is_an_outcome_link_problem():
    reading = read(lm_eval_results(config={"model_args": "dtype=float32"}))
    assert problems_at(reading) == {"config.model_args": "outcome-link"}
    assert reading.groups[0].claim.repository is None


@pytest.mark.parametrize(("value", "stored"), [(0.25, 0.25), ("0.25", 0.25), (1, 1.0), ("N/A", None), (None, None)])
def test_a_score_as_a_number_or_numeric_text_is_read_and_none_is_no_value(value, stored):
    reading = read(lm_eval_results(results={"t": {"acc,none": value}}))
    assert not reading.problems
    assert [v["value"] for v in reading.groups[0].values] == ([] if stored is None else [stored])


@pytest.mark.parametrize("value", ["high", float("nan"), float("inf"), [0.5], {"v": 0.5}, True, 10**400])
def test_a_score_that_is_no_finite_number_is_a_problem_and_not_read(value):
    reading = read(lm_eval_results(results={"t": {"acc,none": value}}))
    assert len(reading.groups[0].values) == 0
    assert problems_at(reading) == {"results.t.acc,none": "outcome-nature"}


@pytest.mark.parametrize(
    ("section", "value", "place"),
    [
        ("n-shot", {"t": "five"}, "results.t.acc,none (n-shot)"),
        ("n-shot", {"t": -1}, "results.t.acc,none (n-shot)"),
        ("n-shot", {"t": 2.5}, "results.t.acc,none (n-shot)"),
        ("n-samples", {"t": {"effective": "all"}}, "results.t.acc,none (n-samples)"),
    ],
)
def test_an_n_shot_or_sample_count_that_is_no_count_is_a_problem_at_the_score(section, value, place):
    reading = read(lm_eval_results(results={"t": {"acc,none": 0.5}}, **{section: value}))
    assert problems_at(reading) == {place: "outcome-nature"}
    [score] = reading.groups[0].values  # the problem names the score's place: ingest leaves the score out
    assert score["n_shot" if section == "n-shot" else "n_samples"] is None


def test_a_samples_count_written_as_a_number_is_read():
    [score] = read(lm_eval_results(results={"t": {"acc,none": 0.5}}, **{"n-samples": {"t": 40}})).groups[0].values
    assert score["n_samples"] == 40


@pytest.mark.parametrize("stderr", ["wide", float("nan"), [0.1]])
def test_a_stderr_that_is_no_number_is_a_problem_at_the_score(stderr):
    reading = read(lm_eval_results(results={"t": {"acc,none": 0.5, "acc_stderr,none": stderr}}))
    assert problems_at(reading) == {"results.t.acc,none (stderr)": "outcome-nature"}


def test_a_task_whose_results_are_no_object_is_a_problem_and_other_tasks_are_read():
    reading = read(lm_eval_results(results={"bad": [0.5], "good": {"acc,none": 0.5}}))
    assert problems_at(reading) == {"results.bad": "outcome-nature"}
    assert [value["task"] for value in reading.groups[0].values] == ["good"]


@pytest.mark.parametrize(("task", "key"), [("ta\u202esk", "acc,none"), ("t", "a\x00cc,none"), ("t", "acc,\n"), ("  ", "acc,none")])
def test_a_name_that_could_not_be_stored_is_a_problem(task, key):
    reading = read(lm_eval_results(results={task: {key: 0.5}}))
    assert len(reading.groups[0].values) == 0
    assert [problem.kind for problem in reading.problems] == ["outcome-nature"]


def test_a_key_without_a_filter_is_not_a_score():
    """lm-eval writes ``<metric>,<filter>``; ``alias`` and a bare key (a group's ``samples``) are not values."""
    reading = read(lm_eval_results(results={"t": {"alias": "t", "samples": 12, "acc,none": 0.5}}))
    assert [value["metric"] for value in reading.groups[0].values] == ["acc"] and not reading.problems


def test_the_direction_is_only_what_the_file_says():
    reading = read(lm_eval_results(results={"t": {"acc,none": 0.5, "ppl,none": 3.0}}, higher_is_better={"t": {"acc": "yes", "ppl": False}}))
    assert {metric: value["higher_is_better"] for metric, value in by_metric(reading).items()} == {"acc": None, "ppl": False}


def test_a_catalogue_block_names_the_record_and_digest_and_a_broken_one_is_a_link_problem():
    measurement = {"tool": "catalogue evaluate", "kept_indices_sha256": "a" * 64}
    reading = read(lm_eval_results(catalogue={"record": "meta-llama/Llama-3.2-1B@40", "measurement": measurement}))
    claim = reading.groups[0].claim
    assert (claim.record, claim.kept_indices_sha256) == ("meta-llama/Llama-3.2-1B@40", "a" * 64)
    assert all(value["measurement"] == measurement for value in reading.groups[0].values)
    broken = read(lm_eval_results(catalogue={"record": 40}))
    assert problems_at(broken) == {"catalogue": "outcome-link"} and broken.groups[0].claim.record is None

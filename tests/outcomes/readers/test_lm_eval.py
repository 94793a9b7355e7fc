"""Outcomes from results files written by lm-evaluation-harness itself, linked to the records they measured.

Tiny random-init models are registered with ``catalogue add`` and pruned at two levels by
``catalogue build --save-pruned``; a tokenizer built with the ``tokenizers`` library is saved beside
each checkpoint; lm-eval's own command line evaluates each checkpoint on a task defined in a local
YAML file over local JSON data (no network, CPU) and writes its ``results_*.json``; then
``catalogue results add`` joins each file to its record by the checkpoint's safetensors headers.
A model and its Instruct sibling share every count, so their checkpoints are refused without --record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, load_json, run_cli, run_here
from lm_eval_tasks import TINY, save_tokenizer, write_task

pytestmark = [pytest.mark.torch, pytest.mark.xdist_group("lm-eval")]  # one worker builds the checkpoints and runs lm-eval once

def evaluate(checkpoint: Path, tasks_dir: Path, output: Path) -> subprocess.Popen:
    """lm-eval's command line on ``checkpoint``, writing its results file under ``output`` (started, not awaited)."""
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [
        sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={checkpoint},dtype=float32",
        "--tasks", "tiny_choice", "--include_path", str(tasks_dir), "--device", "cpu", "--batch_size", "4",
        "--output_path", str(output),
    ]  # fmt: skip
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
        "build", "--models", "me/tiny-64m,me/tiny-64m-Instruct,me/other-64m", "--levels", "0,40", "--dtype", "fp32",
        "--data", str(data), "--save-pruned", str(pruned), "--quiet", env=env,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    tasks = write_task(root / "tasks")
    checkpoints = {
        "other@0": pruned / "me__other-64m" / "pruned-00pct",
        "other@40": pruned / "me__other-64m" / "pruned-40pct",
        "tiny@40": pruned / "me__tiny-64m" / "pruned-40pct",
    }
    runs = {}
    for name, checkpoint in checkpoints.items():
        save_tokenizer(checkpoint)
        runs[name] = (evaluate(checkpoint, tasks, root / "lm-eval" / name.replace("@", "-")), root / "lm-eval" / name.replace("@", "-"))
    files = {}
    for name, (process, output) in runs.items():
        log, _ = process.communicate(timeout=300)
        assert process.returncode == 0, log[-3000:]
        files[name] = results_file(output)
    return {"env": env, "data": data, "files": files, "checkpoints": checkpoints}


def test_lm_eval_results_of_pruned_checkpoints_link_by_their_checkpoint(evaluated):
    files, data, env = evaluated["files"], evaluated["data"], evaluated["env"]
    written = load_json(files["other@40"])
    assert written["config"]["model_num_parameters"] > 0 and "tiny_choice" in written["results"]
    result = run_cli("results", "add", str(files["other@0"]), str(files["other@40"]), "--data", str(data), "--format", "json", env=env)
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
    again = run_cli("results", "add", str(files["other@40"]), "--data", str(data), "--format", "json", env=env)
    assert json.loads(again.stdout)["added"] == 0 and json.loads(again.stdout)["files_written"] == []
    verified = run_cli("verify", str(data), env=env)
    assert verified.returncode == 0, verified.stdout


def test_a_checkpoint_a_model_shares_with_its_instruct_sibling_is_refused_without_record(evaluated):
    files, data, env = evaluated["files"], evaluated["data"], evaluated["env"]
    refused = run_cli("results", "check", str(files["tiny@40"]), "--data", str(data), env=env)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "2 records (me/tiny-64m@40, me/tiny-64m-Instruct@40)" in refused.stderr and "give --record" in refused.stderr
    named = run_cli("results", "check", str(files["tiny@40"]), "--data", str(data), "--record", "me/tiny-64m@40", "--format", "json", env=env)
    assert named.returncode == 0, named.stdout + named.stderr
    assert json.loads(named.stdout)["links"] == {str(files["tiny@40"]): ["me/tiny-64m@40"]}


def test_a_parameter_count_that_differs_from_the_record_is_left_out(evaluated, tmp_path):
    files, data, env = evaluated["files"], evaluated["data"], evaluated["env"]
    document = load_json(files["other@40"])
    document["config"]["model_num_parameters"] += 1
    edited = tmp_path / "results_edited.json"
    edited.write_text(json.dumps(document))
    result = run_cli("results", "check", str(edited), "--data", str(data), "--format", "json", env=env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["outcomes"] == 0 and report["left_out"] >= 1
    assert [problem["kind"] for problem in report["problems"]] == ["outcome-claim"]


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
        weights = sum(len(content) for name, content in hub.repositories["someone/other-64m-pruned-40"].commits.popitem()[1].items() if name.endswith(".safetensors"))
        assert hub.bytes_sent < weights / 2  # headers, not weights
        offline = run_cli("results", "check", str(named), "--data", str(data), env={**hub_env, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "empty")})
        assert offline.returncode == 2 and "catalogue add someone/other-64m-pruned-40" in offline.stderr, offline.stderr
    finally:
        hub.stop()


def test_a_problem_with_the_files_model_names_the_key_the_file_holds(tmp_path):
    """lm-eval names its model in ``config.model_args``; a problem with it named ``config.hf_repo``, a key no such file has."""
    document = json.loads((FIXTURES / "lm_eval" / "results_2026-01-21T03-44-18.458309.json").read_text())
    document["config"].update(model_args="pretrained=meta-llama/Llama-3.2-1B-Instruct,dtype=bfloat16", model_num_parameters=1_235_814_400)
    path = tmp_path / "results_instruct.json"
    path.write_text(json.dumps(document))
    completed = run_cli("results", "check", str(path), "--record", "meta-llama/Llama-3.2-1B@0", "--format", "json")
    assert completed.returncode == 1, completed.stderr
    fields = {problem["field"] for problem in json.loads(completed.stdout)["problems"] if problem["kind"] == "outcome-claim"}
    assert "config.model_args" in fields and not any("hf_repo" in field for field in fields), fields

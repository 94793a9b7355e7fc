"""One file, one record; one value per thing: ``results check``, ``results add``, ``verify`` and ``merge`` apply one rule.

Run as a user runs them (``python -m glu_catalogue`` as a subprocess) on real files: the real
lm-evaluation-harness results file in ``fixtures/lm_eval/`` (its ``model_args`` pointed where each
case needs), the study's capability CSV and JSON shipped in ``data/sources/study/``, the shipped
catalogue and its outcomes. Beside them, in-process tests of the rule itself
(``glu_catalogue.outcomes.agreement``), the lock's advice and the Slurm variables.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, FIXTURES, REPO, invoke, load_json, run_cli, run_here

from glu_catalogue.core.outcome_records import OutcomesFile, ScoreOutcome
from glu_catalogue.errors import UsageError
from glu_catalogue.outcomes.agreement import disagreements, refusal, rounding_unit, same_shots, second_records, tolerance
from glu_catalogue.pipeline.lock import LOCK_FILE, refusal_advice
from glu_catalogue.pipeline.shards import parse_shard
from glu_catalogue.store.outcomes_files import outcomes_texts, read_outcomes

LM_EVAL = FIXTURES / "lm_eval" / "results_2026-01-21T03-44-18.458309.json"
STUDY = DATA / "sources" / "study"
STUDY_CSV = STUDY / "llama_1b_results_latest.csv"
STUDY_JSON = STUDY / "llama_1b_complete_results_latest.json"
#: The study CSV's row of Llama-3.2-1B at 0 % on arc_challenge, as the file writes it (accuracy 0.3106).
ARC_ROW = "Llama-3.2-1B,0,False,arc_challenge,,,,0.3106,0.3626,,,,,,,,,,,,,,,"


def lm_eval_file(folder: Path, model_args: str, name: str = "results_2026-01-21T03-44-18.json", parameters: int | None = None) -> Path:
    """The real lm-eval results file with ``config.model_args`` set (and its parameter count, None: not stated)."""
    document = json.loads(LM_EVAL.read_text())
    document["config"].update(model_args=model_args, model_num_parameters=parameters)
    path = folder / name
    path.write_text(json.dumps(document, indent=2))
    return path


def one_line(result) -> str:
    """The stderr of an exit-2 run: one line, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def problems(result, kind: str) -> list[dict]:
    return [problem for problem in json.loads(result.stdout)["problems"] if problem["kind"] == kind]


@pytest.fixture
def full_data(tmp_path) -> Path:
    """A copy of the shipped data directory (catalogue, outcomes, their sources and measurements) named ``data``."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns("models"))
    return target


# --- 1. one source, one record --------------------------------------------------------------------


def test_a_file_stored_under_one_record_is_refused_under_another_naming_the_first(data_copy, tmp_path):
    """The issue's case: the same file under @40, then @10, then another model's record."""
    results = lm_eval_file(tmp_path, "pretrained=/gone/checkpoint,dtype=bfloat16")  # a local path that is gone: --record is for it
    first = run_here("results", "add", str(results), "--record", "meta-llama/Llama-3.2-1B@40", "--data", str(data_copy), "--format", "json")
    assert first.returncode == 0, first.stdout + first.stderr
    assert json.loads(first.stdout)["added"] == 2
    stored = (data_copy / "outcomes.json").read_bytes()
    for record in ("meta-llama/Llama-3.2-1B@10", "Qwen/Qwen3-0.6B@60"):
        line = one_line(run_here("results", "add", str(results), "--record", record, "--data", str(data_copy)))
        assert "is stored under meta-llama/Llama-3.2-1B@40" in line and f"not also to {record}" in line and str(results) in line
        assert (data_copy / "outcomes.json").read_bytes() == stored
    checked = invoke("results", "check", str(results), "--record", "Qwen/Qwen3-0.6B@60", "--data", str(data_copy), "--format", "json")
    assert checked.exit_code == 1
    assert [problem["expected"] for problem in json.loads(checked.stdout)["problems"] if problem["kind"] == "outcome-link"] == [
        "meta-llama/Llama-3.2-1B@40"
    ] * 2


def test_second_records_finds_a_place_of_a_source_under_two_records():
    first, second = score(record="m/a@40"), score(record="m/a@10")
    assert second_records([first, second]) == [(first, second)]
    assert second_records([first, first.model_copy()]) == []
    assert second_records([first, score(record="m/a@10", location="results.other")]) == []  # another place: a file of two models
    assert "is stored under m/a@40" in refusal([first, second])


# --- 2. a file naming another model than --record's ------------------------------------------------


def test_a_file_naming_another_model_than_the_record_is_an_outcome_model_problem(data_copy, tmp_path):
    llama = lm_eval_file(tmp_path, "pretrained=meta-llama/Llama-3.2-1B,dtype=bfloat16", "results_llama.json")
    checked = run_here("results", "check", str(llama), "--record", "Qwen/Qwen3-0.6B@60", "--data", str(data_copy), "--format", "json")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    [problem] = problems(checked, "outcome-model")
    assert problem["field"] == "config.model_args" and problem["found"] == "meta-llama/Llama-3.2-1B" and "Qwen/Qwen3-0.6B@60" in problem["message"]
    added = run_here("results", "add", str(llama), "--record", "Qwen/Qwen3-0.6B@60", "--data", str(data_copy), "--format", "json")
    assert added.returncode == 1 and json.loads(added.stdout)["added"] == 0
    document = load_json(data_copy / "outcomes.json")
    assert document["outcomes"] == [] and {item["kind"] for item in document["left_out"]} == {"outcome-model"}

    distilled = lm_eval_file(tmp_path, "pretrained=deepseek-ai/DeepSeek-R1-Distill-Llama-8B,dtype=bfloat16", "results_distill.json")
    checked = invoke("results", "check", str(distilled), "--record", "meta-llama/Llama-3.1-8B@0", "--data", str(data_copy), "--format", "json")
    assert checked.exit_code == 1, checked.stdout
    [problem] = [p for p in json.loads(checked.stdout)["problems"] if p["kind"] == "outcome-model"]
    assert problem["found"] == "deepseek-ai/DeepSeek-R1-Distill-Llama-8B" and "not meta-llama/Llama-3.1-8B" in problem["message"]
    assert json.loads(checked.stdout)["outcomes"] == 0


def test_record_is_for_files_that_name_no_usable_model(data_copy, tmp_path):
    for model_args in ("pretrained=/gone/checkpoint", "pretrained=meta-llama/Llama-3.2-1B,dtype=bfloat16"):
        checked = invoke("results", "check", str(lm_eval_file(tmp_path, model_args)), "--record", "meta-llama/Llama-3.2-1B@0", "--data", str(data_copy))
        assert checked.exit_code == 0, checked.stdout


# --- 3. the revision lm-eval names ---------------------------------------------------------------------


@pytest.fixture
def hub_env(tmp_path):
    """A fake Hub serving one pruned Llama-3.2-1B repository: 40 % on main, 10 % on the branch ``v10`` (headers real, data a length)."""
    from fake_hub import FakeHub
    from safetensors_files import llama_config, llama_tensors, write_checkpoint

    from glu_catalogue.core import formulas
    from glu_catalogue.store.registry import get_model

    hub = FakeHub().start()
    base = get_model("meta-llama/Llama-3.2-1B").architecture
    for pct, branch in ((40, "main"), (10, "v10")):
        shape = base.model_copy(update={"intermediate_size": formulas.kept_neurons(base.intermediate_size, pct)})
        write_checkpoint(tmp_path / f"pruned-{pct}", llama_config(shape), llama_tensors(shape))
        hub.add_directory("someone/Llama-3.2-1B-pruned", tmp_path / f"pruned-{pct}", branch=branch, shaped=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(tmp_path / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1")
    yield env
    hub.stop()


def test_an_lm_eval_file_is_linked_by_the_headers_of_the_revision_it_names(hub_env, data_copy, tmp_path):
    at_v10 = lm_eval_file(tmp_path, "pretrained=someone/Llama-3.2-1B-pruned,revision=v10,dtype=bfloat16", "results_v10.json")
    line = one_line(run_cli("results", "check", str(at_v10), "--data", str(data_copy), env=hub_env))
    assert "(meta-llama/Llama-3.2-1B@10, meta-llama/Llama-3.2-1B-Instruct@10)" in line  # v10's headers, not main's 40 %
    named = run_cli("results", "check", str(at_v10), "--record", "meta-llama/Llama-3.2-1B@10", "--data", str(data_copy), env=hub_env)
    assert named.returncode == 0, named.stdout + named.stderr
    other = run_cli("results", "check", str(at_v10), "--record", "meta-llama/Llama-3.2-1B@40", "--data", str(data_copy), "--format", "json", env=hub_env)
    assert other.returncode == 1 and problems(other, "outcome-model"), other.stdout
    missing = lm_eval_file(tmp_path, "pretrained=someone/Llama-3.2-1B-pruned,revision=nope", "results_nope.json")
    line = one_line(run_cli("results", "check", str(missing), "--data", str(data_copy), env=hub_env))
    assert "someone/Llama-3.2-1B-pruned at revision nope" in line and "cannot be read" in line


# --- 4. one value per thing ----------------------------------------------------------------------------


def test_a_file_giving_two_values_of_one_thing_keeps_neither(data_copy, tmp_path):
    twice = tmp_path / "llama_1b_results_twice.csv"
    twice.write_text(STUDY_CSV.read_text() + ARC_ROW.replace("0.3106", "0.9999") + "\n")
    line = len(STUDY_CSV.read_text().splitlines()) + 1
    added = run_here("results", "add", str(twice), "--data", str(data_copy), "--format", "json")
    assert added.returncode == 1, added.stdout + added.stderr
    found = problems(added, "outcome-agreement")
    assert {problem["field"] for problem in found} == {"line 2, column accuracy", f"line {line}, column accuracy"}
    assert all("twice: 0.3106 at line 2, column accuracy and 0.9999" in problem["message"] for problem in found)
    document = load_json(data_copy / "outcomes.json")
    arc = [o for o in document["outcomes"] if o["record"] == "meta-llama/Llama-3.2-1B@0" and o["task"] == "arc_challenge" and o["metric"] == "accuracy"]
    assert arc == []
    assert sorted(item["value"] for item in document["left_out"] if item["kind"] == "outcome-agreement") == ["0.3106", "0.9999"]


def test_a_file_added_after_another_that_disagrees_is_left_out_naming_the_kept_one(full_data, tmp_path):
    """The shipped outcomes hold the study's JSON (arc_challenge accuracy 0.3106 at 0 %); a CSV that says 0.5 is added later."""
    changed = tmp_path / "llama_1b_results_changed.csv"
    changed.write_text(STUDY_CSV.read_text().replace(ARC_ROW, ARC_ROW.replace("0.3106", "0.5")))
    checked = run_here("results", "check", str(changed), "--data", str(full_data), "--format", "json")
    added = run_here("results", "add", str(changed), "--data", str(full_data), "--format", "json")
    for result in (checked, added):
        assert result.returncode == 1, result.stdout + result.stderr
        [problem] = problems(result, "outcome-agreement")
        assert problem["expected"] == "0.3106" and problem["found"] == "0.5"
        # the study's JSON and CSV both hold 0.3106 (they agree); the message names the stored one it was compared with
        assert any(str(stored.relative_to(REPO)) in problem["message"] for stored in (STUDY_JSON, STUDY_CSV))
    document = load_json(full_data / "outcomes.json")
    arc = [
        o["value"]
        for o in document["outcomes"]
        if o["record"] == "meta-llama/Llama-3.2-1B@0" and o.get("task") == "arc_challenge" and o["metric"] == "accuracy"
    ]
    assert arc and set(arc) == {0.3106}  # the JSON's and the CSV's copies, which agree; never the 0.5
    [left] = [item for item in document["left_out"] if item["kind"] == "outcome-agreement"]
    assert left["value"] == "0.5" and left["disagrees_with"]["path"] in {str(STUDY_JSON.relative_to(REPO)), str(STUDY_CSV.relative_to(REPO))}
    verified = run_here("verify", str(full_data))
    assert verified.returncode == 0, verified.stdout  # what is stored keeps the rule


def test_verify_and_merge_find_two_sources_that_disagree(data_copy, tmp_path):
    kept, other = score(value=0.3106), score(value=0.5, sha256="b" * 64, path="other.csv")
    for name, text in outcomes_texts(data_copy, OutcomesFile(outcomes=[kept, other])).items():
        name.write_text(text)
    verified = invoke("verify", str(data_copy), "--format", "json")
    assert verified.exit_code == 1
    assert [(p["kind"], p["field"]) for p in json.loads(verified.stdout)["problems"]] == [("outcome-agreement", other.source.location)]
    shard_a, shard_b = tmp_path / "a", tmp_path / "b"
    for shard, outcome in ((shard_a, kept), (shard_b, other)):
        shutil.copytree(data_copy, shard)
        for name, text in outcomes_texts(shard, OutcomesFile(outcomes=[outcome])).items():
            name.write_text(text)
    line = one_line(run_here("merge", str(shard_a), str(shard_b), "--data", str(tmp_path / "out")))
    assert "gives arc_challenge accuracy" in line and "nothing written" in line
    assert not (tmp_path / "out" / "outcomes.json").exists()


def score(
    value: float = 0.3106,
    stderr: float | None = None,
    n_shot: int | None = None,
    sha256: str = "a" * 64,
    path: str = "study.json",
    location: str = "results.arc_challenge.accuracy",
    record: str = "meta-llama/Llama-3.2-1B@0",
) -> ScoreOutcome:
    """A stored score of ``record`` on arc_challenge accuracy from one source."""
    model, _, pct = record.rpartition("@")
    return ScoreOutcome(
        record=record,
        base_model=model,
        pruning_pct=int(pct),
        task="arc_challenge",
        metric="accuracy",
        value=value,
        stderr=stderr,
        n_shot=n_shot,
        source={"path": path, "sha256": sha256, "format": "study-capability-json", "location": location},
    )


def test_two_sources_agree_within_their_stated_uncertainty_else_their_rounding():
    other = {"sha256": "b" * 64, "path": "b.json"}
    assert disagreements([score(0.31), score(0.3106, **other)]) == []  # 0.31 is 0.3106 rounded to 2 decimals
    assert len(disagreements([score(0.3106), score(0.3116, **other)])) == 1
    assert tolerance(score(0.512, stderr=0.01), score(0.543, stderr=0.01, **other)) == pytest.approx(2 * (0.01**2 * 2) ** 0.5)
    assert len(disagreements([score(0.512, stderr=0.01), score(0.543, stderr=0.01, **other)])) == 1
    assert disagreements([score(0.512, stderr=0.02), score(0.543, stderr=0.02, **other)]) == []
    assert disagreements([score(0.512, stderr=0.02), score(0.543, **other)]) != []  # one without stderr: the rounding
    assert tolerance(score(0.5, stderr=0.001), score(0.54, stderr=0.001, **other)) == 0.05  # never less than the rounding
    assert [rounding_unit(value) for value in (0.31, 2.5e-07, 1500.0)] == [0.01, 1e-08, 1.0]
    assert len(disagreements([score(2.5e-07), score(3.5e-07, **other)])) == 1  # an exponent's digits are its rounding


def test_one_source_never_states_two_values_and_n_shots_are_their_own_things():
    first, second = score(0.3106), score(0.3107, location="line 9")
    [found] = disagreements([first, second])
    assert found.same_source and [item.kind for item in found.left_out()] == ["outcome-agreement"] * 2
    assert disagreements([score(0.3106, n_shot=0), score(0.9, n_shot=5, sha256="b" * 64)]) == []
    assert not same_shots(score(n_shot=0), score(n_shot=5)) and same_shots(score(n_shot=None), score(n_shot=5))
    assert len(disagreements([score(0.3106, n_shot=0), score(0.9, sha256="b" * 64)])) == 1  # an unstated n-shot matches any


def test_the_shipped_outcomes_keep_the_rule():
    stored = read_outcomes(DATA)
    assert disagreements(stored.outcomes) == [] and second_records([*stored.outcomes, *stored.left_out]) == []


def test_the_checked_results_page_shows_the_kept_value_beside_the_one_left_out():
    from glu_catalogue.outcomes.agreement import Disagreement
    from glu_catalogue.site.checked_results import DISAGREEMENT_ANCHOR, checked_results_page

    kept, other = score(0.3106), score(0.5, sha256="b" * 64, path="other.csv", location="line 2, column accuracy")
    outcomes = OutcomesFile(outcomes=[kept], left_out=Disagreement(kept, other).left_out())
    page = checked_results_page(outcomes, [], set())
    section = page.split(f"{{ #{DISAGREEMENT_ANCHOR} }}")[1].split("## ")[0]
    row = next(line for line in section.splitlines() if "arc_challenge" in line)
    assert "0.3106" in row and "`study.json`" in row and "0.5" in row and "`other.csv`" in row


# --- 12. the build lock's advice -----------------------------------------------------------------------


def test_results_add_waits_with_wait_and_says_so_without(data_copy, tmp_path):
    results = lm_eval_file(tmp_path, "pretrained=meta-llama/Llama-3.2-1B,dtype=bfloat16")
    with open(data_copy / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        line = one_line(run_here("results", "add", str(results), "--data", str(data_copy)))
        assert "another catalogue build is writing here" in line and "pass --wait" in line
        waiting = subprocess.Popen(
            [sys.executable, "-m", "glu_catalogue", "results", "add", str(results), "--data", str(data_copy), "--wait"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for the lock
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, out + err
    assert len(load_json(data_copy / "outcomes.json")["outcomes"]) == 2


def test_the_lock_offers_wait_only_to_commands_that_have_it():
    assert "pass --wait" in refusal_advice(False)
    assert "--wait" not in refusal_advice(None).replace("has no --wait", "")
    for command in (("results", "add"), ("merge",)):
        assert "--wait" in invoke(*command, "--help").output


# --- 13. what is missing, named ----------------------------------------------------------------------


def test_a_data_directory_without_a_catalogue_is_named_as_such(tmp_path):
    results = lm_eval_file(tmp_path, "pretrained=meta-llama/Llama-3.2-1B")
    line = one_line(run_here("results", "check", str(results), "--data", "/no/such/dir"))
    assert "--data /no/such/dir" in line and "holds no catalogue" in line
    empty = tmp_path / "empty"
    empty.mkdir()
    added = invoke("results", "add", str(results), "--data", str(empty))
    assert added.exit_code == 2 and "holds no catalogue" in added.output + str(added.stderr)
    assert sorted(empty.iterdir()) == []


def test_shard_slurm_names_the_one_variable_that_is_missing(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}, "SLURM_ARRAY_TASK_ID": "0"}
    line = one_line(run_here("build", "--shard", "slurm", "--models", "meta-llama/Llama-3.2-1B", "--data", str(tmp_path / "d"), env=env))
    assert "SLURM_ARRAY_TASK_COUNT is not set" in line and "SLURM_ARRAY_TASK_ID and" not in line
    with pytest.raises(UsageError, match="SLURM_ARRAY_TASK_ID is not set"):
        parse_shard("slurm", {"SLURM_ARRAY_TASK_COUNT": "2"})
    with pytest.raises(UsageError, match="SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are not set"):
        parse_shard("slurm", {})


# --- 16. the sources verify keeps ------------------------------------------------------------------------


def test_verify_finds_a_kept_source_edited_or_gone(full_data):
    source = full_data / "sources" / "study" / "llama_1b_complete_results_latest.json"
    source.write_bytes(source.read_bytes().replace(b"0.3106", b"0.9106", 1))
    bench = next((full_data / "measurements" / "bench").rglob("bench_*.json"))
    bench.unlink()
    verified = run_here("verify", str(full_data), "--format", "json")
    assert verified.returncode == 1, verified.stdout + verified.stderr
    found = {(Path(p["file"]).name, p["found"]) for p in problems(verified, "outcome-source")}
    assert (bench.name, "missing") in found
    assert any(name == source.name and len(digest) == 64 for name, digest in found)
    assert len(found) == 2


def test_kept_source_reads_the_path_from_the_kept_folder_on(tmp_path):
    from glu_catalogue.outcomes.verify import kept_source

    data = tmp_path / "data"
    assert kept_source(data, "data/sources/study/x.json") == (data / "sources" / "study" / "x.json", True)
    assert kept_source(data, "/elsewhere/old/data/measurements/bench/a.json") == (data / "measurements" / "bench" / "a.json", True)
    assert kept_source(data, "shard/measurements/a.json") == (data / "measurements" / "a.json", False)
    assert kept_source(data, "results.json") is None and kept_source(data, "data/sources/../../x.json") is None

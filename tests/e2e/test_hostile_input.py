"""Input a hostile or careless user gives: each gets one line and the documented exit code, never a traceback.

The user-visible cases run the CLI as a process. Exit codes: 1 = problems found, 2 = input that
cannot be used or a wrong command line (one line on stderr, ``error: ...``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import DATA, LEGACY, dump_json, load_json, run_cli
from safetensors_files import SMALL, llama_config, llama_tensors, write_checkpoint

from glu_catalogue.cli.commands import MAX_TABLE_PROBLEMS

HUGE = 10**400  # an integer beyond any float


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return run_cli(*args, env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


def one_line_error(completed, code: int = 2) -> str:
    """The single stderr line of a refused command (exit ``code``, no traceback, nothing on stdout)."""
    assert completed.returncode == code, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def strict_json(text: str):
    """``json.loads`` that refuses NaN and Infinity, which are not JSON."""
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON output"))


# --- 8: integers beyond a float ---------------------------------------------------------------------


def test_a_huge_integer_in_a_record_is_a_problem_not_a_crash(data_copy):
    document = load_json(data_copy / "expansion_rates.json")
    document["models"][0]["original_architecture"]["hidden_size"] = HUGE
    dump_json(data_copy / "expansion_rates.json", document)
    for output in ("table", "json"):
        completed = run("verify", str(data_copy), "--format", output)
        assert completed.returncode == 1 and "Traceback" not in completed.stderr, completed.stderr
    problems = {problem["field"]: problem for problem in strict_json(completed.stdout)["problems"]}
    assert problems["original_architecture.hidden_size"]["found"] == "an integer of about 400 digits"


def test_a_huge_integer_in_a_registry_config(tmp_path):
    registry = tmp_path / "registry"
    shutil.copytree(DATA / "models", registry)
    path = registry / "meta-llama__Llama-3.2-1B.json"
    document = load_json(path)
    document["config"]["hidden_size"] = HUGE
    dump_json(path, document)
    line = one_line_error(run("models", env={"CATALOGUE_REGISTRY_DIR": str(registry)}))
    assert path.name in line and "hidden_size: Input should be less than or equal to 9007199254740992" in line


def test_a_huge_integer_in_a_checkpoint_config(tmp_path):
    config = {**llama_config(SMALL), "hidden_size": HUGE}
    write_checkpoint(tmp_path / "ckpt", config, llama_tensors(SMALL))
    line = one_line_error(run("inspect", str(tmp_path / "ckpt")))
    assert "config.json: hidden_size: expected a positive integer up to 2**53" in line


# --- 9 and 12: plan's numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--ratio", "1e999999999"], ["--ratio", "1e308"], ["--ratio", "nan"], ["--ratio", "-inf"], ["--pct", "nan"], ["--pct", "inf"]]
)
def test_plan_refuses_numbers_that_are_not_finite(args):
    line = one_line_error(run("plan", *args, "--format", "json"))
    assert args[0] in line and ("finite" in line or "not in the range" in line)


def test_plan_json_is_always_json():
    completed = run("plan", "--ratio", "1e300", "--format", "json")
    assert completed.returncode == 0
    rows = strict_json(completed.stdout)
    assert {row["status"] for row in rows} == {"below-target", "not-prunable"}  # mixtures of experts are not prunable at all


# --- 10: registry files that are not an object ------------------------------------------------------


@pytest.mark.parametrize(("content", "found"), [(b"null\n", "found null"), (b"5\n", "found a number"), (b"\xff\xfe{}", "not UTF-8")])
@pytest.mark.parametrize("command", [["models"], ["verify"], ["plan", "--pct", "40"]])
def test_a_registry_file_that_is_not_an_entry(tmp_path, content, found, command):
    registry = tmp_path / "registry"
    shutil.copytree(DATA / "models", registry)
    (registry / "broken.json").write_bytes(content)
    line = one_line_error(run(*command, env={"CATALOGUE_REGISTRY_DIR": str(registry)}))
    assert "broken.json" in line and found in line


# --- 11: --levels 100, everywhere --------------------------------------------------------------------


def test_pruning_100_percent_builds_verifies_plans_and_renders(tmp_path):
    """optipfair 0.4.2 keeps one neuron at 100 %: the display ratio rounds to 0.0, the exact one stays > 0."""
    data, docs = tmp_path / "data", tmp_path / "docs"
    docs.mkdir()
    env = {"CATALOGUE_DATA_DIR": str(data)}
    build = run("build", "--closed-form", "--models", "meta-llama/Llama-3.2-1B", "--levels", "0,100", "--data", str(data), "--quiet", env=env)
    assert build.returncode == 0, build.stdout + build.stderr
    [_, full] = load_json(data / "expansion_rates.json")["models"]
    assert full["pruned_architecture"]["intermediate_size"] == 1
    assert full["pruned_architecture"]["expansion_rate"] == 0.0 and full["pruned_architecture"]["expansion_ratio_exact"] > 0
    assert run("verify", env=env).returncode == 0  # the data, schemas and the pages at 100 %
    assert '<span id="pruning-100"></span>100 | 0.00x | 1 |' in (docs / "models" / "meta-llama-llama-3-2-1b.md").read_text()
    [row] = strict_json(run("plan", "--pct", "100", "--model", "meta-llama/Llama-3.2-1B", "--format", "json").stdout)
    assert row["intermediate_size"] == 1 and row["status"] == "ok"


# --- 13: options that name nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "says"), [("--models", "", "names no model id"), ("--models", ",", "names no model id"), ("--data", "", "an empty path")]
)
def test_build_options_that_name_nothing_are_usage_errors(tmp_path, option, value, says):
    args = {"--models": "HuggingFaceTB/SmolLM2-135M", "--data": str(tmp_path / "d"), option: value}
    completed = run("build", "--closed-form", "--levels", "0", "--quiet", *[part for pair in args.items() for part in pair], cwd=tmp_path)
    line = one_line_error(completed)
    assert option in line and says in line
    assert list(tmp_path.iterdir()) == []  # nothing written, not even into the current directory


# --- 14: what the verifier used to accept -------------------------------------------------------------


def test_another_schema_version_and_a_time_that_is_not_one_are_problems(data_copy):
    document = load_json(data_copy / "expansion_rates.json")
    document["metadata"]["schema_version"] = "9.9"
    document["models"][0]["provenance"]["created_at"] = "not a date"
    dump_json(data_copy / "expansion_rates.json", document)
    completed = run("verify", str(data_copy), "--format", "json")
    assert completed.returncode == 1
    fields = {problem["field"]: problem for problem in strict_json(completed.stdout)["problems"]}
    assert fields["metadata.schema_version"]["expected"] == "'1.0'"
    assert "ISO 8601" in fields["provenance.created_at"]["message"]


def test_a_key_repeated_inside_a_record_is_refused_with_its_place(data_copy):
    path = data_copy / "expansion_rates.json"
    text = path.read_text()
    first = text.index('"total_parameters": ')
    path.write_text(text[:first] + '"total_parameters": 999,\n        ' + text[first:])
    line = one_line_error(run("verify", str(data_copy)))
    line_number = text[:first].count("\n") + 2
    assert line.startswith(f"error: {path}:{line_number}:") and 'key "total_parameters" appears twice' in line


# --- 15: --seed ----------------------------------------------------------------------------------------


def test_a_negative_seed_is_refused_before_anything_loads(tmp_path):
    completed = run("build", "--models", "HuggingFaceTB/SmolLM2-135M", "--seed", "-1", "--levels", "0", "--data", str(tmp_path / "d"))
    assert "--seed -1" in one_line_error(completed)
    assert not (tmp_path / "d").exists()


# --- 16: the study's Model Family labels ----------------------------------------------------------------


def legacy_pair(directory: Path, labels: dict[str, str]) -> None:
    """The study's layout (no schema_version, no added fields, nine CSV columns) for the 1B models at 10, 40, 60 %."""
    from glu_catalogue.core.summary import LEGACY_COLUMNS

    catalogue = load_json(DATA / "expansion_rates.json")
    legacy_keys = set(load_json(LEGACY / "expansion_rates.json")["models"][0]["original_architecture"])
    records = [r for r in catalogue["models"] if r["base_model"] in labels and r["pruning_pct"] in (10, 40, 60)]
    for record in records:
        record.pop("provenance")
        for side in ("original_architecture", "pruned_architecture"):
            record[side] = {key: value for key, value in record[side].items() if key in legacy_keys}
    metadata = {key: value for key, value in catalogue["metadata"].items() if key != "schema_version"}
    metadata.update(total_models=len(records), successful=len(records))
    directory.mkdir()
    dump_json(directory / "expansion_rates.json", {"metadata": metadata, "models": records})
    rows = [line.split(",") for line in (DATA / "expansion_rates_summary.csv").read_text().splitlines()[1:]]
    kept = [[labels[row[9]], *row[1:9]] for row in rows if row[9] in labels and row[1] in ("10", "40", "60")]
    (directory / "expansion_rates_summary.csv").write_text("\n".join(",".join(row) for row in [list(LEGACY_COLUMNS), *kept]) + "\n")


def test_the_studys_instruct_rows_match_without_false_alarms(tmp_path):
    labels = {"meta-llama/Llama-3.2-1B": "1B", "meta-llama/Llama-3.2-1B-Instruct": "1B-Instruct"}
    legacy_pair(tmp_path / "study", labels)
    completed = run("verify", str(tmp_path / "study"))
    assert completed.returncode == 0, completed.stdout
    rows = [line for line in (DATA / "expansion_rates_summary.csv").read_text().splitlines() if "Llama-3.2-1B-Instruct," in line]
    assert rows and all(row.startswith("1B-Instruct,") for row in rows)


def test_the_shipped_legacy_example_verifies_with_its_one_rounding_slip():
    completed = run("verify", str(LEGACY), "--format", "json")
    problems = strict_json(completed.stdout)["problems"]
    assert [(p["record"], p["field"]) for p in problems] == [("meta-llama/Llama-3.2-1B @ 10%", "pruned_architecture.expansion_rate_percentage")]


# --- 17: click's usage errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "--bogus"],
        ["inspect"],
        ["plan", "--pct", "200"],
        ["plan"],
        ["build", "--method", "XYZ"],
        ["models", "--format", "xml"],
        ["schemas", "extra"],
        ["docs", "--bogus"],
        ["no-such-command"],
        ["--bogus"],
    ],
)
def test_a_wrong_command_line_is_one_line(args):
    line = one_line_error(run(*args))
    assert "Usage:" not in line and "--help" in line


# --- 18: a CSV saved by Excel ---------------------------------------------------------------------------


def test_a_csv_with_a_byte_order_mark_is_read_as_the_same_table(data_copy):
    path = data_copy / "expansion_rates_summary.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    completed = run("verify", str(data_copy))
    assert completed.returncode == 0, completed.stdout


# --- 19: many problems ------------------------------------------------------------------------------------


def test_the_problem_table_is_capped_and_the_json_is_whole(data_copy):
    document = load_json(data_copy / "expansion_rates.json")
    for record in document["models"]:
        record["reductions"]["parameters_saved_millions"] += 1
    dump_json(data_copy / "expansion_rates.json", document)
    table, json_output = run("verify", str(data_copy)), run("verify", str(data_copy), "--format", "json")
    total = len(strict_json(json_output.stdout)["problems"])
    assert table.returncode == json_output.returncode == 1 and total > MAX_TABLE_PROBLEMS
    assert f"and {total - MAX_TABLE_PROBLEMS} more problems not shown: `--format json` lists all {total}" in table.stdout
    assert f"FAILED: {total} problems" in table.stdout

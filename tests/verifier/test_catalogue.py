"""`catalogue verify`: every problem reported with file, record and field; documented exit codes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import LEGACY, REPO, dump_json, invoke, load_json, run_cli, run_here

from glu_catalogue.pipeline.check import check as verify

JSON_NAME, CSV_NAME = "expansion_rates.json", "expansion_rates_summary.csv"


def problems_of(path: Path) -> list[tuple[str, str]]:
    """(record, field) of every problem verify finds in ``path`` (schemas are not under test here)."""
    return [(problem.record, problem.field) for problem in verify([path], check_schemas=False).problems]


def edit_record(data: Path, model: str, pct: int, edit) -> None:
    document = load_json(data / JSON_NAME)
    record = next(m for m in document["models"] if m["base_model"] == model and m["pruning_pct"] == pct)
    edit(record)
    dump_json(data / JSON_NAME, document)


def edit_csv(data: Path, edit) -> None:
    lines = (data / CSV_NAME).read_text().splitlines()
    (data / CSV_NAME).write_text("\n".join(edit(lines)) + "\n")


def csv_row(data: Path, model: str, pct: int) -> int:
    """The index (in splitlines) of the CSV line of ``model`` at ``pct``."""
    lines = (data / CSV_NAME).read_text().splitlines()
    return next(i for i, line in enumerate(lines) if line.split(",")[9] == model and line.split(",")[1] == str(pct))


def edit_csv_row(data: Path, model: str, pct: int, edit) -> None:
    """Replace the CSV line of ``model`` at ``pct`` with ``edit(line)``."""
    index = csv_row(data, model, pct)
    edit_csv(data, lambda lines: lines[:index] + [edit(lines[index])] + lines[index + 1 :])


# --- a clean catalogue ------------------------------------------------------------------------


def test_shipped_data_verifies_clean():
    result = invoke("verify")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.startswith("OK: no problems")


def test_json_output_has_the_documented_shape(data_copy):
    result = invoke("verify", str(data_copy), "--format", "json")
    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert document["ok"] is True and document["problems"] == []
    assert document["checked"]["records"] == len(load_json(data_copy / JSON_NAME)["models"])
    assert document["checked"]["files"] == 2


def test_a_json_file_alone_is_checked_without_the_csv(data_copy):
    (data_copy / CSV_NAME).unlink()
    assert invoke("verify", str(data_copy / JSON_NAME)).exit_code == 0


# --- breaking any single number ---------------------------------------------------------------

RECORD_FIELDS = [
    (block, name)
    for block, names in {
        "original_architecture": [
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "expansion_rate",
            "expansion_rate_percentage",
            "total_parameters",
            "total_parameters_millions",
            "expansion_ratio_exact",
            "num_attention_heads",
            "num_key_value_heads",
            "head_dim",
            "vocab_size",
            "norms_per_layer",
        ],
        "pruned_architecture": [
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "expansion_rate",
            "expansion_rate_percentage",
            "total_parameters",
            "total_parameters_millions",
            "expansion_ratio_exact",
            "num_attention_heads",
            "num_key_value_heads",
            "head_dim",
            "vocab_size",
            "norms_per_layer",
        ],
        "reductions": ["parameter_reduction_pct", "expansion_reduction_pct", "parameters_saved_millions"],
        "optipfair_stats": ["original_parameters", "pruned_parameters", "reduction", "percentage_reduction", "expansion_rate"],
    }.items()
    for name in names
]


def one_unit_off(value):
    """The value off by one unit in its last digit: ints +1, displays +0.01, exact floats +1 ulp."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    text = repr(value)
    if len(text.split(".")[1]) > 2:  # an exact float: its last digit is its last bit
        return math.nextafter(value, math.inf)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return round(value + 10.0**-decimals, decimals)


@pytest.mark.parametrize(("model", "pct"), [("meta-llama/Llama-3.2-1B", 10), ("meta-llama/Llama-3.2-3B-Instruct", 60)])
@pytest.mark.parametrize(("block", "name"), RECORD_FIELDS)
def test_breaking_any_number_names_record_and_field(data_copy, model, pct, block, name):
    edit_record(data_copy, model, pct, lambda record: record[block].__setitem__(name, one_unit_off(record[block][name])))
    problems = problems_of(data_copy)
    assert (f"{model} @ {pct}%", f"{block}.{name}") in problems, problems


@pytest.mark.parametrize("flag", ["tie_word_embeddings", "qkv_bias", "mlp_bias", "qk_norm"])
def test_flipping_an_architecture_flag_is_reported(data_copy, flag):
    edit_record(
        data_copy,
        "meta-llama/Llama-3.2-1B",
        20,
        lambda record: record["original_architecture"].__setitem__(flag, True if not record["original_architecture"][flag] else False),
    )
    assert ("meta-llama/Llama-3.2-1B @ 20%", f"original_architecture.{flag}") in problems_of(data_copy)


def test_a_rounding_slip_says_what_the_exact_value_is(data_copy):
    edit_record(data_copy, "meta-llama/Llama-3.2-1B", 10, lambda r: r["pruned_architecture"].__setitem__("total_parameters_millions", 1155.31))
    result = invoke("verify", str(data_copy), "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    [problem] = [p for p in problems if p["file"].endswith(JSON_NAME)]
    assert problem["record"] == "meta-llama/Llama-3.2-1B @ 10%"
    assert problem["field"] == "pruned_architecture.total_parameters_millions"
    assert (problem["expected"], problem["found"]) == ("1155.3", "1155.31")
    assert "1155.303424 rounded to 2 decimals" in problem["message"]


def csv_header(data: Path) -> list[str]:
    return (data / CSV_NAME).read_text().splitlines()[0].split(",")


@pytest.mark.parametrize("column", [index for index in range(17) if index not in (0, 9)])  # all but the text columns
def test_breaking_any_csv_cell_names_record_and_column(data_copy, column):
    header = csv_header(data_copy)

    def change(lines):
        cells = lines[3].split(",")
        value = cells[column]
        cells[column] = str(int(value) + 1) if value.isdigit() else repr(one_unit_off(float(value)))
        lines[3] = ",".join(cells)
        return lines

    record_cells = (data_copy / CSV_NAME).read_text().splitlines()[3].split(",")
    edit_csv(data_copy, change)
    label = f"{record_cells[9]} @ {record_cells[1]}%"
    if header[column] == "Pruning %":
        label = f"{record_cells[9]} @ {int(record_cells[1]) + 1}%"  # the row now claims another record
        assert (label, "(row)") in problems_of(data_copy)
    else:
        assert (label, header[column]) in problems_of(data_copy)


# --- the bad-input fixtures of the issue ------------------------------------------------------


def assert_problem(data: Path, record: str, field: str, message: str) -> None:
    result = invoke("verify", str(data), "--format", "json")
    assert result.exit_code == 1, result.stdout
    problems = json.loads(result.stdout)["problems"]
    matching = [p for p in problems if p["record"] == record and p["field"] == field]
    assert matching, problems
    assert any(message in p["message"] for p in matching), matching


def assert_unreadable(path: Path, message: str) -> None:
    result = invoke("verify", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_truncated_json_is_unreadable_with_line_and_column(data_copy):
    text = (data_copy / JSON_NAME).read_text()
    (data_copy / JSON_NAME).write_text(text[: len(text) // 2])
    lines = len(text[: len(text) // 2].splitlines())
    assert_unreadable(data_copy, f"{JSON_NAME}:{lines}:")
    assert_unreadable(data_copy, "invalid JSON")


def test_missing_file_is_unreadable(data_copy):
    (data_copy / CSV_NAME).unlink()
    assert_unreadable(data_copy, f"{CSV_NAME}: no such file")


def test_wrong_top_level_shape_is_unreadable(data_copy):
    (data_copy / JSON_NAME).write_text("[1, 2, 3]\n")
    assert_unreadable(data_copy, "wrong top-level shape: expected an object")
    dump_json(data_copy / JSON_NAME, {"metadata": {}, "models": {}})
    assert_unreadable(data_copy, "'models' must be a list")


def test_csv_syntax_error_is_unreadable_with_its_line(data_copy):
    edit_csv(data_copy, lambda lines: lines[:4] + [lines[4] + ",extra"] + lines[5:])
    assert_unreadable(data_copy, f"{CSV_NAME}:5: CSV syntax: expected 17 fields")


def test_wrong_type_is_reported(data_copy):
    edit_record(data_copy, "meta-llama/Llama-3.2-3B", 30, lambda r: r["pruned_architecture"].__setitem__("intermediate_size", "5735"))
    assert_problem(data_copy, "meta-llama/Llama-3.2-3B @ 30%", "pruned_architecture.intermediate_size", "valid integer")


def test_nan_is_reported(data_copy):
    edit_record(data_copy, "meta-llama/Llama-3.2-3B", 30, lambda r: r["reductions"].__setitem__("parameter_reduction_pct", float("nan")))
    assert_problem(data_copy, "meta-llama/Llama-3.2-3B @ 30%", "reductions.parameter_reduction_pct", "finite number")


def test_negative_size_is_reported(data_copy):
    edit_record(data_copy, "meta-llama/Llama-3.2-1B", 50, lambda r: r["pruned_architecture"].__setitem__("intermediate_size", -4096))
    assert_problem(data_copy, "meta-llama/Llama-3.2-1B @ 50%", "pruned_architecture.intermediate_size", "greater than 0")


def test_duplicate_record_is_reported(data_copy):
    document = load_json(data_copy / JSON_NAME)
    document["models"].append(document["models"][3])
    document["metadata"]["total_models"] += 1
    document["metadata"]["successful"] += 1
    dump_json(data_copy / JSON_NAME, document)
    label = f"{document['models'][3]['base_model']} @ {document['models'][3]['pruning_pct']}%"
    assert_problem(data_copy, label, "(record)", "duplicate of models[3]")


def test_metadata_counts_are_checked(data_copy):
    document = load_json(data_copy / JSON_NAME)
    document["metadata"]["total_models"] += 1
    dump_json(data_copy / JSON_NAME, document)
    assert_problem(data_copy, "metadata", "metadata.total_models", "must count the entries")


def test_missing_provenance_is_reported_in_a_catalogue_file(data_copy):
    edit_record(data_copy, "meta-llama/Llama-3.2-1B", 0, lambda r: r.pop("provenance"))
    assert_problem(data_copy, "meta-llama/Llama-3.2-1B @ 0%", "provenance", "catalogue records carry provenance")


def test_csv_missing_column_is_reported(data_copy):
    def drop(lines):
        return [",".join(cells[:4] + cells[5:]) for cells in (line.split(",") for line in lines)]

    edit_csv(data_copy, drop)
    assert_problem(data_copy, "(header)", "Expansion Reduction %", "missing column")


def test_csv_reordered_columns_are_reported(data_copy):
    def swap(lines):
        rows = [line.split(",") for line in lines]
        return [",".join([cells[1], cells[0], *cells[2:]]) for cells in rows]

    edit_csv(data_copy, swap)
    assert_problem(data_copy, "(header)", "(columns)", "columns are out of order")


def test_csv_extra_row_is_reported(data_copy):
    index = csv_row(data_copy, "meta-llama/Llama-3.2-1B", 0)
    edit_csv(data_copy, lambda lines: lines + [lines[index].replace(",0,", ",70,", 1)])
    assert_problem(data_copy, "meta-llama/Llama-3.2-1B @ 70%", "(row)", "extra row")


def test_csv_missing_row_is_reported(data_copy):
    index = csv_row(data_copy, "meta-llama/Llama-3.2-1B", 10)
    edit_csv(data_copy, lambda lines: lines[:index] + lines[index + 1 :])
    assert_problem(data_copy, "meta-llama/Llama-3.2-1B @ 10%", "(row)", "missing row")


def test_csv_changed_cell_is_reported(data_copy):
    edit_csv_row(data_copy, "meta-llama/Llama-3.2-1B", 10, lambda line: line.replace("1155.3", "1155.4"))
    assert_problem(data_copy, "meta-llama/Llama-3.2-1B @ 10%", "Pruned Params (M)", "differs from the JSON record it projects")


def test_csv_cell_of_the_wrong_type_goes_through_the_table_schema(data_copy):
    edit_csv_row(data_copy, "meta-llama/Llama-3.2-1B", 10, lambda line: line.replace(",7373,", ",many,"))
    assert_problem(data_copy, "meta-llama/Llama-3.2-1B @ 10%", "Pruned Intermediate Size", "table schema check failed")


def test_csv_cross_column_check(data_copy):
    # Params Saved (M) no longer equals Original - Pruned: pandera's table-wide check says so.
    edit_csv_row(data_copy, "meta-llama/Llama-3.2-1B", 10, lambda line: line.replace(",80.51,", ",90.51,"))
    assert_problem(data_copy, "meta-llama/Llama-3.2-1B @ 10%", "Params Saved (M)", "params saved = original - pruned")


def test_all_problems_are_reported_at_once(data_copy):
    edit_record(data_copy, "meta-llama/Llama-3.2-1B", 10, lambda r: r["pruned_architecture"].__setitem__("intermediate_size", 7374))
    edit_record(data_copy, "meta-llama/Llama-3.2-3B", 60, lambda r: r["reductions"].__setitem__("parameter_reduction_pct", 39.49))
    edit_csv_row(data_copy, "meta-llama/Llama-3.2-1B", 40, lambda line: line.replace("913.77", "913.78"))
    fields = {field for _, field in problems_of(data_copy)}
    assert {"pruned_architecture.intermediate_size", "reductions.parameter_reduction_pct", "Pruned Params (M)"} <= fields


def test_problem_table_and_summary_line(data_copy):
    edit_record(data_copy, "meta-llama/Llama-3.2-1B", 10, lambda r: r["reductions"].__setitem__("parameters_saved_millions", 80.52))
    result = invoke("verify", str(data_copy))
    assert result.exit_code == 1
    assert "meta-llama/Llama-3.2-1B @ 10%" in result.stdout
    assert "reductions.parameters_saved_millions" in result.stdout
    # The JSON value is wrong, and the CSV (which holds the right value) no longer projects it.
    assert result.stdout.strip().splitlines()[-1].startswith("FAILED: 2 problems")


# --- the study's legacy files -----------------------------------------------------------------


def test_legacy_files_are_read_and_reported_like_any_other():
    report = verify([LEGACY], check_schemas=False)
    assert report.checked["records"] == 1 and report.checked["csv_rows"] == 1
    # The study wrote 7373/2048 x 100 = 360.0098 as 360.0; at two decimals it is 360.01.
    assert [(p.record, p.field, p.expected, p.found) for p in report.problems] == [
        ("meta-llama/Llama-3.2-1B @ 10%", "pruned_architecture.expansion_rate_percentage", "360.01", "360.0")
    ]


def test_legacy_totals_are_checked_against_the_registry(legacy_copy):
    edit_record(legacy_copy, "meta-llama/Llama-3.2-1B", 10, lambda r: r["pruned_architecture"].__setitem__("total_parameters", 1155303425))
    assert ("meta-llama/Llama-3.2-1B @ 10%", "pruned_architecture.total_parameters") in problems_of(legacy_copy)


def test_legacy_csv_cell_is_checked(legacy_copy):
    edit_csv(legacy_copy, lambda lines: [lines[0], lines[1].replace("80.51", "80.52")])
    assert ("meta-llama/Llama-3.2-1B @ 10%", "Params Saved (M)") in problems_of(legacy_copy)


# --- as a process -----------------------------------------------------------------------------


def test_unreadable_input_prints_no_traceback(tmp_path):
    broken = tmp_path / JSON_NAME
    broken.write_text('{"metadata": {,}')
    completed = run_here("verify", str(broken))
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.strip() == f"error: {broken}:1:15: invalid JSON: Expecting property name enclosed in double quotes"


def test_verify_never_imports_torch():
    completed = run_cli("verify", env={"PYTHONPROFILEIMPORTTIME": "1", "PATH": "/usr/bin:/bin"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in completed.stderr.splitlines() if line.startswith("import time:")}
    assert "glu_catalogue.verifier.catalogue" in imported
    assert not {name for name in imported if name.split(".")[0] in ("torch", "transformers", "optipfair")}


def test_every_problem_carries_a_documented_kind(data_copy):
    from glu_catalogue.core.problems import KINDS

    document = load_json(data_copy / "expansion_rates.json")
    document["models"][3]["pruned_architecture"]["total_parameters_millions"] += 0.01
    document["models"][4]["pruned_architecture"]["total_parameters"] += 1
    dump_json(data_copy / "expansion_rates.json", document)
    result = invoke("verify", str(data_copy), "--format", "json")
    problems = json.loads(result.stdout)["problems"]
    assert result.exit_code == 1 and problems
    assert {problem["kind"] for problem in problems} >= {"rounding", "closed-form", "csv"}
    assert all(set(problem) == {"file", "record", "field", "expected", "found", "message", "kind"} for problem in problems)
    assert {problem["kind"] for problem in problems} <= set(KINDS)


def test_the_verify_page_documents_every_problem_kind():
    from glu_catalogue.core.problems import KINDS

    page = (REPO / "docs" / "commands" / "verify.md").read_text(encoding="utf-8")
    for kind, meaning in KINDS.items():
        assert f"| `{kind}` | {meaning} |" in page

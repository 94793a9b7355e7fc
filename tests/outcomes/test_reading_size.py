"""Outcome files near the size cap: read a row at a time, their values kept in columns, every one checked.

A CSV's rows are parsed as a reader asks for them (``CsvTable.records``), so a large file's rows are
never all held; its values are kept column by column (``outcomes/columns.py``), so a file of any
number of values under the size cap is read, linked, checked and held to the one-value rule whole,
its problems reported as for a small file. ``results add`` stores at most ``MAX_STORED_VALUES`` at
once and refuses more in one line. ``benchmarks/outcome_file_speed.py`` times the files near the
64 MiB cap (2.6 million values).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA, invoke, run_cli

from glu_catalogue.errors import ReadError
from glu_catalogue.outcomes import reading as outcome_reading
from glu_catalogue.outcomes.readers import read_outcome_file
from glu_catalogue.pipeline import results as results_pipeline
from glu_catalogue.pipeline.results import MAX_STORED_VALUES, TooManyToStore, add_results, check_results
from glu_catalogue.store.reading import CsvTable

HEADER = "model,pruning_pct,is_star,task,accuracy,acc_norm\n"


def capability_csv(path: Path, rows: int) -> Path:
    """The study's capability CSV layout, ``rows`` rows of two scores each."""
    path.write_text(HEADER + "".join(f"Llama-3.2-1B,{(row % 7) * 10},False,task_{row // 7},0.5,0.25\n" for row in range(rows)))
    return path


def test_csv_rows_are_parsed_as_they_are_asked_for():
    table = CsvTable(Path("x.csv"), "a,b\n1,2\n\n3,4\n5\n")
    records = table.records()
    assert table.header == ["a", "b"]
    assert next(records) == (2, ["1", "2"]) and next(records) == (4, ["3", "4"])
    with pytest.raises(ReadError, match="expected 2 fields as in the header, found 1"):
        next(records)


def test_an_empty_csv_has_no_header():
    with pytest.raises(ReadError, match="empty file"):
        _ = CsvTable(Path("x.csv"), "").header


def test_a_file_of_more_values_than_results_add_stores_is_checked_whole(tmp_path):
    """A file of more values than the 150,000 once refused is read, linked and checked: every value counted, none left out."""
    rows = MAX_STORED_VALUES // 2 + 1000
    checked = check_results([capability_csv(tmp_path / "capability.csv", rows)], DATA)
    assert checked.report.ok and checked.report.problems == [], checked.report.problems[:3]
    assert (checked.ingested.n_outcomes, checked.ingested.n_left_out, checked.report.checked["outcomes"]) == (2 * rows, 0, 2 * rows)
    assert sorted({link.label for link in checked.ingested.links[tmp_path / "capability.csv"]}) == [
        f"meta-llama/Llama-3.2-1B@{pct}" for pct in range(0, 70, 10)
    ]


def test_a_large_file_s_problems_are_reported_as_a_small_file_s(tmp_path):
    """A value out of its nature and a value the file gives twice, far down a large file: each reported at its place."""
    path = capability_csv(tmp_path / "capability.csv", 50_000)
    with path.open("a") as handle:
        handle.write("Llama-3.2-1B,0,False,task_0,0.5,1.5\n")  # acc_norm out of [0, 1]; accuracy the same as line 2's
        handle.write("Llama-3.2-1B,10,False,task_0,0.75,0.25\n")  # accuracy other than line 3's: neither is kept
    checked = check_results([path], DATA)
    found = sorted((problem.kind, problem.field, problem.record) for problem in checked.report.problems)
    assert found == [
        ("outcome-agreement", "line 3, column accuracy", "meta-llama/Llama-3.2-1B@10"),
        ("outcome-agreement", "line 50003, column accuracy", "meta-llama/Llama-3.2-1B@10"),
        ("outcome-nature", "line 50002, column acc_norm", "meta-llama/Llama-3.2-1B@0"),
    ]
    left = sorted((item.source.location, item.kind) for item in checked.ingested.left_out)
    assert left == [
        ("line 3, column accuracy", "outcome-agreement"),
        ("line 50002, column acc_norm", "outcome-nature"),
        ("line 50003, column accuracy", "outcome-agreement"),
    ]
    assert checked.ingested.n_outcomes == 2 * 50_002 - 3


def test_results_add_refuses_more_values_than_it_stores_in_one_line(tmp_path, monkeypatch, data_copy):
    """``results add`` stores at most MAX_STORED_VALUES at once; more is refused, nothing written, and check is named."""
    monkeypatch.setattr(results_pipeline, "MAX_STORED_VALUES", 10)
    path = capability_csv(tmp_path / "capability.csv", 6)  # 12 values
    with pytest.raises(TooManyToStore, match="12 values, more than the 10 `results add` stores at once"):
        add_results([path], data_copy)
    result = invoke("results", "add", str(path), "--data", str(data_copy))
    assert result.exit_code == 2 and "`catalogue results check` checks the file whole" in result.output, result.output
    assert not (data_copy / "outcomes.json").exists()


def test_a_json_file_of_more_items_than_memory_allows_is_refused_before_it_is_parsed(tmp_path):
    """64 MiB of ``[[],[],...]`` parsed whole took 1.8 GB; counted first, it is one line in a second."""
    from glu_catalogue.outcomes.reading import MAX_JSON_ITEMS

    path = tmp_path / "results_many.json"
    path.write_text("[" + "[]," * (MAX_JSON_ITEMS // 2) + "[]]")
    completed = run_cli("results", "check", str(path), timeout=60)
    assert completed.returncode == 2 and len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert f"more than the {MAX_JSON_ITEMS:,} an outcome file may hold" in completed.stderr


def test_json_items_are_counted_by_commas_and_opening_brackets(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    path.write_text('{"results": {}, "config": {}, "versions": {}}')  # 4 opening brackets, 2 commas
    monkeypatch.setattr(outcome_reading, "MAX_JSON_ITEMS", 6)
    assert read_outcome_file(path).format == "lm-eval-results"  # within the limit: parsed and read
    monkeypatch.setattr(outcome_reading, "MAX_JSON_ITEMS", 5)
    with pytest.raises(ReadError, match="up to 6 JSON items"):
        read_outcome_file(path)

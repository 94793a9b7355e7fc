"""Outcome files near the size cap: read a row at a time, and no more values than ``MAX_OUTCOME_VALUES``.

A CSV's rows are parsed as a reader asks for them (``CsvTable.records``), so a large file's rows are
never all held; a file that gives more values than the limit is refused in one line as soon as the
reader passes it, before anything is linked or checked. ``benchmarks/outcome_file_speed.py`` times
the files near the 64 MiB cap and the largest file checked whole.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import run_cli

from glu_catalogue.errors import ReadError
from glu_catalogue.outcomes import reading as outcome_reading
from glu_catalogue.outcomes.readers import read_outcome_file
from glu_catalogue.outcomes.reading import MAX_OUTCOME_VALUES
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
        CsvTable(Path("x.csv"), "").header


def test_a_file_of_more_values_than_the_limit_is_refused_while_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(outcome_reading, "MAX_OUTCOME_VALUES", 10)
    assert len(read_outcome_file(capability_csv(tmp_path / "five.csv", 5)).groups) == 5  # 10 values: read
    with pytest.raises(ReadError, match="more than 10 values in one outcome file"):
        read_outcome_file(capability_csv(tmp_path / "six.csv", 6))


def test_a_large_outcome_file_is_one_line_in_seconds(tmp_path):
    """Before the limit, a file of a million values was read, linked and checked whole (minutes, gigabytes)."""
    path = capability_csv(tmp_path / "capability.csv", MAX_OUTCOME_VALUES)  # twice the limit's values
    started = time.perf_counter()
    completed = run_cli("results", "check", str(path), timeout=120)
    assert completed.returncode == 2 and len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert f"more than {MAX_OUTCOME_VALUES:,} values in one outcome file" in completed.stderr and str(path) in completed.stderr
    assert time.perf_counter() - started < 30


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

"""Text from other people's files never reaches a CSV we write as a formula, and names that cannot be stored are refused.

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(OWASP, "CSV Injection"): every CSV the catalogue writes goes through ``store.writing.csv_lines``,
which puts a ``'`` before such text, while numbers (negative ones too) stay numbers and the JSON
keeps the text exact. A task, metric, filter or workload name that is empty or holds a control
character is a problem at its place, and that value is not stored.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from conftest import DATA, FIXTURES, run_here

from glu_catalogue.outcomes.reading import name_fault
from glu_catalogue.store.writing import csv_lines, spreadsheet_safe

LM_EVAL = FIXTURES / "lm_eval" / "results_2026-01-21T03-44-18.458309.json"
LLAMA, LLAMA_PARAMETERS = "meta-llama/Llama-3.2-1B", 1_235_814_400
FORMULA_TASK = "=cmd|' /C calc'!A0"
FORMULA_PROJECT = '=HYPERLINK("http://evil.example","click")'


@pytest.mark.parametrize(
    "cell, written",
    [
        ("=1+1", "'=1+1"),
        ("+1+cmd", "'+1+cmd"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-", "'-"),
        ("-0.5", "-0.5"),
        ("+3", "+3"),
        ("-1e-05", "-1e-05"),
        ("arc_easy", "arc_easy"),
        ("a=b", "a=b"),
        (-0.5, -0.5),
        (-3, -3),
        (None, None),
    ],
)
def test_spreadsheet_safe(cell, written):
    assert spreadsheet_safe(cell) == written


def test_csv_lines_keeps_numbers_numbers():
    rows = list(csv.reader(io.StringIO(csv_lines([["=A1", -2.5, -7, None, "-2.5"]]))))
    assert rows == [["'=A1", "-2.5", "-7", "", "-2.5"]]


@pytest.mark.parametrize(
    "name, fault",
    [
        ("acc", None),
        ("exact_match", None),
        ("é", None),
        ("", "is empty"),
        ("  ", "is empty"),
        ("\x00", "holds a control character U+0000"),
        ("a\nb", "holds a control character U+000A"),
        ("a\u202eb", "holds a control character U+202E"),
        (5, "is not text"),
    ],
)
def test_name_fault(name, fault):
    assert name_fault(name) == fault


def lm_eval_file(path, rename: dict[str, str] | None = None, metrics: dict[str, float] | None = None):
    """The real lm-eval file pointed at Llama-3.2-1B@0, its tasks renamed by ``rename`` and ``metrics`` added to its first task."""
    document = json.loads(LM_EVAL.read_text())
    document["config"].update(model_args=f"pretrained={LLAMA},dtype=bfloat16", model_num_parameters=LLAMA_PARAMETERS)
    for old, new in (rename or {}).items():
        for section in ("results", "n-shot", "versions", "higher_is_better", "n-samples"):
            if old in document.get(section, {}):
                document[section][new] = document[section].pop(old)
    first = next(iter(document["results"]))
    document["results"][first].update(metrics or {})
    path.write_text(json.dumps(document))
    return path


def emissions_csv(path, project: str):
    """A codecarbon 2.x emissions.csv of one run whose project_name is ``project``."""
    header = "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_energy,gpu_energy,ram_energy,energy_consumed,codecarbon_version"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [header.split(","), ["2024-03-01T10:00:00", project, "r1", 10.0, 2e-05, 2e-06, 1e-04, 0.0, 2e-05, 1.2e-04, "2.8.3"]]
    )
    path.write_text(buffer.getvalue())
    return path


def test_formula_text_from_files_is_neutralised_in_outcomes_csv_and_exact_in_json(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("models"))  # sources/: verify finds every stored source
    scores = lm_eval_file(tmp_path / "results.json", rename={"math_perturbed_full": FORMULA_TASK})
    energy = emissions_csv(tmp_path / "emissions.csv", FORMULA_PROJECT)
    for path, extra in ((scores, ()), (energy, ("--record", f"{LLAMA}@40"))):
        added = run_here("results", "add", str(path), *extra, "--data", str(data))
        assert added.returncode == 0, added.stdout + added.stderr
    rows = list(csv.reader(io.StringIO((data / "outcomes.csv").read_text(), newline="")))
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "@", "\t", "\r")) or (cell.startswith("-") and not cell[1:2].isdigit())]
    tasks = {row[4] for row in rows}
    assert "'" + FORMULA_TASK in tasks and "'" + FORMULA_PROJECT in tasks
    stored = json.loads((data / "outcomes.json").read_text())["outcomes"]
    assert {FORMULA_TASK, FORMULA_PROJECT} <= {o.get("task") or o["workload"]["name"] for o in stored}
    assert run_here("verify", str(data)).returncode == 0


def test_a_metric_named_empty_or_with_a_control_character_is_a_problem_and_not_stored(tmp_path):
    path = lm_eval_file(tmp_path / "results.json", metrics={",none": 0.5, "\x00,none": 0.5, "acc,\x1b[2J": 0.5})
    completed = run_here("results", "check", str(path), "--format", "json")
    assert completed.returncode == 1, completed.stderr
    messages = sorted(problem["message"] for problem in json.loads(completed.stdout)["problems"])
    assert messages == ["the filter name holds a control character U+001B", "the metric name holds a control character U+0000", "the metric name is empty"]
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("models"))  # sources/: verify finds every stored source
    assert run_here("results", "add", str(path), "--data", str(data)).returncode == 1
    stored = json.loads((data / "outcomes.json").read_text())["outcomes"]
    assert all(name_fault(o["metric"]) is None and name_fault(o.get("filter") or "x") is None for o in stored if o["kind"] == "score")

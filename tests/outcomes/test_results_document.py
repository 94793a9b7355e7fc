"""catalogue compare (equal ratios) and results check of a Markdown results document, on the shipped study."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_here

from glu_catalogue import compare, load_outcomes
from glu_catalogue.core.comparison import shared_ratios
from glu_catalogue.outcomes.compare import compare_stored
from glu_catalogue.outcomes.results_document import check_stored, markdown_tables
from glu_catalogue.store.outcomes_files import read_outcomes
from glu_catalogue.store.paths import default_data_dir

STUDY = default_data_dir() / "sources" / "study"
LLAMA_1B, LLAMA_3B = "meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-3B"


def stored_mmlu(model: str, pct: int) -> float:
    outcomes = load_outcomes()
    row = outcomes[(outcomes["record"] == f"{model}@{pct}") & (outcomes["task"] == "mmlu") & (outcomes["source_format"] == "study-capability-json")]
    return float(row["value"].iloc[0])


def test_shipped_study_holds_every_model():
    records = {outcome.base_model for outcome in read_outcomes(default_data_dir()).outcomes if outcome.source.path.startswith("data/sources/study/")}
    assert {LLAMA_1B, LLAMA_3B, "meta-llama/Llama-3.2-1B-Instruct"} <= records


def test_compare_at_2_4_pairs_1b_at_40_with_3b_at_10():
    rows = compare(ratio=2.4, models=[LLAMA_1B, LLAMA_3B])
    mmlu = rows[(rows["task"] == "mmlu") & (rows["measure"] == "accuracy")].set_index("record")
    assert list(mmlu.index) == [f"{LLAMA_1B}@40", f"{LLAMA_3B}@10"]
    for model, pct, study_pct in ((LLAMA_1B, 40, -13.6), (LLAMA_3B, 10, -22.7)):
        value, baseline = stored_mmlu(model, pct), stored_mmlu(model, 0)
        row = mmlu.loc[f"{model}@{pct}"]
        assert (row["value"], row["baseline_value"]) == (value, baseline)
        assert row["change_pct"] == pytest.approx(100 * (value - baseline) / baseline)
        assert round(row["change_pct"], 1) == study_pct  # the study's table
        assert any(source.endswith("_complete_results_latest.json") for source in row["sources"])


def test_no_level_is_said_never_interpolated():
    rows = compare(ratio=2.2, models=[LLAMA_1B])
    assert rows["value"].isna().all()
    assert rows["note"].str.startswith("no level within ±0.01 of 2.2x (nearest measured: ").all()
    wider = compare(ratio=2.3, tolerance=0.15, models=[LLAMA_1B])
    assert set(wider["record"].dropna()) == {f"{LLAMA_1B}@40"}  # 2.4004 is within 0.15 of 2.3; 2.0 is not


def test_pct_view_and_bad_requests():
    assert set(compare(pct=40, models=[LLAMA_3B])["record"].dropna()) == {f"{LLAMA_3B}@40"}
    from glu_catalogue.errors import InputError

    for kwargs in (
        {},
        {"ratio": 2.4, "pruning_pct": 10},
        {"ratio": -1},
        {"ratio": float("inf")},
        {"ratio": float("nan")},
        {"ratio": 2.4, "tolerance": float("nan")},
        {"pruning_pct": 101},
        {"ratio": 2.4, "models": ["nobody/none"]},
    ):
        with pytest.raises(InputError):
            compare_stored(**kwargs)


def test_shared_ratios_list_2_4_with_both_models():
    from glu_catalogue import load_catalogue

    ratios = dict(shared_ratios(read_outcomes(default_data_dir()).outcomes, load_catalogue().models))
    assert {f"{LLAMA_1B}@40", f"{LLAMA_3B}@10"} <= set(ratios[2.4])


def test_compare_command_json_matches_the_python_api():
    result = run_here("compare", "--ratio", "2.4", "--model", LLAMA_3B, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["ratio"], document["tolerance"]) == (2.4, 0.01)
    frame = compare(ratio=2.4, models=[LLAMA_3B])
    assert [row["change_pct"] for row in document["rows"]] == pytest.approx(list(frame["change_pct"]), nan_ok=True)
    bad = run_here("compare")
    assert bad.returncode == 2 and "give --ratio R or --pct P" in bad.stderr and "Traceback" not in bad.stderr


def kinds(check) -> list[tuple[str, str]]:
    return sorted((problem.kind, problem.field) for problem in check.report.problems)


def test_the_study_readme_as_it_is():
    """What really disagrees: PIQA's 1B baseline is its accuracy (its changes use acc_norm's), the size column is GiB
    labelled GB, four files named that are not there; the rounding of every other cell explains it."""
    check = check_stored(STUDY / "results-readme.md")
    matched = {(column.line, column.column): column for column in check.columns if column.measure}
    assert matched[(48, "MMLU")].measure == "mmlu accuracy" and matched[(48, "MMLU")].agree == 7
    assert matched[(220, "Model Size (GB)")].measure == "model_size_gib, mean of its workloads"
    found = kinds(check)
    assert [field for kind, field in found if kind == "document-metric"] == ["line 50, column 'PIQA'"]
    assert [field for kind, field in found if kind == "document-change"] == [f"line {line}, column 'PIQA'" for line in range(51, 57)]
    assert [field for kind, field in found if kind == "document-unit"] == ["line 220, column 'Model Size (GB)'"]
    assert len([kind for kind, _ in found if kind == "document-file"]) == 4
    assert len(found) == 12
    change = next(problem for problem in check.report.problems if problem.kind == "document-change")
    assert "follows from the column's stored baseline 0.7454" in change.message


WRITTEN = """# Results of Llama-3.2-3B

| Expansion Ratio | MMLU | ARC-C | Size (GB) | Made up |
|---|---|---|---|---|
| **2.67x** (baseline) | 0.5605 | 0.4582 | 5.98 | 1.5 |
| **2.4x** (10% pruning) | 0.4333 (-22.7%) | 0.3959 (-10.0%) | 5.59 | 2.5 |
| **2.13x** (20% pruning) | 0.2999 (-46.5%) | 0.3669 (-19.9%) | 5.20 | 3.5 |
| **1.87x** (30% pruning) | 0.2307 (-58.8%) | 0.2807 (-38.7%) | 4.80 | 4.5 |

See `llama_3b_results_latest.csv` and `missing_table.csv`.
"""


def test_a_document_with_each_kind_of_error(tmp_path: Path):
    document = tmp_path / "results.md"
    document.write_text(WRITTEN, encoding="utf-8")
    shutil.copyfile(STUDY / "llama_3b_results_latest.csv", tmp_path / "llama_3b_results_latest.csv")
    assert [len(table.rows) for table in markdown_tables(WRITTEN)] == [4]
    check = check_stored(document)
    by_column = {column.column: column for column in check.columns}
    assert by_column["Made up"].measure is None  # no stored measure: unmatched, not forced
    assert by_column["MMLU"].measure == "mmlu accuracy" and (by_column["MMLU"].agree, by_column["MMLU"].checked) == (3, 4)
    assert kinds(check) == [
        ("document-change", "line 6, column 'ARC-C'"),  # 0.3959 against 0.4582 is -13.6 %
        ("document-file", "line 10"),  # missing_table.csv (llama_3b_results_latest.csv is there)
        ("document-metric", "line 8, column 'ARC-C'"),  # 0.2807 is 3B@30's arc_challenge accuracy, not acc_norm
        ("document-unit", "line 3, column 'Size (GB)'"),
        ("document-value", "line 7, column 'MMLU'"),  # 0.2999 is no stored value of 3B@20
    ]
    result = run_here("results", "check", str(document))
    assert result.returncode == 1
    assert "'MMLU': mmlu accuracy, 3 of 4 cells agree" in result.stdout
    assert "'Made up': unmatched" in result.stdout


def test_an_unreadable_document_is_one_line_and_exit_2(tmp_path: Path):
    document = tmp_path / "results.md"
    document.write_bytes(b"| a | b |\n|---|---|\n| \xff\xfe | 1 |\n")
    result = run_here("results", "check", str(document))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and str(document) in result.stderr and "Traceback" not in result.stderr
    missing = run_here("results", "check", str(tmp_path / "absent.md"))
    assert missing.returncode == 2 and "absent.md" in missing.stderr

"""Hostile and careless outcome files through ``catalogue results check`` and ``results add``.

Each case runs the command in the test's process (what is checked is the exit code, the output and the files, not a
process: a subprocess per case cost a second each), and one case of each kind runs ``python -m glu_catalogue`` as a
user runs it.

Every reader's layout is broken in turn: lm-evaluation-harness's ``results_*.json`` (the real file
in ``fixtures/lm_eval/``, pointed at a registry model), the study's capability JSON and CSV (the
shipped files in ``data/sources/study/``). Two outcomes are allowed, decided per case:

* the file cannot be used (not JSON/CSV, another layout, a special or missing path, a model that
  cannot be joined): exit 2, exactly one ``error:`` line on stderr naming the file and the place,
  no traceback, and the data directory byte for byte as it was, for ``check`` and ``add`` alike;
* one value or claim is wrong (text, a list, NaN or Infinity where a number stands, a count that
  is not one): exit 1, a problem at that place with its kind, and that value (for a claim: every
  value of that model) never stored: ``add`` stores the rest, and what it writes is strict JSON.

A write that fails at any step of ``results add`` leaves the old files or the new ones, never a mix.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, FIXTURES, REPO, run_cli, run_here
from write_faults import CRASHING_BUILD, Steps

from glu_catalogue.errors import CatalogueError
from glu_catalogue.pipeline.lock import LOCK_FILE
from glu_catalogue.store.writing import JOURNAL_FILE

TIMEOUT = 60
HUGE = 10**400
LM_EVAL = FIXTURES / "lm_eval" / "results_2026-01-21T03-44-18.458309.json"
STUDY_JSON = DATA / "sources" / "study" / "llama_1b_complete_results_latest.json"
STUDY_CSV = DATA / "sources" / "study" / "llama_1b_results_latest.csv"
#: A shipped file of ``catalogue bench`` (SmolLM2-135M at 40 %, this machine's CPU).
BENCH = next((DATA / "measurements" / "bench" / "HuggingFaceTB__SmolLM2-135M" / "pruned-40pct").glob("bench_*.json"))
#: The record the lm-eval template is pointed at, and its parameter count (so the file checks clean).
LM_EVAL_MODEL, LM_EVAL_PARAMETERS = "meta-llama/Llama-3.2-1B", 1_235_814_400
TASK = "math_perturbed_full"
SCORE = f"results.{TASK}.exact_match,none"


# --- the files --------------------------------------------------------------------------------------


def lm_eval_document() -> dict[str, Any]:
    """The real lm-eval results file, its config naming Llama-3.2-1B at 0 % with the record's count."""
    document = json.loads(LM_EVAL.read_text())
    document["config"].update(model_args=f"pretrained={LM_EVAL_MODEL},dtype=bfloat16", model_num_parameters=LM_EVAL_PARAMETERS)
    return document


def study_document() -> dict[str, Any]:
    return json.loads(STUDY_JSON.read_text())


def study_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(STUDY_CSV.read_text(), newline="")))


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def lm_eval_with(edit: Callable[[dict], None]) -> Callable[[Path], Path]:
    return _json_file("results_edited.json", lm_eval_document, edit)


def study_with(edit: Callable[[dict], None]) -> Callable[[Path], Path]:
    return _json_file("llama_1b_complete_results_edited.json", study_document, edit)


def _json_file(name: str, template: Callable[[], dict], edit: Callable[[dict], None]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        document = copy.deepcopy(template())
        edit(document)
        (folder / name).write_text(json.dumps(document))  # Python writes NaN and Infinity as bare words
        return folder / name

    return make


def study_csv_with(line: int, column: str, value: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        rows = study_rows()
        rows[line - 1][rows[0].index(column)] = value
        (folder / "llama_1b_results_edited.csv").write_text(csv_text(rows))
        return folder / "llama_1b_results_edited.csv"

    return make


def bench_set(path: str, value: Any) -> Callable[[Path], Path]:
    return _json_file("bench_edited.json", lambda: json.loads(BENCH.read_text()), lambda document: set_in(document, path, value))


def text_file(name: str, content: str | bytes | Callable[[], str]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data = content() if callable(content) else content
        (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())
        return folder / name

    return make


def set_in(document: dict, path: str, value: Any) -> None:
    """``document[a][b]... = value`` for the dotted ``path`` (``|`` separates keys holding dots or commas)."""
    *parents, last = path.split("|")
    for key in parents:
        document = document[int(key) if isinstance(document, list) else key]
    document[int(last) if isinstance(document, list) else last] = value


def lm_set(path: str, value: Any) -> Callable[[Path], Path]:
    return lm_eval_with(lambda document: set_in(document, path, value))


def study_set(path: str, value: Any) -> Callable[[Path], Path]:
    return study_with(lambda document: set_in(document, path, value))


def fifo(folder: Path) -> Path:
    os.mkfifo(folder / "results.json")
    return folder / "results.json"


def directory(folder: Path) -> Path:
    (folder / "results.json").mkdir()
    return folder / "results.json"


def missing(folder: Path) -> Path:
    return folder / "results_never_written.json"


def link_loop(folder: Path) -> Path:
    os.symlink("loop.json", folder / "loop.json")
    return folder / "loop.json"


def huge(folder: Path) -> Path:
    """A file one byte over the 64 MiB an outcome file may hold (sparse: no disk used)."""
    with open(folder / "results.json", "wb") as handle:
        handle.truncate((64 << 20) + 1)
    return folder / "results.json"


def ragged_csv() -> str:
    rows = study_rows()
    rows[2].append("0.5")
    return csv_text(rows)


def repeated_column_csv() -> str:
    rows = study_rows()
    return csv_text([row + [row[rows[0].index("accuracy")]] for row in rows])


def _delete_model_args(document: dict) -> None:
    del document["config"]["model_args"]


# --- running them -----------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (the build lock aside: it is checked to be left empty)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != LOCK_FILE:
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    lock = folder / LOCK_FILE
    assert not lock.exists() or lock.read_bytes() == b"", lock.read_bytes()
    return found


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A scratch copy of the shipped data: catalogue, registry, outcomes and their sources."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns(LOCK_FILE))
    return target


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    return folder


def results(command: str, path: Path, data: Path, *extra: str, as_a_process: bool = False) -> subprocess.CompletedProcess:
    """``catalogue results COMMAND PATH --data DATA``: in this process, or ``as_a_process`` as a user runs it."""
    if as_a_process:
        return run_cli("results", command, str(path), "--data", str(data), *extra, timeout=TIMEOUT)
    return run_here("results", command, str(path), "--data", str(data), *extra, cwd=REPO)


def one_line_error(completed: subprocess.CompletedProcess) -> str:
    assert completed.returncode == 2, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr, completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses NaN and Infinity, which are not JSON."""
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} written as JSON"))


# --- files that cannot be used: exit 2, one line, nothing written --------------------------------------

UNUSABLE = {
    # syntax
    "malformed JSON": (text_file("results.json", '{"results": {'), ":1:14: invalid JSON"),
    "JSON with trailing data": (text_file("results.json", '{"results": {}} x'), "invalid JSON: Extra data"),
    "an empty JSON file": (text_file("results.json", ""), "invalid JSON"),
    "binary bytes as JSON": (text_file("results.json", b"\x89PNG\r\n\x1a\n\x00\xff"), "not UTF-8 text"),
    "JSON nested too deeply": (text_file("results.json", "[" * 100_000 + "]" * 100_000), "nested too deeply"),
    "a key twice in one object": (text_file("results.json", '{"results": {}, "results": {}}'), 'key "results" appears twice'),
    "a ragged CSV row": (text_file("results.csv", ragged_csv), ":3: CSV syntax: expected 24 fields as in the header, found 25"),
    "an unterminated CSV quote": (text_file("results.csv", 'model,pruning_pct,is_star,task\n"Llama,0,False,boolq\n'), "CSV syntax"),
    "binary bytes as CSV": (text_file("results.csv", b"\x00\xff\xfe\x89PNG\r\n"), "not UTF-8 text"),
    "an empty CSV file": (text_file("results.csv", ""), "empty file: expected a header row"),
    "a CSV column twice": (text_file("results.csv", repeated_column_csv), ":1: column 'accuracy' appears twice in the header"),
    # another layout
    "the catalogue itself": (lambda folder: Path(shutil.copy(DATA / "expansion_rates.json", folder)), "not an outcome file the catalogue reads"),
    "an empty list": (text_file("results.json", "[]"), "not an outcome file the catalogue reads"),
    "an empty object": (text_file("results.json", "{}"), "not an outcome file the catalogue reads"),
    "null": (text_file("results.json", "null"), "not an outcome file the catalogue reads"),
    "a CSV of other columns": (text_file("results.csv", "a,b\n1,2\n"), "not an outcome file the catalogue reads"),
    "lm-eval: results a list": (lm_set("results", []), "not an outcome file the catalogue reads"),
    "lm-eval: config a string": (lm_set("config", "hf"), "not an outcome file the catalogue reads"),
    "study: models_evaluated a list": (study_set("models_evaluated", []), "not an outcome file the catalogue reads"),
    "study: the first model a string": (study_set("models_evaluated|baseline", "baseline"), "not an outcome file the catalogue reads"),
    # not a regular file
    "a FIFO": (fifo, "is a FIFO (named pipe), expected an outcome file"),
    "a directory": (directory, "is a directory, expected an outcome file"),
    "a missing path": (missing, "no such file"),
    "a symbolic link loop": (link_loop, "a symbolic link loop"),
    "a huge file": (huge, "67108865 bytes, more than the 67108864 such a file may hold"),
    # a model that cannot be joined to one record
    "lm-eval: no model_args": (lm_eval_with(_delete_model_args), "(config): the file does not name its model"),
    "lm-eval: model_args a list": (lm_set("config|model_args", ["pretrained=x"]), "(config): the file does not name its model"),
    "study: a negative pruning %": (study_set("models_evaluated|baseline|pruning_pct", -5), "no record meta-llama/Llama-3.2-1B@-5"),
    "study: a pruning % beyond any float": (study_set("models_evaluated|baseline|pruning_pct", HUGE), "is not MODEL@PCT with a whole percentage"),
    "study CSV: no model name": (study_csv_with(28, "model", ""), "(line 28): the file does not name its model"),
    "study CSV: a negative pruning %": (study_csv_with(28, "pruning_pct", "-10"), "no record meta-llama/Llama-3.2-1B@-10"),
    "bench: a record the catalogue lacks": (bench_set("record", "me/nope@0"), "the catalogue has no record me/nope@0"),
    "bench: a device that is a number": (bench_set("measurement|device", 5), "measurement.device: Input should be a valid string"),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_a_file_that_cannot_be_used_is_one_line_and_nothing_written(case, inputs, data_dir):
    is_one_line_and_nothing_written(case, inputs, data_dir, as_a_process=False)


def test_a_file_that_cannot_be_used_is_one_line_from_the_command_as_a_user_runs_it(inputs, data_dir):
    is_one_line_and_nothing_written("malformed JSON", inputs, data_dir, as_a_process=True)


def is_one_line_and_nothing_written(case: str, inputs: Path, data_dir: Path, as_a_process: bool) -> None:
    make, expected = UNUSABLE[case]
    path = make(inputs)
    before = snapshot(data_dir)
    for command in ("check", "add"):
        line = one_line_error(results(command, path, data_dir, as_a_process=as_a_process))
        assert str(path) in line and expected in line, (command, line)
        assert snapshot(data_dir) == before, command


# --- one wrong value or claim: exit 1, reported at its place, never stored -------------------------------

#: What the untouched files report (the study's lambada perplexity and bits per byte of 0).
_BASELINE: dict[Path, set[tuple[str, str]]] = {}


def baseline_problems(source: Path, data: Path) -> set[tuple[str, str]]:
    if source not in _BASELINE:
        completed = results("check", source, data, "--format", "json")
        assert completed.returncode in (0, 1), completed.stderr
        _BASELINE[source] = {(problem["field"], problem["kind"]) for problem in strict_json(completed.stdout)["problems"]}
    return _BASELINE[source]


def source_of(case_file: Path) -> Path | None:
    """The file a case's file was edited from (None: the lm-eval template, which checks clean)."""
    return {"llama_1b_results_edited.csv": STUDY_CSV, "llama_1b_complete_results_edited.json": STUDY_JSON}.get(case_file.name)


#: case -> (the file, the places the new problems name, their kind, the places of values that must not be stored
#: (a prefix: every value of that model)).
WRONG_VALUES: dict[str, tuple[Callable[[Path], Path], set[str], str, tuple[str, ...]]] = {
    # lm-eval: scores and their stderr, n-shot, samples; the parameter count it claims
    **{
        f"lm-eval: a score that is {name}": (lm_set(f"results|{TASK}|exact_match,none", value), {SCORE}, "outcome-nature", (SCORE,))
        for name, value in (
            ("text", "high"),
            ("a list", [0.1]),
            ("an object", {"v": 0.1}),
            ("a boolean", True),
            ("NaN", float("nan")),
            ("Infinity", float("inf")),
            ("-Infinity", float("-inf")),
            ("beyond any float", HUGE),
        )
    },
    "lm-eval: a score above 1 for a proportion": (lm_set(f"results|{TASK}|exact_match,none", 1.5), {SCORE}, "outcome-nature", (SCORE,)),
    "lm-eval: a stderr that is NaN": (lm_set(f"results|{TASK}|exact_match_stderr,none", float("nan")), {f"{SCORE} (stderr)"}, "outcome-nature", (SCORE,)),
    "lm-eval: a stderr that is text": (lm_set(f"results|{TASK}|exact_match_stderr,none", "abc"), {f"{SCORE} (stderr)"}, "outcome-nature", (SCORE,)),
    "lm-eval: an n-shot that is text": (lm_set(f"n-shot|{TASK}", "five"), {f"{SCORE} (n-shot)"}, "outcome-nature", (SCORE,)),
    "lm-eval: a negative n-shot": (lm_set(f"n-shot|{TASK}", -3), {f"{SCORE} (n-shot)"}, "outcome-nature", (SCORE,)),
    "lm-eval: samples that are text": (lm_set(f"n-samples|{TASK}", {"original": 5000, "effective": "x"}), {f"{SCORE} (n-samples)"}, "outcome-nature", (SCORE,)),
    "lm-eval: samples a list": (lm_set(f"n-samples|{TASK}", [5000]), {f"{SCORE} (n-samples)"}, "outcome-nature", (SCORE,)),
    "lm-eval: a task's results a list": (lm_set(f"results|{TASK}", [0.1]), {f"results.{TASK}"}, "outcome-nature", (f"results.{TASK}.",)),
    "lm-eval: a parameter count that is text": (lm_set("config|model_num_parameters", "many"), {"config.model_num_parameters"}, "outcome-claim", ("results.",)),
    "lm-eval: a parameter count that is NaN": (
        lm_set("config|model_num_parameters", float("nan")),
        {"config.model_num_parameters"},
        "outcome-claim",
        ("results.",),
    ),
    "lm-eval: a parameter count beyond any float": (
        lm_set("config|model_num_parameters", HUGE),
        {"config.model_num_parameters"},
        "outcome-claim",
        ("results.",),
    ),
    # the study's capability JSON: a score, what it claims of a model, the benchmarks' n-shot
    **{
        f"study: a score that is {name}": (
            study_set("models_evaluated|pruned_10pct|results|mmlu|accuracy", value),
            {"models_evaluated.pruned_10pct.results.mmlu.accuracy"},
            "outcome-nature",
            ("models_evaluated.pruned_10pct.results.mmlu.accuracy",),
        )
        for name, value in (("text", "high"), ("a list", [0.3]), ("NaN", float("nan")), ("-Infinity", float("-inf")), ("beyond any float", HUGE))
    },
    **{
        f"study: a {key} that is {name}": (
            study_set(f"models_evaluated|pruned_20pct|{key}", value),
            {f"models_evaluated.pruned_20pct.{key}"},
            "outcome-claim",
            ("models_evaluated.pruned_20pct.",),
        )
        for key, name, value in (
            ("pruning_pct", "text", "ten"),
            ("pruning_pct", "NaN", float("nan")),
            ("pruning_pct", "a fraction", 20.5),
            ("expansion_rate", "text", "wide"),
            ("expansion_rate", "Infinity", float("inf")),
            ("expansion_rate", "a list", [3.2]),
            ("name", "a number", 5),
            ("hf_repo", "a list", ["peremartra/Llama-3.2-1B-pruned-20pct"]),
            ("model_size_gb", "text", "big"),
            ("model_size_gb", "beyond bytes a float holds", 1e300),
            ("model_size_gb", "NaN", float("nan")),
        )
    },
    "study: a model entry that is text": (
        study_set("models_evaluated|pruned_70pct", "not run"),
        {"models_evaluated.pruned_70pct"},
        "outcome-nature",
        ("models_evaluated.pruned_70pct",),
    ),
    "study: benchmarks an object": (study_set("benchmarks", {"mmlu": 5}), {"benchmarks"}, "outcome-nature", ()),
    "study: a benchmark named by a list": (study_set("benchmarks|3|name", ["mmlu"]), {"benchmarks[3]"}, "outcome-nature", ()),
    "study: an n-shot that is text": (
        study_set("benchmarks|3|num_fewshot", "five"),
        {f"models_evaluated.{key}.results.mmlu.accuracy (n-shot)" for key in ("baseline", *(f"pruned_{pct}pct" for pct in range(10, 70, 10)))},
        "outcome-nature",
        ("models_evaluated.baseline.results.mmlu.accuracy",),
    ),
    # the study's CSV: a score, its stderr, the pruning % a row claims, a row without its task
    **{
        f"study CSV: a score that is {name}": (
            study_csv_with(15, "accuracy", value),
            {"line 15, column accuracy"},
            "outcome-nature",
            ("line 15, column accuracy",),
        )
        for name, value in (("text", "high"), ("NaN", "NaN"), ("inf", "inf"), ("-Infinity", "-Infinity"), ("beyond any float", "9" * 500))
    },
    "study CSV: a stderr that is nan": (
        study_csv_with(4, "exact_match_stderr,strict-match", "nan"),
        {"line 4, column exact_match,strict-match (stderr)"},
        "outcome-nature",
        ("line 4, column exact_match,strict-match",),
    ),
    "study CSV: a pruning % that is text": (study_csv_with(28, "pruning_pct", "ten"), {"line 28, column pruning_pct"}, "outcome-claim", ("line 28,",)),
    "study CSV: a pruning % that is a fraction": (study_csv_with(28, "pruning_pct", "20.5"), {"line 28, column pruning_pct"}, "outcome-claim", ("line 28,",)),
    "study CSV: a row without its task": (study_csv_with(15, "task", ""), {"line 15, column task"}, "outcome-nature", ("line 15,",)),
    # catalogue bench: its runs, its summary, what it claims of the model it measured
    "bench: a run's seconds below 0": (bench_set("workloads|0|runs|0|prefill_s", -1), {"workloads"}, "outcome-nature", ("workloads",)),
    "bench: workloads a string": (bench_set("workloads", "fast"), {"workloads"}, "outcome-nature", ("workloads",)),
    "bench: a batch size that is text": (bench_set("workloads|2|batch_size", "x"), {"workloads"}, "outcome-nature", ("workloads",)),
    "bench: a summary other than its runs": (
        bench_set("summary|decode-b1|decode_tokens_per_s|median", 1.0),
        {"summary.decode-b1.decode_tokens_per_s.median"},
        "outcome-consistency",
        (),
    ),
    "bench: a summary that is a list": (bench_set("summary", []), {"summary"}, "outcome-nature", ()),
    "bench: a peak memory that is NaN": (bench_set("memory_peak_bytes", float("nan")), {"memory_peak_bytes"}, "outcome-nature", ("memory_peak_bytes",)),
    "bench: energy that cannot be read": (bench_set("workloads|2|energy", {"kwh": "x"}), {"workloads[2].energy"}, "outcome-nature", ("workloads[2].energy",)),
    "bench: neurons other than the record's": (
        bench_set("measurement|kept_indices_sha256", "0" * 64),
        {"measurement.kept_indices_sha256"},
        "outcome-claim",
        ("workloads",),
    ),
    "bench: a parameter count other than the record's": (
        bench_set("total_parameters", 5),
        {"measurement.model_num_parameters"},
        "outcome-claim",
        ("workloads",),
    ),
}


@pytest.mark.parametrize("case", list(WRONG_VALUES))
def test_a_wrong_value_is_reported_at_its_place_and_never_stored(case, inputs, data_dir):
    is_reported_at_its_place_and_never_stored(case, inputs, data_dir, as_a_process=False)


def test_a_wrong_value_is_reported_from_the_command_as_a_user_runs_it(inputs, data_dir):
    is_reported_at_its_place_and_never_stored("lm-eval: a score that is NaN", inputs, data_dir, as_a_process=True)


def is_reported_at_its_place_and_never_stored(case: str, inputs: Path, data_dir: Path, as_a_process: bool) -> None:
    make, places, kind, never_stored = WRONG_VALUES[case]
    path = make(inputs)
    source = source_of(path)
    baseline = baseline_problems(source, data_dir) if source is not None else set()
    checked = results("check", path, data_dir, "--format", "json", as_a_process=as_a_process)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr and checked.stderr == "", checked.stderr
    found = {(problem["field"], problem["kind"]) for problem in strict_json(checked.stdout)["problems"]}
    assert found - baseline == {(place, kind) for place in places}

    added = results("add", path, data_dir, "--format", "json", as_a_process=as_a_process)
    assert added.returncode == 1 and "Traceback" not in added.stderr, added.stderr
    report = strict_json(added.stdout)
    assert report["added"] + report["left_out"] > 0  # the rest of the file is stored, what a check rejects listed as left out
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    stored = strict_json((data_dir / "outcomes.json").read_text())
    locations = [outcome["source"]["location"] for outcome in stored["outcomes"] if outcome["source"]["sha256"] == sha256]
    assert len(locations) == report["added"] and not [location for location in locations if never_stored and location.startswith(never_stored)]
    table = (data_dir / "outcomes.csv").read_text().lower()
    assert ",nan," not in table and "inf," not in table


def test_the_lm_eval_template_checks_clean(inputs, data_dir):
    path = lm_eval_with(lambda document: None)(inputs)
    completed = results("check", path, data_dir, "--format", "json")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = strict_json(completed.stdout)
    assert report["links"] == {str(path): [f"{LM_EVAL_MODEL}@0"]} and report["outcomes"] == 2 and report["problems"] == []


def test_a_file_of_no_values_adds_nothing(inputs, data_dir):
    path = text_file("results.csv", lambda: csv_text(study_rows()[:1]))(inputs)
    before = snapshot(data_dir)
    completed = results("add", path, data_dir, "--format", "json")
    assert completed.returncode == 0, completed.stderr
    assert strict_json(completed.stdout)["added"] == 0 and snapshot(data_dir) == before


def test_one_file_named_twice_is_stored_once(inputs, data_dir):
    path = lm_eval_with(lambda document: None)(inputs)
    copy_of_it = Path(shutil.copy(path, inputs / "copy.json"))
    completed = run_cli("results", "add", str(path), str(path), str(copy_of_it), "--data", str(data_dir), "--format", "json", timeout=TIMEOUT)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert strict_json(completed.stdout)["added"] == 2
    verified = run_cli("verify", str(data_dir), timeout=TIMEOUT)
    assert verified.returncode == 0, verified.stdout[-3000:]


# --- a write that fails mid-way ---------------------------------------------------------------------------


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (temporary files and journals included) and its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file() and path.name != LOCK_FILE}


def small_data(folder: Path) -> Path:
    """A data directory of the catalogue and the stored outcomes (no sources: a copy per step stays cheap)."""
    folder.mkdir(parents=True)
    for name in ("expansion_rates.json", "expansion_rates_summary.csv", "outcomes.json", "outcomes.csv"):
        shutil.copy(DATA / name, folder / name)
    return folder


def test_a_fault_at_every_step_of_results_add_leaves_the_old_or_the_new_files(tmp_path):
    from glu_catalogue.pipeline.results import add_results
    from glu_catalogue.store.writing import recover_data_dir

    source = lm_eval_with(lambda document: None)(tmp_path)
    old_dir, new_dir = small_data(tmp_path / "old"), small_data(tmp_path / "new")
    with pytest.MonkeyPatch.context() as patch:
        steps = Steps(patch)
        add_results([source], new_dir)
    old, new = tree(old_dir), tree(new_dir)
    assert old != new and steps.count > 5
    failed = 0
    for fail_at in range(1, steps.count + 1):
        data = small_data(tmp_path / f"fault-{fail_at}")
        with pytest.MonkeyPatch.context() as patch:
            Steps(patch, fail_at)
            try:
                add_results([source], data)
            except CatalogueError as error:
                assert "injected fault" in str(error) and "\n" not in str(error), (fail_at, error)
                failed += 1
        recover_data_dir(data)  # what the next command does first
        assert tree(data) in (old, new), fail_at
    assert failed > 0


@pytest.mark.parametrize("crash_at_replace", [1, 2, 3, 4])  # CRASHING_BUILD runs any command, killed at that os.replace
def test_results_add_killed_at_a_rename_is_undone_or_finished_by_the_next_command(crash_at_replace, tmp_path):
    """os.replace 1 makes the journal current, 2 commits it (the write happens from there), 3 and 4 rename the two files."""
    source = lm_eval_with(lambda document: None)(tmp_path)
    old_dir, new_dir, data = small_data(tmp_path / "old"), small_data(tmp_path / "new"), small_data(tmp_path / "crashed")
    assert run_cli("results", "add", str(source), "--data", str(new_dir), timeout=TIMEOUT).returncode == 0
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_BUILD, "results", "add", str(source), "--data", str(data)],
        env={**os.environ, "CRASH_AT_REPLACE": str(crash_at_replace)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=REPO,
    )
    assert crashed.returncode == 70, crashed.stderr
    checked = run_cli("results", "check", str(source), "--data", str(data), timeout=TIMEOUT)  # recovers first
    assert checked.returncode == 0, checked.stdout + checked.stderr
    expected = tree(old_dir) if crash_at_replace <= 2 else tree(new_dir)
    assert tree(data) == expected and not (data / JOURNAL_FILE).exists()


def test_a_text_file_that_is_no_outcome_file_says_what_was_expected(tmp_path):
    """A file of another kind (a log, /etc/passwd) is not reported as broken JSON, but as not an outcome file."""
    notes = tmp_path / "run.log"
    notes.write_text("root:x:0:0:root:/root:/bin/bash\nstarted at 12:00\n")
    result = run_cli("results", "check", str(notes))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"error: {notes}: not an outcome file the catalogue reads (neither JSON nor a .csv file)")
    broken = tmp_path / "results_x.json"
    broken.write_text('{"results": ')
    line = run_cli("results", "check", str(broken)).stderr.strip()
    assert line.startswith(f"error: {broken}:1:13: invalid JSON"), line

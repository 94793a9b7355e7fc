"""Whole numbers written as text: one parser (``core.text.whole_number``), ASCII digits only, bounded length.

``"²".isdigit()`` and ``"٣".isdigit()`` are true and ``int("٣")`` is 3, ``int()`` of 5,000 digits
raises, ``"--5".lstrip("-")`` is digits: every place a number is read from text (an outcome file's
counts, n-shot and pruning %, ``MODEL@PCT`` labels, ``--levels``, ``--shard``, bench's options)
goes through the one parser. Hypothesis feeds random text to each parser in-process (a value or a
``CatalogueError``, never another exception) and to ``results check`` and ``inspect`` (exit 0, 1
or 2, one line on stderr for 2, never a traceback); a few cases run as a user runs them.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import DATA, FIXTURES, invoke, run_here
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glu_catalogue.checkpoints.inspect import parse_record_label
from glu_catalogue.cli.measure_options import integers
from glu_catalogue.core.text import MAX_WHOLE_DIGITS, record_label_parts, whole_number
from glu_catalogue.errors import CatalogueError
from glu_catalogue.outcomes.reading import whole
from glu_catalogue.pipeline.selection import parse_levels
from glu_catalogue.pipeline.shards import parse_shard

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
CLI_SETTINGS = settings(SETTINGS, max_examples=25)

#: Text that looks like a number to ``str.isdigit`` or ``int()`` and is not one here, and edges of the length bound.
TRICKY = [
    "²",
    "٣",
    "１２",
    "1_000",
    "--5",
    "+-5",
    "-+5",
    "5-",
    "0x10",
    "1e3",
    "1.0",
    " ",
    "",
    "+",
    "-",
    "\x00",
    "1\n2",
    "9" * 5000,
    "9" * (MAX_WHOLE_DIGITS + 1),
]
NUMBER_TEXT = st.sampled_from(TRICKY) | st.text(alphabet=st.sampled_from("0123456789+-²٣１ .,%@_\n"), max_size=40) | st.text(max_size=30)
LM_EVAL = FIXTURES / "lm_eval" / "results_2026-01-21T03-44-18.458309.json"
STUDY_CSV = DATA / "sources" / "study" / "llama_1b_results_latest.csv"
LLAMA, LLAMA_PARAMETERS = "meta-llama/Llama-3.2-1B", 1_235_814_400


# --- the parser ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, signed, expected",
    [
        ("40", False, 40),
        (" +7 ", False, 7),
        ("-3", False, None),
        ("-3", True, -3),
        ("007", False, 7),
        ("9" * MAX_WHOLE_DIGITS, False, int("9" * MAX_WHOLE_DIGITS)),
    ]
    + [(text, True, None) for text in TRICKY],
)
def test_whole_number_reads_ascii_digits_only(text, signed, expected):
    assert whole_number(text, signed=signed) == expected


@pytest.mark.parametrize("label, expected", [("a/b@40", ("a/b", 40)), ("a/b@40%", ("a/b", 40)), (" a/b @ 7 ", ("a/b", 7)), ("a@b@5", ("a@b", 5))])
def test_record_label_parts(label, expected):
    assert record_label_parts(label) == expected


@pytest.mark.parametrize("label", ["a/b@²", "a/b@٣", "a/b@" + "1" * 5000, "a/b@--5", "a/b@-5", "@40", "a/b", "a/b@", "a/b@4.0", "a/b@1000"])
def test_a_label_that_is_not_model_at_pct_is_refused(label):
    assert record_label_parts(label) is None
    with pytest.raises(CatalogueError, match="expected MODEL@PCT"):
        parse_record_label(label)


@SETTINGS
@given(NUMBER_TEXT, st.booleans())
def test_whole_number_of_any_text(text, signed):
    """A value only for ASCII digits with one optional sign; the value is ``int()`` of the text."""
    parsed = whole_number(text, signed=signed)
    stripped = text.strip(" \t\n\r")
    digits = stripped.lstrip("+-")
    plain = len(stripped) - len(digits) <= 1 and digits.isascii() and digits.isdigit() and len(digits) <= MAX_WHOLE_DIGITS
    if plain and (signed or not stripped.startswith("-")):
        assert parsed == int(stripped)
    else:
        assert parsed is None


@SETTINGS
@given(NUMBER_TEXT)
def test_every_parser_of_text_gives_a_value_or_a_catalogue_error(text):
    """Each parser of whole numbers in text: a value, None, or a one-line ``CatalogueError``, never another exception."""
    assert whole(text) == whole_number(text, signed=True)
    for parse in (parse_record_label, lambda t: parse_record_label(f"a/b@{t}"), parse_levels, parse_shard, lambda t: integers(t, "--batch")):
        try:
            parse(text)
        except CatalogueError as error:
            assert "\n" not in str(error).strip() or "\n" in text


# --- as a user meets it -----------------------------------------------------------------------------


def lm_eval_file(directory: Path, **config) -> Path:
    """The real lm-eval file pointed at Llama-3.2-1B, with ``config`` (and ``n-shot``) as given."""
    document = json.loads(LM_EVAL.read_text())
    n_shot = config.pop("n_shot", None)
    document["config"].update({"model_args": f"pretrained={LLAMA},dtype=bfloat16", "model_num_parameters": LLAMA_PARAMETERS, **config})
    if n_shot is not None:
        document["n-shot"] = {task: n_shot for task in document["n-shot"]}
    path = directory / "results_edited.json"
    path.write_text(json.dumps(document))
    return path


def study_csv_file(directory: Path, pct: str) -> Path:
    rows = list(csv.reader(io.StringIO(STUDY_CSV.read_text(), newline="")))
    rows[1][1] = pct
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path = directory / "capability.csv"
    path.write_text(buffer.getvalue())
    return path


def assert_clean(completed, codes=(0, 1, 2)) -> None:
    assert completed.returncode in codes, completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    if completed.returncode == 2:
        assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr


@pytest.mark.parametrize("count", ["--5", "²", "9" * 5000])
def test_a_parameter_count_that_is_not_a_number_is_a_problem_not_a_traceback(tmp_path, count):
    completed = run_here("results", "check", str(lm_eval_file(tmp_path, model_num_parameters=count)))
    assert_clean(completed, (1,))
    assert "config.model_num_parameters" in completed.stdout


def test_an_n_shot_and_a_pruning_pct_that_are_not_numbers_are_problems(tmp_path):
    completed = run_here("results", "check", str(lm_eval_file(tmp_path, n_shot="--3")), "--format", "json")
    assert_clean(completed, (1,))
    assert {problem["field"] for problem in json.loads(completed.stdout)["problems"]} >= {"results.math_perturbed_full.exact_match,none (n-shot)"}
    completed = run_here("results", "check", str(study_csv_file(tmp_path, "--5")))
    assert_clean(completed, (1, 2))
    assert "pruning_pct" in completed.stdout + completed.stderr


@pytest.mark.parametrize("pct", ["²", "1" * 5000, "--5"])
def test_a_record_label_with_a_pct_that_is_not_a_number_is_one_line(tmp_path, pct):
    label = f"{LLAMA}@{pct}"
    for args in (
        ("results", "check", str(lm_eval_file(tmp_path)), "--record", label),
        ("inspect", str(tmp_path), "--record", label),
        ("verify", "--checkpoint", str(tmp_path), "--record", label, str(DATA)),
    ):
        completed = run_here(*args)
        assert_clean(completed, (2,))
        assert "MODEL@PCT" in completed.stderr


def test_a_files_catalogue_record_that_is_not_model_at_pct_is_one_line(tmp_path):
    path = lm_eval_file(tmp_path)
    document = json.loads(path.read_text())
    document["catalogue"] = {"record": f"{LLAMA}@²", "measurement": {}}
    path.write_text(json.dumps(document))
    completed = run_here("results", "check", str(path))
    assert_clean(completed, (2,))
    assert "MODEL@PCT" in completed.stderr


@CLI_SETTINGS
@given(NUMBER_TEXT, NUMBER_TEXT)
def test_results_check_and_inspect_of_any_number_text(tmp_path_factory, count, pct):
    """In-process: any text as a file's parameter count, n-shot and ``--record``'s pct: exit 0, 1 or 2, never an exception."""
    directory = tmp_path_factory.mktemp("numbers")
    path = lm_eval_file(directory, model_num_parameters=count, n_shot=pct)
    for args in (
        ("results", "check", str(path)),
        ("results", "check", str(path), "--record", f"{LLAMA}@{pct}"),
        ("inspect", str(directory), "--record", f"{LLAMA}@{pct}"),
    ):
        result = invoke(*args)
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))

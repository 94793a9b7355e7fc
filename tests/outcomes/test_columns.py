"""``outcomes/columns.py``: values kept column by column, given back as their readers wrote them.

In process and fast: the columns round-trip a reader's values, keep what values share once, make
a CSV cell's place as text only when asked, pick one row per signature to validate (and every row
whose columns hold what a record would refuse), and find the rows whose keys hash alike.
"""

from __future__ import annotations

import math
from array import array

from glu_catalogue.outcomes.columns import Hashed, Places, ValueColumns, repeated

SOURCE = {"path": "results.json", "sha256": "a" * 64, "format": "lm-eval-results"}


def score(task: str, value: float, location: str, **fields) -> dict:
    """A score as the lm-eval reader builds it."""
    return {
        "kind": "score",
        "task": task,
        "metric": "acc",
        "filter": "none",
        "value": value,
        "stderr": 0.01,
        "n_shot": 0,
        "harness_version": "0.4.13",
        **fields,
        "source": {**SOURCE, "location": location},
    }


def efficiency(quantity: str, value: float, location: str) -> dict:
    """An efficiency value as the codecarbon reader builds it."""
    return {
        "kind": "efficiency",
        "workload": {"name": "eval"},
        "quantity": quantity,
        "value": value,
        "runs": {"count": 1},
        "meter": {"tool": "codecarbon", "version": "3.3.2", "mode": "machine", "device": None},
        "source": {**SOURCE, "location": location},
    }


def test_values_come_back_as_their_reader_wrote_them():
    columns = ValueColumns()
    given = [
        score("arc", 0.5, "results.arc.acc,none"),
        efficiency("duration_s", 12.5, "line 2, column duration"),
        score("mmlu", 0.25, "results.mmlu.acc,none", n_samples=100),
    ]
    for value in given:
        columns.append(value)
    assert len(columns) == 3 and list(columns) == given and columns[-1] == given[-1]
    assert [columns.is_score_row(row) for row in range(3)] == [True, False, True]


def test_what_values_share_is_kept_once():
    columns = ValueColumns()
    for index in range(1000):
        columns.append(score(f"task_{index}", 0.5, f"results.task_{index}.acc,none"))
        columns.append(efficiency("duration_s", 1.0 + index, f"line {index + 2}, column duration"))  # an equal meter each time
    assert len(columns.commons) == 2 and columns.is_score == [True, False]
    assert columns.row(1999)["meter"] == efficiency("duration_s", 0, "-")["meter"] and columns.row(1999)["value"] == 1000.0


def test_a_shared_part_given_as_one_object_is_found_by_identity_and_equal_ones_are_not_confused():
    columns = ValueColumns()
    columns.origin = tuple(SOURCE.values())
    common = {"kind": "score", "harness_version": None}
    for row in range(3):
        columns.add(common, "task", "acc", None, 0.5, None, None, (row + 2, "accuracy"))
    columns.add({"kind": "score", "harness_version": 1}, "task", "acc", None, 0.5, None, None, (5, "accuracy"))  # 1, not None
    columns.add({"kind": "score", "harness_version": True}, "task", "acc", None, 0.5, None, None, (6, "accuracy"))  # True == 1 in Python
    assert list(columns.shared) == [0, 0, 0, 1, 2]
    assert columns.row(4)["harness_version"] is True and columns.row(3)["harness_version"] == 1


def test_a_csv_cell_s_place_is_made_as_text_when_asked():
    places = Places()
    places.append((2, "accuracy"))
    places.append((3, "acc_norm"))
    assert list(places) == ["line 2, column accuracy", "line 3, column acc_norm"] and places[1] == "line 3, column acc_norm"
    assert list(places.keys([0, 1])) == [(2, "accuracy"), (3, "acc_norm")]
    places.append("results.arc.acc,none")  # a place given as text: every key is the text
    assert list(places.keys([0, 2])) == ["line 2, column accuracy", "results.arc.acc,none"]


def test_one_row_per_signature_is_validated_and_every_odd_row_on_its_own():
    columns = ValueColumns()
    for index in range(10):
        columns.append(score(f"task_{index}", 0.5, f"results.task_{index}.acc,none"))
    columns.append(score("no_stderr", 0.5, "results.no_stderr.acc,none", stderr=None))  # another signature
    columns.append(score("nan_stderr", 0.5, "results.nan_stderr.acc,none", stderr=math.nan))  # a record refuses NaN
    columns.append(score("negative_shots", 0.5, "results.negative_shots.acc,none", n_shot=-1))
    columns.append(score("shots_as_text", 0.5, "results.shots_as_text.acc,none", n_shot="0"))
    columns.append(score("task_3", 0.75, "results.task_3.acc,none"))
    assert columns.first_of_each_signature(range(len(columns))) == [0, 10, 11, 12, 13]
    assert columns.first_of_each_signature(array("l", [2, 3, 11, 14])) == [2, 11]


def test_repeated_hashes_are_found_in_order_and_named_by_their_rows():
    assert repeated(array("q", [5, 1, 5, 2, 1, 7])) == [0, 1, 2, 4] and repeated(array("q")) == []
    hashed = Hashed()
    hashed.extend("first", [10, 11, 12], iter([("a", 1), ("b", 1), ("c", 1)]))
    hashed.extend("second", range(2), iter([("c", 1), ("d", 1)]))
    assert hashed.repeated() == [("first", 12), ("second", 0)]

"""The page of the results as checked, computed in-process: the files read, values stored and left out, and
the pages that list the values left out (at most ``LEFT_OUT_ROWS_PER_PAGE`` rows each)."""

from __future__ import annotations

import pytest
from outcome_builders import score, source

from glu_catalogue.core.outcome_records import LeftOut, OutcomesFile
from glu_catalogue.site import checked_results
from glu_catalogue.site.checked_results import checked_results_page, disagreement_rows, file_name, left_out_pages, left_out_parts, source_files

BASE = "meta-llama/Llama-3.2-1B"


def left_out(path: str, n: int, sha256: str, **fields) -> list[LeftOut]:
    """``n`` values of ``path`` (of bytes ``sha256``) left out (places ``results.t<i>.acc``)."""
    return [
        LeftOut(
            source=source(path, location=f"results.t{index}.acc", sha256=sha256),
            record=f"{BASE}@40",
            what=f"t{index} acc",
            value="1.5",
            reason="acc is a share of examples",
            kind="outcome-nature",
            **fields,
        )
        for index in range(n)
    ]


def test_source_files_are_every_file_read_once_by_path():
    stored = score(f"{BASE}@40", "arc", "acc", 0.5, source=source("b.json", sha256="b" * 64))
    outcomes = OutcomesFile(outcomes=[stored, stored], left_out=left_out("a.json", 2, "a" * 64) + left_out("b.json", 1, "b" * 64))
    assert [(file.path, file.sha256[0]) for file in source_files(outcomes)] == [("a.json", "a"), ("b.json", "b")]


def test_a_files_name_is_the_last_part_of_its_path_as_given():
    assert file_name(source("data/sources/study/x.json")) == "x.json" and file_name(source("C:\\runs\\y.json")) == "y.json"


@pytest.mark.parametrize(
    ("sizes", "pages"),
    [
        ((3, 1), [[("a.json", 3), ("b.json", 1)]]),  # two files share a page
        ((3, 2), [[("a.json", 3)], [("b.json", 2)]]),  # a file is not split to fill a page
        ((9, 1), [[("a.json", 4)], [("a.json", 4)], [("a.json", 1), ("b.json", 1)]]),  # a file of more than a page has pages of its own
    ],
)
def test_values_left_out_are_paged_by_file_at_most_rows_per_page(monkeypatch, sizes, pages):
    monkeypatch.setattr(checked_results, "LEFT_OUT_ROWS_PER_PAGE", 4)
    outcomes = OutcomesFile(left_out=left_out("a.json", sizes[0], "a" * 64) + left_out("b.json", sizes[1], "b" * 64))
    assert [[(file.path, len(items)) for file, items in part] for part in left_out_parts(outcomes)] == pages
    assert len(left_out_pages(outcomes, set())) == len(pages)


def test_the_page_says_when_nothing_was_read_or_left_out():
    text = checked_results_page(OutcomesFile(), [], set())
    assert "No results file has been read yet" in text and "No value was left out." in text and "No two sources disagree." in text


def test_the_page_links_each_file_to_its_values_left_out_with_their_reasons():
    outcomes = OutcomesFile(left_out=left_out("data/a.json", 2, "a" * 64))
    text = checked_results_page(outcomes, [], set())
    assert "Path: `data/a.json`" in text and "Values left out: **2** ([listed with their reasons](" in text
    [listing] = left_out_pages(outcomes, set()).values()
    assert listing.count("acc is a share of examples") == 2 and "`results.t1.acc`" in listing


def test_a_value_left_out_for_another_sources_is_shown_beside_the_kept_one():
    kept = score(f"{BASE}@40", "arc", "acc", 0.5, source=source("a.json", location="results.arc.acc", sha256="a" * 64))
    [other] = left_out("b.json", 1, "b" * 64, disagrees_with=kept.source)
    rows = disagreement_rows(OutcomesFile(outcomes=[kept], left_out=[other]), set())
    [(_, _, kept_value, kept_from, left_value, left_from)] = rows
    assert (kept_value, left_value) == ("0.5", "1.5") and "a.json" in kept_from and "b.json" in left_from
    gone = disagreement_rows(OutcomesFile(left_out=[other]), set())
    assert gone[0][2] == "— (not stored)"

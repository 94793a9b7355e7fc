"""The outcome-reader registry: each reader declared once in its module, found in a fixed order, its detector
exclusive of the others on every example file the tests ship, its formats the only ones a stored outcome may name."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

import glu_catalogue.outcomes.readers as readers_package
from glu_catalogue.core import source_formats as core_formats
from glu_catalogue.core.outcome_records import OutcomesFile
from glu_catalogue.errors import ReadError
from glu_catalogue.outcomes.readers import read_outcome_file
from glu_catalogue.outcomes.readers.registry import NOT_READERS, OutcomeReader, accepting, discover, expected, outcome_readers
from glu_catalogue.outcomes.reading import read_json_document
from glu_catalogue.store.reading import CsvTable
from glu_catalogue.store.schemas import outcomes_schema

REPO = Path(__file__).resolve().parents[3]

#: Where the tests keep outcome files of every format: the shipped study sources and bench files, the fixtures.
EXAMPLE_ROOTS = (REPO / "data" / "sources", REPO / "data" / "measurements", REPO / "tests" / "fixtures")


def example_files() -> list[Path]:
    """Every JSON and CSV file under ``EXAMPLE_ROOTS``, in sorted order."""
    return sorted(path for root in EXAMPLE_ROOTS for path in root.rglob("*") if path.suffix.lower() in (".json", ".csv"))


def layout_of(path: Path) -> tuple[str, object]:
    """A file's kind and what its readers' detectors are shown: the CSV's header, or the parsed JSON document."""
    if path.suffix.lower() == ".csv":
        return "csv", CsvTable(path, path.read_text(encoding="utf-8-sig")).header
    return "json", read_json_document(path, path.read_bytes())


def test_every_module_of_the_package_declares_its_readers_and_the_registry_finds_them_in_sorted_order():
    modules = sorted(info.name for info in pkgutil.iter_modules(readers_package.__path__) if info.name not in NOT_READERS)
    declared = [reader for name in modules for reader in importlib.import_module(f"{readers_package.__name__}.{name}").READERS]
    assert outcome_readers() == tuple(declared) and len(modules) >= 6
    assert all(isinstance(reader, OutcomeReader) and reader.kind in ("json", "csv") and reader.expects for reader in declared)


def test_core_the_schema_and_the_registry_name_the_same_formats_once_each():
    formats = tuple(reader.format for reader in outcome_readers())
    assert len(set(formats)) == len(formats)
    assert core_formats.source_formats() == formats
    assert outcomes_schema()["$defs"]["OutcomeSource"]["properties"]["format"]["enum"] == list(formats)


def test_each_example_file_is_accepted_by_at_most_one_reader_and_each_reader_by_one_file_at_least():
    files = example_files()
    accepted_by: dict[str, list[str]] = {reader.format: [] for reader in outcome_readers()}
    for path in files:
        kind, layout = layout_of(path)
        found = [reader.format for reader in accepting(kind, layout)]
        assert len(found) <= 1, (path.relative_to(REPO), found)
        for name in found:
            accepted_by[name].append(path.name)
    assert {name for name, names in accepted_by.items() if not names} == set(), "a reader with no example file among the tests' fixtures"


def test_a_file_two_readers_accept_is_refused_naming_both(tmp_path):
    lm_eval = json.loads(next((REPO / "tests" / "fixtures" / "lm_eval").glob("results_*.json")).read_text())
    path = tmp_path / "both.json"
    path.write_text(json.dumps({**lm_eval, "glu_catalogue_bench": 1}))
    with pytest.raises(ReadError) as caught:
        read_outcome_file(path)
    assert "two formats, catalogue-bench and lm-eval-results" in caught.value.message


def test_a_file_no_reader_accepts_is_refused_with_every_readers_phrase(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"a": 1}')
    with pytest.raises(ReadError) as caught:
        read_outcome_file(path)
    assert caught.value.message == f"not an outcome file the catalogue reads: expected {expected()}"
    assert all(reader.expects in caught.value.message for reader in outcome_readers())


def test_a_stored_outcome_of_a_format_no_reader_declares_is_invalid():
    document = json.loads((REPO / "data" / "outcomes.json").read_text())
    document["outcomes"] = document["outcomes"][:1]
    OutcomesFile.model_validate(document)
    document["outcomes"][0]["source"]["format"] = "lm-eval-result"
    with pytest.raises(ValidationError, match="'lm-eval-result' is not a format the readers know"):
        OutcomesFile.model_validate(document)


@pytest.fixture
def plugin_package(tmp_path, monkeypatch):
    """A package of reader modules on ``sys.path``: ``write(name, text)`` adds one; its name for ``discover``."""
    root = tmp_path / "plugins_under_test"
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [name for name in sys.modules if name.split(".")[0] == root.name]:
        del sys.modules[name]


READER_MODULE = """
from glu_catalogue.outcomes.readers.registry import OutcomeReader
READERS = (OutcomeReader(format={name!r}, kind="json", detects=lambda document: False, expects={name!r}, reads=print),)
"""


def test_a_new_module_is_found_without_editing_a_list_and_order_is_the_modules_sorted_names(plugin_package):
    for name in ("zeta", "alpha", "mid"):
        (plugin_package / f"{name}.py").write_text(READER_MODULE.format(name=name))
    (plugin_package / "_helpers.py").write_text("VALUE = 1\n")
    importlib.invalidate_caches()
    assert [reader.format for reader in discover(plugin_package.name)] == ["alpha", "mid", "zeta"]


def test_a_module_without_readers_or_a_format_declared_twice_is_a_defect(plugin_package):
    (plugin_package / "first.py").write_text(READER_MODULE.format(name="same"))
    (plugin_package / "second.py").write_text(READER_MODULE.format(name="same"))
    importlib.invalidate_caches()
    with pytest.raises(ValueError, match="'same' is declared by two readers"):
        discover(plugin_package.name)
    (plugin_package / "second.py").unlink()
    (plugin_package / "third.py").write_text("READER = None\n")
    importlib.invalidate_caches()
    with pytest.raises(TypeError, match="third declares no READERS"):
        discover(plugin_package.name)


def test_the_layout_pages_how_to_add_section_names_a_reader_module_that_declares_itself():
    page = (REPO / "docs" / "reference" / "layout.md").read_text(encoding="utf-8")
    section = page.split("## How to add an outcome reader", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"glu_catalogue/outcomes/readers/(\w+)\.py", section)) - {"registry"}
    assert named, "the section names no reader module"
    for name in named:
        module = importlib.import_module(f"{readers_package.__name__}.{name}")
        assert set(module.READERS) <= set(outcome_readers()) and f"tests/outcomes/readers/test_{name}.py" in section
        assert (REPO / "tests" / "outcomes" / "readers" / f"test_{name}.py").is_file()

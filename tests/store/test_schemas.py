"""schemas/: generated from the code, committed, checked for staleness, and valid for the data."""

from __future__ import annotations

import json
import shutil

import jsonschema
import pytest
from conftest import DATA, LEGACY, invoke, load_json

from glu_catalogue.core.summary import COLUMNS, LEGACY_COLUMNS
from glu_catalogue.store.paths import schemas_dir
from glu_catalogue.store.schemas import CATALOGUE_SCHEMA_FILE, SUMMARY_SCHEMA_FILE, rendered_schemas, stale_schemas
from glu_catalogue.verifier.catalogue import Report, verify_schemas


def test_committed_schemas_are_current():
    assert stale_schemas(schemas_dir()) == ([], len(rendered_schemas()))
    assert invoke("schemas", "--check").exit_code == 0


@pytest.mark.parametrize("path", [DATA / "expansion_rates.json", LEGACY / "expansion_rates.json"], ids=["catalogue", "legacy"])
def test_json_schema_accepts_catalogue_and_legacy_files(path):
    schema = load_json(schemas_dir() / CATALOGUE_SCHEMA_FILE)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(load_json(path), schema)


def test_json_schema_rejects_what_the_records_reject():
    schema = load_json(schemas_dir() / CATALOGUE_SCHEMA_FILE)
    document = load_json(DATA / "expansion_rates.json")
    document["models"][0]["pruned_architecture"]["intermediate_size"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
    document["models"][0]["pruned_architecture"]["intermediate_size"] = 8192
    document["models"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError, match="surprise"):
        jsonschema.validate(document, schema)


def test_table_schema_lists_the_csv_columns_in_order():
    schema = load_json(schemas_dir() / SUMMARY_SCHEMA_FILE)
    assert [field["name"] for field in schema["fields"]] == list(COLUMNS)
    assert [field["name"] for field in schema["fields"][: len(LEGACY_COLUMNS)]] == list(LEGACY_COLUMNS)
    header = (DATA / "expansion_rates_summary.csv").read_text().splitlines()[0].split(",")
    assert header == list(COLUMNS)


def test_pandera_model_and_table_schema_agree():
    from glu_catalogue.core.frames import SummaryFrame

    columns = SummaryFrame.to_schema().columns
    table = {field["name"]: field for field in load_json(schemas_dir() / SUMMARY_SCHEMA_FILE)["fields"]}
    kinds = {"string": ("str", "string[python]", "string[pyarrow]"), "integer": ("int64",), "number": ("float64",)}
    assert list(columns) == list(table)
    for name, column in columns.items():
        assert str(column.dtype) in kinds[table[name]["type"]], name


def test_a_stale_schema_is_a_verify_problem(tmp_path):
    for name in rendered_schemas():
        shutil.copy(schemas_dir() / name, tmp_path / name)
    stale = json.loads((tmp_path / CATALOGUE_SCHEMA_FILE).read_text())
    stale["title"] = "edited by hand"
    (tmp_path / CATALOGUE_SCHEMA_FILE).write_text(json.dumps(stale))
    (tmp_path / SUMMARY_SCHEMA_FILE).unlink()
    report = Report()
    verify_schemas(tmp_path, report)
    assert [(p.file.split("/")[-1], p.found) for p in report.problems] == [
        (CATALOGUE_SCHEMA_FILE, "differs from the schema the code generates"),
        (SUMMARY_SCHEMA_FILE, "missing"),
    ]
    assert "run `catalogue schemas`" in report.problems[0].message

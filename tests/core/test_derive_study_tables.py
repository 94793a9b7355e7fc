"""The 28 shipped records agree with every number of the study's published tables.

The oracle is the study's own README tables (tests/fixtures/study_tables.md, verbatim), each
number compared at the precision the study wrote it with.
"""

from __future__ import annotations

import re

import pytest
from conftest import DATA, FIXTURES, load_json

from glu_catalogue.core import formulas
from glu_catalogue.core.derive import closed_form_values
from glu_catalogue.core.records import Catalogue
from glu_catalogue.store.registry import get_model

CATALOGUE = Catalogue.model_validate(load_json(DATA / "expansion_rates.json"))
RECORDS = {(record.base_model, record.pruning_pct): record for record in CATALOGUE.models}
STUDY_MODELS = {"1B": ("meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B-Instruct"), "3B": ("meta-llama/Llama-3.2-3B", "meta-llama/Llama-3.2-3B-Instruct")}


def study_rows() -> list[tuple[str, dict[str, str]]]:
    """(size, row) for each row of the study's two tables, cells as the study wrote them."""
    text = (FIXTURES / "study_tables.md").read_text()
    rows = []
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        size = re.match(r"Llama-3\.2-(\dB)", section).group(1)
        for line in section.splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) == 5 and cells[0][0].isdigit():
                rows.append((size, dict(zip(("pct", "ratio", "intermediate", "millions", "reduction"), cells))))
    return rows


def study_details(size: str) -> dict[str, int]:
    text = (FIXTURES / "study_tables.md").read_text()
    section = text.split(f"### Llama-3.2-{size}")[1].split("###")[0]
    return {
        "hidden_size": int(re.search(r"`hidden_size`: (\d+)", section).group(1)),
        "num_hidden_layers": int(re.search(r"`num_hidden_layers`: (\d+)", section).group(1)),
        "intermediate_size": int(re.search(r"Baseline `intermediate_size`: (\d+)", section).group(1)),
    }


def decimals(text: str) -> int:
    """Decimals of the number that begins ``text`` ("2.67x" -> 2, "1155.30" -> 2, "0%" -> 0)."""
    digits = re.match(r"[\d.]+", text).group(0)
    return len(digits.split(".")[1]) if "." in digits else 0


def number(text: str) -> float:
    return float(re.match(r"[\d.]+", text).group(0))


def test_the_catalogue_holds_the_studys_28_records():
    expected = {(model, pct) for models in STUDY_MODELS.values() for model in models for pct in range(0, 61, 10)}
    assert expected <= set(RECORDS)
    assert len(study_rows()) == 14


@pytest.mark.parametrize(("size", "row"), study_rows(), ids=lambda value: value if isinstance(value, str) else value["pct"])
@pytest.mark.parametrize("variant", [0, 1], ids=["base", "instruct"])
def test_record_agrees_with_the_study_table(size, row, variant):
    record = RECORDS[(STUDY_MODELS[size][variant], int(number(row["pct"])))]
    pruned = record.pruned_architecture
    assert pruned.intermediate_size == int(row["intermediate"])
    exact_ratio = pruned.intermediate_size / pruned.hidden_size
    assert round(exact_ratio, decimals(row["ratio"])) == number(row["ratio"])
    assert round(pruned.total_parameters / 1e6, decimals(row["millions"])) == number(row["millions"])
    assert pruned.total_parameters_millions == number(row["millions"])
    assert record.reductions.parameter_reduction_pct == number(row["reduction"])


@pytest.mark.parametrize("size", ["1B", "3B"])
def test_architecture_details_agree_with_the_study(size):
    for model in STUDY_MODELS[size]:
        original = RECORDS[(model, 0)].original_architecture
        assert {name: getattr(original, name) for name in study_details(size)} == study_details(size)


@pytest.mark.parametrize("key", sorted(RECORDS), ids=lambda key: f"{key[0]}@{key[1]}")
def test_every_record_equals_its_closed_form(key):
    record = RECORDS[key]
    entry = get_model(record.base_model)
    raw = record.model_dump(exclude_none=True)
    expected = closed_form_values(entry.architecture, record.pruning_pct)
    for block, values in expected.items():
        assert {name: raw[block][name] for name in values} == values
    assert record.pruned_architecture.intermediate_size == formulas.kept_neurons(entry.architecture.intermediate_size, record.pruning_pct)

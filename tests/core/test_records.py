"""The Pydantic records: strict, frozen, and able to read the study's legacy files."""

from __future__ import annotations

import copy
import math

import pytest
from conftest import DATA, LEGACY, load_json
from pydantic import ValidationError

from glu_catalogue.core.architecture import EXTRA_FIELDS, SIZE_FIELDS
from glu_catalogue.core.records import Architecture, ArchitectureBlock, Catalogue, ExpansionRecord, check_complete


@pytest.fixture
def record() -> dict:
    """A valid catalogue record (Llama-3.2-1B at 10 %) as raw JSON."""
    models = load_json(DATA / "expansion_rates.json")["models"]
    return copy.deepcopy(next(m for m in models if m["base_model"] == "meta-llama/Llama-3.2-1B" and m["pruning_pct"] == 10))


def error_locations(raw: dict) -> list[tuple]:
    with pytest.raises(ValidationError) as caught:
        ExpansionRecord.model_validate(raw)
    return [error["loc"] for error in caught.value.errors()]


def test_a_catalogue_record_validates(record):
    parsed = ExpansionRecord.model_validate(record)
    assert parsed.label == "meta-llama/Llama-3.2-1B @ 10%"
    assert parsed.pruned_architecture.intermediate_size == 7373
    assert check_complete(parsed) == []


def test_unknown_field_is_rejected_with_its_path(record):
    record["pruned_architecture"]["intermediate_sise"] = 7373
    assert ("pruned_architecture", "intermediate_sise") in error_locations(record)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("pruned_architecture", "intermediate_size"), "7373"),  # a string where an int belongs
        (("pruned_architecture", "intermediate_size"), 7373.0),  # a float where an int belongs
        (("pruned_architecture", "tie_word_embeddings"), 1),  # an int where a bool belongs
        (("pruned_architecture", "intermediate_size"), -7373),
        (("pruned_architecture", "intermediate_size"), 0),
        (("original_architecture", "total_parameters"), -1),
        (("reductions", "parameter_reduction_pct"), 100.5),
        (("reductions", "parameter_reduction_pct"), -0.5),
        (("reductions", "parameter_reduction_pct"), math.nan),
        (("original_architecture", "expansion_rate"), math.inf),
        (("optipfair_stats", "percentage_reduction"), -math.inf),
        (("pruning_pct",), 101),
        (("pruning_pct",), -10),
        (("status",), "done"),
        (("base_model",), ""),
    ],
)
def test_bad_values_are_rejected_with_the_field_path(record, path, value):
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert path in error_locations(record)


def test_a_successful_record_needs_its_blocks(record):
    del record["reductions"]
    with pytest.raises(ValidationError, match="a successful record needs reductions"):
        ExpansionRecord.model_validate(record)


def test_a_failed_record_needs_an_error():
    raw = {"base_model": "meta-llama/Llama-3.2-1B", "pruning_pct": 10, "status": "failed"}
    with pytest.raises(ValidationError, match="needs an error message"):
        ExpansionRecord.model_validate(raw)
    failed = ExpansionRecord.model_validate({**raw, "error": "out of memory"})
    assert failed.original_architecture is None


def test_records_are_frozen(record):
    parsed = ExpansionRecord.model_validate(record)
    with pytest.raises(ValidationError):
        parsed.pruning_pct = 20


def test_the_legacy_file_validates_and_lacks_the_catalogue_fields():
    catalogue = Catalogue.model_validate(load_json(LEGACY / "expansion_rates.json"))
    assert catalogue.is_legacy
    legacy_record = catalogue.models[0]
    assert legacy_record.original_architecture.architecture() is None
    missing = dict(check_complete(legacy_record))
    assert "provenance" in missing
    assert "pruned_architecture.num_attention_heads" in missing


def test_a_catalogue_record_side_gives_back_its_architecture(record):
    block = ArchitectureBlock.model_validate(record["original_architecture"])
    architecture = block.architecture()
    assert isinstance(architecture, Architecture)
    assert (architecture.hidden_size, architecture.intermediate_size, architecture.head_dim) == (2048, 8192, 64)


#: A record side's fields before ``Architecture``'s others: the study's seven, then the exact ratio.
STUDY_BLOCK_FIELDS = (*SIZE_FIELDS, "expansion_rate", "expansion_rate_percentage", "total_parameters", "total_parameters_millions", "expansion_ratio_exact")


def _optional(schema: dict) -> dict:
    """A field's JSON Schema as an optional record side states it: null allowed, default None."""
    kept = {key: value for key, value in schema.items() if key not in ("description", "title", "default")}
    return {"anyOf": kept["anyOf"] if "anyOf" in kept else [kept, {"type": "null"}], "default": None}


def test_a_record_side_declares_every_architecture_field_once_as_the_architecture_does():
    """The block's fields are the study's seven, the exact ratio, then ``Architecture``'s others, each as declared there."""
    block, architecture = ArchitectureBlock.model_json_schema(), Architecture.model_json_schema()
    assert tuple(ArchitectureBlock.model_fields) == (*STUDY_BLOCK_FIELDS, *EXTRA_FIELDS)
    for name in SIZE_FIELDS:
        assert ArchitectureBlock.model_fields[name].is_required()
        assert {k: v for k, v in block["properties"][name].items() if k != "description"} == {
            k: v for k, v in architecture["properties"][name].items() if k != "description"
        }
    for name in EXTRA_FIELDS:
        declared, side = architecture["properties"][name], block["properties"][name]
        assert side.pop("description") == declared["description"], name
        assert side.pop("title") == declared["title"], name
        assert side == _optional(declared), name


def test_gqa_heads_must_group():
    with pytest.raises(ValidationError, match="multiple of num_key_value_heads"):
        Architecture(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=1,
            num_attention_heads=6,
            num_key_value_heads=4,
            head_dim=16,
            vocab_size=10,
            tie_word_embeddings=True,
            qkv_bias=False,
            o_proj_bias=False,
            mlp_bias=False,
            qk_norm=False,
            norms_per_layer=2,
        )

"""The model registry: every entry is a test case; unknown ids get suggestions."""

from __future__ import annotations

import json

import pytest

from glu_catalogue.core import formulas
from glu_catalogue.core.architecture import CONFIG_FIELDS, FACT_FIELDS, Architecture
from glu_catalogue.store.registry import ArchitectureFacts, RegistryError, UnknownModelError, get_model, guess_size_label, load_registry

REGISTRY = load_registry()


@pytest.mark.parametrize("model_id", sorted(REGISTRY))
def test_entry_is_complete_and_sourced(model_id):
    entry = REGISTRY[model_id]
    assert entry.sources, "every architecture says where its values were read"
    assert entry.architecture.hidden_size > 0 and formulas.total_parameters(entry.architecture) > 0
    assert entry.size_label and entry.family


def _as_declared(schema: dict, optional: bool = False) -> dict:
    """A field's JSON Schema without its title and description; ``optional``: null allowed, default None."""
    kept = {key: value for key, value in schema.items() if key not in ("description", "title")}
    if optional and "anyOf" not in kept:
        kept = {"anyOf": [{k: v for k, v in kept.items() if k != "default"}, {"type": "null"}], "default": None}
    return kept


def test_registry_facts_declare_each_architecture_field_once_as_the_architecture_does():
    """``ArchitectureFacts``: the fact fields (head_dim as head_dim_effective), then the config fields, optional."""
    facts, architecture = ArchitectureFacts.model_json_schema()["properties"], Architecture.model_json_schema()["properties"]
    named = {"head_dim_effective" if name == "head_dim" else name: name for name in FACT_FIELDS}
    assert list(facts)[: len(FACT_FIELDS) + len(CONFIG_FIELDS)] == [*named, *CONFIG_FIELDS]
    for name, declared in named.items():
        assert facts[name]["description"] == architecture[declared]["description"], name
        assert _as_declared(facts[name]) == _as_declared(architecture[declared]), name
    for name in CONFIG_FIELDS:
        assert facts[name]["description"].startswith(architecture[name]["description"] + " Only where config.json"), name
        assert _as_declared(facts[name]) == _as_declared(architecture[name], optional=True), name


def test_instruct_variants_share_their_base_architecture():
    for size in ("1B", "3B"):
        base, instruct = get_model(f"meta-llama/Llama-3.2-{size}"), get_model(f"meta-llama/Llama-3.2-{size}-Instruct")
        assert instruct.architecture == base.architecture
        assert instruct.same_architecture_as == base.model_id
        assert instruct.sources != base.sources


def test_unknown_model_suggests_close_ids():
    with pytest.raises(UnknownModelError) as caught:
        get_model("meta-llama/Llama-3.2-1b")
    assert "meta-llama/Llama-3.2-1B" in caught.value.suggestions
    assert "did you mean meta-llama/Llama-3.2-1B" in str(caught.value)


def test_unknown_model_without_org_still_suggests():
    with pytest.raises(UnknownModelError) as caught:
        get_model("Llama-3.2-3B")
    assert caught.value.suggestions[0] == "meta-llama/Llama-3.2-3B"


@pytest.mark.parametrize(
    ("model_id", "label"), [("Qwen/Qwen2.5-0.5B", "0.5B"), ("google/gemma-3-1b-pt", "1B"), ("x/SmolLM2-135M", "135M"), ("x/mystery", "mystery")]
)
def test_size_label_guess(model_id, label):
    assert guess_size_label(model_id) == label


def test_broken_registry_file_names_the_file(tmp_path):
    (tmp_path / "a.json").write_text('{"model_id": "x/y", ')
    with pytest.raises(RegistryError, match=r"a\.json:1:21: invalid JSON"):
        load_registry(tmp_path)


def test_variant_of_an_unknown_base_is_an_error(tmp_path):
    (tmp_path / "v.json").write_text(json.dumps({"model_id": "x/v", "family": "X", "size_label": "1B", "same_architecture_as": "x/base", "sources": []}))
    with pytest.raises(RegistryError, match="is not a base entry"):
        load_registry(tmp_path)

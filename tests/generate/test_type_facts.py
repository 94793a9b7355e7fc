"""The per-type facts shipped in store/type_facts.json: current, exact, and used without torch.

* regenerated with the installed transformers, the file is what the package ships;
* for every shipped type, configs of random sizes (and embeddings tied or not) counted from the
  shipped facts equal the meta device's count and architecture, field for field;
* perturbing every shape-neutral key a type's config has changes nothing on the meta device, so
  ignoring those keys is exact;
* a config that sets a key the facts were not derived with goes to the meta device and says why;
* ``catalogue plan --model config.json`` of a shipped type answers without importing torch.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from conftest import REPO

from glu_catalogue.store.known_types import TYPE_FACTS_FILE, counted_config, is_shape_neutral, shipped_type_facts

SHIPPED = sorted(shipped_type_facts()["types"])

#: Random configs each type is counted at (each a meta-device build).
DRAWS = 3


def test_the_shipped_facts_are_what_the_installed_transformers_gives():
    pytest.importorskip("torch")
    from glu_catalogue.generate.type_facts import against_shipped, generate_type_facts, shipped_text

    generated = generate_type_facts()
    assert TYPE_FACTS_FILE.read_text(encoding="utf-8") == shipped_text(generated), (
        "store/type_facts.json is stale: run `python -m glu_catalogue.generate.type_facts`"
    )
    lines, sound = against_shipped(generated)  # what `--against-shipped` says on another release, here on this one
    assert sound and lines == [f"{model_type}: source unchanged, facts equal" for model_type in SHIPPED]


def test_the_shipped_types_include_the_studys_families():
    assert {"llama", "qwen2", "qwen3", "gemma2", "gemma3_text", "mistral", "phi3", "olmo2"} <= set(SHIPPED)


def _meta(values):
    from glu_catalogue.generate.facts import derive_facts

    return derive_facts(values)


def _resized(tiny: dict, layers_before: int, rng: random.Random, entry: dict) -> dict:
    """``tiny`` at random sizes; per-layer lists cut or cycled to the new layer count."""
    heads = rng.choice([2, 4, 8])
    layers = rng.randint(1, 4)
    values = dict(tiny)
    values.update(
        hidden_size=heads * rng.choice([8, 16, 24]),
        intermediate_size=rng.randint(8, 256),
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=rng.choice([kv for kv in (1, 2, 4, 8) if heads % kv == 0]),
        vocab_size=rng.randint(64, 300),
        tie_word_embeddings=rng.random() < 0.5,
    )
    if entry["head_dim"] == "config" and rng.random() < 0.7:
        values["head_dim"] = rng.choice([8, 16, 32])
    else:
        values.pop("head_dim", None) if entry["absent_head_dim"] != "meta" else None
    for key, value in tiny.items():
        if isinstance(value, list) and len(value) == layers_before and layers_before:
            values[key] = [value[index % layers_before] for index in range(layers)]
    return values


@pytest.mark.torch
@pytest.mark.parametrize("model_type", SHIPPED)
def test_counts_at_random_sizes_equal_the_meta_device(model_type):
    pytest.importorskip("torch")
    from glu_catalogue.errors import ArchitectureError
    from glu_catalogue.generate.coverage import tiny_config_values

    entry = shipped_type_facts()["types"][model_type]
    tiny = tiny_config_values(model_type)
    rng = random.Random(model_type)
    compared = 0
    for _ in range(20):
        values = _resized(tiny, tiny.get("num_hidden_layers") or 0, rng, entry)
        try:
            built = _meta(values)
        except ArchitectureError:
            continue  # sizes this type's validators refuse: transformers says so on the meta path
        counted, reason = counted_config(values)
        assert counted is not None, f"{model_type}: {reason}"
        assert counted.architecture == built.architecture, values
        assert counted.total_parameters == built.total_parameters, values
        assert (counted.transformers_class, counted.not_prunable) == (built.transformers_class, built.not_prunable)
        assert (counted.mlp_param_names, counted.attn_param_names) == (built.mlp_param_names, built.attn_param_names)
        compared += 1
        if compared == DRAWS:
            break
    assert compared >= 2, f"{model_type}: fewer than 2 random configs built"


def _perturbed(key: str, value, vocab: int):
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return value[::-1]  # a per-layer pattern, the other way round
    if isinstance(value, bool):
        return not value
    if key.endswith(("_token_id", "_token_ids")):
        return vocab - 2 if isinstance(value, int) else value
    if isinstance(value, int):
        return value * 2 + 1
    if isinstance(value, float):
        return value * 1.5 + 0.01
    return value


@pytest.mark.torch
@pytest.mark.parametrize("model_type", SHIPPED)
def test_shape_neutral_keys_do_not_change_the_count(model_type):
    pytest.importorskip("torch")
    from glu_catalogue.errors import ArchitectureError
    from glu_catalogue.generate.coverage import tiny_config_values

    tiny = tiny_config_values(model_type)
    baseline = _meta(tiny)
    neutral = {key: _perturbed(key, value, tiny["vocab_size"]) for key, value in tiny.items() if is_shape_neutral(key) and key != "model_type"}
    neutral = {key: value for key, value in neutral.items() if value != tiny[key]}
    try:
        candidates = [neutral]
        _meta({**tiny, **neutral})
    except ArchitectureError:  # some perturbation is refused by a validator: each on its own
        candidates = [{key: value} for key, value in neutral.items()]
    perturbed_any = 0
    for change in candidates:
        try:
            built = _meta({**tiny, **change})
        except ArchitectureError:
            continue
        assert built.total_parameters == baseline.total_parameters, change
        assert built.architecture == baseline.architecture, change
        counted, reason = counted_config({**tiny, **change})
        assert counted is not None and counted.total_parameters == built.total_parameters, reason
        perturbed_any += len(change)
    assert perturbed_any, f"{model_type}: no shape-neutral key could be perturbed"


def _llama_config() -> dict:
    return json.loads((REPO / "data" / "models" / "meta-llama__Llama-3.2-1B.json").read_text())["config"]


def test_a_key_set_otherwise_than_the_default_goes_to_the_meta_device():
    config = {**_llama_config(), "attention_bias": True}
    counted, reason = counted_config(config)
    assert counted is None and "attention_bias" in reason and "default false" in reason
    counted, reason = counted_config({**_llama_config(), "some_new_switch": 3})
    assert counted is None and "some_new_switch" in reason
    counted, reason = counted_config({**_llama_config(), "model_type": "qwen3_moe"})
    assert counted is None and "qwen3_moe" in reason


@pytest.mark.torch
def test_the_meta_device_counts_a_non_default_config_and_says_why(tmp_path):
    pytest.importorskip("torch")
    from glu_catalogue.pipeline.models import derive
    from glu_catalogue.store.sources import read_source

    path = tmp_path / "config.json"
    path.write_text(json.dumps({**_llama_config(), "attention_bias": True}))
    derived = derive(read_source(str(path)))
    assert derived.architecture.qkv_bias and derived.architecture.o_proj_bias
    assert any(note.startswith("counted on the meta device: config.json sets attention_bias") for note in derived.notes)
    plain = derive(read_source(str(REPO / "data" / "models" / "meta-llama__Llama-3.2-1B.json")))
    assert plain.total_parameters == 1_235_814_400 and plain.notes[0].startswith("counted without torch")


def test_plan_of_a_config_of_a_shipped_type_imports_no_torch(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_llama_config()))
    program = (
        "import sys\n"
        "from glu_catalogue.cli.commands import main\n"
        f"sys.argv = ['catalogue', 'plan', '--model', {str(path)!r}, '--ratio', '2.4', '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
        "loaded = sorted(name for name in ('torch', 'transformers', 'optipfair') if name in sys.modules)\n"
        "print('LOADED', loaded, 'EXIT', code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert "LOADED [] EXIT 0" in result.stderr, result.stderr
    rows = json.loads(result.stdout)
    row = rows[0] if isinstance(rows, list) else rows["rows"][0]
    assert row["intermediate_size"] == 4916 and row["status"] == "ok"


def test_every_registry_config_of_a_shipped_type_counts_as_its_registry_entry():
    from glu_catalogue.core import formulas
    from glu_catalogue.store.registry import load_registry

    compared = 0
    for model_id, entry in load_registry().items():
        counted, _ = counted_config(entry.config)
        if counted is None:
            continue
        stored = entry.architecture
        assert counted.total_parameters == formulas.total_parameters(stored), model_id
        fields = (
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_key_value_heads",
            "head_dim",
            "tie_word_embeddings",
            "qkv_bias",
            "qk_norm",
            "norms_per_layer",
        )
        assert [getattr(counted.architecture, name) for name in fields] == [getattr(stored, name) for name in fields], model_id
        compared += 1
    assert compared >= 10


@pytest.mark.torch
def test_plan_says_why_a_config_was_built_on_the_meta_device(tmp_path):
    from conftest import run_cli, run_here

    shipped, other = tmp_path / "llama" / "config.json", tmp_path / "phi" / "config.json"
    shipped.parent.mkdir()
    other.parent.mkdir()
    shipped.write_text(json.dumps(_llama_config()))
    other.write_text(json.dumps({**_llama_config(), "attention_bias": True}))
    quiet = run_cli("plan", "--model", str(shipped), "--pct", "10", "--format", "json")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    told = run_here("plan", "--model", str(other), "--pct", "10", "--format", "json")  # counted with torch: in this process
    assert told.returncode == 0, told.stderr
    assert told.stderr.strip() == (
        "note: local/phi: counted on the meta device: config.json sets attention_bias to true, not the type's default false: "
        "the shipped facts were derived with the default"
    )
    assert json.loads(told.stdout)[0]["original_total_parameters"] > json.loads(quiet.stdout)[0]["original_total_parameters"]

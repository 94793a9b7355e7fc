"""Any GLU model as input: a config.json, a checkpoint directory or a hub id, wherever a model is taken.

Checkpoints are tiny models saved by transformers; hub ids are resolved from a Hugging Face cache
laid out as huggingface_hub lays it out (``models--org--name/snapshots/<commit>``, ``refs/main``)
in a temporary ``HF_HOME``, with ``HF_HUB_OFFLINE=1``: no network is used. The command line runs
as a separate process, as a user runs it, but for a build from a checkpoint directory, which runs in
the worker (torch is imported there already).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import DATA, invoke, load_json, run_cli, run_here

pytestmark = pytest.mark.torch

TINY = {"hidden_size": 64, "intermediate_size": 192, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 128}
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def save_tiny(model_type: str, directory: Path, seed: int = 0, **overrides) -> Path:
    """A tiny ``model_type`` saved by ``save_pretrained`` (random weights, float32)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    config = AutoConfig.for_model(model_type, **{**TINY, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 1, **overrides})
    AutoModelForCausalLM.from_config(config).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("checkpoints")
    return {name: save_tiny(name, root / name) for name in ("olmo2", "stablelm", "granite")}


@pytest.fixture
def registry(tmp_path) -> Path:
    """A copy of the registry the test may add to."""
    directory = tmp_path / "models"
    shutil.copytree(DATA / "models", directory)
    return directory


def env(**extra: str | Path) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", **{key: str(value) for key, value in extra.items()}}


def one_line_error(result, *fragments: str) -> None:
    """Exit 2 and one line on stderr holding ``fragments``; ``result`` of ``run_cli`` or of ``invoke``."""
    code = result.returncode if hasattr(result, "returncode") else result.exit_code
    assert code == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


# --- inspect: no false problems on valid checkpoints --------------------------------------------


@pytest.mark.parametrize("name", ["olmo2", "stablelm", "granite"])
def test_valid_checkpoints_inspect_clean(checkpoints, name):
    result = run_cli("inspect", str(checkpoints[name]), "--format", "json")
    document = json.loads(result.stdout)
    assert result.returncode == 0, document["problems"]
    assert document["total_parameters"] == document["closed_form_total_parameters"]


# --- catalogue add ----------------------------------------------------------------------------------


def test_add_from_a_checkpoint_directory(checkpoints, registry):
    checkpoint = checkpoints["olmo2"]
    result = run_cli("add", str(checkpoint), "--id", "me/olmo2-tiny", env=env(CATALOGUE_REGISTRY_DIR=registry))
    assert result.returncode == 0, result.stderr
    assert "counted from the safetensors headers (equal)" in result.stdout
    entry = load_json(registry / "me__olmo2-tiny.json")
    assert entry["family"] == "olmo2-tiny" and entry["origin"]["kind"] == "checkpoint"
    assert entry["origin"]["config_sha256"] == hashlib.sha256((checkpoint / "config.json").read_bytes()).hexdigest()
    facts = entry["architecture_facts"]
    assert facts["qk_norm_all_heads"] and facts["transformers_class"] == "Olmo2ForCausalLM" and facts["transformers_version"]
    os.environ["CATALOGUE_REGISTRY_DIR"] = str(registry)
    try:
        listed = invoke("models", "--format", "json")
    finally:
        del os.environ["CATALOGUE_REGISTRY_DIR"]
    row = next(row for row in json.loads(listed.stdout) if row["model_id"] == "me/olmo2-tiny")
    assert row["total_parameters"] == json.loads(invoke("inspect", str(checkpoint), "--format", "json").stdout)["total_parameters"]


def test_add_refuses_and_writes_nothing(checkpoints, registry, tmp_path, monkeypatch):
    monkeypatch.setenv("CATALOGUE_REGISTRY_DIR", str(registry))
    before = sorted(path.name for path in registry.iterdir())
    gpt2 = tmp_path / "gpt2.json"
    gpt2.write_text(json.dumps({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"model_type": "llama", ')
    unbuildable = tmp_path / "bad.json"
    unbuildable.write_text(json.dumps({"model_type": "llama", **TINY, "num_attention_heads": 5}))
    mismatch = tmp_path / "mismatch"
    shutil.copytree(checkpoints["olmo2"], mismatch)
    config = load_json(mismatch / "config.json")
    (mismatch / "config.json").write_text(json.dumps({**config, "intermediate_size": 160}))
    cases = [
        (("allenai/OLMo-2-0425-1B",), ("already in the registry",)),
        ((str(gpt2), "--id", "x/gpt2"), ("not a GLU decoder", "GPT2MLP")),
        ((str(broken), "--id", "x/broken"), ("broken.json:1:", "invalid JSON")),
        ((str(unbuildable), "--id", "x/bad"), ("llama",)),
        ((str(mismatch), "--id", "x/mismatch"), ("the safetensors hold", "nothing written")),
        ((str(gpt2),), ("--id ORG/NAME",)),
        ((str(checkpoints["olmo2"]), "--id", "not an id"), ("--id",)),
    ]
    for args, fragments in cases:
        one_line_error(invoke("add", *args), *fragments)
    one_line_error(run_cli("add", str(gpt2), "--id", "x/gpt2", env=env(CATALOGUE_REGISTRY_DIR=registry)), "GPT2MLP")  # as a process
    assert sorted(path.name for path in registry.iterdir()) == before


def test_add_leaves_nothing_half_written_when_the_write_fails(checkpoints, registry, monkeypatch):
    from glu_catalogue.store import writing

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setenv("CATALOGUE_REGISTRY_DIR", str(registry))
    monkeypatch.setattr(writing.os, "replace", fail)
    before = sorted(path.name for path in registry.iterdir())
    one_line_error(invoke("add", str(checkpoints["olmo2"]), "--id", "me/full-disk"), "cannot write: No space left on device", "nothing was changed")
    assert sorted(path.name for path in registry.iterdir()) == before  # no temporary file left either


def test_add_cites_the_sources_of_a_model_description(registry, tmp_path):
    description = {
        "model_id": "me/tiny-qwen3",
        "config": {"model_type": "qwen3", **TINY, "head_dim": 16, "tie_word_embeddings": True},
        "sources": [{"repo": "me/configs", "path": "tiny.json", "commit": "", "provides": "every value"}],
        "notes": "a tiny Qwen3",
    }
    path = tmp_path / "tiny-qwen3.json"
    path.write_text(json.dumps(description))
    result = run_cli("add", str(path), "--grade", "copy", "--family", "Qwen3", env=env(CATALOGUE_REGISTRY_DIR=registry))
    assert result.returncode == 0, result.stderr
    entry = load_json(registry / "me__tiny-qwen3.json")
    assert entry["sources"] == [{"repo": "me/configs", "path": "tiny.json", "provides": "every value"}]
    assert (entry["note"], entry["source_grade"], entry["family"], entry["origin"]["kind"]) == ("a tiny Qwen3", "copy", "Qwen3", "config")


# --- hub ids through the Hugging Face cache ----------------------------------------------------------


@pytest.fixture
def hub_cache(tmp_path, checkpoints) -> Path:
    """An ``HF_HOME`` whose cache holds ``me/tiny-olmo2`` at ``COMMIT`` (config and weights) as ``main``."""
    home = tmp_path / "hf"
    repository = home / "hub" / "models--me--tiny-olmo2"
    shutil.copytree(checkpoints["olmo2"], repository / "snapshots" / COMMIT)
    (repository / "refs").mkdir()
    (repository / "refs" / "main").write_text(COMMIT)
    return home


def test_a_cached_hub_id_plans_and_adds_offline(hub_cache, registry):
    planned = run_cli("plan", "--ratio", "2", "--model", "me/tiny-olmo2", "--format", "json", env=env(HF_HOME=hub_cache))
    assert planned.returncode == 0, planned.stderr
    row = json.loads(planned.stdout)[0]
    assert (row["model_id"], row["status"], row["intermediate_size"]) == ("me/tiny-olmo2", "ok", 128)
    added = run_cli("add", f"me/tiny-olmo2@{COMMIT}", env=env(HF_HOME=hub_cache, CATALOGUE_REGISTRY_DIR=registry))
    assert added.returncode == 0, added.stderr
    origin = load_json(registry / "me__tiny-olmo2.json")["origin"]
    config = hub_cache / "hub" / "models--me--tiny-olmo2" / "snapshots" / COMMIT / "config.json"
    assert origin == {"kind": "hub", "location": "me/tiny-olmo2", "revision": COMMIT, "config_sha256": hashlib.sha256(config.read_bytes()).hexdigest()}


def test_build_a_cached_hub_id_from_its_weights_at_the_resolved_commit(hub_cache, tmp_path):
    data = tmp_path / "data"
    result = run_cli("build", "--models", "me/tiny-olmo2", "--levels", "0,50", "--data", str(data), "--quiet", "--dtype", "fp32", env=env(HF_HOME=hub_cache))
    assert result.returncode == 0, result.stdout + result.stderr
    records = load_json(data / "expansion_rates.json")["models"]
    assert [(r["base_model"], r["pruning_pct"]) for r in records] == [("me/tiny-olmo2", 0), ("me/tiny-olmo2", 50)]
    assert {(r["provenance"]["weights"], r["provenance"]["weights_revision"]) for r in records} == {("hub", COMMIT)}


@pytest.mark.parametrize("command", [("plan", "--ratio", "2.4", "--model"), ("add",), ("build", "--closed-form", "--models")])
def test_an_uncached_hub_id_offline_is_one_line(command, tmp_path):
    result = run_cli(*command, "someorg/not-cached", env=env(HF_HOME=tmp_path / "empty"))
    one_line_error(result, "someorg/not-cached", "not in the local Hugging Face cache")


def test_build_with_hub_weights_records_the_commit_and_the_config_it_loaded(hub_cache, registry, tmp_path):
    data = tmp_path / "data"
    shutil.copy(hub_cache / "hub" / "models--me--tiny-olmo2" / "snapshots" / COMMIT / "config.json", tmp_path / "config.json")
    added = run_cli("add", str(tmp_path / "config.json"), "--id", "me/olmo2-copy", env=env(CATALOGUE_REGISTRY_DIR=registry))
    assert added.returncode == 0, added.stderr
    result = run_cli(
        "build",
        "--models",
        "me/olmo2-copy",
        "--weights",
        "me/tiny-olmo2",
        "--levels",
        "0,40",
        "--data",
        str(data),
        "--quiet",
        "--dtype",
        "fp32",
        env=env(HF_HOME=hub_cache, CATALOGUE_REGISTRY_DIR=registry),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = hub_cache / "hub" / "models--me--tiny-olmo2" / "snapshots" / COMMIT / "config.json"
    for record in load_json(data / "expansion_rates.json")["models"]:
        provenance = record["provenance"]
        assert (provenance["weights"], provenance["weights_source"], provenance["weights_revision"]) == ("hub", "me/tiny-olmo2", COMMIT)
        assert provenance["config_sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()


# --- plan, build, inspect and verify of a model outside the registry --------------------------------------


def test_plan_a_config_file_as_its_registry_twin(tmp_path):
    config = load_json(DATA / "models" / "allenai__OLMo-2-0425-1B.json")["config"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    outside = invoke("plan", "--ratio", "2.4", "--model", str(tmp_path / "config.json"), "--format", "json")
    registered = invoke("plan", "--ratio", "2.4", "--model", "allenai/OLMo-2-0425-1B", "--format", "json")
    assert outside.exit_code == registered.exit_code == 0, outside.stderr
    ignore = ("model_id", "family", "size_label")

    def strip(rows):
        return [{k: v for k, v in row.items() if k not in ignore} for row in rows]

    assert strip(json.loads(outside.stdout)) == strip(json.loads(registered.stdout))


def test_build_a_checkpoint_directory_from_its_own_weights_and_verify(checkpoints, tmp_path):
    data = tmp_path / "data"
    checkpoint = checkpoints["granite"]
    # In this process: a build from a hub id's weights runs as a process above (huggingface_hub reads HF_HOME once imported).
    result = run_here("build", "--models", str(checkpoint), "--levels", "0,30,60", "--data", str(data), "--quiet", "--dtype", "fp32")
    assert result.returncode == 0, result.stdout + result.stderr
    records = load_json(data / "expansion_rates.json")["models"]
    assert [record["pruning_pct"] for record in records] == [0, 30, 60]
    assert {record["provenance"]["weights"] for record in records} == {"checkpoint"}
    assert all(record["original_architecture"]["non_mlp_parameters"] > 0 for record in records)
    assert run_here("verify", str(data)).returncode == 0


def test_a_mixture_of_experts_is_counted_and_not_pruned(tmp_path):
    result = invoke("build", "--models", "mistralai/Mixtral-8x7B-v0.1", "--data", str(tmp_path / "data"), "--quiet")
    assert result.exit_code == 0, result.stdout
    assert "not prunable by optipfair: a mixture of experts" in " ".join(result.stdout.split())
    assert load_json(tmp_path / "data" / "expansion_rates.json")["models"] == []
    plan = json.loads(invoke("plan", "--pct", "20", "--model", "mistralai/Mixtral-8x7B-v0.1", "--format", "json").stdout)[0]
    assert plan["status"] == "not-prunable" and "mixture of experts" in plan["note"]
    assert plan["original_total_parameters"] == 46_702_792_704 and plan["total_parameters"] is None


def test_inspect_a_pruned_checkpoint_against_the_record_of_its_base_config(checkpoints, tmp_path):
    import optipfair
    from transformers import AutoModelForCausalLM

    base = checkpoints["olmo2"]
    model = AutoModelForCausalLM.from_pretrained(base)
    optipfair.prune_model(model, pruning_type="MLP_GLU", pruning_percentage=40, show_progress=False).save_pretrained(tmp_path / "pruned")
    for command in (("inspect", str(tmp_path / "pruned")), ("verify", "--checkpoint", str(tmp_path / "pruned"))):
        assert invoke(*command, "--record", f"{base}@40").exit_code == 0
        wrong = invoke(*command, "--record", f"{base}@30")
        assert wrong.exit_code == 1 and "(record computed by the closed form)" in wrong.stdout

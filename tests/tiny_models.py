"""Tiny GLU architectures for tests: registry entries, and real checkpoints saved with transformers."""

from __future__ import annotations

import json
from pathlib import Path

LLAMA = {
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "vocab_size": 128,
    "tie_word_embeddings": True,
    "attention_bias": False,
    "mlp_bias": False,
}
QWEN2 = {
    "model_type": "qwen2",
    "hidden_size": 64,
    "intermediate_size": 192,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 96,
    "tie_word_embeddings": False,
}
PHI3 = {
    "model_type": "phi3",
    "hidden_size": 64,
    "intermediate_size": 160,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "vocab_size": 100,
    "tie_word_embeddings": False,
    "pad_token_id": 0,
}
QWEN3 = {
    "model_type": "qwen3",
    "hidden_size": 64,
    "intermediate_size": 224,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "vocab_size": 112,
    "tie_word_embeddings": True,
}
GEMMA3 = {
    "model_type": "gemma3_text",
    "hidden_size": 64,
    "intermediate_size": 384,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 1,
    "head_dim": 16,
    "vocab_size": 120,
    "tie_word_embeddings": True,
}
LLAMA_BIAS = {
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 176,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "vocab_size": 104,
    "tie_word_embeddings": False,
    "attention_bias": True,
    "mlp_bias": True,
}


def _facts(transformers_class: str, *, qkv_bias=False, fused=False, head_dim=16, qk_norm=False, norms=2, biases=False) -> dict:
    mlp = ["down_proj.weight", "gate_up_proj.weight"] if fused else ["down_proj.weight", "gate_proj.weight", "up_proj.weight"]
    attention = ["o_proj.weight", "qkv_proj.weight"] if fused else ["k_proj.weight", "o_proj.weight", "q_proj.weight", "v_proj.weight"]
    if qk_norm:
        attention += ["k_norm.weight", "q_norm.weight"]
    if biases:
        mlp += ["down_proj.bias", "gate_proj.bias", "up_proj.bias"]
        attention += ["k_proj.bias", "o_proj.bias", "q_proj.bias", "v_proj.bias"]
    return {
        "qkv_bias": qkv_bias or biases,
        "o_proj_bias": biases,
        "mlp_bias": biases,
        "qk_norm": qk_norm,
        "norms_per_layer": norms,
        "fused_qkv": fused,
        "fused_gate_up": fused,
        "head_dim_effective": head_dim,
        "mlp_param_names": sorted(mlp),
        "attn_param_names": sorted(attention),
        "transformers_class": transformers_class,
    }


ENTRIES = {
    "tiny/llama": {"family": "Tiny-Llama", "size_label": "64K", "config": LLAMA, "architecture_facts": _facts("LlamaForCausalLM")},
    "tiny/qwen2": {"family": "Tiny-Qwen2", "size_label": "60K", "config": QWEN2, "architecture_facts": _facts("Qwen2ForCausalLM", qkv_bias=True)},
    "tiny/phi3": {"family": "Tiny-Phi3", "size_label": "70K", "config": PHI3, "architecture_facts": _facts("Phi3ForCausalLM", fused=True)},
    "tiny/qwen3": {"family": "Tiny-Qwen3", "size_label": "118K", "config": QWEN3, "architecture_facts": _facts("Qwen3ForCausalLM", qk_norm=True)},
    "tiny/gemma3": {"family": "Tiny-Gemma3", "size_label": "176K", "config": GEMMA3, "architecture_facts": _facts("Gemma3ForCausalLM", qk_norm=True, norms=4)},
    "tiny/llama-bias": {"family": "Tiny-Llama", "size_label": "107K", "config": LLAMA_BIAS, "architecture_facts": _facts("LlamaForCausalLM", biases=True)},
}


def write_registry(directory: Path) -> Path:
    """Registry files for the tiny models (and an instruct variant of tiny/llama) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    source = [{"repo": "catalogue/tests", "path": "tests/tiny_models.py", "provides": "a tiny test architecture"}]
    for model_id, entry in ENTRIES.items():
        document = {"model_id": model_id, **entry, "sources": source}
        (directory / f"{model_id.replace('/', '__')}.json").write_text(json.dumps(document, indent=2))
    variant = {"model_id": "tiny/llama-instruct", "family": "Tiny-Llama", "size_label": "64K", "same_architecture_as": "tiny/llama", "sources": source}
    (directory / "tiny__llama-instruct.json").write_text(json.dumps(variant, indent=2))
    return directory


def scratch_environment(directory: Path, slow_id: str, intermediate_size: int, layers: int, size_label: str, why: str) -> dict[str, str]:
    """The environment of a scratch registry: the tiny models and ``slow_id``, a tiny Llama widened and deepened to take seconds.

    No checkpoints to discover (``CATALOGUE_CHECKPOINTS`` unset) and a Hugging Face home of its own.
    """
    import copy
    import os

    registry = write_registry(directory / "registry")
    slow = copy.deepcopy(ENTRIES["tiny/llama"])
    slow["config"].update(intermediate_size=intermediate_size, num_hidden_layers=layers)
    slow["size_label"] = size_label
    source = [{"repo": "catalogue/tests", "path": "tests/tiny_models.py", "provides": why}]
    (registry / f"{slow_id.replace('/', '__')}.json").write_text(json.dumps({"model_id": slow_id, **slow, "sources": source}, indent=2))
    env = {**os.environ, "CATALOGUE_REGISTRY_DIR": str(registry), "HF_HOME": str(directory / "hf-home")}
    env.pop("CATALOGUE_CHECKPOINTS", None)
    return env


def save_checkpoint(model_id: str, directory: Path, seed: int = 0, dtype_name: str = "float32", ties: bool = False, **save_options) -> Path:
    """A real transformers checkpoint of the tiny model, random weights, via save_pretrained.

    With ``ties`` every weight takes one of seven values, so importance scores tie often and
    ``topk`` must break the ties as optipfair's does.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    values = dict(ENTRIES[model_id]["config"])
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(values.pop("model_type"), **values))
    if ties:
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.copy_(torch.randint(-3, 4, parameter.shape) * 0.01)
    model.to(getattr(torch, dtype_name)).save_pretrained(directory, **save_options)
    return directory

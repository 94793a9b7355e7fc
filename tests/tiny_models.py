"""Tiny GLU architectures for tests: registry entries, and real checkpoints saved with transformers."""

from __future__ import annotations

import json
from pathlib import Path

LLAMA = {
    "model_type": "llama", "hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 128, "tie_word_embeddings": True,
    "attention_bias": False, "mlp_bias": False,
}
QWEN2 = {
    "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 192, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 96, "tie_word_embeddings": False,
}
PHI3 = {
    "model_type": "phi3", "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 100, "tie_word_embeddings": False, "pad_token_id": 0,
}


def _facts(transformers_class: str, *, qkv_bias=False, fused=False, head_dim=16) -> dict:
    return {
        "qkv_bias": qkv_bias, "o_proj_bias": False, "mlp_bias": False, "qk_norm": False, "norms_per_layer": 2,
        "fused_qkv": fused, "fused_gate_up": fused, "head_dim_effective": head_dim,
        "mlp_param_names": ["down_proj.weight", "gate_up_proj.weight"] if fused else ["down_proj.weight", "gate_proj.weight", "up_proj.weight"],
        "attn_param_names": ["o_proj.weight", "qkv_proj.weight"] if fused else ["k_proj.weight", "o_proj.weight", "q_proj.weight", "v_proj.weight"],
        "transformers_class": transformers_class,
    }


ENTRIES = {
    "tiny/llama": {"family": "Tiny-Llama", "size_label": "64K", "config": LLAMA, "architecture_facts": _facts("LlamaForCausalLM")},
    "tiny/qwen2": {"family": "Tiny-Qwen2", "size_label": "60K", "config": QWEN2, "architecture_facts": _facts("Qwen2ForCausalLM", qkv_bias=True)},
    "tiny/phi3": {"family": "Tiny-Phi3", "size_label": "70K", "config": PHI3, "architecture_facts": _facts("Phi3ForCausalLM", fused=True)},
}


def write_registry(directory: Path) -> Path:
    """Registry files for the tiny models (and an instruct variant of tiny/llama) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    source = [{"repo": "catalogue/tests", "path": "tests/tiny_models.py", "provides": "a tiny test architecture"}]
    for model_id, entry in ENTRIES.items():
        document = {"model_id": model_id, **entry, "sources": source}
        (directory / f"{model_id.replace('/', '__')}.json").write_text(json.dumps(document, indent=2))
    variant = {
        "model_id": "tiny/llama-instruct", "family": "Tiny-Llama", "size_label": "64K",
        "same_architecture_as": "tiny/llama", "sources": source,
    }
    (directory / "tiny__llama-instruct.json").write_text(json.dumps(variant, indent=2))
    return directory


def save_checkpoint(model_id: str, directory: Path, seed: int = 0, dtype_name: str = "float32", **save_options) -> Path:
    """A real transformers checkpoint of the tiny model, random weights, via save_pretrained."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    values = dict(ENTRIES[model_id]["config"])
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(values.pop("model_type"), **values))
    model.to(getattr(torch, dtype_name)).save_pretrained(directory, **save_options)
    return directory

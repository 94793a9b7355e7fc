"""The sizes a config.json may state: whole numbers within what real models have, checked before anything is built.

A config is data from elsewhere. Its sizes decide how many modules transformers builds (even on
the meta device a layer is dozens of Python objects) and how large a tensor it asks for, so a
``num_hidden_layers`` of 100,000 or a ``hidden_size`` of 2**70 would hang a command, fill memory
or end in a C++ error from torch. ``size_problem(config)`` names the first size that is not a
whole number within its limits, for a person to read; it never changes the config.

The limits are far above every published model (the largest have about 126 layers, a width of
about 16,384, 256 or 384 routed experts, vocabularies of about 256,000 tokens) and far below what
would make a command slow. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Most layers a model may have (published: at most about 126).
MAX_LAYERS = 1024
#: Most modules (layers times routed experts, or layers) a model may have: what the meta device builds.
MAX_LAYER_EXPERTS = 1 << 16

_WIDTH = 1 << 16  # a hidden size or head dimension: published at most about 18,432
_FFN_WIDTH = 1 << 20  # an intermediate size: published at most about 53,248
_HEADS = 1024  # attention heads: published at most 128
_EXPERTS = 4096  # routed experts: published at most 384

#: Each size a config may state: (field names, smallest, largest, what the field counts).
SIZE_FIELDS: tuple[tuple[tuple[str, ...], int, int, str], ...] = (
    (("num_hidden_layers", "n_layer", "n_layers", "num_layers"), 1, MAX_LAYERS, "layers"),
    (("hidden_size", "n_embd", "d_model"), 1, _WIDTH, "the hidden width"),
    (("intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim"), 1, _FFN_WIDTH, "the MLP width"),
    (("moe_intermediate_size", "expert_intermediate_size"), 1, _FFN_WIDTH, "an expert's width"),
    (("shared_expert_intermediate_size",), 0, _FFN_WIDTH, "the shared expert's width"),
    (("num_attention_heads", "n_head", "num_heads"), 1, _HEADS, "attention heads"),
    (("num_key_value_heads", "n_head_kv", "multi_query_group_num"), 1, _HEADS, "key/value heads"),
    (("head_dim", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "qk_head_dim"), 1, _WIDTH, "a head's width"),
    (("kv_lora_rank", "q_lora_rank"), 1, _WIDTH, "a low-rank projection's width"),
    (("vocab_size",), 1, 1 << 22, "the vocabulary"),
    (("max_position_embeddings", "n_positions"), 1, 1 << 24, "positions"),
    (("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts"), 0, _EXPERTS, "routed experts"),
    (("num_experts_per_tok", "moe_topk", "num_experts_per_token", "moe_k"), 0, _EXPERTS, "experts per token"),
    (("n_shared_experts", "num_shared_experts"), 0, _EXPERTS, "shared experts"),
    (("first_k_dense_replace",), 0, MAX_LAYERS, "dense layers before the experts"),
)

_LAYER_KEYS = SIZE_FIELDS[0][0]
_EXPERT_KEYS = SIZE_FIELDS[11][0]

#: How deep nested configs (``text_config``, ``vision_config``) are looked into.
_MAX_DEPTH = 3


def size_problem(config: Mapping[str, Any]) -> str | None:
    """The first size in ``config`` (or a nested ``*_config``) that is not a whole number within its limits, else None.

    The text names the field as a path (``text_config.hidden_size``), the value and the limit:
    ``num_hidden_layers is 100000, more than 1024 (the most layers a model may have ...)``.
    """
    return _problem(config, "", 0)


def _problem(config: Mapping[str, Any], prefix: str, depth: int) -> str | None:
    for names, smallest, largest, counts in SIZE_FIELDS:
        for name in names:
            if name in config and config[name] is not None:
                problem = _value_problem(config[name], smallest, largest, counts)
                if problem is not None:
                    return f"{prefix}{name} is {_shown(config[name])}: {problem}"
    problem = _modules_problem(config, prefix)
    if problem is not None or depth >= _MAX_DEPTH:
        return problem
    for key, value in config.items():
        if isinstance(key, str) and key.endswith("_config") and isinstance(value, Mapping):
            problem = _problem(value, f"{prefix}{key}.", depth + 1)
            if problem is not None:
                return problem
    return None


def _value_problem(value: Any, smallest: int, largest: int, counts: str) -> str | None:
    """Why ``value`` is not a size from ``smallest`` to ``largest`` (a list: one per layer), else None."""
    if isinstance(value, list):
        if len(value) > MAX_LAYERS:
            return f"a list of {len(value)} sizes, more than one per layer allows ({MAX_LAYERS} layers at most)"
        return next((problem for item in value if (problem := _value_problem(item, smallest, largest, counts)) is not None), None)
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected a whole number ({counts}), found {_kind(value)}"
    if value < smallest:
        return f"expected at least {smallest} ({counts})"
    if value > largest:
        return f"more than {largest:,}, the limit for {counts} (no published model comes close)"
    return None


def _modules_problem(config: Mapping[str, Any], prefix: str) -> str | None:
    """Why the layers times the routed experts are too many modules to build, else None."""
    layers = next((config[key] for key in _LAYER_KEYS if isinstance(config.get(key), int)), 1)
    experts = next((config[key] for key in _EXPERT_KEYS if isinstance(config.get(key), int) and config[key] > 0), 1)
    if layers * experts > MAX_LAYER_EXPERTS:
        return (
            f"{prefix}layers times routed experts is {layers} x {experts} = {layers * experts:,}: more than "
            f"{MAX_LAYER_EXPERTS:,} expert blocks, far beyond any published model"
        )
    return None


def _shown(value: Any) -> str:
    """``value`` as the problem shows it: short, whatever its size."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, float):
        return "a decimal number"
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)

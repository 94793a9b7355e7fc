"""Which of transformers' causal-LM model types the catalogue handles: coverage as data, checked by tests.

For every model type in ``MODEL_FOR_CAUSAL_LM_MAPPING_NAMES``, ``tiny_config_values`` shrinks the
type's default config (64 wide, 2 layers, a vocabulary of 128, 4 experts) and ``classify`` builds
it on the meta device and reads its facts (``generate.facts``): a dense GLU decoder, a mixture of
experts with GLU experts, or no GLU at all. ``EXCEPTIONS`` is the one list of types the catalogue
cannot handle, each with the reason; ``tests/generate/test_coverage.py`` checks every other GLU type end to
end (facts, pruned counts at three levels against ``sum(numel)``, ``catalogue inspect`` of a saved
checkpoint) and fails when a listed type starts working or a new type appears (the site's
coverage table, ``coverage_table()``, is generated and compared).

Run ``python -m glu_catalogue.generate.coverage`` to print the table.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import ArchitectureError, NotGluModel
from .facts import DerivedFacts, derive_facts
from .meta import quiet_transformers

#: Layers of a tiny model, at most: enough for the layer patterns of the defaults (every 4th or
#: 6th layer global, the first dense layers of a mixture of experts).
TINY_LAYERS = 6

#: Sizes of a tiny model; a config key is set only where the type's default config has it.
TINY_SIZES = {
    "hidden_size": 64,
    "intermediate_size": 192,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "vocab_size": 128,
    "max_position_embeddings": 256,
    "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 32,
    "num_experts": 4,
    "n_routed_experts": 4,
    "num_local_experts": 4,
    "moe_num_experts": 4,
    "num_experts_per_tok": 2,
    "moe_topk": 2,
    "num_experts_per_token": 2,
    "moe_k": 2,
    "first_k_dense_replace": 1,
    "n_group": 1,
    "topk_group": 1,
    "kv_lora_rank": 16,
    "q_lora_rank": 16,
    "qk_rope_head_dim": 8,
    "qk_nope_head_dim": 8,
    "v_head_dim": 16,
    "qk_head_dim": 16,
    "vocab_size_per_layer_input": 128,
    "hidden_size_per_layer_input": 16,
    "encoder_hash_byte_group_vocab": 128,
    "hidden_size_global": 64,
    "ext_pw_out_channel": 64,
    "depthwise_separable_out_channel": 64,
    "nemo_conv_channels": 64,
}

#: Config keys naming the experts a token passes through: set even where the default leaves them None.
TOP_K_KEYS = ("num_experts_per_tok",)

_ROPE = {"rope_type": "default", "rope_theta": 10000.0}

#: Settings a type needs beyond the shrinking: its default config does not build, or a validator
#: wants sizes that fit together.
TINY_OVERRIDES: dict[str, dict[str, Any]] = {
    "bamba": {"mamba_n_heads": 4, "mamba_d_head": 32, "mamba_d_state": 16},
    "granitemoehybrid": {"mamba_n_heads": 4, "mamba_d_head": 32, "mamba_d_state": 16},
    "dory": {"n_input_layers": 2, "n_recurrent_layers": 2, "n_output_layers": 2},
    "dots1": {"n_routed_experts": 4, "n_shared_experts": 1, "num_experts_per_tok": 2},
    "gemma3n_text": {"num_kv_shared_layers": 0},
    "gemma4_unified_assistant": {"num_kv_shared_layers": 0},
    "mamba2": {"num_heads": 4, "head_dim": 32},
    "reformer": {"is_decoder": True, "axial_pos_embds_dim": [32, 32]},
    "hunyuan_v1_dense": {"head_dim": 16, "rope_parameters": _ROPE},
    "hunyuan_v1_moe": {"head_dim": 16, "rope_parameters": _ROPE},
    "ministral": {"head_dim": 16, "rope_parameters": _ROPE},
    "nemotron": {"num_key_value_heads": 2},
    "lfm2_moe": {"layer_types": ["full_attention"] * TINY_LAYERS},
    "cohere_compass_text": {"rope_parameters": {"full_attention": _ROPE, "sliding_attention": _ROPE}},
    "zaya": {"num_experts_per_tok": 1},
    "longcat_flash": {"num_layers": 2, "ffn_hidden_size": 192, "expert_ffn_hidden_size": 32, "zero_expert_num": 2},
    "dots3_note": {"num_key_value_heads": 4, "swa_head_dim": 16},
    "dots3_note_text": {"num_key_value_heads": 4, "swa_head_dim": 16, "swa_num_attention_heads": 4, "swa_num_key_value_heads": 2},
}

#: Types whose layer pattern is computed from their default layer count: built with all their layers.
KEEP_LAYERS = frozenset({"zamba"})

#: Model types the catalogue does not handle, and why. The tests fail when one starts working.
EXCEPTIONS: dict[str, str] = {
    "blt": (
        "a byte-level model of three transformers whose sizes sit in sub-configs: `catalogue inspect` finds no decoder config in its config.json "
        "(counted and described by `catalogue add`, not prunable)"
    ),
    "dbrx": "its default config does not build in transformers 5.24 (DbrxAttentionConfig has no rope_theta)",
    "dots3_note": "no tiny config passes its validators (MLA, sliding-window and per-layer head sizes tied together)",
    "dots3_note_text": "no tiny config passes its validators (MLA, sliding-window and per-layer head sizes tied together)",
    "gemma3n": "its vision tower needs the timm library",
    "gemma4_assistant": "transformers 5.24 cannot create its default config (its validator rejects the default hidden_size_per_layer_input)",
    "gemma4_unified_assistant": "a draft model sharing its key/value cache with a target model: it does not build on its own",
    "longcat_flash": "its MoE layers route to zero (identity) experts besides the GLU ones; the catalogue counts GLU experts only",
    "musicgen": "its default config does not build as a causal LM in transformers 5.24 (no dropout setting)",
    "musicgen_melody": "its default config does not build as a causal LM in transformers 5.24 (no dropout setting)",
    "qwen4_exp": "its default config states no sizes (hidden_size None): there is nothing to build",
    "qwen4_exp_text": "its default config states no sizes (hidden_size None): there is nothing to build",
}

#: What ``classify`` found: a dense GLU decoder, a mixture of GLU experts, no GLU, or an error.
KINDS = ("dense", "moe", "not-glu", "exception")


@dataclass(frozen=True)
class TypeCoverage:
    """One model type: its class, what kind of decoder it is, its facts (if any), and why not (if not)."""

    model_type: str
    transformers_class: str
    kind: str
    facts: DerivedFacts | None = None
    reason: str | None = None

    @property
    def prunable(self) -> bool:
        """True when the catalogue prunes it (optipfair, or its own pruning of a fused gate_up_proj)."""
        return self.facts is not None and self.facts.not_prunable is None


def causal_lm_types() -> list[str]:
    """Every model type transformers builds with ``AutoModelForCausalLM``, sorted."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    return sorted(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)


def causal_lm_class(model_type: str) -> str:
    """The class name ``AutoModelForCausalLM`` maps ``model_type`` to."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    name = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type]
    return name if isinstance(name, str) else name[0]


def tiny_config_values(model_type: str) -> dict[str, Any]:
    """The default config of ``model_type``, shrunk to a tiny model, as config.json values."""
    from transformers import AutoConfig

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        defaults = AutoConfig.for_model(model_type).to_dict()
    values = shrink(defaults, keep_layers=model_type in KEEP_LAYERS)
    values.update(TINY_OVERRIDES.get(model_type, {}))
    values["model_type"] = model_type
    return values


def shrink(values: dict[str, Any], keep_layers: bool = False) -> dict[str, Any]:
    """``values`` with every size of ``TINY_SIZES`` it has made tiny, per-layer lists cut to the new
    layer count, token ids moved inside the new vocabulary, and sub-configs (``text_config``,
    ``vision_config``, ...) shrunk alike."""
    values = dict(values)
    layers_before = values.get("num_hidden_layers")
    values.update({key: size for key, size in TINY_SIZES.items() if _is_size(values.get(key))})
    values.update({key: TINY_SIZES[key] for key in TOP_K_KEYS if key in values and values[key] is None})
    if _is_size(layers_before) and not keep_layers:
        values["num_hidden_layers"] = min(layers_before, TINY_LAYERS)
    layers, vocab = values.get("num_hidden_layers"), values.get("vocab_size")
    for key, value in list(values.items()):
        if isinstance(value, list) and layers and layers_before and len(value) == layers_before:
            values[key] = [TINY_SIZES.get(key, item) if _is_size(item) else item for item in value[:layers]]
        elif isinstance(value, dict) and value and layers and all(str(item).isdigit() for item in value):
            values[key] = {item: setting for item, setting in value.items() if int(item) < layers}
        elif isinstance(value, dict) and key.endswith("_config"):
            values[key] = shrink(value)
        elif vocab and key.endswith(("_token_id", "_token_index")) and _is_size(value) and value >= vocab:
            values[key] = vocab - 1
        elif vocab and key.endswith("_token_id") and isinstance(value, list):
            values[key] = [min(item, vocab - 1) for item in value if _is_size(item) or item == 0]
    return values


def _is_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@cache
def classify(model_type: str) -> TypeCoverage:
    """Build ``model_type``'s tiny config on the meta device and say what kind of decoder it is."""
    class_name = causal_lm_class(model_type)
    try:
        with quiet_transformers():
            facts = derive_facts(tiny_config_values(model_type))
    except NotGluModel as error:
        return TypeCoverage(model_type, class_name, "not-glu", reason=str(error).partition(": ")[2])
    except ArchitectureError as error:
        return TypeCoverage(model_type, class_name, "exception", reason=str(error))
    except Exception as error:
        return TypeCoverage(model_type, class_name, "exception", reason=f"{type(error).__name__}: {error}")
    kind = "moe" if facts.experts is not None else "dense"
    return TypeCoverage(model_type, class_name, kind, facts=facts)


def coverage() -> list[TypeCoverage]:
    """``classify`` of every causal-LM model type, sorted by type."""
    return [classify(model_type) for model_type in causal_lm_types()]


def status(item: TypeCoverage) -> str:
    """The coverage table's cell for what the catalogue does with the type."""
    if item.model_type in EXCEPTIONS:
        return f"not handled: {EXCEPTIONS[item.model_type]}"
    if item.facts is None:
        return f"not handled: {item.reason}"
    facts = item.facts
    if facts.experts is not None:
        return "counted: total and active per token; not prunable (optipfair prunes dense GLU MLPs, not experts)"
    if facts.not_prunable:
        return f"counted; not prunable: {facts.not_prunable}"
    if facts.architecture.fused_gate_up:
        return "counted; pruned by the catalogue (fused gate_up_proj, optipfair's ranking)"
    return "counted; pruned by optipfair"


def counting(item: TypeCoverage) -> str:
    """How the type's baseline is counted: the closed form (without torch where its facts are shipped), or the
    count measured on the meta device."""
    from ..store.known_types import shipped_type_facts

    if item.facts is None:
        return "-"
    if item.model_type in shipped_type_facts()["types"]:
        return "closed form, no torch"
    return "closed form" if item.facts.closed_form_parameters is not None else "measured"


def coverage_table() -> str:
    """The coverage table of docs/reference/coverage.md (Markdown): every GLU model type, then the other types in one line."""
    import transformers

    items = coverage()
    glu = [item for item in items if item.kind in ("dense", "moe") or item.model_type in EXCEPTIONS]
    lines = [
        f"transformers {transformers.__version__}: {len(items)} causal-LM model types; "
        f"{sum(item.kind == 'dense' for item in items)} dense GLU, {sum(item.kind == 'moe' for item in items)} "
        f"mixture-of-experts GLU, {len(EXCEPTIONS)} not handled (each with its reason), the rest without a GLU MLP.",
        "",
        "| model type | class | MLP | count | what the catalogue does |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in glu:
        mlp = {"dense": "dense GLU", "moe": "experts (GLU)"}.get(item.kind, "?")
        if item.facts is not None and item.facts.architecture.fused_gate_up:
            mlp = "dense GLU, fused"
        lines.append(f"| `{item.model_type}` | {item.transformers_class} | {mlp} | {counting(item)} | {_cell(status(item))} |")
    others = [item.model_type for item in items if item.kind in ("not-glu", "exception") and item.model_type not in EXCEPTIONS]
    lines += ["", "Without a GLU MLP (or not buildable from their default config): " + ", ".join(f"`{name}`" for name in others) + "."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


if __name__ == "__main__":
    print(coverage_table(), end="")

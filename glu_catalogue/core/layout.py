"""The tensors of a Llama-style GLU decoder that the closed form counts, by name.

A decoder whose every parameter is one of these (embedding, LM head, final norm; per layer the
attention projections and their biases, q/k norms, the layer's norms, the GLU MLP) is counted
exactly by ``formulas.closed_form_non_mlp_parameters``. Any other tensor (MLA projections, a
vision tower, recurrent blocks) is a part it does not know: such a model's count is the one
measured when it was added. The generator (parameter names of the meta model) and the
checkpoint reader (tensor names of the safetensors headers) both ask here. Standard library only.
"""

from __future__ import annotations

#: Attention parameters the closed form counts, relative to the attention module.
ATTENTION_TENSORS = frozenset(f"{name}.{kind}" for name in ("q_proj", "k_proj", "v_proj", "o_proj", "qkv_proj") for kind in ("weight", "bias")) | {
    "q_norm.weight",
    "k_norm.weight",
}

#: GLU MLP parameters, relative to the MLP module.
MLP_TENSORS = frozenset(f"{name}.{kind}" for name in ("gate_proj", "up_proj", "down_proj", "gate_up_proj") for kind in ("weight", "bias"))

#: Attribute names an attention module has in a decoder layer.
ATTENTION_NAMES = ("self_attn", "attention", "attn", "self_attention")


def outside_layers(prefix: str) -> frozenset[str]:
    """Tensors outside the layers the closed form counts, for a decoder under ``prefix`` (``model.``)."""
    return frozenset({f"{prefix}embed_tokens.weight", "lm_head.weight", f"{prefix}norm.weight", f"{prefix}norm.bias"})


def is_layer_norm(rest: str) -> bool:
    """True for a norm directly in a layer: ``input_layernorm.weight``, ``post_feedforward_layernorm.bias``."""
    module, _, kind = rest.rpartition(".")
    return kind in ("weight", "bias") and "." not in module and "norm" in module.lower()


def known_in_layer(rest: str, mlp: str | None, attention: str | None) -> bool:
    """True when the closed form counts ``rest`` (a name relative to its layer).

    ``mlp`` and ``attention`` are the attribute names of the layer's GLU MLP and attention (or None).
    """
    block, _, inner = rest.partition(".")
    if mlp is not None and block == mlp:
        return inner in MLP_TENSORS
    if attention is not None and block == attention:
        return inner in ATTENTION_TENSORS
    return is_layer_norm(rest)

"""Architecture facts read off a model's transformers class on the meta device: shapes, no weights.

``derive_facts(config)`` builds ``AutoModelForCausalLM.from_config`` under ``torch.device("meta")``
(``generate.meta``), finds its decoder and each layer's MLP (``generate.decoder``), and reads from
the parameters' names and shapes:

* H and I from the MLP's shapes, biases, the attention's biases and q/k norms (one head or all
  heads wide), the norms of each layer (with or without biases), tied embeddings, the vocabulary;
* the exact total (``sum(numel)``, tied tensors once) and so the parameters outside the GLU MLPs,
  which width pruning leaves untouched (``Architecture.non_mlp_parameters``);
* for a mixture of experts, the experts (``Experts``) and the active parameters per token;
* whether optipfair (or the catalogue's own pruning of a fused ``gate_up_proj``, with optipfair's
  ranking) can width-prune the model, and if not, why.

The first-principles closed form (``formulas.closed_form_non_mlp_parameters``) is a cross-check:
where every parameter is of a kind it knows, ``closed_form_parameters`` is its total.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..core import formulas
from ..core.architecture import TOP_K_KEYS, Architecture, Experts
from ..core.model_facts import DerivedFacts
from ..errors import ArchitectureError, NotGluModel
from .decoder import (
    ATTENTION_NAMES,
    LayerMlp,
    MetaDecoder,
    attention_of,
    glu_sizes,
    mlp_kind,
    not_prunable_reason,
    positive,
    uniform_glu_sizes,
    unknown_parameters,
)
from .meta import build_config, build_on_meta, count_parameters, first_line, quiet_transformers, transformers_version


def derive_facts(values: Mapping[str, Any]) -> DerivedFacts:
    """Build ``values`` (config.json) on the meta device and read its architecture facts.

    Raises ``ArchitectureError`` when transformers cannot build it or the facts do not fit one
    ``Architecture``, ``NotGluModel`` when no decoder layer has a GLU MLP (naming the MLP found).
    """
    with quiet_transformers():
        config = build_config(values)
        model = build_on_meta(config)
    decoder = MetaDecoder.of(model)
    total = count_parameters(model)
    architecture = read_architecture(decoder, config, total)
    experts = read_experts(decoder, architecture.hidden_size, config) if decoder.moe else None
    unknown = unknown_parameters(decoder)
    closed, notes = closed_form_check(architecture, total, unknown)
    attention = attention_of(decoder.first_layer)
    return DerivedFacts(
        config=dict(values),
        transformers_class=type(model).__name__,
        transformers_version=transformers_version(),
        architecture=architecture,
        total_parameters=total,
        closed_form_parameters=closed,
        unknown_parameters=unknown,
        experts=experts,
        active_parameters=None if experts is None else formulas.active_parameters(architecture, experts),
        not_prunable=not_prunable_reason(decoder),
        decoder_path=decoder.path,
        mlp_param_names=tuple(sorted(name for name, _ in decoder.first.module.named_parameters())),
        attn_param_names=tuple(sorted(name for name, _ in attention.named_parameters())) if attention is not None else (),
        notes=notes,
    )


def closed_form_check(architecture: Architecture, total: int, unknown: tuple[str, ...]) -> tuple[int | None, tuple[str, ...]]:
    """The closed form's total where it knows every parameter, and a note where it then disagrees."""
    if unknown:
        return None, ()
    closed = formulas.total_parameters(architecture.model_copy(update={"non_mlp_parameters": None}))
    if closed == total:
        return closed, ()
    return None, (f"the closed form of these facts counts {closed:,} parameters, transformers {total:,}: it does not apply",)


# --- the architecture ---------------------------------------------------------------------------------


def read_architecture(decoder: MetaDecoder, config, total: int) -> Architecture:
    """Every ``Architecture`` field, read off the meta model and its config; the counts from ``total``."""
    dense = decoder.dense
    hidden_size, intermediate_size, mlp_bias = uniform_glu_sizes(dense) if dense else _experts_only_sizes(decoder, config)
    values = {
        **attention_values(decoder, config, hidden_size),
        "hidden_size": hidden_size,
        "intermediate_size": intermediate_size,
        "num_hidden_layers": len(decoder.layers),
        "vocab_size": decoder.model.get_input_embeddings().weight.shape[0],
        "tie_word_embeddings": tied_embeddings(decoder.model),
        "mlp_bias": mlp_bias,
        "fused_gate_up": any(mlp.kind == "fused" for mlp in dense),
        "non_mlp_parameters": total - len(dense) * formulas.mlp_parameters(hidden_size, intermediate_size, mlp_bias),
        "num_mlp_layers": None if len(dense) == len(decoder.layers) else len(dense),
    }
    values["norms_per_layer"], values["norm_bias"] = layer_norms(decoder.first_layer, hidden_size)
    try:
        return Architecture.model_validate(values)
    except ValueError as error:
        raise ArchitectureError(f"the facts read off the model do not make an architecture: {first_line(error)}") from None


def _experts_only_sizes(decoder: MetaDecoder, config) -> tuple[int, int, bool]:
    """A mixture of experts without dense layers: H from the experts, I as its config states it."""
    embedding_width = decoder.model.get_input_embeddings().weight.shape[1]
    _, hidden, width, _, _ = expert_shapes(decoder.moe[0].module.experts, embedding_width)
    stated = positive(getattr(config.get_text_config(), "intermediate_size", None))
    return hidden, stated or width, False


def attention_values(decoder: MetaDecoder, config, hidden_size: int) -> dict[str, Any]:
    """Heads, head_dim, the attention's biases, fused q/k/v and q/k norms of the first decoder layer."""
    text = config.get_text_config()
    attention = attention_of(decoder.first_layer)
    heads = positive(getattr(text, "num_attention_heads", None)) or 1
    kv_heads = positive(getattr(text, "num_key_value_heads", None)) or heads
    kv_heads = kv_heads if heads % kv_heads == 0 else heads
    head_dim = positive(getattr(attention, "head_dim", None)) or positive(getattr(text, "head_dim", None)) or hidden_size // heads
    names = {name: tensor for name, tensor in attention.named_parameters()} if attention is not None else {}
    q_norm = names.get("q_norm.weight")
    o_proj = names.get("o_proj.weight")
    return {
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "qkv_bias": bool(names.keys() & {"q_proj.bias", "qkv_proj.bias"}),
        "o_proj_bias": "o_proj.bias" in names,
        "qk_norm": q_norm is not None,
        "fused_qkv": "qkv_proj.weight" in names,
        "qk_norm_all_heads": q_norm is not None and q_norm.numel() == heads * head_dim != head_dim,
        "o_proj_hidden_input": o_proj is not None and o_proj.dim() == 2 and o_proj.shape[1] == hidden_size != heads * head_dim,
    }


def layer_norms(layer: nn.Module, hidden_size: int) -> tuple[int, bool]:
    """The norms of size H directly in ``layer`` (outside attention and MLP), and whether they all carry biases."""
    weights, biases = 0, 0
    for name, module in layer.named_children():
        if name in ATTENTION_NAMES or mlp_kind(module) != "none" or "norm" not in f"{name} {type(module).__name__}".lower():
            continue
        own = dict(module.named_parameters(recurse=False))
        if _shape(own.get("weight")) == (hidden_size,):
            weights += 1
            biases += _shape(own.get("bias")) == (hidden_size,)
    return weights, bool(weights) and biases == weights


def _shape(tensor: torch.Tensor | None) -> tuple[int, ...]:
    return () if tensor is None else tuple(tensor.shape)


def tied_embeddings(model: nn.Module) -> bool:
    """True when the LM head shares the input embedding's matrix (or there is no separate head)."""
    head = model.get_output_embeddings()
    return head is None or head.weight is model.get_input_embeddings().weight


# --- mixtures of experts ----------------------------------------------------------------------------


def read_experts(decoder: MetaDecoder, hidden_size: int, config) -> Experts:
    """The routed experts of the MoE layers (all alike), checked against the GLU count of one expert."""
    shapes = {expert_shapes(mlp.module.experts, hidden_size) for mlp in decoder.moe}
    if len(shapes) > 1:
        raise ArchitectureError("the MoE layers' experts differ in number or width: the catalogue counts one kind")
    num_experts, _, width, per_expert, bias = next(iter(shapes))
    if per_expert != formulas.mlp_parameters(hidden_size, width, bias):
        raise ArchitectureError(f"an expert holds {per_expert} parameters, not those of a GLU MLP {hidden_size} x {width}: the catalogue counts GLU experts")
    top_k = experts_per_token(decoder.moe[0], config)
    if top_k > num_experts:  # the active count would exceed the total
        raise ArchitectureError(f"the config routes each token through {top_k} experts, more than the {num_experts} of a layer: active parameters undefined")
    return Experts(num_experts=num_experts, num_experts_per_tok=top_k, moe_intermediate_size=width, num_moe_layers=len(decoder.moe), expert_bias=bias)


def experts_per_token(moe: LayerMlp, config) -> int:
    """The routed experts a token passes through: the config's top-k, else the MoE block's or its router's."""
    text = config.get_text_config()
    stated = [positive(getattr(text, key, None)) for key in TOP_K_KEYS]
    stated += [positive(getattr(moe.module, "top_k", None)), positive(getattr(getattr(moe.module, "gate", None), "top_k", None))]
    top_k = next((value for value in stated if value), None)
    if top_k is None:
        raise ArchitectureError("the config names no number of experts per token (num_experts_per_tok): active parameters unknown")
    return top_k


def expert_shapes(experts: nn.Module, hidden_size: int | None = None) -> tuple[int, int, int, int, bool]:
    """(experts, H, expert width, parameters of one expert, biases) of an experts module; ``hidden_size``
    (the model's H, where known) tells the two inner axes of stacked weights apart.

    Experts are a ``ModuleList`` of GLU MLPs, or one module holding them stacked
    (``gate_up_proj`` [E, 2I, H] or [E, H, 2I], ``down_proj`` [E, H, I] or [E, I, H]).
    """
    if isinstance(experts, nn.ModuleList):
        first = LayerMlp(0, None, experts[0], mlp_kind(experts[0]))
        if not first.dense:
            raise NotGluModel(f"the model is not a GLU decoder: its experts are {type(experts[0]).__name__}, not GLU MLPs")
        hidden, width, bias = glu_sizes(first)
        return len(experts), hidden, width, count_parameters(experts) // len(experts), bias
    parameters = dict(experts.named_parameters())
    down = parameters.get("down_proj")
    gated = "gate_up_proj" in parameters or {"gate_proj", "up_proj"} <= parameters.keys()
    if down is None or down.dim() != 3 or not gated:
        names = ", ".join(sorted(parameters)) or "no parameters"
        raise NotGluModel(f"the model is not a GLU decoder: its experts ({type(experts).__name__}: {names}) are not GLU MLPs")
    num_experts = down.shape[0]
    per_expert = count_parameters(experts) // num_experts
    bias = any(name.endswith("bias") for name in parameters)
    # down_proj maps I -> H, stored [E, H, I] or [E, I, H]: the axis that is the model's H, else the one that
    # makes 3*H*I (+ biases) one expert's count (without biases both orders do: the first is taken).
    first, second = down.shape[1:]
    orders = ((first, second), (second, first))
    if hidden_size in (first, second):
        orders = ((hidden_size, second if first == hidden_size else first),)
    for hidden, width in orders:
        if formulas.mlp_parameters(hidden, width, bias) == per_expert:
            return num_experts, hidden, width, per_expert, bias
    return num_experts, first, second, per_expert, bias

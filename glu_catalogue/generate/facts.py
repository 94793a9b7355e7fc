"""Architecture facts read off a model's transformers class on the meta device: shapes, no weights.

``derive_facts(config)`` builds ``AutoModelForCausalLM.from_config`` under ``torch.device("meta")``
(no memory is allocated for weights, so a 70B config costs what its module objects cost) and
reads from the parameters' names and shapes:

* the decoder's layers (the longest ``ModuleList`` whose layers hold a GLU MLP or experts) and
  each layer's MLP: ``gate_proj``/``up_proj``/``down_proj``, a fused ``gate_up_proj``, or a
  mixture of experts whose experts are GLU MLPs;
* H and I from the MLP's shapes, biases, the attention's biases and q/k norms, the norms of
  each layer (with or without biases), tied embeddings, the vocabulary from the embedding;
* the exact total (``sum(numel)``, tied tensors once) and so the parameters outside the GLU
  MLPs, which width pruning leaves untouched (``Architecture.non_mlp_parameters``);
* for a mixture of experts, the experts (``Experts``) and the active parameters per token;
* whether optipfair (or the catalogue's own pruning of fused ``gate_up_proj``, with optipfair's
  ranking) can width-prune the model, and if not, why.

The first-principles closed form (``formulas.closed_form_non_mlp_parameters``) is a cross-check:
where every parameter is of a kind it knows, ``closed_form_parameters`` is its total.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from ..core import formulas
from ..core.architecture import Architecture, Experts
from ..core.layout import ATTENTION_NAMES, known_in_layer, outside_layers
from ..errors import ArchitectureError, NotGluModel

#: Config keys naming how many routed experts a token passes through.
TOP_K_KEYS = ("num_experts_per_tok", "moe_topk", "num_experts_per_token", "top_k", "moe_k")

#: Why optipfair does not prune a mixture of experts.
MOE_NOT_PRUNABLE = "a mixture of experts: optipfair 0.4.2 prunes dense GLU MLPs, not experts"


@dataclass(frozen=True)
class LayerMlp:
    """One decoder layer's feed-forward block as the meta model holds it.

    ``kind`` is ``glu`` (gate/up/down), ``fused`` (gate_up/down), ``moe`` (experts) or ``none``.
    """

    index: int
    attribute: str | None
    module: nn.Module | None
    kind: str


@dataclass(frozen=True)
class DerivedFacts:
    """What ``derive_facts`` read off a model's transformers class."""

    config: dict[str, Any]
    transformers_class: str
    transformers_version: str
    architecture: Architecture
    total_parameters: int
    closed_form_parameters: int | None
    unknown_parameters: tuple[str, ...]
    experts: Experts | None
    active_parameters: int | None
    not_prunable: str | None
    decoder_path: str
    mlp_param_names: tuple[str, ...]
    attn_param_names: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    def facts_document(self) -> dict[str, Any]:
        """The registry's ``architecture_facts``: every architecture field, then where they came from."""
        values = self.architecture.model_dump()
        document: dict[str, Any] = {
            ("head_dim_effective" if name == "head_dim" else name): value for name, value in values.items()
        }
        document.update(
            mlp_param_names=list(self.mlp_param_names),
            attn_param_names=list(self.attn_param_names),
            transformers_class=self.transformers_class,
            transformers_version=self.transformers_version,
            experts=None if self.experts is None else self.experts.model_dump(),
            not_prunable=self.not_prunable,
        )
        return document


def build_config(values: Mapping[str, Any]):
    """The transformers config of config.json ``values``; ``ArchitectureError`` when transformers refuses it."""
    from transformers import AutoConfig

    values = dict(values)
    model_type = values.pop("model_type", None)
    if not model_type:
        raise ArchitectureError("config.json has no model_type: transformers cannot tell which model it describes")
    try:
        return AutoConfig.for_model(model_type, **values)
    except ValueError as error:
        if "Unrecognized model" in str(error) or model_type in str(error) and "not recognized" in str(error):
            raise ArchitectureError(f"model_type {model_type!r} is unknown to transformers {_version()}") from None
        raise ArchitectureError(f"transformers {_version()} refuses this {model_type} config: {_first_line(error)}") from None
    except Exception as error:  # noqa: BLE001 - configs validate with many exception types
        raise ArchitectureError(f"transformers {_version()} refuses this {model_type} config: {_first_line(error)}") from None


def build_on_meta(config) -> nn.Module:
    """``AutoModelForCausalLM.from_config(config)`` on the meta device, without initialising weights."""
    from transformers import AutoModelForCausalLM

    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers 4
        from transformers.modeling_utils import no_init_weights
    try:
        with no_init_weights(), torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
        model.tie_weights()  # as loading does; without initialisation nothing has tied them yet
        return model
    except Exception as error:  # noqa: BLE001 - a model class may raise anything for a config it cannot build
        name = getattr(config, "model_type", "?")
        raise ArchitectureError(f"transformers {_version()} cannot build a causal LM from this {name} config: {_first_line(error)}") from None


def derive_facts(values: Mapping[str, Any]) -> DerivedFacts:
    """Build ``values`` (config.json) on the meta device and read its architecture facts.

    Raises ``ArchitectureError`` when transformers cannot build it, when no decoder layer has a
    GLU MLP (naming the MLP it found), or when the facts do not fit one ``Architecture``.
    """
    with quiet_transformers():
        config = build_config(values)
        model = build_on_meta(config)
    path, layers = find_decoder(model)
    mlps = [layer_mlp(index, layer) for index, layer in enumerate(layers)]
    dense = [mlp for mlp in mlps if mlp.kind in ("glu", "fused")]
    moe = [mlp for mlp in mlps if mlp.kind == "moe"]
    hidden_size, intermediate_size, mlp_bias = _mlp_sizes(dense, moe, config)
    total = count_parameters(model)
    non_mlp = total - len(dense) * formulas.mlp_parameters(hidden_size, intermediate_size, mlp_bias)
    first = (dense or moe)[0]
    attention = attention_of(layers[first.index])
    experts = _experts(moe, hidden_size, config) if moe else None
    read = _architecture_values(model, config, layers[first.index], attention, (hidden_size, intermediate_size, mlp_bias))
    counts = {"non_mlp_parameters": non_mlp, "num_mlp_layers": None if len(dense) == len(layers) else len(dense)}
    architecture = _validated({**read, "num_hidden_layers": len(layers), "fused_gate_up": any(m.kind == "fused" for m in dense), **counts})
    unknown = unknown_parameters(model, path, layers, mlps, attention_name(layers[first.index]))
    closed = None if unknown else formulas.total_parameters(architecture.model_copy(update={"non_mlp_parameters": None}))
    notes = []
    if closed is not None and closed != total:
        notes.append(f"the closed form of these facts counts {closed:,} parameters, transformers {total:,}: it does not apply")
        closed = None
    return DerivedFacts(
        config=dict(values),
        transformers_class=type(model).__name__,
        transformers_version=_version(),
        architecture=architecture,
        total_parameters=total,
        closed_form_parameters=closed,
        unknown_parameters=unknown,
        experts=experts,
        active_parameters=None if experts is None else formulas.active_parameters(architecture, experts),
        not_prunable=not_prunable_reason(model, path, layers, mlps),
        decoder_path=path,
        mlp_param_names=tuple(sorted(name for name, _ in first.module.named_parameters())),
        attn_param_names=tuple(sorted(name for name, _ in attention.named_parameters())) if attention is not None else (),
        notes=tuple(notes),
    )


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers' warnings about a config (token ids outside a tiny vocabulary, ...) off while facts are read."""
    from transformers.utils import logging as transformers_logging

    level = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        transformers_logging.set_verbosity(level)


# --- finding the decoder --------------------------------------------------------------------------


def find_decoder(model: nn.Module) -> tuple[str, list[nn.Module]]:
    """The decoder's layers: those optipfair finds (``model.model.layers`` and kin) when they hold GLU
    MLPs or experts, else the ``ModuleList`` with the most such layers (a multimodal model's text decoder).

    Raises ``ArchitectureError`` naming the MLP of the longest layer list when none has one.
    """
    lists = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.ModuleList) and len(module)]
    scored = [(sum(layer_mlp(i, layer).kind != "none" for i, layer in enumerate(module)), name, module) for name, module in lists]
    scored = [item for item in scored if item[0]]
    if not scored:
        raise NotGluModel(f"{type(model).__name__} is not a GLU decoder: {_what_mlp(lists)}")
    optipfair_layers = optipfair_decoder_layers(model)
    for _, name, module in scored:
        if len(module) == len(optipfair_layers) and all(a is b for a, b in zip(module, optipfair_layers)):
            return name, list(module)
    _, name, module = max(scored, key=lambda item: (item[0], -len(item[1])))
    return name, list(module)


def optipfair_decoder_layers(model: nn.Module) -> list[nn.Module]:
    """The layers optipfair's ``get_model_layers`` prunes (empty when it finds none), without its warning."""
    from optipfair.pruning.utils import get_model_layers

    optipfair_logger = logging.getLogger("optipfair.pruning.utils")
    level = optipfair_logger.level
    optipfair_logger.setLevel(logging.ERROR)
    try:
        return list(get_model_layers(model))
    finally:
        optipfair_logger.setLevel(level)


def _what_mlp(lists: list[tuple[str, nn.ModuleList]]) -> str:
    """What the longest layer list's first layer holds instead of a GLU MLP, for the error."""
    if not lists:
        return "it has no list of layers"
    name, layers = max(lists, key=lambda item: len(item[1]))
    layer = layers[0]
    block = next((getattr(layer, attr) for attr in ("mlp", "feed_forward", "ffn") if isinstance(getattr(layer, attr, None), nn.Module)), None)
    if block is None:
        children = ", ".join(name for name, _ in layer.named_children()) or "no submodules"
        return f"its layers ({name}) have no MLP with gate_proj/up_proj/down_proj or gate_up_proj; layer 0 holds {children}"
    children = ", ".join(child for child, _ in block.named_children()) or "no submodules"
    return f"its MLP is {type(block).__name__} ({children}), not gate_proj/up_proj/down_proj or gate_up_proj/down_proj"


def layer_mlp(index: int, layer: nn.Module) -> LayerMlp:
    """The feed-forward block of one layer and its kind (``glu``, ``fused``, ``moe`` or ``none``)."""
    children = dict(layer.named_children())
    ordered = sorted(children.items(), key=lambda item: item[0] != "mlp")
    for attribute, module in ordered:
        kind = mlp_kind(module)
        if kind != "none":
            return LayerMlp(index, attribute, module, kind)
    return LayerMlp(index, None, None, "none")


def mlp_kind(module: nn.Module) -> str:
    """``glu`` for gate_proj/up_proj/down_proj, ``fused`` for gate_up_proj/down_proj, ``moe`` for experts."""
    if all(_is_linear(getattr(module, name, None)) for name in ("gate_proj", "up_proj", "down_proj")):
        return "glu"
    if all(_is_linear(getattr(module, name, None)) for name in ("gate_up_proj", "down_proj")):
        return "fused"
    if isinstance(getattr(module, "experts", None), nn.Module):
        return "moe"
    return "none"


def _is_linear(module: Any) -> bool:
    return isinstance(module, nn.Linear)


def attention_name(layer: nn.Module) -> str | None:
    """The attribute of ``layer`` holding its attention (``self_attn``, ...), or None."""
    return next((name for name in ATTENTION_NAMES if isinstance(getattr(layer, name, None), nn.Module)), None)


def attention_of(layer: nn.Module) -> nn.Module | None:
    """The attention module of ``layer``, or None."""
    name = attention_name(layer)
    return None if name is None else getattr(layer, name)


# --- sizes and facts ------------------------------------------------------------------------------


def _mlp_sizes(dense: list[LayerMlp], moe: list[LayerMlp], config) -> tuple[int, int, bool]:
    """H, I and the bias flag of the dense GLU MLPs (all alike); a pure MoE model: H and the config's I."""
    if not dense:
        text = config.get_text_config()
        width = getattr(text, "intermediate_size", None)
        experts = moe[0].module.experts
        hidden = _expert_shapes(experts)[1]
        return hidden, width if isinstance(width, int) and width > 0 else _expert_shapes(experts)[2], False
    sizes = {mlp.index: glu_sizes(mlp) for mlp in dense}
    distinct = Counter(sizes.values())
    if len(distinct) > 1:
        described = "; ".join(f"{count} layers {h}x{i}{' with biases' if bias else ''}" for (h, i, bias), count in distinct.items())
        raise ArchitectureError(
            f"the layers' GLU MLPs differ ({described}): the catalogue describes a model whose MLPs share one width"
        )
    return next(iter(distinct))


def glu_sizes(mlp: LayerMlp) -> tuple[int, int, bool]:
    """(H, I, biases) of one dense GLU MLP; ``ArchitectureError`` for shapes that do not pair up."""
    module = mlp.module
    down = module.down_proj
    if mlp.kind == "fused":
        rows, hidden = module.gate_up_proj.out_features, module.gate_up_proj.in_features
        width = rows // 2
        biases = [module.gate_up_proj.bias, down.bias]
        consistent = rows == 2 * width and down.in_features == width and down.out_features == hidden
    else:
        gate, up = module.gate_proj, module.up_proj
        hidden, width = gate.in_features, gate.out_features
        biases = [gate.bias, up.bias, down.bias]
        consistent = (up.in_features, up.out_features) == (hidden, width) and (down.in_features, down.out_features) == (width, hidden)
    if not consistent:
        raise ArchitectureError(f"layer {mlp.index}: the GLU projections' shapes do not pair up (gate/up H x I, down I x H)")
    with_bias = [bias is not None for bias in biases]
    if any(with_bias) and not all(with_bias):
        raise ArchitectureError(f"layer {mlp.index}: only some GLU projections carry biases; the catalogue counts all or none")
    return hidden, width, all(with_bias)


def _architecture_values(model, config, layer, attention, mlp: tuple[int, int, bool]) -> dict[str, Any]:
    """``Architecture``'s fields but the layers, the fused MLP and the counts, read off the model and its config."""
    hidden_size, intermediate_size, mlp_bias = mlp
    text = config.get_text_config()
    heads = _positive(getattr(text, "num_attention_heads", None)) or 1
    kv_heads = _positive(getattr(text, "num_key_value_heads", None)) or heads
    if heads % kv_heads:
        kv_heads = heads
    head_dim = _positive(getattr(attention, "head_dim", None)) or _positive(getattr(text, "head_dim", None)) or hidden_size // heads
    names = {name for name, _ in attention.named_parameters()} if attention is not None else set()
    q_norm = getattr(attention, "q_norm", None)
    q_norm_size = q_norm.weight.numel() if isinstance(getattr(q_norm, "weight", None), torch.Tensor) else 0
    norms, norm_bias = layer_norms(layer, hidden_size)
    embedding = model.get_input_embeddings()
    return {
        "hidden_size": hidden_size,
        "intermediate_size": intermediate_size,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "vocab_size": embedding.weight.shape[0],
        "tie_word_embeddings": tied_embeddings(model),
        "qkv_bias": bool(names & {"q_proj.bias", "qkv_proj.bias"}),
        "o_proj_bias": "o_proj.bias" in names,
        "mlp_bias": mlp_bias,
        "qk_norm": "q_norm.weight" in names,
        "norms_per_layer": norms,
        "fused_qkv": "qkv_proj.weight" in names,
        "qk_norm_all_heads": q_norm_size == heads * head_dim and q_norm_size != head_dim,
        "norm_bias": norm_bias,
    }


def layer_norms(layer: nn.Module, hidden_size: int) -> tuple[int, bool]:
    """The norms of size H directly in ``layer`` (outside attention and MLP), and whether they carry biases."""
    weights, biases = 0, 0
    for name, module in layer.named_children():
        if isinstance(module, nn.ModuleList) or name in ATTENTION_NAMES or mlp_kind(module) != "none":
            continue
        own = dict(module.named_parameters(recurse=False))
        if "norm" not in name.lower() and "norm" not in type(module).__name__.lower():
            continue
        if tuple(getattr(own.get("weight"), "shape", ())) == (hidden_size,):
            weights += 1
            biases += tuple(getattr(own.get("bias"), "shape", ())) == (hidden_size,)
    return weights, bool(weights) and biases == weights


def tied_embeddings(model: nn.Module) -> bool:
    """True when the LM head shares the input embedding's matrix (or there is no separate head)."""
    head = model.get_output_embeddings()
    return head is None or head.weight is model.get_input_embeddings().weight


def count_parameters(model: nn.Module) -> int:
    """``sum(p.numel() for p in model.parameters())``: shared (tied) tensors once."""
    return sum(parameter.numel() for parameter in model.parameters())


def _validated(values: dict[str, Any]) -> Architecture:
    try:
        return Architecture.model_validate(values)
    except ValueError as error:
        raise ArchitectureError(f"the facts read off the model do not make an architecture: {_first_line(error)}") from None


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# --- mixtures of experts ----------------------------------------------------------------------------


def _experts(moe: list[LayerMlp], hidden_size: int, config) -> Experts:
    """The routed experts of the MoE layers (all alike), checked against the GLU count of one expert."""
    shapes = {_expert_shapes(mlp.module.experts) for mlp in moe}
    if len(shapes) > 1:
        raise ArchitectureError("the MoE layers' experts differ in number or width: the catalogue counts one kind")
    num_experts, _, width, per_expert, bias = next(iter(shapes))
    if per_expert != formulas.mlp_parameters(hidden_size, width, bias):
        raise ArchitectureError(
            f"an expert holds {per_expert} parameters, not those of a GLU MLP {hidden_size} x {width}: the catalogue counts GLU experts"
        )
    text = config.get_text_config()
    top_k = next((_positive(getattr(text, key, None)) for key in TOP_K_KEYS if _positive(getattr(text, key, None))), None)
    if top_k is None:
        top_k = _positive(getattr(moe[0].module, "top_k", None)) or _positive(getattr(getattr(moe[0].module, "gate", None), "top_k", None))
    if top_k is None:
        raise ArchitectureError("the config names no number of experts per token (num_experts_per_tok): active parameters unknown")
    return Experts(
        num_experts=num_experts, num_experts_per_tok=top_k, moe_intermediate_size=width, num_moe_layers=len(moe), expert_bias=bias
    )


def _expert_shapes(experts: nn.Module) -> tuple[int, int, int, int, bool]:
    """(experts, H, expert width, parameters of one expert, biases) of an experts module.

    Experts are a ``ModuleList`` of GLU MLPs, or one module holding them stacked
    (``gate_up_proj`` [E, 2I, H] or [E, H, 2I], ``down_proj`` [E, H, I] or [E, I, H]).
    """
    if isinstance(experts, nn.ModuleList):
        first = LayerMlp(0, None, experts[0], mlp_kind(experts[0]))
        if first.kind not in ("glu", "fused"):
            raise NotGluModel(f"the model is not a GLU decoder: its experts are {type(experts[0]).__name__}, not GLU MLPs")
        hidden, width, bias = glu_sizes(first)
        return len(experts), hidden, width, count_parameters(experts) // len(experts), bias
    parameters = dict(experts.named_parameters())
    stacked = [tensor for tensor in parameters.values() if tensor.dim() == 3]
    down = parameters.get("down_proj")
    gated = "gate_up_proj" in parameters or {"gate_proj", "up_proj"} <= parameters.keys()
    if not stacked or down is None or down.dim() != 3 or not gated:
        names = ", ".join(sorted(parameters)) or "no parameters"
        raise NotGluModel(f"the model is not a GLU decoder: its experts ({type(experts).__name__}: {names}) are not GLU MLPs")
    num_experts = stacked[0].shape[0]
    per_expert = count_parameters(experts) // num_experts
    first, second = down.shape[1:]
    # down_proj maps I -> H; of its two axes, the one that makes 3*H*I (+ biases) the expert's count is I.
    bias = any(name.endswith("bias") for name in parameters)
    for hidden, width in ((first, second), (second, first)):
        if formulas.mlp_parameters(hidden, width, bias) == per_expert:
            return num_experts, hidden, width, per_expert, bias
    return num_experts, first, second, per_expert, bias


# --- what the closed form knows, and what optipfair prunes ------------------------------------------


def unknown_parameters(model, path: str, layers, mlps: list[LayerMlp], attention: str | None) -> tuple[str, ...]:
    """Parameter names (layer index as ``N``) the closed form does not count; empty when it counts them all."""
    prefix = path.rsplit(".", 1)[0] + "." if "." in path else ""
    known = outside_layers(prefix)
    unknown: set[str] = set()
    for name, _ in model.named_parameters():
        index, rest = _in_layer(name, path, len(layers))
        if index is None:
            if name not in known:
                unknown.add(name)
        elif not known_in_layer(rest, mlps[index].attribute if mlps[index].kind in ("glu", "fused") else None, attention):
            unknown.add(f"{path}.N.{rest}")
    return tuple(sorted(unknown))


def _in_layer(name: str, path: str, n_layers: int) -> tuple[int | None, str]:
    """(layer index, name within the layer) of a parameter of ``path``'s layers, else (None, name)."""
    if not name.startswith(path + "."):
        return None, name
    index, _, rest = name[len(path) + 1 :].partition(".")
    if not index.isdigit() or int(index) >= n_layers:
        return None, name
    return int(index), rest


def not_prunable_reason(model: nn.Module, path: str, layers: list[nn.Module], mlps: list[LayerMlp]) -> str | None:
    """Why the model cannot be width-pruned exactly as optipfair prunes, or None when it can.

    optipfair prunes ``layer.mlp`` of the layers ``get_model_layers`` finds (``model.model.layers``
    and kin), with gate_proj/up_proj/down_proj and nothing else in the MLP; the catalogue prunes
    a fused gate_up_proj itself, with the same ranking.
    """
    if any(mlp.kind == "moe" for mlp in mlps):
        return MOE_NOT_PRUNABLE
    missing = [mlp.index for mlp in mlps if mlp.kind == "none"]
    if missing:
        return f"layers {_span(missing)} have no GLU MLP: optipfair prunes every layer's MLP"
    found = optipfair_decoder_layers(model)
    if len(found) != len(layers) or any(a is not b for a, b in zip(found, layers)):
        return f"optipfair looks for the decoder layers at model.model.layers (and kin); this model keeps them at {path}"
    names = {mlp.attribute for mlp in mlps}
    if names != {"mlp"}:
        return f"optipfair prunes layer.mlp; this model's layers hold their MLP as {', '.join(sorted(names))}"
    extra = sorted(
        {name for mlp in mlps for name, _ in mlp.module.named_parameters() if name.split(".")[0] not in ("gate_proj", "up_proj", "down_proj", "gate_up_proj")}
    )
    if extra:
        return f"the MLP holds {', '.join(extra)} besides its projections: width pruning would leave it at the old width"
    return None


def _span(indices: list[int]) -> str:
    shown = ", ".join(str(index) for index in indices[:6])
    return shown + (", ..." if len(indices) > 6 else "")


def _version() -> str:
    import transformers

    return transformers.__version__


def _first_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return (text[:300] + "...") if len(text) > 300 else text or type(error).__name__

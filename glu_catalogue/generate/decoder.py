"""Where a meta model's decoder layers are, what each layer's MLP is, and whether optipfair prunes it.

A layer's feed-forward block is a dense GLU MLP (``gate_proj``/``up_proj``/``down_proj``), a fused
one (``gate_up_proj``/``down_proj``), a mixture of experts (``experts``) or none of these. The
decoder is the list of layers optipfair prunes (``model.model.layers`` and kin) when it holds such
blocks, else the ``ModuleList`` with the most of them (a multimodal model's text decoder).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..core.layout import ATTENTION_NAMES, known_in_layer, outside_layers
from ..errors import ArchitectureError, NotGluModel

#: Why optipfair does not prune a mixture of experts.
MOE_NOT_PRUNABLE = "a mixture of experts: optipfair 0.4.2 prunes dense GLU MLPs, not experts"

#: The projections of a GLU MLP, split or fused.
GLU_PROJECTIONS = ("gate_proj", "up_proj", "down_proj", "gate_up_proj")


@dataclass(frozen=True)
class LayerMlp:
    """One decoder layer's feed-forward block as the meta model holds it.

    ``kind`` is ``glu`` (gate/up/down), ``fused`` (gate_up/down), ``moe`` (experts) or ``none``;
    ``attribute`` is the layer's attribute holding it (``mlp``, ``feed_forward``, ...).
    """

    index: int
    attribute: str | None
    module: nn.Module | None
    kind: str

    @property
    def dense(self) -> bool:
        """True for a dense GLU MLP, split or fused."""
        return self.kind in ("glu", "fused")


@dataclass(frozen=True)
class MetaDecoder:
    """A meta model's decoder: where its layers are (``path``), the layers, and each one's MLP."""

    model: nn.Module
    path: str
    layers: list[nn.Module]
    mlps: list[LayerMlp]

    @classmethod
    def of(cls, model: nn.Module) -> MetaDecoder:
        """The decoder of ``model``; ``NotGluModel`` (naming the MLP found) when no layer list has a GLU MLP."""
        path, layers = find_decoder(model)
        return cls(model, path, layers, [layer_mlp(index, layer) for index, layer in enumerate(layers)])

    @property
    def dense(self) -> list[LayerMlp]:
        """The layers' dense GLU MLPs."""
        return [mlp for mlp in self.mlps if mlp.dense]

    @property
    def moe(self) -> list[LayerMlp]:
        """The layers' mixtures of experts."""
        return [mlp for mlp in self.mlps if mlp.kind == "moe"]

    @property
    def first(self) -> LayerMlp:
        """The first layer with a GLU MLP or experts: the layer the facts are read from."""
        return next(mlp for mlp in self.mlps if mlp.kind != "none")

    @property
    def first_layer(self) -> nn.Module:
        """The decoder layer ``first`` belongs to."""
        return self.layers[self.first.index]


def find_decoder(model: nn.Module) -> tuple[str, list[nn.Module]]:
    """The decoder's layers: those optipfair finds (``model.model.layers`` and kin) when they hold GLU
    MLPs or experts, else the ``ModuleList`` with the most such layers (a multimodal model's text decoder).

    Raises ``NotGluModel`` naming the MLP of the longest layer list when none has one.
    """
    lists = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.ModuleList) and len(module)]
    scored = [(sum(layer_mlp(i, layer).kind != "none" for i, layer in enumerate(module)), name, module) for name, module in lists]
    scored = [item for item in scored if item[0]]
    if not scored:
        raise NotGluModel(f"{type(model).__name__} is not a GLU decoder: {_what_mlp(lists)}")
    optipfair_layers = optipfair_decoder_layers(model)
    for _, name, module in scored:
        if _same_layers(list(module), optipfair_layers):
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


def _same_layers(first: list[nn.Module], second: list[nn.Module]) -> bool:
    return len(first) == len(second) and all(a is b for a, b in zip(first, second))


def _what_mlp(lists: list[tuple[str, nn.ModuleList]]) -> str:
    """What the longest layer list's first layer holds instead of a GLU MLP, for the error."""
    if not lists:
        return "it has no list of layers"
    name, layers = max(lists, key=lambda item: len(item[1]))
    layer = layers[0]
    block = next((getattr(layer, attr) for attr in ("mlp", "feed_forward", "ffn") if isinstance(getattr(layer, attr, None), nn.Module)), None)
    if block is None:
        children = ", ".join(child for child, _ in layer.named_children()) or "no submodules"
        return f"its layers ({name}) have no MLP with gate_proj/up_proj/down_proj or gate_up_proj; layer 0 holds {children}"
    children = ", ".join(child for child, _ in block.named_children()) or "no submodules"
    return f"its MLP is {type(block).__name__} ({children}), not gate_proj/up_proj/down_proj or gate_up_proj/down_proj"


def layer_mlp(index: int, layer: nn.Module) -> LayerMlp:
    """The feed-forward block of one layer and its kind (``glu``, ``fused``, ``moe`` or ``none``); ``mlp`` first."""
    ordered = sorted(layer.named_children(), key=lambda item: item[0] != "mlp")
    for attribute, module in ordered:
        kind = mlp_kind(module)
        if kind != "none":
            return LayerMlp(index, attribute, module, kind)
    return LayerMlp(index, None, None, "none")


def mlp_kind(module: nn.Module) -> str:
    """``glu`` for gate_proj/up_proj/down_proj, ``fused`` for gate_up_proj/down_proj, ``moe`` for experts."""
    if all(isinstance(getattr(module, name, None), nn.Linear) for name in ("gate_proj", "up_proj", "down_proj")):
        return "glu"
    if all(isinstance(getattr(module, name, None), nn.Linear) for name in ("gate_up_proj", "down_proj")):
        return "fused"
    if isinstance(getattr(module, "experts", None), nn.Module):
        return "moe"
    return "none"


def attention_name(layer: nn.Module) -> str | None:
    """The attribute of ``layer`` holding its attention (``self_attn``, ...), or None."""
    return next((name for name in ATTENTION_NAMES if isinstance(getattr(layer, name, None), nn.Module)), None)


def attention_of(layer: nn.Module) -> nn.Module | None:
    """The attention module of ``layer``, or None."""
    name = attention_name(layer)
    return None if name is None else getattr(layer, name)


# --- the MLPs' sizes --------------------------------------------------------------------------------


def glu_sizes(mlp: LayerMlp) -> tuple[int, int, bool]:
    """(H, I, biases) of one dense GLU MLP; ``ArchitectureError`` for shapes that do not pair up."""
    module, down = mlp.module, mlp.module.down_proj
    if mlp.kind == "fused":
        rows, hidden = module.gate_up_proj.out_features, module.gate_up_proj.in_features
        width = rows // 2
        biases = [module.gate_up_proj.bias, down.bias]
        consistent = rows == 2 * width and (down.in_features, down.out_features) == (width, hidden)
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


def uniform_glu_sizes(dense: list[LayerMlp]) -> tuple[int, int, bool]:
    """(H, I, biases) shared by every dense GLU MLP; ``ArchitectureError`` when the layers differ."""
    distinct = Counter(glu_sizes(mlp) for mlp in dense)
    if len(distinct) > 1:
        described = "; ".join(f"{count} layers {h}x{i}{' with biases' if bias else ''}" for (h, i, bias), count in distinct.items())
        raise ArchitectureError(f"the layers' GLU MLPs differ ({described}): the catalogue describes MLPs of one width")
    return next(iter(distinct))


# --- what the closed form knows, and what optipfair prunes ------------------------------------------


def unknown_parameters(decoder: MetaDecoder) -> tuple[str, ...]:
    """Parameter names (layer index as ``N``) the closed form does not count; empty when it counts them all."""
    path = decoder.path
    known = outside_layers(path.rsplit(".", 1)[0] + "." if "." in path else "")
    attention = attention_name(decoder.first_layer)
    unknown: set[str] = set()
    for name, _ in decoder.model.named_parameters():
        index, rest = _in_layer(name, path, len(decoder.layers))
        if index is None:
            if name not in known:
                unknown.add(name)
        elif not known_in_layer(rest, decoder.mlps[index].attribute if decoder.mlps[index].dense else None, attention):
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


def not_prunable_reason(decoder: MetaDecoder) -> str | None:
    """Why the model cannot be width-pruned exactly as optipfair prunes, or None when it can.

    optipfair prunes ``layer.mlp`` of the layers ``get_model_layers`` finds (``model.model.layers``
    and kin), with gate_proj/up_proj/down_proj and nothing else in the MLP; the catalogue prunes
    a fused gate_up_proj itself, with the same ranking.
    """
    if decoder.moe:
        return MOE_NOT_PRUNABLE
    missing = [mlp.index for mlp in decoder.mlps if mlp.kind == "none"]
    if missing:
        return f"layers {_span(missing)} have no GLU MLP: optipfair prunes every layer's MLP"
    if not _same_layers(decoder.layers, optipfair_decoder_layers(decoder.model)):
        return f"optipfair looks for the decoder layers at model.model.layers (and kin); this model keeps them at {decoder.path}"
    names = {mlp.attribute for mlp in decoder.mlps}
    if names != {"mlp"}:
        return f"optipfair prunes layer.mlp; this model's layers hold their MLP as {', '.join(sorted(names))}"
    extra = sorted({name for mlp in decoder.mlps for name, _ in mlp.module.named_parameters() if name.split(".")[0] not in GLU_PROJECTIONS})
    if extra:
        return f"the MLP holds {', '.join(extra)} besides its projections: width pruning would leave it at the old width"
    return None


def _span(indices: list[int]) -> str:
    shown = ", ".join(str(index) for index in indices[:6])
    return shown + (", ..." if len(indices) > 6 else "")


def positive(value: Any) -> int | None:
    """``value`` when it is a positive int (not a bool), else None: config values that may be missing or null."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

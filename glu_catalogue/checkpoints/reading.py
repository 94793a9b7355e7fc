"""What a checkpoint directory holds, read from its config.json and safetensors headers (no weights, no torch).

``read_checkpoint`` reads the config, the index (if any) and every header; ``decoder_of`` finds
the decoder's layers by tensor name (dense MLPs or routed experts, ``checkpoints.experts``);
``layer_mlp`` reads one layer's dense MLP width off its shapes;
``architecture_of`` completes the config's architecture with the facts the tensor names show
(q/k/v biases, q/k norms, norms per layer, fused projections); ``count_parameters`` counts
the tensors as ``sum(p.numel() for p in model.parameters())`` does.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..core.architecture import MAX_EXACT_INT, Architecture
from ..core.layout import is_layer_norm, known_in_layer, outside_layers
from ..core.problems import show
from ..store.known_types import type_flag
from ..store.reading import ReadError, kind_of, path_exists, read_json
from ..store.registry import ArchitectureFacts, architecture_from_config
from .experts import routed_block
from .safetensors import SafetensorsHeader, TensorEntry, read_header

CONFIG_FILE = "config.json"
INDEX_FILE = "model.safetensors.index.json"

#: The config.json keys an ``Architecture`` cannot do without.
REQUIRED_CONFIG_KEYS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size")

#: Optional config.json sizes; where present they must be positive integers too.
OPTIONAL_SIZE_KEYS = ("num_key_value_heads", "head_dim")

#: Buffers some checkpoints save next to the parameters; ``model.parameters()`` does not hold them.
BUFFER_SUFFIXES = (".inv_freq",)

#: ``<prefix>layers.<index>.<rest>``: a tensor of one decoder layer.
#: Types transformers saves under other tensor names than its model's parameters, and the renames (applied in
#: order) its loader makes: transformers 5.24's ``conversion_mapping.py``. The reader reads the loaded names.
SAVED_NAMES: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "exaone": tuple(
        (re.compile(pattern), replacement)
        for pattern, replacement in (
            (r"^transformer\.wte\.", "model.embed_tokens."),
            (r"^transformer\.h\.", "model.layers."),
            (r"^transformer\.ln_f\.", "model.norm."),
            (r"\.attn\.attention\.", ".self_attn."),
            (r"\.self_attn\.out_proj\.", ".self_attn.o_proj."),
            (r"\.ln_1\.", ".input_layernorm."),
            (r"\.ln_2\.", ".post_attention_layernorm."),
            (r"\.mlp\.c_fc_0\.", ".mlp.gate_proj."),
            (r"\.mlp\.c_fc_1\.", ".mlp.up_proj."),
            (r"\.mlp\.c_proj\.", ".mlp.down_proj."),
        )
    )
}


def loaded_name(saved: str, renames: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    """The parameter name transformers loads the tensor ``saved`` as (``SAVED_NAMES`` of its type)."""
    for pattern, replacement in renames:
        saved = pattern.sub(replacement, saved)
    return saved


#: EXAONE's GLU MLP as transformers saves it (``transformer.h.N.mlp.c_fc_0`` gate, ``c_fc_1`` up, ``c_proj`` down):
#: mapped by ``SAVED_NAMES`` when config.json says ``model_type: exaone``; without it, inspect says so rather than
#: that a GLU model is not one.
EXAONE_MLP_TENSOR = re.compile(r"^(?:.+\.)?h\.[0-9]{1,9}\.mlp\.c_fc_[01]\.weight$")
EXAONE_NOT_READ = (
    "EXAONE's tensor names (transformer.h.N.mlp.c_fc_0, c_fc_1, c_proj) are read by inspect only when config.json "
    'says "model_type": "exaone", which this one does not'
)

LAYER_TENSOR = re.compile(r"^(?P<prefix>(?:.+\.)?)layers\.(?P<index>[0-9]{1,9})\.(?P<rest>.+)$")

#: The block holding a layer's MLP in transformers' own models (``feed_forward``, ``mlp_block``: others).
MLP_BLOCK = "mlp"

#: MLP tensors of a GLU layer (relative to the MLP block) and what each axis of their shape
#: measures: ``width`` is the layer's intermediate size, ``width2`` twice it (fused gate and
#: up), ``hidden`` the model's H.
MLP_AXES = {
    "gate_proj.weight": ("width", "hidden"),
    "up_proj.weight": ("width", "hidden"),
    "down_proj.weight": ("hidden", "width"),
    "gate_up_proj.weight": ("width2", "hidden"),
    "gate_proj.bias": ("width",),
    "up_proj.bias": ("width",),
    "down_proj.bias": ("hidden",),
    "gate_up_proj.bias": ("width2",),
}

#: The tensors a GLU MLP needs: separate gate and up, or fused gate_up (Phi-3); down either way.
MLP_REQUIRED = (("gate_proj.weight", "up_proj.weight", "down_proj.weight"), ("gate_up_proj.weight", "down_proj.weight"))

#: The dense MLP tensors of some mixtures of experts under other names: LFM2-MoE's ``w1`` (gate),
#: ``w3`` (up), ``w2`` (down); HY-V4's ``linear_gate``. Read as ``MLP_AXES`` (which pruning uses) is.
MLP_ALIAS_AXES = {
    "w1.weight": ("width", "hidden"),
    "w3.weight": ("width", "hidden"),
    "w2.weight": ("hidden", "width"),
    "linear_gate.weight": ("width", "hidden"),
}

#: Every dense MLP tensor ``layer_mlp`` reads, and the sets a GLU MLP needs, the first tensor of each telling them apart.
DENSE_AXES = {**MLP_AXES, **MLP_ALIAS_AXES}
DENSE_REQUIRED = (MLP_REQUIRED[1], ("w1.weight", "w3.weight", "w2.weight"), ("linear_gate.weight", "up_proj.weight", "down_proj.weight"), MLP_REQUIRED[0])

#: The dense MLP tensors whose rows (or columns, for down) are the MLP's width, in the order the width is read from.
WIDTH_TENSORS = ("gate_proj.weight", "gate_up_proj.weight", "w1.weight", "linear_gate.weight", "up_proj.weight", "w3.weight", "down_proj.weight", "w2.weight")


@dataclass(frozen=True)
class Checkpoint:
    """The config and the safetensors headers of a checkpoint directory (no weights)."""

    directory: Path
    config: dict[str, Any]
    headers: list[SafetensorsHeader]
    weight_map: dict[str, str] | None = None
    index_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        """``config.json`` of the checkpoint."""
        return self.directory / CONFIG_FILE

    @property
    def index_path(self) -> Path:
        """``model.safetensors.index.json`` of the checkpoint (it may not exist)."""
        return self.directory / INDEX_FILE

    @cached_property
    def tensors(self) -> dict[str, TensorEntry]:
        """Every tensor by name; a name held by two files is taken from the first (a problem)."""
        merged: dict[str, TensorEntry] = {}
        model_type = self.config.get("model_type")
        renames = SAVED_NAMES.get(model_type, ()) if isinstance(model_type, str) else ()
        for header in self.headers:
            for name, entry in header.tensors.items():
                merged.setdefault(loaded_name(name, renames), entry)
        return merged


def read_checkpoint(directory: Path) -> Checkpoint:
    """Config, index and every safetensors header of ``directory``; ``ReadError`` if unreadable.

    With ``model.safetensors.index.json`` the shards are the files its ``weight_map`` names
    (a missing one is an error); without it, every ``*.safetensors`` file of the directory.
    """
    directory = Path(directory)
    if not path_exists(directory):
        raise ReadError(directory, "no such directory")
    if not directory.is_dir():
        raise ReadError(directory, "not a directory: expected a checkpoint directory")
    config = read_json(directory / CONFIG_FILE)
    if not isinstance(config, dict):
        raise ReadError(directory / CONFIG_FILE, f"expected a JSON object of model settings, found {kind_of(config)}")
    index_path = directory / INDEX_FILE
    if os.path.lexists(index_path):
        weight_map, index_metadata = _read_index(index_path)
        shard_paths = [directory / name for name in sorted(set(weight_map.values()))]
        for shard in shard_paths:
            if not os.path.lexists(shard):
                listed = sum(1 for name in weight_map.values() if name == shard.name)
                raise ReadError(shard, f"missing: {INDEX_FILE} maps {listed} tensors to this shard (copy the shard or re-save the checkpoint)")
        return Checkpoint(directory, config, [read_header(path) for path in shard_paths], weight_map, index_metadata)
    shard_paths = sorted(directory.glob("*.safetensors"))
    if not shard_paths:
        raise ReadError(directory, f"no *.safetensors files and no {INDEX_FILE}: not a safetensors checkpoint")
    return Checkpoint(directory, config, [read_header(path) for path in shard_paths])


def _read_index(path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    document = read_json(path)
    weight_map = document.get("weight_map") if isinstance(document, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(value, str) for value in weight_map.values()):
        raise ReadError(path, "expected an object with a 'weight_map' object of tensor name -> shard file name")
    for shard in set(weight_map.values()):
        if not is_plain_file_name(shard):
            raise ReadError(path, f"weight_map names {shard!r}: expected a file name inside the checkpoint directory")
    metadata = document.get("metadata")
    return weight_map, metadata if isinstance(metadata, dict) else {}


def is_plain_file_name(name: str) -> bool:
    """True for a name that stays inside its directory: no separator, not ``.`` or ``..``, not empty."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name


# --- sorting the tensors out ------------------------------------------------------------------


@dataclass(frozen=True)
class Decoder:
    """The tensors of a decoder: embedding, layers (by index, names relative to the layer), head."""

    prefix: str
    layers: dict[int, dict[str, TensorEntry]]
    embedding: TensorEntry | None
    final_norm: TensorEntry | None
    lm_head: TensorEntry | None
    mlp_block: str = MLP_BLOCK

    def layer_name(self, index: int, rest: str) -> str:
        """The full tensor name of ``rest`` in layer ``index`` (``model.layers.3.mlp.up_proj.weight``)."""
        return f"{self.prefix}layers.{index}.{rest}"


def decoder_of(checkpoint: Checkpoint) -> Decoder:
    """The decoder's tensors; ``ReadError`` if no tensor looks like a GLU MLP layer.

    The prefix (``model.`` for ``*ForCausalLM``) is the one most MLP tensors carry, so the
    layers of a vision tower beside the decoder are not mistaken for it.
    """
    places: Counter[tuple[str, str]] = Counter()
    for name, entry in checkpoint.tensors.items():
        match = LAYER_TENSOR.match(name)
        block, _, inner = match["rest"].partition(".") if match else ("", "", "")
        if match and (inner in MLP_AXES or routed_block(match["rest"], entry) == block):
            places[(match["prefix"], block)] += 1 + (block == MLP_BLOCK)
    if not places:
        some = checkpoint.headers[0].path if checkpoint.headers else checkpoint.directory
        if any(EXAONE_MLP_TENSOR.match(name) for name in checkpoint.tensors):
            raise ReadError(some, EXAONE_NOT_READ)
        raise ReadError(some, "not a GLU decoder checkpoint: no tensor named like model.layers.0.mlp.gate_proj.weight")
    prefix, block = places.most_common(1)[0][0]
    layers: dict[int, dict[str, TensorEntry]] = {}
    for name, entry in checkpoint.tensors.items():
        match = LAYER_TENSOR.match(name)
        if match and match["prefix"] == prefix:
            layers.setdefault(int(match["index"]), {})[match["rest"]] = entry
    lm_head = checkpoint.tensors.get("lm_head.weight") or checkpoint.tensors.get(f"{prefix}lm_head.weight")
    return Decoder(
        prefix=prefix,
        layers=dict(sorted(layers.items())),
        embedding=checkpoint.tensors.get(f"{prefix}embed_tokens.weight"),
        final_norm=checkpoint.tensors.get(f"{prefix}norm.weight"),
        lm_head=lm_head,
        mlp_block=block,
    )


@dataclass(frozen=True)
class LayerMlp:
    """One layer's MLP as its tensors have it.

    ``widths`` and ``hidden_sizes`` map each MLP tensor (name relative to the layer) to the
    intermediate and hidden size its shape implies; ``bad_ranks`` lists tensors whose number of
    dimensions is wrong; ``missing`` the tensors a GLU MLP needs but the layer lacks.
    ``has_experts``: the layer's MLP is a mixture of experts (``checkpoints.experts`` reads them),
    so a dense MLP is not needed beside them.
    """

    index: int
    widths: dict[str, float]
    hidden_sizes: dict[str, int]
    bad_ranks: tuple[str, ...]
    missing: tuple[str, ...]
    has_experts: bool = False

    @property
    def dense(self) -> bool:
        """True when the layer has a dense MLP: every layer without experts, and one with experts that holds dense tensors too."""
        return not self.has_experts or bool(self.widths or self.bad_ranks)

    @property
    def intermediate_size(self) -> int:
        """The layer's MLP width: gate rows (fused: gate_up rows / 2), else up rows, else down columns; 0 if none."""
        for inner in WIDTH_TENSORS:
            for name, width in self.widths.items():
                if name.endswith("." + inner):
                    return int(width)
        return 0


def layer_mlp(index: int, tensors: dict[str, TensorEntry], block: str = MLP_BLOCK, has_experts: bool = False) -> LayerMlp:
    """What the dense MLP tensors (in ``block``) of layer ``index`` (names relative to the layer) say about its sizes.

    ``has_experts``: the layer routes to experts, so it needs no dense MLP (one it holds is still read).
    """
    widths: dict[str, float] = {}
    hidden_sizes: dict[str, int] = {}
    bad_ranks: list[str] = []
    for inner, axes in DENSE_AXES.items():
        name = f"{block}.{inner}"
        entry = tensors.get(name)
        if entry is None:
            continue
        if len(entry.shape) != len(axes):
            bad_ranks.append(name)
            continue
        for axis, size in zip(axes, entry.shape):
            if axis == "hidden":
                hidden_sizes[name] = size
            else:
                widths[name] = size / 2 if axis == "width2" else size
    required = next((names for names in DENSE_REQUIRED if f"{block}.{names[0]}" in tensors), MLP_REQUIRED[0])
    missing = tuple(f"{block}.{inner}" for inner in required if f"{block}.{inner}" not in tensors)
    if has_experts and not widths and not bad_ranks:
        missing = ()
    return LayerMlp(index, widths, hidden_sizes, tuple(bad_ranks), missing, has_experts)


def decoder_config(config: dict[str, Any]) -> dict[str, Any]:
    """The decoder's settings: the config, completed from its ``text_config`` (a multimodal model's);
    an ``intermediate_size`` given per layer, all alike, as one number."""
    text = config.get("text_config")
    merged = {**config, **text} if isinstance(text, dict) else dict(config)
    widths = merged.get("intermediate_size")
    if isinstance(widths, list) and widths and all(width == widths[0] for width in widths):
        merged["intermediate_size"] = widths[0]
    return merged


def facts_from_tensors(layer: dict[str, TensorEntry], config: dict[str, Any], block: str = MLP_BLOCK) -> ArchitectureFacts:
    """The facts a config does not state, read off the tensor names and shapes of one decoder layer.

    Biases and q/k norms are present or absent, q/k norms one head wide or all heads wide; norms
    per layer are the norm vectors directly in the layer (``input_layernorm.weight``), with or
    without biases; ``head_dim`` is the config's, else hidden / heads (the transformers default).
    """
    names = set(layer)
    heads = config.get("num_attention_heads") or 1
    head_dim = config.get("head_dim") or config.get("hidden_size", 0) // heads
    norms = [name for name in names if is_layer_norm(name) and name.endswith(".weight")]
    q_norm = layer.get("self_attn.q_norm.weight")
    architectures = config.get("architectures")
    return ArchitectureFacts(
        qkv_bias=bool(names & {"self_attn.q_proj.bias", "self_attn.qkv_proj.bias"}),
        o_proj_bias="self_attn.o_proj.bias" in names,
        mlp_bias=bool(names & {f"{block}.gate_proj.bias", f"{block}.gate_up_proj.bias", f"{block}.down_proj.bias"}),
        qk_norm=q_norm is not None,
        norms_per_layer=len(norms),
        fused_qkv="self_attn.qkv_proj.weight" in names,
        fused_gate_up=f"{block}.gate_up_proj.weight" in names,
        qk_norm_all_heads=q_norm is not None and q_norm.n_elements == heads * head_dim != head_dim,
        o_proj_hidden_input=_o_proj_hidden_input(layer.get("self_attn.o_proj.weight"), config, heads * head_dim),
        norm_bias=bool(norms) and all(name.removesuffix(".weight") + ".bias" in names for name in norms),
        head_dim_effective=head_dim,
        mlp_param_names=sorted(name.removeprefix(f"{block}.") for name in names if name.startswith(f"{block}.")),
        attn_param_names=sorted(name.removeprefix("self_attn.") for name in names if name.startswith("self_attn.")),
        transformers_class=architectures[0] if isinstance(architectures, list) and architectures else "unknown",
    )


def _o_proj_hidden_input(o_proj: TensorEntry | None, config: dict[str, Any], q_width: int) -> bool:
    """True when the output projection takes H inputs where heads x head_dim differs, and the model type's
    class builds it so (Helium; ``store.known_types``): elsewhere such a shape is a problem the checks report."""
    hidden = config.get("hidden_size")
    if o_proj is None or len(o_proj.shape) != 2 or o_proj.shape[1] != hidden or hidden == q_width:
        return False
    return type_flag(config.get("model_type"), "o_proj_hidden_input")


def architecture_of(checkpoint: Checkpoint, decoder: Decoder, moe_width: int | None = None) -> tuple[Architecture, ArchitectureFacts]:
    """The config's architecture (a multimodal config's text_config), completed with the facts of the first layer's tensors.

    ``moe_width``: a mixture of experts' MLP width (its dense layers', else its experts') from the
    weights, taken where config.json states no ``intermediate_size`` (Qwen3.5-MoE, Solar Open); see
    ``complete_moe_config``.
    """
    config = decoder_config(checkpoint.config)
    if moe_width:
        complete_moe_config(config, decoder, moe_width)
    missing = [key for key in REQUIRED_CONFIG_KEYS if key not in config]
    if missing:
        raise ReadError(checkpoint.config_path, f"no {', '.join(repr(key) for key in missing)}: a decoder config needs them")
    _check_sizes(checkpoint)
    first_layer = next(iter(decoder.layers.values()))
    try:
        facts = facts_from_tensors(first_layer, config, decoder.mlp_block)
        return architecture_from_config(config, facts), facts
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(config)"
        raise ReadError(checkpoint.config_path, f"{where}: {first['msg']}") from None


def complete_moe_config(config: dict[str, Any], decoder: Decoder, width: int) -> None:
    """Fill in what a mixture of experts' config.json leaves to its class's defaults, from the weights.

    No ``intermediate_size``: ``width`` (the MLP width the weights hold). No ``tie_word_embeddings``
    while the checkpoint holds an ``lm_head.weight`` beside the embedding: the head is its own
    (transformers saves a tied head once, as the embedding; Inkling's class defaults to untied).
    """
    config.setdefault("intermediate_size", width)
    if "tie_word_embeddings" not in config and decoder.lm_head is not None and decoder.embedding is not None:
        config["tie_word_embeddings"] = False


def weights_hidden_size(decoder: Decoder, config: dict[str, Any]) -> int:
    """H as the weights hold it: the embedding's columns, else the config's ``hidden_size`` (0 if neither)."""
    embedding = decoder.embedding
    if embedding is not None and len(embedding.shape) == 2 and embedding.shape[1] > 0:
        return embedding.shape[1]
    stated = decoder_config(config).get("hidden_size")
    return stated if type(stated) is int else 0


def _check_sizes(checkpoint: Checkpoint) -> None:
    """The config's sizes must be positive integers a float holds exactly: ``ReadError`` naming the first that is not."""
    for key in (*REQUIRED_CONFIG_KEYS, *OPTIONAL_SIZE_KEYS):
        value = checkpoint.config.get(key)
        if value is None:
            continue  # absent: a nested text_config may hold it; what the architecture lacks is reported where it is read
        if key == "intermediate_size" and type(value) is list and value:
            values = value  # one width per layer (Gemma 3n)
        else:
            values = [value]
        for item in values:
            if type(item) is not int or not 0 < item <= MAX_EXACT_INT:
                raise ReadError(checkpoint.config_path, f"{key}: expected a positive integer up to 2**53, found {show(value)}")


def unknown_tensors(checkpoint: Checkpoint, decoder: Decoder) -> list[str]:
    """Tensors the closed form does not count (layer index as ``N``): empty for a Llama-style decoder."""
    known = outside_layers(decoder.prefix)
    unknown: set[str] = set()
    for name in checkpoint.tensors:
        if name.endswith(BUFFER_SUFFIXES):
            continue
        match = LAYER_TENSOR.match(name)
        if match and match["prefix"] == decoder.prefix:
            if not known_in_layer(match["rest"], decoder.mlp_block, "self_attn"):
                unknown.add(f"{decoder.prefix}layers.N.{match['rest']}")
        elif name not in known:
            unknown.add(name)
    return sorted(unknown)


def count_parameters(checkpoint: Checkpoint, decoder: Decoder, tie_word_embeddings: bool, buffers: tuple[str, ...] = ()) -> int:
    """Parameters as ``sum(p.numel() for p in model.parameters())`` counts them after loading.

    Every tensor's elements, except buffers (``inv_freq``, and those ending in one of ``buffers``:
    a mixture of experts' score corrections) and, when the embeddings are tied, an
    ``lm_head.weight`` saved beside the embedding: the model shares one matrix and counts it once.
    """
    shared_head = decoder.lm_head if tie_word_embeddings and decoder.embedding is not None else None
    skipped = BUFFER_SUFFIXES + buffers
    return sum(entry.n_elements for name, entry in checkpoint.tensors.items() if not name.endswith(skipped) and entry is not shared_head)

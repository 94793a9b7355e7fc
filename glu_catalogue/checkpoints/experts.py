"""A mixture of experts as its safetensors headers hold it: each layer's routed and shared experts (no torch).

transformers saves the routed experts of a layer's MoE block (``mlp``, ``block_sparse_moe``,
``feed_forward``, ``ffn``) in one of two layouts:

* one GLU MLP per expert: ``<block>.experts.K.gate_proj.weight`` [I, H], ``up_proj`` [I, H],
  ``down_proj`` [H, I] (Mixtral, MiniMax, LFM2-MoE name them ``w1``, ``w3``, ``w2``);
* stacked, the experts on the first axis: ``<block>.experts.gate_up_proj`` [E, 2I, H] or
  [E, H, 2I] and ``<block>.experts.down_proj`` [E, H, I] or [E, I, H], with or without
  ``gate_up_proj_bias`` [E, 2I] and ``down_proj_bias`` [E, H] (GPT-OSS); Aria names them
  ``experts.fc1.weight`` and ``experts.fc2.weight``, GraniteMoE ``<block>.input_linear.weight`` and
  ``<block>.output_linear.weight``. Which inner axis is H is read off H itself.

Shared experts, which every token passes through, are ``<block>.shared_expert.*``,
``<block>.shared_experts.*`` or ``<block>.shared_mlp.*`` (``shared_mlp.*`` beside the block in
GraniteMoeHybrid): one GLU MLP, or several stacked. The block's other tensors (the router's
``gate.weight`` or ``router.*``, expert biases, score corrections, a shared expert's gate) are
the router's. A layer without routed experts is a dense one (``reading.layer_mlp``).

Active parameters per token are the total less, in each MoE layer, the ``E - k`` routed experts a
token does not pass through (``formulas.idle_expert_parameters``), k as config.json states it
(``TOP_K_KEYS``), never guessed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..core import formulas
from ..core.architecture import TOP_K_KEYS
from .safetensors import TensorEntry

#: What each projection of a GLU expert is, by name: gate, up, both fused, or down.
PROJECTIONS = {
    "gate_proj": "gate",
    "w1": "gate",
    "linear_gate": "gate",
    "up_proj": "up",
    "w3": "up",
    "gate_up_proj": "gate_up",
    "fc1": "gate_up",
    "input_linear": "gate_up",
    "down_proj": "down",
    "w2": "down",
    "fc2": "down",
    "output_linear": "down",
}

#: How many expert widths the non-H axis of each kind of projection is (fused gate and up: two).
WIDTHS_PER_AXIS = {"gate": 1, "up": 1, "gate_up": 2, "down": 1}

#: The projections a GLU expert needs: gate, up and down, or fused gate_up and down.
REQUIRED_KINDS = (("gate", "up", "down"), ("gate_up", "down"))

#: The names one checkpoint gives its projections (a missing one is named from the same set).
NAMINGS = (
    {"gate": "gate_proj", "up": "up_proj", "down": "down_proj", "gate_up": "gate_up_proj"},
    {"gate": "w1", "up": "w3", "down": "w2"},
    {"gate": "linear_gate", "up": "up_proj", "down": "down_proj"},
    {"gate_up": "fc1", "down": "fc2"},
    {"gate_up": "input_linear", "down": "output_linear"},
)

_NAMES = "|".join(PROJECTIONS)
#: ``K.gate_proj.weight`` (after ``experts.``): a tensor of routed expert K.
PER_EXPERT = re.compile(rf"^(?P<expert>[0-9]{{1,9}})\.(?P<projection>{_NAMES})\.(?P<kind>weight|bias)$")
#: ``gate_up_proj``, ``down_proj_bias``, ``fc1.weight``: a tensor of all the routed experts, or of the shared ones.
WHOLE = re.compile(rf"^(?P<projection>{_NAMES})(?:[._](?P<kind>weight|bias))?$")

#: Where a layer's routed experts are, inside the MoE block.
ROUTED_GROUP = "experts."
#: Where a layer's shared experts are, inside the MoE block (or beside it).
SHARED_GROUPS = ("shared_expert.", "shared_experts.", "shared_mlp.")

#: Tensors transformers holds as buffers in its mixtures of experts (saved, but not among
#: ``model.parameters()``, so not in the total), by name ending: the router's score correction
#: (``e_score_correction_bias``, saved by some types as ``expert_bias`` or ``balancing_biases``) and
#: DeepSeek-V4's token-to-expert hash table.
MOE_BUFFERS = (".e_score_correction_bias", ".expert_bias", ".balancing_biases", ".tid2eid")

#: Buffers of one model type under other names: DeepSeek-V4 saves its score correction as
#: ``gate.bias``; MiniMax saves its linear attention's decay tables.
TYPE_BUFFERS = {"deepseek_v4": (".gate.bias",), "minimax": (".diagonal_decay", ".key_decay", ".query_decay", ".slope_rate")}

#: Model types that hold one of ``MOE_BUFFERS`` as a parameter instead (it counts).
TYPE_PARAMETERS = {"afmoe": (".expert_bias",), "ernie4_5_moe": (".e_score_correction_bias",), "laguna": (".e_score_correction_bias",)}

#: config.json keys that state the routed experts per MoE layer, and the width of one.
EXPERT_COUNT_KEYS = ("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts")
EXPERT_WIDTH_KEYS = ("moe_intermediate_size",)


@dataclass(frozen=True)
class ExpertTensor:
    """One projection tensor of a layer's experts: its name (relative to the layer), shape and what it is.

    ``group`` is the part of the name before the projection (``mlp.experts.``, ``mlp.shared_expert.``);
    ``expert`` the expert's index for a per-expert tensor, None for one holding all the experts
    (stacked) or a single shared expert.
    """

    name: str
    shape: tuple[int, ...]
    projection: str
    bias: bool
    group: str
    expert: int | None = None

    @property
    def kind(self) -> str:
        """gate, up, gate_up or down."""
        return PROJECTIONS[self.projection]

    @property
    def per_expert_rank(self) -> int:
        """Dimensions of one expert's tensor: 2 for a weight, 1 for a bias."""
        return 1 if self.bias else 2


def whole_tensor(group: str, rest: str, entry: TensorEntry) -> ExpertTensor | None:
    """Layer tensor ``rest`` as a projection of the experts under ``group`` (``gate_up_proj``, ``down_proj_bias``,
    ``fc1.weight`` after it), else None."""
    match = WHOLE.match(rest.removeprefix(group))
    if match is None:
        return None
    return ExpertTensor(rest, entry.shape, match["projection"], match["kind"] == "bias", group)


def routed_tensor(block: str, rest: str, entry: TensorEntry) -> ExpertTensor | None:
    """Layer tensor ``rest`` as a routed expert's projection in ``block``, else None.

    ``<block>.experts.K.<projection>.weight`` (one expert), ``<block>.experts.<projection>`` (all,
    stacked), or a stacked weight directly in the block (GraniteMoE's ``input_linear.weight`` [E, 2I, H]).
    """
    group = f"{block}.{ROUTED_GROUP}"
    if rest.startswith(group):
        match = PER_EXPERT.match(rest.removeprefix(group))
        if match:
            return ExpertTensor(rest, entry.shape, match["projection"], match["kind"] == "bias", group, int(match["expert"]))
        return whole_tensor(group, rest, entry)
    if rest.startswith(f"{block}."):
        tensor = whole_tensor(f"{block}.", rest, entry)
        if tensor is not None and not tensor.bias and len(tensor.shape) == 3:
            return tensor
    return None


def routed_block(rest: str, entry: TensorEntry) -> str | None:
    """The block (``mlp``, ``block_sparse_moe``) whose routed experts layer tensor ``rest`` belongs to, else None."""
    block = rest.partition(".")[0]
    return block if routed_tensor(block, rest, entry) is not None else None


def shared_tensor(block: str, rest: str, entry: TensorEntry) -> ExpertTensor | None:
    """Layer tensor ``rest`` as a shared expert's projection (in ``block`` or beside it), else None."""
    for group in SHARED_GROUPS:
        for root in (f"{block}.{group}", group):
            if rest.startswith(root):
                return whole_tensor(root, rest, entry)
    return None


# --- one group of experts ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExpertGroup:
    """The routed (or the shared) experts of one layer as their tensors have them.

    ``widths`` and ``hidden_sizes`` map each tensor (name relative to the layer) to the expert
    width and H its shape implies; ``counts`` each stacked tensor to its experts (first axis);
    ``bad_ranks`` maps each tensor whose number of dimensions is wrong to the number it should
    have; ``missing`` lists the tensors a GLU expert needs that the group lacks.
    """

    n_experts: int
    intermediate_size: int
    widths: dict[str, float]
    hidden_sizes: dict[str, int]
    counts: dict[str, int]
    n_parameters: int
    bad_ranks: dict[str, int]
    missing: tuple[str, ...]


def tensor_axes(tensor: ExpertTensor, hidden_size: int, stacked: bool) -> tuple[str, ...]:
    """What each axis of ``tensor`` measures: ``experts`` (stacked), ``hidden`` (H) or ``width``.

    One expert's weight is ``[out, in]`` as ``nn.Linear`` has it (gate, up: [I, H]; down: [H, I]);
    a stacked weight may hold the two inner axes the other way round ([E, H, 2I], GPT-OSS, Llama 4),
    told apart by which of them is H.
    """
    lead = ("experts",) if stacked else ()
    if tensor.bias:
        return lead + (("hidden",) if tensor.kind == "down" else ("width",))
    axes = ("hidden", "width") if tensor.kind == "down" else ("width", "hidden")
    inner = dict(zip(axes, tensor.shape[len(lead) :]))
    if stacked and inner.get("hidden") != hidden_size and inner.get("width") == hidden_size:
        axes = axes[::-1]
    return lead + axes


def is_stacked(tensor: ExpertTensor, routed: bool) -> bool:
    """True for a tensor holding several experts on its first axis: a routed one without an index; a shared one of one more rank."""
    if tensor.expert is not None:
        return False
    return routed or len(tensor.shape) == tensor.per_expert_rank + 1


def expert_group(tensors: list[ExpertTensor], hidden_size: int, routed: bool) -> ExpertGroup:
    """The sizes ``tensors`` (one layer's routed, or shared, experts) imply, with what is wrong in their shapes."""
    sizes: dict[str, dict[str, float]] = {"width": {}, "hidden": {}, "experts": {}}
    bad_ranks: dict[str, int] = {}
    for tensor in tensors:
        stacked = is_stacked(tensor, routed)
        if len(tensor.shape) != tensor.per_expert_rank + stacked:
            bad_ranks[tensor.name] = tensor.per_expert_rank + stacked
            continue
        for axis, size in zip(tensor_axes(tensor, hidden_size, stacked), tensor.shape):
            sizes[axis][tensor.name] = expert_width(tensor, size) if axis == "width" else size
    n_experts = count_experts(tensors, sizes["experts"])
    return ExpertGroup(
        n_experts=n_experts,
        intermediate_size=group_width(tensors, sizes["width"]),
        widths=sizes["width"],
        hidden_sizes=sizes["hidden"],
        counts=sizes["experts"],
        n_parameters=sum(math.prod(tensor.shape) for tensor in tensors),
        bad_ranks=bad_ranks,
        missing=missing_tensors(tensors, n_experts),
    )


def expert_width(tensor: ExpertTensor, size: int) -> float:
    """The expert width a tensor's non-H axis of ``size`` means: the size, or half of it for a fused gate_up (exact: an int)."""
    per_axis = WIDTHS_PER_AXIS[tensor.kind]
    return size // per_axis if size % per_axis == 0 else size / per_axis


def count_experts(tensors: list[ExpertTensor], counts: dict[str, int]) -> int:
    """How many experts a group holds: one more than the highest index of per-expert tensors, else the stacked tensors'
    first axis (the most common one), else 1 (one shared expert)."""
    indices = {tensor.expert for tensor in tensors if tensor.expert is not None}
    if indices:
        return max(indices) + 1
    return Counter(counts.values()).most_common(1)[0][0] if counts else 1


def group_width(tensors: list[ExpertTensor], widths: dict[str, float]) -> int:
    """The experts' width: a gate weight's (fused: gate_up / 2), else up's, else down's; 0 if none."""
    for kind in ("gate", "gate_up", "up", "down"):
        for tensor in tensors:
            if tensor.kind == kind and not tensor.bias and tensor.name in widths:
                return int(widths[tensor.name])
    return 0


def naming_of(tensors: list[ExpertTensor]) -> dict[str, str]:
    """The projection names these tensors use (``gate_proj`` ..., ``w1`` ..., ``fc1`` ...): the first set holding them all."""
    used = {tensor.projection for tensor in tensors}
    return next((naming for naming in NAMINGS if used <= set(naming.values())), NAMINGS[0])


def missing_tensors(tensors: list[ExpertTensor], n_experts: int) -> tuple[str, ...]:
    """Projections a GLU expert needs that no tensor holds, and (one per expert) tensors some experts have and others lack.

    A projection no expert holds is named with ``N`` for the expert (``mlp.experts.N.up_proj.weight``).
    """
    if not tensors:
        return ()
    kinds = {tensor.kind for tensor in tensors}
    required = REQUIRED_KINDS[1] if "gate_up" in kinds else REQUIRED_KINDS[0]
    naming, root = naming_of(tensors), tensors[0].group
    if tensors[0].expert is None:
        suffix = ".weight" if any(tensor.name.endswith(".weight") for tensor in tensors) else ""
        return tuple(f"{root}{naming.get(kind, kind)}{suffix}" for kind in required if kind not in kinds)
    absent = [f"{root}N.{naming.get(kind, kind)}.weight" for kind in required if kind not in kinds]
    return tuple(absent + missing_per_expert(tensors, n_experts))


def missing_per_expert(tensors: list[ExpertTensor], n_experts: int) -> list[str]:
    """The tensors of experts 0..E-1 that another expert of the layer holds and they lack (``mlp.experts.2.down_proj.weight``)."""
    held = {(tensor.expert, tensor.projection, tensor.bias) for tensor in tensors}
    parts = sorted({(projection, bias) for _, projection, bias in held})
    root = tensors[0].group
    return [
        f"{root}{expert}.{projection}.{'bias' if bias else 'weight'}"
        for expert in range(n_experts)
        for projection, bias in parts
        if (expert, projection, bias) not in held
    ]


# --- one layer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerExperts:
    """One MoE layer: its routed experts, its shared experts (None without), and the parameters of its router.

    ``router_parameters`` counts the block's other tensors: the router's weights, expert biases
    and score corrections, a shared expert's gate. Routers and shared experts are always active.
    """

    index: int
    routed: ExpertGroup
    shared: ExpertGroup | None
    router_parameters: int

    @property
    def num_experts(self) -> int:
        """Routed experts in this layer (E)."""
        return self.routed.n_experts

    @property
    def expert_intermediate_size(self) -> int:
        """One routed expert's GLU width."""
        return self.routed.intermediate_size


def buffer_suffixes(model_type: Any) -> tuple[str, ...]:
    """The name endings of the buffers a mixture of experts of ``model_type`` saves beside its parameters."""
    if not isinstance(model_type, str):  # a config's model_type is data from elsewhere: a list or a number has no table entry
        model_type = None
    kept = TYPE_PARAMETERS.get(model_type, ())
    return tuple(suffix for suffix in MOE_BUFFERS if suffix not in kept) + TYPE_BUFFERS.get(model_type, ())


def layer_experts(index: int, tensors: dict[str, TensorEntry], block: str, hidden_size: int, buffers: tuple[str, ...] = MOE_BUFFERS) -> LayerExperts | None:
    """The experts of layer ``index`` (names relative to the layer) in MoE block ``block``; None for a layer without routed experts.

    ``hidden_size`` (H) tells the two inner axes of a stacked weight apart; tensors ending in one of
    ``buffers`` are not parameters and not counted in the router.
    """
    routed: list[ExpertTensor] = []
    shared: list[ExpertTensor] = []
    router = 0
    for rest, entry in tensors.items():
        if (tensor := routed_tensor(block, rest, entry)) is not None:
            routed.append(tensor)
        elif (tensor := shared_tensor(block, rest, entry)) is not None:
            shared.append(tensor)
        elif rest.startswith(f"{block}.") and not is_dense_tensor(rest.removeprefix(f"{block}."), entry):
            router += 0 if rest.endswith(buffers) else entry.n_elements
    if not routed:
        return None
    return LayerExperts(
        index=index,
        routed=expert_group(routed, hidden_size, routed=True),
        shared=expert_group(shared, hidden_size, routed=False) if shared else None,
        router_parameters=router,
    )


def is_dense_tensor(inner: str, entry: TensorEntry) -> bool:
    """True for a dense GLU projection beside the experts (``gate_proj.weight`` [I, H] in the block itself)."""
    match = WHOLE.match(inner)
    return match is not None and len(entry.shape) == (1 if match["kind"] == "bias" else 2)


def read_experts(layers: dict[int, dict[str, TensorEntry]], block: str, hidden_size: int, buffers: tuple[str, ...] = MOE_BUFFERS) -> dict[int, LayerExperts]:
    """Every MoE layer's experts by layer index (``layers``: each layer's tensors, names relative to the layer)."""
    found = {index: layer_experts(index, tensors, block, hidden_size, buffers) for index, tensors in layers.items()}
    return {index: experts for index, experts in found.items() if experts is not None}


# --- the config's numbers, and what a token passes through ------------------------------------


def stated_size(config: dict[str, Any], keys: Iterable[str]) -> tuple[str, int] | None:
    """The first of ``keys`` that config.json sets to a positive integer, with its value; None if none does."""
    for key in keys:
        value = config.get(key)
        if type(value) is int and value > 0:
            return key, value
    return None


def experts_per_token(config: dict[str, Any]) -> tuple[str, int] | None:
    """The routed experts a token passes through (top-k) as config.json states it, with the key; None if it does not."""
    return stated_size(config, TOP_K_KEYS)


def active_parameters(total_parameters: int, layers: Iterable[LayerExperts], num_experts_per_tok: int) -> int:
    """Parameters a token passes through: the total less, in each MoE layer, its ``E - k`` idle routed experts."""
    return total_parameters - sum(formulas.idle_expert_parameters(layer.routed.n_parameters, layer.num_experts, num_experts_per_tok) for layer in layers)


def active_unknown_reason(layers: Iterable[LayerExperts], top_k: tuple[str, int] | None) -> str | None:
    """Why the active parameters cannot be derived (no top-k in config.json, or more than a layer's experts); None when they can."""
    if top_k is None:
        keys = ", ".join(TOP_K_KEYS)
        return f"config.json states no number of experts per token ({keys}): the active parameters are unknown"
    key, k = top_k
    fewest = min(layer.num_experts for layer in layers)
    if k > fewest:
        return (
            f"config.json's {key} is {k}, more than the {fewest} routed experts of a layer: a token cannot pass "
            "through more experts than there are, so the active parameters are unknown"
        )
    return None

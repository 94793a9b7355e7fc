"""Closed-form counts and ratios of GLU decoders, and optipfair 0.4.2's size rule.

Standard library only: the verifier, the planner, the docs and the tests all call these
functions, and nothing here may pull in torch. Every function is one formula; the comment
above it says where the formula comes from.

Units: sizes and counts are plain ``int``; ``pruning_pct`` is 0-100; ``expansion_ratio`` is a
factor (2.4); ``expansion_rate_pct`` is that factor x 100 (240), which is the unit optipfair's
``expansion_rate=`` argument takes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from ..errors import PruningError

if TYPE_CHECKING:  # the formulas read attributes; anything with Architecture's fields will do
    from .architecture import Architecture, Experts

#: Number of decimals every rounded display value of the catalogue is written with
#: (``total_parameters_millions``, ``*_pct``, ``expansion_rate``, ``expansion_rate_percentage``).
DISPLAY_DECIMALS = 2

#: The most a display value differs from its exact value: half a unit in its last decimal.
ROUNDING_ERROR = 0.5 * 10**-DISPLAY_DECIMALS

#: optipfair 0.4.2's size rule, written one way wherever the catalogue states it.
SIZE_RULE = "k = I - min(int(p / 100 * I), I - 1)"

#: optipfair's ``expansion_divisor`` accepts exactly these values.
EXPANSION_DIVISORS = (32, 64, 128, 256)

#: optipfair's refusal of a pruning that keeps every neuron (``kept_neurons``), as a
#: ``str.format`` template: the site's planner fills the same text in the browser.
NO_EFFECTIVE_PRUNING = (
    "no effective pruning: resulting intermediate size ({kept}) is >= base size ({intermediate_size}); increase the pruning percentage or use a smaller divisor"
)


# --- parameter counts -------------------------------------------------------------------


def embedding_parameters(vocab_size: int, hidden_size: int, tie_word_embeddings: bool) -> int:
    """Input embedding plus LM head: V*H each, counted once when they are tied.

    ``sum(p.numel() for p in model.parameters())`` yields a shared tensor once.
    """
    matrices = 1 if tie_word_embeddings else 2
    return matrices * vocab_size * hidden_size


def attention_parameters(shape: Architecture) -> int:
    """One attention block: q/o have ``heads*head_dim`` rows, k/v ``kv_heads*head_dim`` (GQA).

    q: H x (nh*hd), k and v: H x (kv*hd), o: (nh*hd) x H (H x H where the output projection takes
    H inputs, as Helium's does). Biases add one value per output row (Qwen2 has q/k/v biases). A q/k norm (Qwen3, Gemma-3) is one RMSNorm(head_dim) each;
    spanning all heads (OLMo-2) it is RMSNorm(nh*hd) on q and RMSNorm(kv*hd) on k. A fused
    ``qkv_proj`` (Phi-3) stacks the same rows, so the count is the same.
    """
    q_width = shape.num_attention_heads * shape.head_dim
    kv_width = shape.num_key_value_heads * shape.head_dim
    o_inputs = shape.hidden_size if getattr(shape, "o_proj_hidden_input", False) else q_width
    weights = shape.hidden_size * (q_width + 2 * kv_width) + o_inputs * shape.hidden_size
    qkv_biases = (q_width + 2 * kv_width) if shape.qkv_bias else 0
    o_bias = shape.hidden_size if shape.o_proj_bias else 0
    return weights + qkv_biases + o_bias + qk_norm_parameters(shape)


def qk_norm_parameters(shape: Architecture) -> int:
    """The q and k norms of one attention block: head_dim each, or every head's width (OLMo-2)."""
    if not shape.qk_norm:
        return 0
    if getattr(shape, "qk_norm_all_heads", False):
        return (shape.num_attention_heads + shape.num_key_value_heads) * shape.head_dim
    return 2 * shape.head_dim


def mlp_parameters(hidden_size: int, intermediate_size: int, mlp_bias: bool) -> int:
    """One GLU MLP: gate and up are H x I, down is I x H; biases on gate/up (I) and down (H).

    A fused ``gate_up_proj`` (Phi-3) is the same 2*I rows in one matrix.
    """
    weights = 3 * hidden_size * intermediate_size
    biases = (2 * intermediate_size + hidden_size) if mlp_bias else 0
    return weights + biases


def norm_parameters(hidden_size: int, n_norms: int, norm_bias: bool = False) -> int:
    """``n_norms`` norms of size H: a weight each (RMSNorm), and a bias each for a LayerNorm with one (StableLM)."""
    return n_norms * hidden_size * (2 if norm_bias else 1)


def layer_norm_parameters(hidden_size: int, norms_per_layer: int, norm_bias: bool = False) -> int:
    """The norms of one decoder layer: 2 (Llama) or 4 (Gemma-2/3) of size H."""
    return norm_parameters(hidden_size, norms_per_layer, norm_bias)


def closed_form_non_mlp_parameters(shape: Architecture) -> int:
    """Every parameter outside the MLPs of a Llama-style decoder, from first principles.

    embeddings (+ untied LM head) + L x (attention + layer norms) + final norm (H).
    """
    norm_bias = getattr(shape, "norm_bias", False)
    per_layer = attention_parameters(shape) + layer_norm_parameters(shape.hidden_size, shape.norms_per_layer, norm_bias)
    embeddings = embedding_parameters(shape.vocab_size, shape.hidden_size, shape.tie_word_embeddings)
    return embeddings + shape.num_hidden_layers * per_layer + norm_parameters(shape.hidden_size, 1, norm_bias)


def non_mlp_parameters(shape: Architecture) -> int:
    """Every parameter outside the GLU MLPs: what width pruning leaves untouched.

    The count the architecture carries (measured on the meta device when the model was
    added, for architectures with parts the closed form does not know), else the closed form.
    """
    stated = getattr(shape, "non_mlp_parameters", None)
    return stated if stated is not None else closed_form_non_mlp_parameters(shape)


def mlp_layers(shape: Architecture) -> int:
    """Layers with a dense GLU MLP: every layer, or a mixture-of-experts model's dense layers."""
    stated = getattr(shape, "num_mlp_layers", None)
    return shape.num_hidden_layers if stated is None else stated


def total_parameters(shape: Architecture, intermediate_size: int | None = None) -> int:
    """Total parameters of a GLU decoder, as ``sum(p.numel() for p in model.parameters())``.

    Everything outside the MLPs + the dense layers' MLPs, all of one width.
    ``intermediate_size`` overrides the shape's MLP width (a uniformly pruned model).
    """
    width = shape.intermediate_size if intermediate_size is None else intermediate_size
    return non_mlp_parameters(shape) + mlp_layers(shape) * mlp_parameters(shape.hidden_size, width, shape.mlp_bias)


def total_parameters_by_layer(shape: Architecture, intermediate_sizes: Sequence[int]) -> int:
    """Total parameters of a GLU decoder whose layers have MLPs of different widths.

    Everything outside the MLPs + the sum of each layer's MLP at its own width: what
    optipfair's ``layer_indices`` leaves. ``intermediate_sizes`` holds one width per MLP
    layer; the shape's own ``intermediate_size`` is not used.
    """
    if len(intermediate_sizes) != mlp_layers(shape):
        raise ValueError(f"{len(intermediate_sizes)} MLP widths for {mlp_layers(shape)} layers")
    mlps = sum(mlp_parameters(shape.hidden_size, width, shape.mlp_bias) for width in intermediate_sizes)
    return non_mlp_parameters(shape) + mlps


def active_parameters(shape: Architecture, experts: Experts) -> int:
    """Parameters a token passes through in a mixture-of-experts model.

    The total less, in each MoE layer, the routed experts the token does not use:
    ``total - moe_layers x (E - k) x one expert's GLU MLP``. Routers and shared experts are active.
    """
    expert = mlp_parameters(shape.hidden_size, experts.moe_intermediate_size, experts.expert_bias)
    idle = idle_expert_parameters(experts.num_experts * expert, experts.num_experts, experts.num_experts_per_tok)
    return total_parameters(shape) - experts.num_moe_layers * idle


def idle_expert_parameters(n_routed_parameters: int, num_experts: int, num_experts_per_tok: int) -> int:
    """The parameters of one MoE layer's routed experts that a token does not pass through.

    The layer's E experts hold ``n_routed_parameters`` together, so one expert holds
    ``n_routed_parameters / E``; a token passes through k of them and the other ``E - k`` sit idle:
    ``(E - k) x n_routed_parameters / E``.
    """
    return (num_experts - num_experts_per_tok) * n_routed_parameters // num_experts


def parameters_per_neuron(shape: Architecture) -> int:
    """Parameters one neuron pair holds across all L MLPs: what pruning it removes from the total.

    The total is affine in the MLP width, so a uniformly pruned model that keeps ``k`` of ``I``
    neuron pairs has ``total_parameters(shape) - (I - k) * parameters_per_neuron(shape)``
    parameters; the planner in the site's browser code counts that way. Zero for a model
    without dense MLPs (a mixture of experts in every layer). Taken as the difference
    of two totals so that the closed form stays written once.
    """
    return total_parameters(shape, 1) - total_parameters(shape, 0)


def mlp_share(shape: Architecture) -> float:
    """Fraction (0-1) of all parameters that sit in the dense GLU MLPs: what width pruning can remove."""
    all_mlps = mlp_layers(shape) * mlp_parameters(shape.hidden_size, shape.intermediate_size, shape.mlp_bias)
    return all_mlps / total_parameters(shape)


# --- optipfair 0.4.2's size rule ----------------------------------------------------------


def neurons_to_prune(intermediate_size: int, pruning_pct: float) -> int:
    """Neuron pairs optipfair removes: ``min(int(p / 100 * I), I - 1)``.

    Written with the same float operations in the same order as
    ``optipfair/pruning/mlp_glu.py::prune_neuron_pairs`` so that the truncation agrees
    bit for bit (e.g. 30 % of 8192 is 2457.6000000000004, truncated to 2457).
    """
    return min(int(pruning_pct / 100 * intermediate_size), intermediate_size - 1)


def round_to_divisor(size: int, divisor: int) -> int:
    """optipfair's ``expansion_divisor`` rounding: the largest multiple of ``divisor`` <= size."""
    return (size // divisor) * divisor


def kept_neurons(intermediate_size: int, pruning_pct: float, expansion_divisor: int | None = None) -> int:
    """MLP width optipfair 0.4.2 keeps: ``k = I - min(int(p/100*I), I-1)``.

    With ``expansion_divisor``, k is rounded down to a multiple of it (at least 1). Raises
    ``PruningError`` where optipfair raises ``ValueError``: a percentage outside 0-100, a
    divisor it does not accept, or a rounded size that prunes nothing although p > 0.
    """
    if not 0 <= pruning_pct <= 100:
        raise PruningError(f"pruning_percentage must be between 0 and 100, got {pruning_pct}")
    if expansion_divisor is not None and expansion_divisor not in EXPANSION_DIVISORS:
        raise PruningError(f"expansion_divisor must be one of {list(EXPANSION_DIVISORS)} or None. Got: {expansion_divisor}")
    kept = intermediate_size - neurons_to_prune(intermediate_size, pruning_pct)
    if expansion_divisor is not None:
        kept = max(round_to_divisor(kept, expansion_divisor), 1)
    if pruning_pct > 0 and kept >= intermediate_size:
        raise PruningError(NO_EFFECTIVE_PRUNING.format(kept=kept, intermediate_size=intermediate_size))
    return kept


def pruning_pct_for_expansion_rate(intermediate_size: int, hidden_size: int, expansion_rate_pct: float) -> float:
    """The pruning percentage optipfair derives from ``expansion_rate=R`` (R in percent, 240 = 2.4x).

    ``target = R / 100 * H``; ``p = (1 - target / I) * 100`` — the float operations of
    ``calculate_pruning_percentage_from_expansion_rate``. A target at or above the current
    width raises ``PruningError``, as optipfair does.
    """
    target_size = ratio_from_rate_pct(expansion_rate_pct) * hidden_size
    if target_size >= intermediate_size:
        current_pct = rate_pct_from_ratio(expansion_ratio(intermediate_size, hidden_size))
        raise PruningError(f"target expansion rate {expansion_rate_pct}% is not below the current {current_pct:.2f}%: nothing to prune")
    return (1 - (target_size / intermediate_size)) * 100


def expansion_rate_pct_for_ratio(ratio: float | str | Decimal) -> float:
    """optipfair's ``expansion_rate`` (percent) for an expansion ratio a person typed: ``2.3`` -> ``230.0``.

    Unlike ``rate_pct_from_ratio`` (a computed ratio, float operations as optipfair's), computed in
    decimal from the ratio's shortest written form, so that 2.3 gives exactly the 230 a person passes
    to optipfair; the float product ``2.3 * 100`` is 229.99999999999997, and a value one ulp off can
    move optipfair's truncation by a neuron. A ratio that is not a finite number a float can hold
    raises ``ValueError``.
    """
    try:
        value = Decimal(str(ratio).strip())
        rate_pct = float(value * 100) if value.is_finite() else math.inf
    except InvalidOperation:
        raise ValueError(f"expansion ratio {ratio!r} is not a number (e.g. 2.4)") from None
    except ArithmeticError:  # decimal.Overflow: beyond what decimal holds
        rate_pct = math.inf
    if not math.isfinite(rate_pct):
        raise ValueError(f"expansion ratio {ratio!r} is not a finite number a float can hold (e.g. 2.4)")
    return rate_pct


def pruning_pct_from_text(text: float | str) -> float:
    """A pruning percentage as a person types it (``"40"``, ``" 12.5 "``) as a float in 0-100.

    Anything else raises ``ValueError`` with a message in plain words (the planner page shows the
    same ones): not a number, not finite, or outside 0-100.
    """
    shown = str(text).strip()
    try:
        value = float(shown)
    except ValueError:
        raise ValueError(f"pruning % {str(text)!r} is not a number (e.g. 40)") from None
    if not math.isfinite(value):
        raise ValueError(f"pruning % {str(text)!r} is not a finite number (e.g. 40)")
    if not 0 <= value <= 100:
        raise ValueError(f"pruning % must be between 0 and 100, got {shown}")
    return value


# --- ratios and reductions ----------------------------------------------------------------


def expansion_ratio(intermediate_size: int, hidden_size: int) -> float:
    """The study's independent variable: ``I / H`` as a factor (8192 / 2048 = 4.0)."""
    return intermediate_size / hidden_size


def expansion_rate_pct(intermediate_size: int, hidden_size: int) -> float:
    """``I / H * 100``: optipfair's ``expansion_rate`` unit (400.0 for 4x)."""
    return rate_pct_from_ratio(expansion_ratio(intermediate_size, hidden_size))


# optipfair's ``expansion_rate`` is the expansion ratio in percent (240 for 2.4x), and so is the
# legacy files' ``optipfair_stats.expansion_rate``; a record side's ``expansion_rate`` is the factor.
# These two are the conversions, as optipfair's float operations write them (``R / 100 * H``).
def rate_pct_from_ratio(expansion_ratio: float) -> float:
    """An expansion ratio as a factor in optipfair's percent: ``2.4004`` -> ``240.04``."""
    return expansion_ratio * 100


def ratio_from_rate_pct(expansion_rate_pct: float) -> float:
    """optipfair's percent as an expansion ratio, a factor: ``240.04`` -> ``2.4004``."""
    return expansion_rate_pct / 100


def reduction_pct(original: int, pruned: int) -> float:
    """How much of ``original`` is gone, in percent: ``(original - pruned) / original * 100``.

    Same operation order as optipfair's ``get_pruning_statistics``.
    """
    return ((original - pruned) / original) * 100


def millions(count: int) -> float:
    """A count in millions (unrounded): ``count / 1e6``, the one place the catalogue scales to millions.

    Whole columns of counts (pandas) scale the same way.
    """
    return count / 1e6


def display(value: float, decimals: int = DISPLAY_DECIMALS) -> float:
    """A display value: ``value`` rounded half-to-even at ``decimals`` places (Python's round)."""
    return round(value, decimals)


#: How far (as a factor) a level's ratio may be from the one asked when models are compared at equal
#: ratios (``core.comparison``, ``catalogue compare``): optipfair rounds widths to whole neurons, so
#: Llama-3.2-1B at 40 % reaches 2.4004x and Llama-3.2-3B at 10 % 2.4001x.
DEFAULT_RATIO_TOLERANCE = 0.01

"""What ``catalogue inspect`` prints of a mixture of experts, for people: each layer's MLP and experts, the active parameters."""

from __future__ import annotations

from typing import Any

from ..checkpoints.experts import ExpertGroup
from ..checkpoints.inspection import Inspection
from ..core import formulas
from ..core.text import ratio


def layer_text(inspection: Inspection, index: int) -> str:
    """One layer's MLP in words: ``dense MLP 192 (3.00x)`` or ``32 x 4 experts (0.50x each), shared expert 32 (0.50x)``."""
    hidden = inspection.weights_hidden_size
    experts = inspection.expert_layers.get(index)
    dense = inspection.layers_by_index[index]
    parts = []
    if dense.widths or experts is None:
        parts.append(f"dense MLP {dense.intermediate_size} ({ratio(formulas.expansion_ratio(dense.intermediate_size, hidden))})")
    if experts is not None:
        width = experts.expert_intermediate_size
        parts.append(f"{width} x {experts.num_experts} experts ({ratio(formulas.expansion_ratio(width, hidden))} each)")
        if experts.shared is not None:
            parts.append(shared_text(experts.shared, hidden))
    return ", ".join(parts)


def shared_text(shared: ExpertGroup, hidden_size: int) -> str:
    """``shared expert 32 (0.50x)``, or ``2 shared experts 32 (0.50x each)``."""
    width = shared.intermediate_size
    each = ratio(formulas.expansion_ratio(width, hidden_size))
    if shared.n_experts == 1:
        return f"shared expert {width} ({each})"
    return f"{shared.n_experts} shared experts {width} ({each} each)"


def text_runs(texts: list[tuple[int, str]]) -> list[str]:
    """``layer 0: ...`` lines, consecutive layers with the same text in one: ``layers 1-5: ...``."""
    runs: list[list[Any]] = []
    for index, text in texts:
        if runs and runs[-1][2] == text and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index, text])
    return [f"  {'layer' if first == last else 'layers'} {first if first == last else f'{first}-{last}'}: {text}" for first, last, text in runs]


def expert_lines(inspection: Inspection) -> list[str]:
    """What ``catalogue inspect`` prints for a mixture of experts: the experts, each layer's MLP, the active parameters.

    Empty for a dense checkpoint.
    """
    if not inspection.expert_layers:
        return []
    n_moe, n_layers = len(inspection.expert_layers), len(inspection.layers)
    top_k = inspection.experts_per_token
    per_token = f"{top_k[1]} per token (config.json {top_k[0]})" if top_k else "per token: not stated in config.json"
    counts = sorted({layer.num_experts for layer in inspection.expert_layers.values()})
    lines = [f"experts       {n_moe} of {n_layers} layers route to {' or '.join(map(str, counts))} experts, {per_token}:"]
    lines += text_runs([(layer.index, layer_text(inspection, layer.index)) for layer in inspection.layers])
    lines.append(active_line(inspection))
    return lines


def active_line(inspection: Inspection) -> str:
    """``active        12,345 of 67,890 parameters per token (18.18 %): ...``, or that it is unknown."""
    active, total = inspection.active_parameters, inspection.total_parameters
    if active is None:
        return "active        unknown per token (see the note)"
    share = 100 * active / total if total else 0.0
    counts = " or ".join(map(str, sorted({layer.num_experts for layer in inspection.expert_layers.values()})))
    return (
        f"active        {active:,} of {total:,} parameters per token ({share:.2f} %): "
        f"{inspection.experts_per_token[1]} of the {counts} routed experts in each MoE layer"
    )

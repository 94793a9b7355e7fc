"""One summary row per registry model: the architecture at a glance (``catalogue models``).

Standard library, formulas and registry only; every number comes from ``glu_catalogue.core.formulas``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from ..core import formulas
from ..store.registry import ModelEntry


@dataclass(frozen=True)
class ModelSummary:
    """A registry model's baseline: sizes, expansion ratio (a factor) and parameter counts.

    ``mlp_share_pct`` (0-100) is the part of all parameters in the dense MLPs: the most that
    width pruning can remove. ``same_architecture_as`` names the base of a variant (an Instruct
    model). A mixture of experts has ``active_parameters`` (per token) and the experts' ratio
    ``experts_expansion_ratio`` (``moe_intermediate_size / hidden_size``); its dense layers'
    ``intermediate_size`` and ``expansion_ratio`` are None when it has none. ``not_prunable``
    says why a model cannot be width-pruned.
    """

    model_id: str
    family: str
    size_label: str
    hidden_size: int
    intermediate_size: int | None
    num_hidden_layers: int
    expansion_ratio: float | None
    total_parameters: int
    mlp_share_pct: float
    transformers_class: str
    same_architecture_as: str | None
    num_mlp_layers: int
    active_parameters: int | None = None
    num_experts: int | None = None
    num_experts_per_tok: int | None = None
    moe_intermediate_size: int | None = None
    experts_expansion_ratio: float | None = None
    not_prunable: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready dict, fields in declaration order."""
        return asdict(self)


def summarize(entry: ModelEntry) -> ModelSummary:
    """The summary row of one registry entry."""
    architecture, experts = entry.architecture, entry.experts
    dense = formulas.mlp_layers(architecture) > 0
    summary = ModelSummary(
        model_id=entry.model_id,
        family=entry.family,
        size_label=entry.size_label,
        hidden_size=architecture.hidden_size,
        intermediate_size=architecture.intermediate_size if dense else None,
        num_hidden_layers=architecture.num_hidden_layers,
        expansion_ratio=formulas.expansion_ratio(architecture.intermediate_size, architecture.hidden_size) if dense else None,
        total_parameters=formulas.total_parameters(architecture),
        mlp_share_pct=formulas.mlp_share(architecture) * 100,
        transformers_class=entry.transformers_class,
        same_architecture_as=entry.same_architecture_as,
        num_mlp_layers=formulas.mlp_layers(architecture),
        not_prunable=entry.not_prunable,
    )
    if experts is None:
        return summary
    return replace(
        summary,
        active_parameters=formulas.active_parameters(architecture, experts),
        num_experts=experts.num_experts,
        num_experts_per_tok=experts.num_experts_per_tok,
        moe_intermediate_size=experts.moe_intermediate_size,
        experts_expansion_ratio=formulas.expansion_ratio(experts.moe_intermediate_size, architecture.hidden_size),
    )

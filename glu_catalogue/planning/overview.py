"""One summary row per registry model: the architecture at a glance (``catalogue models``).

Standard library, formulas and registry only; every number comes from ``glu_catalogue.core.formulas``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..core import formulas
from ..store.registry import ModelEntry


@dataclass(frozen=True)
class ModelSummary:
    """A registry model's baseline: sizes, expansion ratio (a factor) and parameter counts.

    ``mlp_share_pct`` (0-100) is the part of all parameters in the MLPs: the most that width
    pruning can remove. ``same_architecture_as`` names the base of a variant (an Instruct model).
    """

    model_id: str
    family: str
    size_label: str
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    expansion_ratio: float
    total_parameters: int
    mlp_share_pct: float
    transformers_class: str
    same_architecture_as: str | None

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready dict, fields in declaration order."""
        return asdict(self)


def summarize(entry: ModelEntry) -> ModelSummary:
    """The summary row of one registry entry."""
    shape = entry.architecture
    return ModelSummary(
        model_id=entry.model_id,
        family=entry.family,
        size_label=entry.size_label,
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers,
        expansion_ratio=formulas.expansion_ratio(shape.intermediate_size, shape.hidden_size),
        total_parameters=formulas.total_parameters(shape),
        mlp_share_pct=formulas.mlp_share(shape) * 100,
        transformers_class=entry.transformers_class,
        same_architecture_as=entry.same_architecture_as,
    )

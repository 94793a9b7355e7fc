"""What a model's transformers class says about it: ``DerivedFacts``, however it was found.

``generate.facts`` reads them off a model built on the meta device; ``store.known_types``
computes them without torch from the per-type facts shipped with the package. Either way the
registry's ``architecture_facts`` are ``facts_document()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .architecture import Architecture, Experts


@dataclass(frozen=True)
class DerivedFacts:
    """What a model's transformers class says about it: its ``Architecture``, totals and parameter names.

    Found once, by ``generate.facts.derive_facts`` or ``store.known_types``; never stored as such:
    ``facts_document()`` is the part a registry entry keeps (``store.registry.ArchitectureFacts``).
    """

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
    #: How the facts were found: read off a build on the meta device, or from the facts shipped for the type.
    found_by: str = "meta device"

    def facts_document(self) -> dict[str, Any]:
        """The registry's ``architecture_facts`` (``ArchitectureFacts``' fields): every architecture field
        (``head_dim`` as ``head_dim_effective``), then where they came from."""
        document = {("head_dim_effective" if name == "head_dim" else name): value for name, value in self.architecture.model_dump().items()}
        document.update(
            mlp_param_names=list(self.mlp_param_names),
            attn_param_names=list(self.attn_param_names),
            transformers_class=self.transformers_class,
            transformers_version=self.transformers_version,
            experts=None if self.experts is None else self.experts.model_dump(),
            not_prunable=self.not_prunable,
        )
        return document

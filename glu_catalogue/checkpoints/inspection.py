"""What inspecting a checkpoint found: the architecture, each layer's MLP width (or experts), the totals, problems."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..core import formulas
from ..core.architecture import Architecture
from ..core.problems import Report
from ..store.registry import ArchitectureFacts
from . import experts as moe
from .experts import LayerExperts
from .reading import Checkpoint, Decoder, LayerMlp, weights_hidden_size


@dataclass
class Inspection:
    """What ``inspect_checkpoint`` found: the architecture, each layer's MLP width, the totals, problems.

    A mixture of experts also has ``expert_layers`` (its MoE layers' experts, by layer index) and
    ``experts_per_token`` (config.json's top-k key and value, None where it states none).
    """

    checkpoint: Checkpoint
    decoder: Decoder
    architecture: Architecture
    facts: ArchitectureFacts
    layers: list[LayerMlp]
    total_parameters: int
    closed_form_total_parameters: int | None
    record_label: str | None = None
    report: Report = field(default_factory=Report)
    unknown_tensors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    expert_layers: dict[int, LayerExperts] = field(default_factory=dict)
    experts_per_token: tuple[str, int] | None = None

    @property
    def moe(self) -> bool:
        """True for a mixture of experts: some layer routes to experts."""
        return bool(self.expert_layers)

    @property
    def layers_by_index(self) -> dict[int, LayerMlp]:
        """Each layer's dense MLP reading by layer index."""
        return {layer.index: layer for layer in self.layers}

    @property
    def active_unknown_reason(self) -> str | None:
        """Why a mixture of experts' active parameters cannot be derived; None when they can (or for a dense model)."""
        if not self.moe:
            return None
        return moe.active_unknown_reason(self.expert_layers.values(), self.experts_per_token)

    @property
    def active_parameters(self) -> int | None:
        """Parameters a token passes through: the total less each MoE layer's ``E - k`` idle routed experts.

        The total for a dense model; None for a mixture of experts whose top-k config.json does not state (or states above E).
        """
        if not self.moe:
            return self.total_parameters
        if self.active_unknown_reason is not None:
            return None
        return moe.active_parameters(self.total_parameters, self.expert_layers.values(), self.experts_per_token[1])

    @property
    def standard_layout(self) -> bool:
        """True for a Llama-style decoder: every tensor one the closed form counts, a final norm with weights, no experts."""
        return not self.unknown_tensors and self.decoder.final_norm is not None and not self.moe

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.report.ok

    @property
    def config_intermediate_size(self) -> int:
        """What config.json says every MLP's width is."""
        return self.architecture.intermediate_size

    @property
    def layer_intermediate_sizes(self) -> list[int | None]:
        """Each layer's dense MLP width as the weights hold it, in layer order; None for a layer of experts only."""
        return [layer.intermediate_size if layer.dense else None for layer in self.layers]

    @property
    def dense_widths(self) -> dict[int, int]:
        """The dense MLP width of each layer that has a dense MLP, by layer index."""
        return {layer.index: layer.intermediate_size for layer in self.layers if layer.dense}

    @property
    def non_mlp_parameters(self) -> int:
        """Parameters outside the dense GLU MLPs: the tensors' total less each dense layer's MLP at its width."""
        mlp = (formulas.mlp_parameters(self.weights_hidden_size, width, self.architecture.mlp_bias) for width in self.dense_widths.values())
        return self.total_parameters - sum(mlp)

    @property
    def weights_hidden_size(self) -> int:
        """H as the weights hold it: the embedding's columns, else the config's."""
        return weights_hidden_size(self.decoder, {"hidden_size": self.architecture.hidden_size})

    @property
    def layer_expansion_ratios(self) -> list[float | None]:
        """Each layer's expansion ratio I / H (factor), H from the weights; None for a layer of experts only."""
        hidden = self.weights_hidden_size
        return [None if width is None else formulas.expansion_ratio(width, hidden) for width in self.layer_intermediate_sizes]

    @property
    def uniform(self) -> bool:
        """True when every dense MLP has the same width (an unpruned model is uniform)."""
        return len(set(self.dense_widths.values())) <= 1

    def width_runs(self) -> list[tuple[int, int, int]]:
        """Runs of consecutive layers with one MLP width: ``(first layer, last layer, width)``."""
        runs: list[list[int]] = []
        for layer in self.layers:
            if runs and runs[-1][2] == layer.intermediate_size and runs[-1][1] == layer.index - 1:
                runs[-1][1] = layer.index
            else:
                runs.append([layer.index, layer.index, layer.intermediate_size])
        return [tuple(run) for run in runs]

    @property
    def file_bytes(self) -> int:
        """Size on disk of all safetensors files."""
        return sum(header.file_bytes for header in self.checkpoint.headers)

    @property
    def dtypes(self) -> dict[str, int]:
        """Tensors by dtype, sorted by dtype."""
        return dict(sorted(Counter(entry.dtype for entry in self.checkpoint.tensors.values()).items()))

    def as_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (a fixed key order)."""
        return {
            "checkpoint": str(self.checkpoint.directory),
            "ok": self.ok,
            "model_type": self.checkpoint.config.get("model_type"),
            "transformers_class": self.facts.transformers_class,
            "n_files": len(self.checkpoint.headers),
            "n_tensors": len(self.checkpoint.tensors),
            "file_bytes": self.file_bytes,
            "dtypes": self.dtypes,
            "architecture": self.architecture.model_dump(),
            "config_intermediate_size": self.config_intermediate_size,
            "layer_intermediate_sizes": self.layer_intermediate_sizes,
            "layer_expansion_ratios": self.layer_expansion_ratios,
            "uniform": self.uniform,
            "total_parameters": self.total_parameters,
            "closed_form_total_parameters": self.closed_form_total_parameters,
            "record": self.record_label,
            "checked": dict(self.report.checked),
            "problems": self.report.as_dict()["problems"],
            "notes": list(self.notes),
            "mixture_of_experts": self.moe,
            "experts_per_token": self.experts_per_token[1] if self.experts_per_token else None,
            "experts_per_token_key": self.experts_per_token[0] if self.experts_per_token else None,
            "active_parameters": self.active_parameters,
            "layer_mlps": [self.layer_document(layer) for layer in self.layers],
        }

    def layer_document(self, layer: LayerMlp) -> dict[str, Any]:
        """One layer's entry of ``layer_mlps``: its dense width and, for an MoE layer, its experts (a fixed key order)."""
        hidden = self.weights_hidden_size
        document: dict[str, Any] = {
            "layer": layer.index,
            "kind": "experts" if layer.has_experts else "dense",
            "intermediate_size": layer.intermediate_size if layer.dense else None,
            "expansion_ratio": formulas.expansion_ratio(layer.intermediate_size, hidden) if layer.dense else None,
        }
        experts = self.expert_layers.get(layer.index)
        if experts is not None:
            document.update(moe_document(experts, hidden))
        return document


def moe_document(experts: LayerExperts, hidden_size: int) -> dict[str, Any]:
    """An MoE layer's experts for ``--format json``: routed count and width, shared experts, the router's parameters."""
    shared = experts.shared
    return {
        "num_experts": experts.num_experts,
        "expert_intermediate_size": experts.expert_intermediate_size,
        "expert_expansion_ratio": formulas.expansion_ratio(experts.expert_intermediate_size, hidden_size),
        "routed_expert_parameters": experts.routed.n_parameters,
        "num_shared_experts": 0 if shared is None else shared.n_experts,
        "shared_expert_intermediate_size": None if shared is None else shared.intermediate_size,
        "shared_expert_parameters": 0 if shared is None else shared.n_parameters,
        "router_parameters": experts.router_parameters,
    }


def closed_form_total(architecture: Architecture, widths: list[int], standard_layout: bool) -> int | None:
    """The closed form of the config's architecture with the weights' MLP widths, layer by layer.

    When the weights hold another number of layers than the config, the config's own total;
    None for a layout the closed form does not count (tensors it does not know, no final norm).
    """
    if not standard_layout:
        return None
    if len(widths) != architecture.num_hidden_layers:
        return formulas.total_parameters(architecture)
    return formulas.total_parameters_by_layer(architecture, widths)

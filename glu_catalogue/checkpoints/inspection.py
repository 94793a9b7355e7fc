"""What inspecting a checkpoint found: the architecture, each layer's MLP width, the totals, problems."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..core import formulas
from ..core.architecture import Architecture
from ..core.problems import Report
from ..store.registry import ArchitectureFacts
from .reading import Checkpoint, Decoder, LayerMlp


@dataclass
class Inspection:
    """What ``inspect_checkpoint`` found: the architecture, each layer's MLP width, the totals, problems."""

    checkpoint: Checkpoint
    decoder: Decoder
    shape: Architecture
    facts: ArchitectureFacts
    layers: list[LayerMlp]
    total_parameters: int
    closed_form_total_parameters: int | None
    record_label: str | None = None
    report: Report = field(default_factory=Report)
    unknown_tensors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def standard_layout(self) -> bool:
        """True for a Llama-style decoder: every tensor one the closed form counts, and a final norm with weights."""
        return not self.unknown_tensors and self.decoder.final_norm is not None

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.report.ok

    @property
    def config_intermediate_size(self) -> int:
        """What config.json says every MLP's width is."""
        return self.shape.intermediate_size

    @property
    def layer_intermediate_sizes(self) -> list[int]:
        """Each layer's MLP width as the weights hold it, in layer order."""
        return [layer.intermediate_size for layer in self.layers]

    @property
    def non_mlp_parameters(self) -> int:
        """Parameters outside the GLU MLPs: the tensors' total less each layer's MLP at its width."""
        mlp = (formulas.mlp_parameters(self.weights_hidden_size, width, self.shape.mlp_bias) for width in self.layer_intermediate_sizes)
        return self.total_parameters - sum(mlp)

    @property
    def weights_hidden_size(self) -> int:
        """H as the weights hold it: the embedding's columns, else the config's."""
        embedding = self.decoder.embedding
        if embedding is not None and len(embedding.shape) == 2 and embedding.shape[1] > 0:
            return embedding.shape[1]
        return self.shape.hidden_size

    @property
    def layer_expansion_ratios(self) -> list[float]:
        """Each layer's expansion ratio I / H (factor), H from the weights."""
        return [formulas.expansion_ratio(width, self.weights_hidden_size) for width in self.layer_intermediate_sizes]

    @property
    def uniform(self) -> bool:
        """True when every layer's MLP has the same width (an unpruned model is uniform)."""
        return len(set(self.layer_intermediate_sizes)) <= 1

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
            "architecture": self.shape.model_dump(),
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
        }


def closed_form_total(shape: Architecture, widths: list[int], standard_layout: bool) -> int | None:
    """The closed form of the config's architecture with the weights' MLP widths, layer by layer.

    When the weights hold another number of layers than the config, the config's own total;
    None for a layout the closed form does not count (tensors it does not know, no final norm).
    """
    if not standard_layout:
        return None
    if len(widths) != shape.num_hidden_layers:
        return formulas.total_parameters(shape)
    return formulas.total_parameters_by_layer(shape, widths)



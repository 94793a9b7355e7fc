"""Width-prune a loaded model's GLU MLPs at several levels, exactly as ``optipfair.prune_model`` does.

optipfair scores every neuron pair of a layer once (``IMPORTANCE_FUNCTIONS[method]`` on the
float32 gate and up weights), keeps ``torch.topk(scores, k)`` sorted, and copies those rows of
gate/up and columns of down into new layers. The scores do not depend on the level, so this
module computes them once per layer and derives every level from them:

* each level's kept indices come from the same ``topk`` call on the same scores, so they are
  optipfair's, ties included;
* levels are applied in increasing order by slicing the weights already pruned. A neuron kept
  at a later level is almost always kept at the earlier one; where ``topk`` breaks a tie
  differently, the few rows a later level needs are held back in a small spare store, so the
  original weights never need reloading and memory stays at one model plus one layer.

The streaming build (``streaming``) calls the same ``pair_scores`` and ``kept_indices`` one layer
at a time, so both paths keep the same neurons.

Fused ``gate_up_proj`` layers (Phi-3), which optipfair refuses, are pruned the same way: the
fused weight's first half is the gate, its second half the up projection (``chunk(2)`` in
``Phi3MLP.forward``); the same rows of both halves are kept. torch and optipfair are imported
by this module: never import it from the verifier.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy
import torch
from optipfair.pruning.mlp_glu import IMPORTANCE_FUNCTIONS
from optipfair.pruning.utils import get_model_layers
from torch import nn

from ..core import formulas
from ..errors import PruningUnsupported
from . import memory

#: Neuron-selection methods ``catalogue build --method`` offers (optipfair's names).
METHODS = ("MAW", "VOW", "PON", "L2")


@dataclass
class Rows:
    """Neuron pairs of one MLP: gate and up rows [n, H], their biases [n], down columns [H, n]."""

    gate: torch.Tensor
    up: torch.Tensor
    gate_bias: torch.Tensor | None
    up_bias: torch.Tensor | None
    down: torch.Tensor

    def take(self, positions: torch.Tensor) -> Rows:
        """The neuron pairs at ``positions``, as new tensors (on a CPU the three matrices concurrently)."""
        jobs = [(self.gate, 0, positions), (self.up, 0, positions), (self.down, 1, positions)]
        runner = _THREADS.map if positions.device.type == "cpu" else map
        gate, up, down = runner(lambda job: select(*job), jobs)
        return Rows(
            gate,
            up,
            None if self.gate_bias is None else select(self.gate_bias, 0, positions),
            None if self.up_bias is None else select(self.up_bias, 0, positions),
            down,
        )

    def put(self, positions: torch.Tensor, source: Rows) -> None:
        """Overwrite the pairs at ``positions`` with all of ``source``'s, in order."""
        self.gate[positions] = source.gate
        self.up[positions] = source.up
        if self.gate_bias is not None and source.gate_bias is not None:
            self.gate_bias[positions] = source.gate_bias
            self.up_bias[positions] = source.up_bias
        self.down[:, positions] = source.down


@dataclass
class _Spare:
    """Rows a later level needs but the current one does not keep; ``indices`` original, sorted."""

    indices: torch.Tensor
    rows: Rows


class LayerMlp:
    """One decoder layer's GLU MLP, split (gate_proj, up_proj) or fused (gate_up_proj)."""

    def __init__(self, mlp: nn.Module):
        self.mlp = mlp
        self.fused = hasattr(mlp, "gate_up_proj") and not hasattr(mlp, "gate_proj")
        if not self.fused and not all(hasattr(mlp, name) for name in ("gate_proj", "up_proj", "down_proj")):
            raise PruningUnsupported(f"{type(mlp).__name__} has neither gate_proj/up_proj/down_proj nor gate_up_proj/down_proj")

    @property
    def width(self) -> int:
        """The MLP's current intermediate size."""
        return self.mlp.down_proj.in_features

    def rows(self) -> Rows:
        """The MLP's weights as neuron pairs (views; a fused weight's halves are gate and up)."""
        width, down = self.width, self.mlp.down_proj.weight.data
        if self.fused:
            weight, bias = self.mlp.gate_up_proj.weight.data, self.mlp.gate_up_proj.bias
            gate_bias, up_bias = (None, None) if bias is None else (bias.data[:width], bias.data[width:])
            return Rows(weight[:width], weight[width:], gate_bias, up_bias, down)
        gate, up = self.mlp.gate_proj, self.mlp.up_proj
        gate_bias = None if gate.bias is None else gate.bias.data
        up_bias = None if up.bias is None else up.bias.data
        return Rows(gate.weight.data, up.weight.data, gate_bias, up_bias, down)

    def install(self, rows: Rows) -> None:
        """Replace the MLP's projections with new layers holding ``rows`` (the down bias is kept)."""
        down_bias = self.mlp.down_proj.bias
        if self.fused:
            bias = None if rows.gate_bias is None else torch.cat([rows.gate_bias, rows.up_bias])
            self.mlp.gate_up_proj = _linear(torch.cat([rows.gate, rows.up]), bias)
        else:
            self.mlp.gate_proj = _linear(rows.gate, rows.gate_bias)
            self.mlp.up_proj = _linear(rows.up, rows.up_bias)
        self.mlp.down_proj = _linear(rows.down, None if down_bias is None else down_bias.data)


def select(tensor: torch.Tensor, dim: int, positions: torch.Tensor) -> torch.Tensor:
    """``tensor.index_select(dim, positions)``, exactly; on the CPU through numpy.

    ``numpy.take`` copies contiguous runs with memcpy: on a CPU it gathers bf16 rows about 4x
    and columns about 5x faster than torch's ``index_select``. The bits are moved as integers of
    the same width, so every value (bf16 included) is copied unchanged.
    """
    if tensor.device.type != "cpu" or not tensor.is_contiguous():
        return tensor.index_select(dim, positions)
    as_integers = tensor.view(_SAME_WIDTH_INTEGER[tensor.element_size()]).numpy()
    taken = numpy.take(as_integers, positions.numpy(), axis=dim)
    return torch.from_numpy(taken).view(tensor.dtype)


_SAME_WIDTH_INTEGER = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
#: numpy's take releases the GIL: gathering gate, up and down at once uses every core.
_THREADS = ThreadPoolExecutor(max_workers=min(3, os.cpu_count() or 1), thread_name_prefix="catalogue-gather")


def _linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    """An ``nn.Linear`` holding ``weight`` [out, in] (and ``bias``), without allocating a fresh init."""
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, device="meta", dtype=weight.dtype)
    layer.weight = nn.Parameter(weight.contiguous())
    if bias is not None:
        layer.bias = nn.Parameter(bias.contiguous())
    return layer


def importance_scores(layer: LayerMlp, method: str) -> torch.Tensor:
    """optipfair's importance of each neuron pair (float32, on the weights' device), bit for bit."""
    rows = layer.rows()
    return pair_scores(rows.gate, rows.up, method)


def pair_scores(gate: torch.Tensor, up: torch.Tensor, method: str) -> torch.Tensor:
    """optipfair's importance of the neuron pairs whose gate and up rows are ``gate`` and ``up`` [n, H]."""
    if method in ("MAW", "PPM"):
        return _peak_to_peak_scores(gate, up)
    return IMPORTANCE_FUNCTIONS[method](gate.float(), up.float())


def _peak_to_peak_scores(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """optipfair's MAW score ``max(g) + |min(g)| + (max(u) + |min(u)|)``, without float32 copies.

    optipfair converts the whole weights to float32 first. A row's maximum and minimum are
    elements of the row, and widening bf16/fp16 to float32 is exact, so taking them in the
    weights' own dtype and widening the results gives the same float32 values; the additions
    are then optipfair's, in its order. 2-3x faster and no transient float32 copies.
    """
    gate_min, gate_max = torch.aminmax(gate, dim=1)
    up_min, up_max = torch.aminmax(up, dim=1)
    gate_score = gate_max.float() + torch.abs(gate_min.float())
    up_score = up_max.float() + torch.abs(up_min.float())
    return gate_score + up_score


def kept_indices(scores: torch.Tensor, kept: int) -> torch.Tensor:
    """The neurons optipfair keeps: ``topk(scores, kept)`` indices, sorted (same calls, same ties)."""
    _, indices = torch.topk(scores, kept, largest=True)
    return indices.sort().values


class LevelPruner:
    """Prunes one loaded model to increasing levels, in place, one level at a time.

    ``levels`` are pruning percentages; ``advance()`` moves the model to the next one and
    returns its kept indices per layer. After each step the model is what
    ``optipfair.prune_model(fresh_copy, pruning_type="MLP_GLU", neuron_selection_method=method,
    pruning_percentage=level)`` returns, ``config.intermediate_size`` included.
    """

    def __init__(self, model: nn.Module, method: str, levels: list[int]):
        if method not in METHODS:
            raise ValueError(f"unknown neuron selection method {method!r}; choose from {', '.join(METHODS)}")
        self.model = model
        self.layers = [LayerMlp(layer.mlp) for layer in get_model_layers(model)]
        if not self.layers:
            raise PruningUnsupported(f"{type(model).__name__}: no decoder layers found")
        self.original_width = self.layers[0].width
        self.levels = sorted(levels)
        self.widths = [formulas.kept_neurons(self.original_width, level) for level in self.levels]
        with torch.no_grad():
            scores = [importance_scores(layer, method) for layer in self.layers]
            # kept[l][j]: layer l's kept neurons at level j, and needed_after[l][j]: at any later level.
            self.kept = [[kept_indices(layer_scores, width) for width in self.widths] for layer_scores in scores]
        self.needed_after = [_unions_after(levels_kept) for levels_kept in self.kept]
        device = self.layers[0].rows().down.device
        self._held = [torch.arange(self.original_width, device=device) for _ in self.layers]
        self._spares: list[_Spare | None] = [None] * len(self.layers)
        # Checkpoint files from_pretrained memory-mapped (CPU only): pages of replaced weights are released.
        self._mapped_files = memory.checkpoint_mappings() if device.type == "cpu" else []
        self.position = -1

    def advance(self) -> list[torch.Tensor]:
        """Prune to the next level; returns each layer's kept indices (into the original width)."""
        self.position += 1
        level = self.position
        with torch.no_grad():
            for index, layer in enumerate(self.layers):
                self._advance_layer(index, layer, level)
        if hasattr(self.model, "config"):
            self.model.config.intermediate_size = self.widths[level]
        return [levels_kept[level] for levels_kept in self.kept]

    def _advance_layer(self, index: int, layer: LayerMlp, level: int) -> None:
        target, later = self.kept[index][level], self.needed_after[index][level]
        held, spare = self._held[index], self._spares[index]
        spare_wanted = later[~_contains(target, later)]
        if torch.equal(target, held) and (spare is None or torch.equal(spare_wanted, spare.indices)):
            return  # nothing to do: this level keeps every row (the baseline)
        # Where each original index lies now: a row of the layer (>= 0), or of the spare store (< -1).
        where = torch.full((self.original_width,), -1, dtype=torch.long, device=held.device)
        where[held] = torch.arange(held.numel(), device=held.device)
        if spare is not None:
            where[spare.indices] = -2 - torch.arange(spare.indices.numel(), device=held.device)
        current = layer.rows()
        new_rows = _gather(current, spare, where[target])
        new_spare = _gather(current, spare, where[spare_wanted]) if spare_wanted.numel() else None
        layer.install(new_rows)
        memory.release_checkpoint_pages([current.gate, current.up, current.down], self._mapped_files)
        self._held[index] = target
        self._spares[index] = None if new_spare is None else _Spare(spare_wanted, new_spare)

    def kept_digest(self, level_indices: list[torch.Tensor]) -> str:
        """sha256 of the kept indices of every layer (int64 little-endian, layer order)."""
        digest = hashlib.sha256()
        for indices in level_indices:
            digest.update(indices_bytes(indices))
        return digest.hexdigest()


def indices_bytes(indices: torch.Tensor) -> bytes:
    """One layer's kept indices as ``kept_digest`` hashes them: int64, little-endian."""
    return indices.to(device="cpu", dtype=torch.int64).numpy().astype("<i8").tobytes()


def _contains(sorted_values: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """For each query, whether it is in ``sorted_values`` (both sorted; a binary search each)."""
    if sorted_values.numel() == 0 or queries.numel() == 0:
        return torch.zeros(queries.shape, dtype=torch.bool, device=queries.device)
    found = torch.searchsorted(sorted_values, queries).clamp(max=sorted_values.numel() - 1)
    return sorted_values[found] == queries


def _unions_after(levels_kept: list[torch.Tensor]) -> list[torch.Tensor]:
    """For each level, the sorted union of the indices kept at every later level."""
    unions: list[torch.Tensor] = []
    running = levels_kept[-1].new_empty(0)
    for kept in reversed(levels_kept):
        unions.append(running)
        running = torch.unique(torch.cat([running, kept]))
    return unions[::-1]


def _gather(current: Rows, spare: _Spare | None, where: torch.Tensor) -> Rows:
    """Pairs at ``where`` (>= 0: rows of the layer; <= -2: rows of the spare store), in that order."""
    from_layer = where >= 0
    if bool(from_layer.all()):
        return current.take(where)
    assert spare is not None, "a kept neuron is neither in the layer nor in the spare store"
    gathered = current.take(where.clamp(min=0))
    spare_positions = -2 - where[~from_layer]
    gathered.put((~from_layer).nonzero().squeeze(1), spare.rows.take(spare_positions))
    return gathered


def count_parameters(model: nn.Module) -> int:
    """``sum(p.numel() for p in model.parameters())``: shared (tied) tensors once."""
    return sum(parameter.numel() for parameter in model.parameters())

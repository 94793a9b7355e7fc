"""One load of a model, then each requested level pruned in memory, exactly as its catalogue record was built.

The records say how they were built (``Provenance``: the weights, their seed or revision, the
neuron-selection method, the dtype). ``pruned_levels`` loads the model once with those weights
and dtype (``generate.model.materialise``), prunes it level after level with the build's
``LevelPruner`` (optipfair's neurons, ties included), and hands over each level only after the
digest of the neurons it kept equals the record's ``kept_indices_sha256`` and its parameter
count equals the record's: what is measured is the record's model, by construction. A model
measured in a wider dtype than it was pruned in (fp32 for a bf16 record) is widened for the
measurement and narrowed back before the next level, which is exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from ..core.records import ExpansionRecord
from ..errors import ModelFailed, UsageError
from ..generate import memory
from ..generate.model import DTYPES, check_fits, device_name, materialise, model_bytes, progress_bars, resolve_device
from ..generate.pruning import LevelPruner, count_parameters
from ..generate.weights import WeightsSource
from ..store.registry import ModelEntry
from .machine import describe_machine

#: The torch dtype names records hold, and the ``--dtype`` names of them.
DTYPE_OPTIONS = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}
#: ``--dtype`` name -> torch's name (what measurements record).
TORCH_DTYPE_NAMES = {short: name for name, short in DTYPE_OPTIONS.items()}


@dataclass(frozen=True)
class MeasuringDevice:
    """Where a measurement runs: torch's device, its name as records hold it, and the machine in one line."""

    device: str
    name: str
    machine: str


def measuring_device(requested: str) -> MeasuringDevice:
    """``--device`` (auto, cuda, cpu) resolved, named, and the machine described (its GPU's name on CUDA).

    ``--device cuda`` where torch sees no GPU is a ``UsageError``, said before any model is loaded.
    """
    try:
        device = resolve_device(requested)
    except ModelFailed as error:
        raise UsageError(f"{error}: leave --device out (auto) or give --device cpu") from None
    name = device_name(device)
    return MeasuringDevice(device, name, describe_machine(name if device.startswith("cuda") else None))


@dataclass(frozen=True)
class BuildRecipe:
    """How a group of records was built, so one load reproduces them all."""

    weights: WeightsSource
    method: str
    dtype: str  # bf16, fp16, fp32


@dataclass
class PrunedLevel:
    """A model pruned to one record's level, checked to be that record's model."""

    record: ExpansionRecord
    model: torch.nn.Module
    kept_indices_sha256: str
    parameters: int
    weights_bytes: int


def recipe_of(record: ExpansionRecord) -> BuildRecipe:
    """The weights, method and dtype ``record`` was built with (``ModelFailed`` for a record not built by optipfair)."""
    provenance = record.provenance
    if provenance is None or provenance.method != "optipfair" or not provenance.kept_indices_sha256:
        raise ModelFailed(
            f"{record.base_model}@{record.pruning_pct} was not built by optipfair (no kept neurons to measure): "
            f"`catalogue build --models {record.base_model}` first"
        )
    weights = WeightsSource(
        kind=provenance.weights,
        location=provenance.weights_source or "random",
        revision=provenance.weights_revision,
        seed=provenance.seed,
        chosen_by="the record's provenance",
    )
    return BuildRecipe(weights, provenance.neuron_selection_method or "MAW", DTYPE_OPTIONS[provenance.dtype or "bfloat16"])


def measurement_dtype(recipe: BuildRecipe, requested: str | None) -> str:
    """The dtype to measure in: the records' own, or a wider one (exact round trip); ``UsageError`` otherwise."""
    if requested is None or requested == recipe.dtype:
        return recipe.dtype
    if requested == "fp32":
        return requested
    raise UsageError(
        f"--dtype {requested}: the records were pruned in {recipe.dtype}; measuring in {requested} would change their weights "
        f"(choose {recipe.dtype} or fp32, or rebuild with --dtype {requested})"
    )


def weights_bytes(model: torch.nn.Module) -> int:
    """Bytes of the model's parameters (tied tensors once)."""
    return sum(parameter.numel() * parameter.element_size() for parameter in model.parameters())


def pruned_levels(entry: ModelEntry, records: list[ExpansionRecord], recipe: BuildRecipe, device: str, dtype: str | None = None) -> Iterator[PrunedLevel]:
    """Load ``entry`` once and yield each record's level in increasing order, pruned and checked, in ``dtype``."""
    device = resolve_device(device)
    measure_dtype = DTYPES[measurement_dtype(recipe, dtype)]
    prune_dtype = DTYPES[recipe.dtype]
    by_level = {record.pruning_pct: record for record in records}
    check_fits(entry.model_id, model_bytes(entry, measurement_dtype(recipe, dtype)), device)
    with progress_bars(shown=False):
        model = materialise(entry, recipe.weights, prune_dtype, device)
    try:
        model.eval()
        pruner = LevelPruner(model, recipe.method, sorted(by_level))
        for level in pruner.levels:
            record = by_level[level]
            digest = pruner.kept_digest(pruner.advance())
            expected = record.provenance.kept_indices_sha256
            if digest != expected:
                raise ModelFailed(
                    f"{record.base_model}@{level}: the neurons kept now (sha256 {digest[:12]}...) are not the record's "
                    f"({expected[:12]}...): the weights differ from those it was built from; rebuild it (`catalogue build --force`)"
                )
            parameters = count_parameters(model)
            if parameters != record.pruned_architecture.total_parameters:
                raise ModelFailed(f"{record.base_model}@{level}: {parameters:,} parameters, the record {record.pruned_architecture.total_parameters:,}")
            if measure_dtype != prune_dtype:
                model.to(measure_dtype)
            yield PrunedLevel(record, model, digest, parameters, weights_bytes(model))
            if measure_dtype != prune_dtype:
                model.to(prune_dtype)
    finally:
        del model
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        memory.reset_peak(device)

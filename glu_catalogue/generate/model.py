"""The generator: materialise a model with transformers, prune it with optipfair's rule, count.

One model is loaded once (a local checkpoint, a hub id, or random weights of its exact
architecture), every pruning level is derived from that load by ``pruning.LevelPruner``, the
parameters of each pruned module are counted with ``numel`` and must equal the closed form; a
mismatch is an error, never a record. torch, transformers and optipfair are imported here only:
the rest of the package never imports this module at import time.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

import torch

from .. import __version__
from ..checkpoints.reading import is_plain_file_name, read_checkpoint
from ..core import formulas
from ..core.architecture import ARCHITECTURE_FIELDS
from ..core.derive import record_from_counts, utc_now
from ..core.records import ExpansionRecord, Provenance
from ..errors import ModelFailed, ReadError
from ..store.registry import ModelEntry, architecture_from_config
from . import memory
from .pruning import LevelPruner, count_parameters
from .weights import WeightsSource, config_sha256

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


@dataclass(frozen=True)
class BuildSettings:
    """How every model of one build is made."""

    method: str = "MAW"
    device: str = "cpu"
    dtype: str = "bf16"
    save_pruned: Path | None = None


@dataclass
class ModelBuild:
    """What building one model produced: its records and how long and how much memory it took."""

    model_id: str
    weights: WeightsSource
    records: list[ExpansionRecord] = field(default_factory=list)
    seconds: float = 0.0
    peak_memory_bytes: int = 0
    model_bytes: int = 0


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without a GPU is an error."""
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelFailed("--device cuda: torch sees no CUDA device")
    return requested


def device_name(device: str) -> str:
    """A readable name of ``device``: the GPU's model, or ``cpu``."""
    return torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else "cpu"


def build_model(
    entry: ModelEntry,
    levels: list[int],
    weights: WeightsSource,
    settings: BuildSettings,
    on_level: Callable[[int], None] = lambda level: None,
) -> ModelBuild:
    """Load ``entry`` once, prune it to every level in ``levels``, count, and return the records."""
    device, dtype = settings.device, DTYPES[settings.dtype]
    shape = entry.architecture
    model_bytes = formulas.total_parameters(shape) * torch.finfo(dtype).bits // 8
    _check_fits(entry.model_id, model_bytes, device)
    try:
        config_digest = config_sha256(entry.config, weights)
    except ReadError as error:
        raise ModelFailed(f"checkpoint {weights.location}: cannot read config.json ({error.message})") from None
    memory.reset_peak(device)
    started = time.perf_counter()
    model = _materialise(entry, weights, dtype, device)
    try:
        baseline = count_parameters(model)
        expected = formulas.total_parameters(shape)
        if baseline != expected:
            raise ModelFailed(
                f"the loaded model has {baseline} parameters, the closed form of {entry.model_id}'s architecture "
                f"{expected}: the weights are not this architecture"
            )
        pruner = LevelPruner(model, settings.method, levels)
        measured = []
        level_started = time.perf_counter()
        load_seconds = level_started - started
        for level in pruner.levels:
            kept = pruner.advance()
            counted = count_parameters(model)
            width = model.config.intermediate_size
            closed_form = formulas.total_parameters(shape, width)
            if counted != closed_form:
                raise ModelFailed(
                    f"at {level}% the pruned model has {counted} parameters but the closed form says {closed_form}: not written"
                )
            if settings.save_pruned is not None:
                save_pruned(model, settings.save_pruned, entry.model_id, level)
            now = time.perf_counter()
            measured.append((level, width, counted, pruner.kept_digest(kept), now - level_started))
            level_started = now
            on_level(level)
        peak = memory.peak_bytes(device)
    finally:
        del model  # a transformers model holds no reference cycles: its memory is freed here
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    build = ModelBuild(entry.model_id, weights, seconds=time.perf_counter() - started, peak_memory_bytes=peak, model_bytes=model_bytes)
    versions = _versions()
    for level, width, counted, digest, seconds in measured:
        provenance = Provenance(
            method="optipfair",
            created_at=utc_now(),
            catalogue_version=__version__,
            neuron_selection_method=settings.method,
            weights=weights.kind,
            weights_source=weights.location,
            weights_revision=weights.revision,
            seed=weights.seed,
            config_sha256=config_digest,
            device=device_name(device),
            dtype=str(dtype).removeprefix("torch."),
            wall_time_s=round(seconds + (load_seconds if level == pruner.levels[0] else 0.0), 3),
            peak_memory_bytes=peak,
            kept_indices_sha256=digest,
            note=_note(weights, level == pruner.levels[0]),
            **versions,
        )
        build.records.append(record_from_counts(entry.model_id, level, shape, baseline, width, counted, provenance))
    return build


def _note(weights: WeightsSource, first: bool) -> str | None:
    parts = []
    if weights.kind == "random-init":
        parts.append(
            "random-init weights: shapes and counts are the real model's; the kept neurons are not the real model's"
        )
    if first:
        parts.append("wall_time_s includes loading the model")
    return "; ".join(parts) or None


def _versions() -> dict[str, str]:
    return {
        "optipfair_version": metadata.version("optipfair"),
        "torch_version": torch.__version__,
        "transformers_version": metadata.version("transformers"),
    }


def _check_fits(model_id: str, model_bytes: int, device: str) -> None:
    available = memory.available_bytes(device)
    # The model plus one pruned layer and the work buffers: a 10 % margin.
    if available is not None and model_bytes * 1.1 > available:
        raise ModelFailed(
            f"needs about {model_bytes * 1.1 / 2**30:.1f} GiB on {device}, {available / 2**30:.1f} GiB available: "
            f"skipped (use a larger machine, --device, or --dtype)"
        )


def _materialise(entry: ModelEntry, weights: WeightsSource, dtype: torch.dtype, device: str) -> torch.nn.Module:
    if weights.kind == "random-init":
        return random_model(entry, dtype, device, weights.seed or 0)
    from transformers import AutoModelForCausalLM

    location = weights.location
    if weights.kind == "checkpoint":
        _check_checkpoint_architecture(entry, Path(location))
    try:
        # safetensors only: a pickle checkpoint could run code while it loads.
        model, loading = AutoModelForCausalLM.from_pretrained(
            location, revision=weights.revision, dtype=dtype, device_map=device, local_files_only=weights.kind == "checkpoint",
            use_safetensors=True, output_loading_info=True,
        )  # fmt: skip
    except OSError as error:
        reason = str(error).strip().splitlines()[0]
        raise ModelFailed(f"cannot load {weights.describe()}: {reason}") from None
    check_loaded_tensors(entry, weights, loading)
    return model


def check_loaded_tensors(entry: ModelEntry, weights: WeightsSource, loading: dict) -> None:
    """Every parameter must come from the checkpoint: ``ModelFailed`` counting the tensors that did not fit.

    ``loading`` is transformers' loading info. Its missing keys already leave out what
    transformers documents as derived (a tied LM head, ``_keys_to_ignore_on_load_missing``),
    and its unexpected keys the buffers it ignores (``inv_freq``); anything else missing would
    be random weights in a record that says ``weights: checkpoint``.
    """
    missing, unexpected = sorted(loading.get("missing_keys", ())), sorted(loading.get("unexpected_keys", ()))
    mismatched = sorted(str(item[0]) for item in loading.get("mismatched_keys", ()))
    counts = [(missing, "missing"), (unexpected, "not in the model"), (mismatched, "of another shape")]
    parts = [f"{len(names)} {what} (e.g. {', '.join(names[:2])})" for names, what in counts if names]
    if parts:
        raise ModelFailed(
            f"{weights.describe()} does not fit {entry.transformers_class}: tensors {'; '.join(parts)}; "
            "its missing weights would be random, so nothing was built from it"
        )


def _check_checkpoint_architecture(entry: ModelEntry, directory: Path) -> None:
    """The checkpoint must be readable safetensors (index inside the directory, no special files)
    and its config.json must describe the registry's architecture of the model."""
    try:
        config = read_checkpoint(directory).config
    except ReadError as error:
        raise ModelFailed(f"checkpoint {directory}: {error}") from None
    try:
        found = architecture_from_config(config, entry.architecture_facts)
    except KeyError as error:
        raise ModelFailed(f"checkpoint {directory}: config.json lacks {error.args[0]}") from None
    except (TypeError, ValueError) as error:  # pydantic's ValidationError is a ValueError
        raise ModelFailed(f"checkpoint {directory}: config.json: {str(error).splitlines()[0]}") from None
    differences = [
        f"{name} {getattr(found, name)} (registry: {getattr(entry.architecture, name)})"
        for name in ARCHITECTURE_FIELDS
        if getattr(found, name) != getattr(entry.architecture, name)
    ]
    if differences:
        raise ModelFailed(f"checkpoint {directory} is not {entry.model_id}'s architecture: " + ", ".join(differences))


def random_model(entry: ModelEntry, dtype: torch.dtype, device: str, seed: int) -> torch.nn.Module:
    """``entry``'s exact architecture with seeded random weights, built directly on ``device``.

    Matrices are drawn from N(0, initializer_range), each from its own generator seeded by
    ``(seed, parameter name)``, so the result does not depend on thread scheduling; norm weights
    are ones and biases zeros, as transformers initialises them.
    """
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers 4
        from transformers.modeling_utils import no_init_weights

    values = dict(entry.config)
    config = AutoConfig.for_model(values.pop("model_type"), **values)
    with no_init_weights(), torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    std = getattr(config, "initializer_range", 0.02) or 0.02

    def fill(item: tuple[str, torch.nn.Parameter]) -> None:
        name, parameter = item
        generator = torch.Generator(device=device)
        generator.manual_seed(int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "little"))
        with torch.no_grad():
            if parameter.dim() > 1:
                parameter.normal_(0.0, std, generator=generator)
            elif name.endswith("bias"):
                parameter.zero_()
            else:
                parameter.fill_(1.0)

    parameters = list(model.named_parameters())
    if device == "cpu":
        with ThreadPoolExecutor(max_workers=torch.get_num_threads()) as pool:
            list(pool.map(fill, parameters))
    else:
        for item in parameters:
            fill(item)
    return model


def save_pruned(model: torch.nn.Module, root: Path, model_id: str, level: int) -> Path:
    """``save_pretrained`` the pruned model to ``root/<org>__<name>/pruned-<level>pct``."""
    name = model_id.replace("/", "__")
    if not is_plain_file_name(name):
        raise ModelFailed(f"--save-pruned: model id {model_id!r} does not make a directory name inside {root}")
    target = root / name / f"pruned-{level:02d}pct"
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    return target

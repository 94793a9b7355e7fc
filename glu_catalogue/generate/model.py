"""The generator: materialise a model with transformers, prune it with optipfair's rule, count.

One model is loaded once (a local checkpoint, a hub id, or random weights of its exact
architecture), every pruning level is derived from that load by ``pruning.LevelPruner``, the
parameters of each pruned module are counted with ``numel`` and must equal the closed form; a
mismatch is an error, never a record. torch, transformers and optipfair are imported here only:
the rest of the package never imports this module at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import torch

from .._version import __version__
from ..checkpoints.reading import read_checkpoint
from ..core import formulas
from ..core.architecture import ARCHITECTURE_FIELDS
from ..core.derive import record_from_counts, utc_now
from ..core.records import ExpansionRecord, Provenance
from ..errors import ModelFailed, ReadError
from ..store.registry import ModelEntry, architecture_from_config
from . import checkpoint_dirs, memory
from .checkpoint_dirs import pruned_directory
from .layer_weights import fill_random, initializer_std, inspected_checkpoint, transformers_config
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
    stream: bool = False  # stream even when the whole model would fit


@dataclass
class ModelBuild:
    """What building one model produced: its records and how long and how much memory it took."""

    model_id: str
    weights: WeightsSource
    records: list[ExpansionRecord] = field(default_factory=list)
    seconds: float = 0.0
    peak_memory_bytes: int = 0
    model_bytes: int = 0
    build_path: str = memory.IN_MEMORY


@dataclass(frozen=True)
class LevelCount:
    """What one level of one model came to: its width, the parameters counted, the kept-indices digest, the time."""

    level: int
    width: int
    counted: int
    digest: str
    seconds: float


def model_bytes(entry: ModelEntry, dtype_name: str) -> int:
    """Bytes of the whole model's parameters in ``dtype_name`` (bf16, fp16, fp32)."""
    return formulas.total_parameters(entry.architecture) * torch.finfo(DTYPES[dtype_name]).bits // 8


def layer_mlp_bytes(entry: ModelEntry, dtype_name: str) -> int:
    """Bytes of one decoder layer's MLP in ``dtype_name``."""
    architecture = entry.architecture
    return formulas.mlp_parameters(architecture.hidden_size, architecture.intermediate_size, architecture.mlp_bias) * torch.finfo(DTYPES[dtype_name]).bits // 8


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
    entry: ModelEntry, levels: list[int], weights: WeightsSource, settings: BuildSettings, on_level: Callable[[int], None] = lambda level: None
) -> ModelBuild:
    """Load ``entry`` once, prune it to every level in ``levels``, count, and return the records."""
    device, dtype = settings.device, DTYPES[settings.dtype]
    architecture = entry.architecture
    whole_bytes = model_bytes(entry, settings.dtype)
    check_fits(entry.model_id, whole_bytes, device)
    try:
        config_digest = config_sha256(entry.config, weights)
    except ReadError as error:
        raise ModelFailed(f"checkpoint {weights.location}: cannot read config.json ({error.message})") from None
    memory.reset_peak(device)
    started = time.perf_counter()
    model = materialise(entry, weights, dtype, device)
    try:
        baseline = count_parameters(model)
        expected = formulas.total_parameters(architecture)
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
            closed_form = formulas.total_parameters(architecture, width)
            if counted != closed_form:
                raise ModelFailed(f"at {level}% the pruned model has {counted} parameters but the closed form says {closed_form}: not written")
            if settings.save_pruned is not None:
                save_pruned(model, settings.save_pruned, entry.model_id, level)
            now = time.perf_counter()
            seconds = now - level_started + (load_seconds if not measured else 0.0)
            measured.append(LevelCount(level, width, counted, pruner.kept_digest(kept), seconds))
            level_started = now
            on_level(level)
        peak = memory.peak_bytes(device)
    finally:
        del model  # a transformers model holds no reference cycles: its memory is freed here
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    build = ModelBuild(entry.model_id, weights, seconds=time.perf_counter() - started, peak_memory_bytes=peak, model_bytes=whole_bytes)
    build.records = make_records(entry, weights, settings, baseline, measured, peak, config_digest, memory.IN_MEMORY)
    return build


#: What the first level's ``wall_time_s`` includes besides its own work, by build path.
FIRST_LEVEL_INCLUDES = {memory.IN_MEMORY: "loading the model", memory.STREAMING: "reading and scoring every layer"}


def make_records(
    entry: ModelEntry,
    weights: WeightsSource,
    settings: BuildSettings,
    baseline: int,
    measured: list[LevelCount],
    peak: int,
    config_digest: str,
    build_path: str,
) -> list[ExpansionRecord]:
    """One record per measured level, with the provenance of this build (``build_path``: in-memory or streaming)."""
    versions = library_versions()
    records = []
    for position, count in enumerate(measured):
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
            device=device_name(settings.device),
            dtype=str(DTYPES[settings.dtype]).removeprefix("torch."),
            build_path=build_path,
            wall_time_s=round(count.seconds, 3),
            peak_memory_bytes=peak,
            kept_indices_sha256=count.digest,
            note=_note(weights, FIRST_LEVEL_INCLUDES[build_path] if position == 0 else None),
            **versions,
        )
        records.append(record_from_counts(entry.model_id, count.level, entry.architecture, baseline, count.width, count.counted, provenance))
    return records


def _note(weights: WeightsSource, first_level_includes: str | None) -> str | None:
    parts = []
    if weights.kind == "random-init":
        parts.append("random-init weights: shapes and counts are the real model's; the kept neurons are not the real model's")
    if first_level_includes:
        parts.append(f"wall_time_s includes {first_level_includes}")
    return "; ".join(parts) or None


def library_versions() -> dict[str, str]:
    return {"optipfair_version": metadata.version("optipfair"), "torch_version": torch.__version__, "transformers_version": metadata.version("transformers")}


def check_fits(model_id: str, model_bytes: int, device: str) -> None:
    """``ModelFailed`` when a model of ``model_bytes`` would not fit the device's free memory (with the build's margin)."""
    available = memory.available_bytes(device)
    needed = model_bytes * memory.IN_MEMORY_MARGIN
    if available is not None and needed > available:
        raise ModelFailed(
            f"needs about {needed / 2**30:.1f} GiB on {device}, {available / 2**30:.1f} GiB available: "
            f"skipped (use a larger machine, --stream, --device, or --dtype)"
        )


def materialise(entry: ModelEntry, weights: WeightsSource, dtype: torch.dtype, device: str) -> torch.nn.Module:
    """``entry``'s model with ``weights`` (a checkpoint checked first, a hub id, or seeded random weights) on ``device``."""
    if weights.kind == "random-init":
        return random_model(entry, dtype, device, weights.seed or 0)
    from transformers import AutoModelForCausalLM

    location = weights.location
    if weights.kind == "checkpoint":
        check_checkpoint_architecture(entry, Path(location))
        inspected_checkpoint(Path(location))  # a missing, truncated or mislabelled shard: one line, before loading
    try:
        # safetensors only: a pickle checkpoint could run code while it loads.
        model, loading = AutoModelForCausalLM.from_pretrained(
            location,
            revision=weights.revision,
            dtype=dtype,
            device_map=device,
            local_files_only=weights.kind == "checkpoint",
            use_safetensors=True,
            output_loading_info=True,
        )
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


def check_checkpoint_architecture(entry: ModelEntry, directory: Path) -> None:
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
    ``(seed, parameter name)`` (``layer_weights.fill_random``), so the result does not depend on
    thread scheduling, and the streaming build generates the same tensors one at a time; norm
    weights are ones and biases zeros, as transformers initialises them.
    """
    from transformers import AutoModelForCausalLM

    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers 4
        from transformers.modeling_utils import no_init_weights

    config = transformers_config(entry)
    with no_init_weights(), torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    std = initializer_std(config)

    def fill(item: tuple[str, torch.nn.Parameter]) -> None:
        name, parameter = item
        fill_random(name, parameter.data, seed, std)

    parameters = list(model.named_parameters())
    if device == "cpu":
        with ThreadPoolExecutor(max_workers=torch.get_num_threads()) as pool:
            list(pool.map(fill, parameters))
    else:
        for item in parameters:
            fill(item)
    return model


def save_pruned(model: torch.nn.Module, root: Path, model_id: str, level: int) -> Path:
    """``save_pretrained`` the pruned model into ``pruned_directory(root, model_id, level)``, whole or not at all.

    It is written aside and swapped in (``checkpoint_dirs``): a save that fails or is killed
    leaves no half checkpoint, and none of its temporary files, under the target's name.
    """
    target = pruned_directory(root, model_id, level)
    partial = checkpoint_dirs.begin(target)
    try:
        model.save_pretrained(partial)
    except BaseException:
        checkpoint_dirs.abandon(partial)
        raise
    return checkpoint_dirs.swap_in(partial, target)


@contextmanager
def progress_bars(shown: bool) -> Iterator[None]:
    """transformers' and huggingface_hub's tqdm bars ("Loading weights", "Writing model shards", downloads)
    hidden for the block unless ``shown``; afterwards as they were."""
    from transformers.utils import logging

    was_shown = logging.is_progress_bar_enabled()
    if not shown:
        logging.disable_progress_bar()  # huggingface_hub's bars too
    try:
        yield
    finally:
        if was_shown and not shown:
            logging.enable_progress_bar()

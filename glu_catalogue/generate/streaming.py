"""The streaming build: prune a model one decoder layer at a time, never holding the whole of it.

Width pruning is local. optipfair scores a layer's neuron pairs from that layer's gate and up
weights alone, keeps ``topk`` of the scores, and the parameter count is a sum over layers. So
for each decoder layer in turn this module reads (or generates) the layer's MLP tensors, scores
them exactly as ``pruning.LevelPruner`` does, derives every requested level's kept neurons from
that one read with the same ``topk`` call, and lets the layer go. The embeddings, attention and
norms are never materialised for the records: the baseline count comes from the checkpoint's
safetensors headers (or, for random weights, from the model built on the meta device), and each
level's count is that minus the MLP rows and columns the level removes, read off the tensors'
shapes. Each count must equal the closed form, as on the in-memory path.

With ``save_pruned`` every level's checkpoint is written as the layers are done: one shard per
layer (``sharded_writer``); the other tensors are copied from the source one at a time.

Resident memory stays about one layer's MLP (plus, when saving, the layer's pruned copy and its
attention tensors), whatever the model's size. ``choose_path`` decides between this path and
the in-memory one.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..core import formulas
from ..errors import ModelFailed
from ..store.registry import ModelEntry
from . import memory
from .checkpoint_dirs import pruned_directory
from .layer_weights import CheckpointTensors, DecoderLayout, RandomTensors, TensorSource, decoder_layout, pruned_shape, transformers_config
from .model import DTYPES, BuildSettings, LevelCount, ModelBuild, check_checkpoint_architecture, layer_mlp_bytes, make_records, model_bytes
from .pruning import Rows, indices_bytes, kept_indices, pair_scores
from .sharded_writer import PrunedCheckpoint
from .weights import WeightsSource, config_sha256

#: Copies of one layer's MLP the streaming path may hold at once: the layer, a pruned copy, work buffers.
LAYER_COPIES = 3


@dataclass(frozen=True)
class BuildPath:
    """Which way a model is built (``memory.IN_MEMORY`` or ``memory.STREAMING``), and why (one phrase for the screen)."""

    name: str
    reason: str


def choose_path(entry: ModelEntry, settings: BuildSettings) -> BuildPath:
    """In memory when the whole model fits the device's free memory, else (or with ``settings.stream``) streaming."""
    name, reason = memory.choose_build_path(
        model_bytes(entry, settings.dtype),
        LAYER_COPIES * layer_mlp_bytes(entry, settings.dtype),
        memory.available_bytes(settings.device),
        settings.device,
        settings.stream,
    )
    return BuildPath(name, reason)


# --- one layer's MLP ------------------------------------------------------------------------


@dataclass
class StreamedMlp:
    """One decoder layer's MLP as read: its neuron pairs, the down bias, and the tensors' names and shapes."""

    names: dict[str, str]  # "mlp.gate_proj.weight" -> full tensor name
    shapes: dict[str, tuple[int, ...]]
    rows: Rows
    down_bias: torch.Tensor | None

    @property
    def width(self) -> int:
        """The layer's intermediate size."""
        return self.rows.down.shape[1]

    @property
    def fused(self) -> bool:
        """True for one ``gate_up_proj`` (Phi-3)."""
        return "mlp.gate_up_proj.weight" in self.names

    def removed_parameters(self, kept: int) -> int:
        """Parameters the layer's MLP tensors lose when the layer keeps ``kept`` neurons."""
        return sum(math.prod(shape) - math.prod(pruned_shape(rest, shape, kept)) for rest, shape in self.shapes.items())

    def pruned_tensors(self, kept: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
        """The layer's MLP tensors keeping the neurons ``kept`` (sorted original indices), by full name."""
        rows = self.rows if kept.numel() == self.width else self.rows.take(kept)
        values = {"mlp.down_proj.weight": rows.down, "mlp.down_proj.bias": self.down_bias}
        if self.fused:
            values["mlp.gate_up_proj.weight"] = torch.cat([rows.gate, rows.up])
            if rows.gate_bias is not None:
                values["mlp.gate_up_proj.bias"] = torch.cat([rows.gate_bias, rows.up_bias])
        else:
            values.update({"mlp.gate_proj.weight": rows.gate, "mlp.up_proj.weight": rows.up})
            values.update({"mlp.gate_proj.bias": rows.gate_bias, "mlp.up_proj.bias": rows.up_bias})
        return [(self.names[rest], values[rest]) for rest in self.names]


def read_mlp(source: TensorSource, names: dict[str, str], pool: ThreadPoolExecutor) -> StreamedMlp:
    """Read one layer's MLP tensors (concurrently: generating or converting them uses every core)."""
    tensors = dict(zip(names, pool.map(source.read, names.values())))
    down = tensors["mlp.down_proj.weight"]
    if "mlp.gate_up_proj.weight" in tensors:
        width, fused_bias = down.shape[1], tensors.get("mlp.gate_up_proj.bias")
        weight = tensors["mlp.gate_up_proj.weight"]
        gate_bias, up_bias = (None, None) if fused_bias is None else (fused_bias[:width], fused_bias[width:])
        rows = Rows(weight[:width], weight[width:], gate_bias, up_bias, down)
    else:
        gate_bias, up_bias = tensors.get("mlp.gate_proj.bias"), tensors.get("mlp.up_proj.bias")
        rows = Rows(tensors["mlp.gate_proj.weight"], tensors["mlp.up_proj.weight"], gate_bias, up_bias, down)
    shapes = {rest: tuple(source.shapes[name]) for rest, name in names.items()}
    return StreamedMlp(dict(names), shapes, rows, tensors.get("mlp.down_proj.bias"))


# --- the build ------------------------------------------------------------------------------


@dataclass
class _Level:
    """One level's running totals over the layers done so far, and its checkpoint being written (``--save-pruned``)."""

    level: int
    width: int
    writer: PrunedCheckpoint | None = None
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    removed: int = 0
    seconds: float = 0.0


def build_streaming(
    entry: ModelEntry,
    levels: list[int],
    weights: WeightsSource,
    settings: BuildSettings,
    on_level: Callable[[int], None] = lambda level: None,
    on_layer: Callable[[int, int], None] = lambda done, total: None,
) -> ModelBuild:
    """Prune ``entry`` to every level in ``levels`` one decoder layer at a time; the records equal the in-memory build's."""
    try:
        config_digest = config_sha256(entry.config, weights)
    except OSError as error:
        raise ModelFailed(f"checkpoint {weights.location}: cannot read config.json ({error.strerror})") from None
    memory.reset_peak(settings.device)
    started = time.perf_counter()
    directory = local_directory(entry, weights)
    source = open_source(entry, weights, directory, settings)
    layout = _checked_layout(entry, source)
    tallies = [_Level(level, formulas.kept_neurons(entry.architecture.intermediate_size, level)) for level in sorted(levels)]
    try:
        with ThreadPoolExecutor(max_workers=max(1, torch.get_num_threads()), thread_name_prefix="catalogue-stream") as pool:
            work = _Pass(source, layout, tallies, settings.method, entry.architecture.intermediate_size, pool)
            if settings.save_pruned is not None:
                work.start_checkpoints(settings.save_pruned, entry.model_id)
            for position, index in enumerate(layout.mlp):
                work.layer(index, position)
                on_layer(position + 1, len(layout.mlp))
        measured = _counts(entry, source.n_parameters, tallies, time.perf_counter() - started)
        _finish_checkpoints(entry, directory, settings.dtype, tallies, measured)
    except BaseException:
        for tally in tallies:
            if tally.writer is not None:
                tally.writer.abandon()  # a half-written checkpoint is never left under its name
        raise
    for count in measured:
        on_level(count.level)
    peak = memory.peak_bytes(settings.device)
    build = ModelBuild(
        entry.model_id,
        weights,
        seconds=time.perf_counter() - started,
        peak_memory_bytes=peak,
        model_bytes=model_bytes(entry, settings.dtype),
        build_path=memory.STREAMING,
    )
    build.records = make_records(entry, weights, settings, source.n_parameters, measured, peak, config_digest, memory.STREAMING)
    return build


def _checked_layout(entry: ModelEntry, source: TensorSource) -> DecoderLayout:
    """The source's decoder layers; its count and layer count must be ``entry``'s architecture's."""
    architecture = entry.architecture
    expected = formulas.total_parameters(architecture)
    if source.n_parameters != expected:
        raise ModelFailed(
            f"the weights hold {source.n_parameters} parameters, the closed form of {entry.model_id}'s architecture "
            f"{expected}: the weights are not this architecture"
        )
    layout = decoder_layout(list(source.shapes))
    if len(layout.mlp) != architecture.num_hidden_layers:
        raise ModelFailed(f"the weights hold {len(layout.mlp)} decoder layers, {entry.model_id} has {architecture.num_hidden_layers}")
    return layout


@dataclass
class _Pass:
    """One pass over a model's layers: what is read, the levels it feeds, and the unpruned MLP width."""

    source: TensorSource
    layout: DecoderLayout
    tallies: list[_Level]
    method: str
    width: int
    pool: ThreadPoolExecutor

    def layer(self, index: int, position: int) -> None:
        """Read layer ``index``'s MLP, score it once, and add its kept neurons to every level (and its shard)."""
        mlp = read_mlp(self.source, self.layout.mlp[index], self.pool)
        if mlp.width != self.width:
            raise ModelFailed(f"layer {index}: the MLP holds {mlp.width} neurons, the config says {self.width}")
        saving = self.tallies[0].writer is not None
        with torch.no_grad():
            scores = pair_scores(mlp.rows.gate, mlp.rows.up, self.method)
            others = [(name, self.source.read(name)) for name in self.layout.other[index]] if saving else []
            for tally in self.tallies:
                level_started = time.perf_counter()
                kept = kept_indices(scores, tally.width)
                tally.digest.update(indices_bytes(kept))
                tally.removed += mlp.removed_parameters(tally.width)
                if tally.writer is not None:
                    tally.writer.write_shard(position + 2, others + mlp.pruned_tensors(kept))
                tally.seconds += time.perf_counter() - level_started

    def start_checkpoints(self, root: Path, model_id: str) -> None:
        """Open every level's pruned checkpoint and write its shard 1: the tensors outside the decoder layers.

        Each of those tensors is read once and written to every level's shard before the next is read.
        """
        for tally in self.tallies:
            tally.writer = PrunedCheckpoint(pruned_directory(root, model_id, tally.level), len(self.layout.mlp) + 1)
        outside = self.layout.outside
        specs = [(name, self.source.dtype_of(name), tuple(self.source.shapes[name])) for name in outside]
        files = [tally.writer.open_shard(1, specs) for tally in self.tallies]
        for name in outside:
            tensor = self.source.read(name)
            for file in files:
                file.write(name, tensor)
            del tensor
        for file in files:
            file.close()


def _counts(entry: ModelEntry, baseline: int, tallies: list[_Level], total_seconds: float) -> list[LevelCount]:
    """Each level's count (baseline less what its layers lost), checked against the closed form.

    The first level's time also holds the work all levels share: reading and scoring the layers.
    """
    shared = total_seconds - sum(tally.seconds for tally in tallies)
    counts = []
    for position, tally in enumerate(tallies):
        counted = baseline - tally.removed
        closed_form = formulas.total_parameters(entry.architecture, tally.width)
        if counted != closed_form:
            raise ModelFailed(f"at {tally.level}% the pruned tensors hold {counted} parameters but the closed form says {closed_form}: not written")
        seconds = tally.seconds + (shared if position == 0 else 0.0)
        counts.append(LevelCount(tally.level, tally.width, counted, tally.digest.hexdigest(), seconds))
    return counts


def _finish_checkpoints(entry: ModelEntry, directory: Path | None, dtype_name: str, tallies: list[_Level], measured: list[LevelCount]) -> None:
    """Write each level's index and configs, and move its checkpoint into place (``--save-pruned``)."""
    for tally, count in zip(tallies, measured):
        if tally.writer is not None:
            tally.writer.finish(*saved_configs(entry, directory, tally.width, dtype_name), count.counted)


# --- where the tensors come from and go -----------------------------------------------------


def local_directory(entry: ModelEntry, weights: WeightsSource) -> Path | None:
    """The checkpoint directory the tensors are read from: the local one, a hub id's snapshot, or None (random)."""
    if weights.kind == "random-init":
        return None
    if weights.kind == "checkpoint":
        directory = Path(weights.location)
        check_checkpoint_architecture(entry, directory)
        return directory
    from huggingface_hub import snapshot_download

    try:
        directory = Path(snapshot_download(weights.location, revision=weights.revision, allow_patterns=["*.json", "*.safetensors"]))
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFailed(f"cannot load {weights.describe()}: {reason}") from None
    check_checkpoint_architecture(entry, directory)
    return directory


def open_source(entry: ModelEntry, weights: WeightsSource, directory: Path | None, settings: BuildSettings) -> TensorSource:
    """The tensors of the weights: a checkpoint's shards, read one tensor at a time, or seeded random ones."""
    dtype = DTYPES[settings.dtype]
    if directory is None:
        return RandomTensors(entry, dtype, settings.device, weights.seed or 0)
    return CheckpointTensors(directory, dtype, settings.device)


def saved_configs(entry: ModelEntry, directory: Path | None, width: int, dtype_name: str) -> tuple:
    """The config and generation config ``save_pretrained`` would write for the model pruned to ``width``."""
    from transformers import AutoConfig, GenerationConfig

    config = AutoConfig.from_pretrained(directory) if directory is not None else transformers_config(entry)
    if directory is not None and (directory / "generation_config.json").is_file():
        generation = GenerationConfig.from_pretrained(directory)
    else:
        generation = GenerationConfig.from_model_config(config)
    config.intermediate_size = width
    config.dtype = str(DTYPES[dtype_name]).removeprefix("torch.")
    config.architectures = [entry.transformers_class]
    return config, generation

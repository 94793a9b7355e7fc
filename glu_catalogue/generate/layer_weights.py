"""The tensors of a model one at a time: read from a checkpoint's shards, or generated from a seed.

The streaming build never holds a whole model. It asks a ``TensorSource`` for one tensor by
name and lets it go when it is done with it:

* ``CheckpointTensors`` reads each tensor's bytes straight from its safetensors shard (the
  offsets come from the header, ``checkpoints.safetensors``) into a fresh buffer: no memory
  map, so the process holds only what it is working on, and nothing is left resident after.
  The checkpoint is inspected first (``checkpoints.inspect``): a shard that is missing,
  truncated or not where the index says stops the build before anything is read or written.
* ``RandomTensors`` generates each tensor as ``random_model`` fills the in-memory model's
  parameter of the same name: a generator seeded by ``(seed, parameter name)``, so a layer's
  weights depend on the seed and the layer's own names only, and both build paths see the same
  weights.

Floating tensors arrive in the build's dtype (as ``from_pretrained(dtype=...)`` converts them),
on the build's device. torch and transformers are imported here: never import this module from
the verifier.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from ..checkpoints.reading import BUFFER_SUFFIXES, LAYER_TENSOR, MLP_AXES, MLP_BLOCK
from ..errors import ModelFailed
from ..store.reading import ReadError
from ..store.registry import ModelEntry

#: torch dtypes of the safetensors dtype names a checkpoint of a GLU decoder holds.
TORCH_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
SAFETENSORS_DTYPES = {dtype: name for name, dtype in TORCH_DTYPES.items()}

#: Bytes read from a shard per system call (a single read() stops at about 2 GiB on Linux).
READ_CHUNK_BYTES = 1 << 28


class TensorSource(Protocol):
    """Where the streaming build gets a model's tensors, one at a time."""

    #: Every tensor a saved copy of the model holds, name -> shape, in the source's order.
    shapes: dict[str, tuple[int, ...]]
    #: Parameters as ``sum(p.numel() for p in model.parameters())`` counts them (tied tensors once).
    n_parameters: int

    def read(self, name: str) -> torch.Tensor:
        """The tensor ``name``, in the build's dtype (floating tensors) on the build's device."""
        ...

    def dtype_of(self, name: str) -> torch.dtype:
        """The dtype ``read(name)`` returns."""
        ...


# --- random weights -------------------------------------------------------------------------


def transformers_config(entry: ModelEntry) -> Any:
    """The transformers config object of ``entry``'s registry config."""
    from transformers import AutoConfig

    values = dict(entry.config)
    return AutoConfig.for_model(values.pop("model_type"), **values)


def initializer_std(config: Any) -> float:
    """The standard deviation random matrices are drawn with: the config's ``initializer_range``, else 0.02."""
    return getattr(config, "initializer_range", 0.02) or 0.02


def fill_random(name: str, tensor: torch.Tensor, seed: int, std: float) -> torch.Tensor:
    """Fill ``tensor`` as random-init weights named ``name``: N(0, std) matrices, zero biases, unit norms.

    The generator is seeded by ``(seed, name)`` alone, on ``tensor``'s device, so the values
    depend neither on the other tensors nor on the order or thread they are made in.
    """
    generator = torch.Generator(device=tensor.device)
    generator.manual_seed(int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "little"))
    with torch.no_grad():
        if tensor.dim() > 1:
            tensor.normal_(0.0, std, generator=generator)
        elif name.endswith("bias"):
            tensor.zero_()
        else:
            tensor.fill_(1.0)
    return tensor


def meta_model(entry: ModelEntry, dtype: torch.dtype) -> torch.nn.Module:
    """``entry``'s transformers model on the meta device: every parameter's name and shape, no memory."""
    from transformers import AutoModelForCausalLM

    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers 4
        from transformers.modeling_utils import no_init_weights

    config = transformers_config(entry)
    with no_init_weights(), torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    return model


class RandomTensors:
    """Seeded random weights of ``entry``'s exact architecture, one tensor at a time."""

    def __init__(self, entry: ModelEntry, dtype: torch.dtype, device: str, seed: int):
        model = meta_model(entry, dtype)
        self.dtype, self.device, self.seed = dtype, device, seed
        self.std = initializer_std(model.config)
        # named_parameters() yields a tied tensor once, under its first name: what save_pretrained keeps.
        self.shapes = {name: tuple(parameter.shape) for name, parameter in model.named_parameters()}
        self.n_parameters = sum(math.prod(shape) for shape in self.shapes.values())

    def dtype_of(self, name: str) -> torch.dtype:
        """Every random tensor is in the build's dtype."""
        return self.dtype

    def read(self, name: str) -> torch.Tensor:
        """The random-init tensor ``name`` (``random_model`` gives the parameter of this name the same values)."""
        tensor = torch.empty(self.shapes[name], dtype=self.dtype, device=self.device)
        return fill_random(name, tensor, self.seed, self.std)


# --- a checkpoint on disk -------------------------------------------------------------------


class CheckpointTensors:
    """The tensors of a safetensors checkpoint directory, each read on request, never memory-mapped."""

    def __init__(self, directory: Path, dtype: torch.dtype, device: str):
        self.directory, self.dtype, self.device = Path(directory), dtype, device
        inspection = inspected_checkpoint(self.directory)
        decoder, tied = inspection.decoder, inspection.architecture.tie_word_embeddings
        # A tied head saved beside the embedding is the same matrix: the model holds it once, save_pretrained drops it.
        shared_head = decoder.lm_head if tied and decoder.embedding is not None else None
        self.entries = {name: entry for name, entry in inspection.checkpoint.tensors.items() if not name.endswith(BUFFER_SUFFIXES) and entry is not shared_head}
        self.shapes = {name: entry.shape for name, entry in self.entries.items()}
        self.n_parameters = inspection.total_parameters

    def dtype_of(self, name: str) -> torch.dtype:
        """The build's dtype for floating tensors (as ``from_pretrained(dtype=...)`` converts them), else the file's."""
        entry = self.entries[name]
        if entry.dtype not in TORCH_DTYPES:
            raise ModelFailed(f"{entry.file}: tensor {name} is {entry.dtype}, which the streaming build does not read")
        stored = TORCH_DTYPES[entry.dtype]
        return self.dtype if stored.is_floating_point else stored

    def read(self, name: str) -> torch.Tensor:
        """The tensor ``name``, read from its shard at the header's offsets."""
        entry = self.entries[name]
        dtype = self.dtype_of(name)
        buffer = torch.empty(entry.n_bytes, dtype=torch.uint8)
        _read_exactly(entry.file, entry.offset, buffer.numpy(), name)
        tensor = buffer.view(TORCH_DTYPES[entry.dtype]).reshape(entry.shape)
        return tensor.to(device=self.device, dtype=dtype)


def _read_exactly(path: Path, offset: int, target: Any, name: str) -> None:
    """Fill ``target`` (a writable byte array) with the file's bytes from ``offset``; fail if the file ends first."""
    view, done = memoryview(target).cast("B"), 0
    try:
        with open(path, "rb", buffering=0) as handle:
            handle.seek(offset)
            while done < len(view):
                count = handle.readinto(view[done : done + READ_CHUNK_BYTES])
                if not count:
                    raise ModelFailed(f"{path}: truncated: tensor {name} ends past the end of the file (re-download or re-save it)")
                done += count
    except OSError as error:
        raise ModelFailed(f"{path}: cannot read tensor {name}: {error.strerror}") from None


def inspected_checkpoint(directory: Path) -> Any:
    """``catalogue inspect``'s ``Inspection`` of the checkpoint (headers, decoder, count), when it found nothing wrong.

    A missing, truncated or mislabelled shard (the index maps a tensor to a file that lacks it),
    a tensor saved twice, or shapes that disagree with the config raise ``ModelFailed`` with the
    first problem, in one line.
    """
    from ..checkpoints.inspect import inspect_checkpoint

    try:
        inspection = inspect_checkpoint(directory)
    except ReadError as error:
        raise ModelFailed(f"checkpoint {error}") from None
    problems = inspection.report.problems
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems: `catalogue inspect {directory}`)" if len(problems) > 1 else ""
        raise ModelFailed(f"checkpoint {first.file}: {first.record} {first.field}: {first.message} (expected {first.expected}, found {first.found}){more}")
    return inspection


# --- the decoder's layers, by tensor name ---------------------------------------------------


@dataclass(frozen=True)
class DecoderLayout:
    """A model's tensor names sorted out: each decoder layer's MLP and other tensors, and the rest."""

    mlp: dict[int, dict[str, str]]  # layer -> {"mlp.gate_proj.weight": full name, ...}
    other: dict[int, list[str]]  # layer -> full names of its attention and norm tensors
    outside: list[str]  # embedding, final norm, LM head: not in any decoder layer


def is_mlp_tensor(rest: str) -> bool:
    """True for a layer's GLU MLP tensor under the ``mlp`` block (``mlp.gate_proj.weight``): what optipfair prunes."""
    block, _, inner = rest.partition(".")
    return block == MLP_BLOCK and inner in MLP_AXES


def decoder_layout(names: list[str]) -> DecoderLayout:
    """Sort ``names`` into decoder layers, by the prefix most MLP tensors carry (``model.``)."""
    matches = {name: LAYER_TENSOR.match(name) for name in names}
    prefixes = Counter(match["prefix"] for match in matches.values() if match and is_mlp_tensor(match["rest"]))
    if not prefixes:
        raise ModelFailed("no tensor named like model.layers.0.mlp.gate_proj.weight: not a GLU decoder")
    prefix = prefixes.most_common(1)[0][0]
    mlp: dict[int, dict[str, str]] = {}
    other: dict[int, list[str]] = {}
    outside = []
    for name, match in matches.items():
        if match is None or match["prefix"] != prefix:
            outside.append(name)
        elif is_mlp_tensor(match["rest"]):
            mlp.setdefault(int(match["index"]), {})[match["rest"]] = name
        else:
            other.setdefault(int(match["index"]), []).append(name)
    layers = sorted(mlp)
    return DecoderLayout({index: mlp[index] for index in layers}, {index: other.get(index, []) for index in layers}, outside)


def pruned_shape(rest: str, shape: tuple[int, ...], kept: int) -> tuple[int, ...]:
    """The shape of MLP tensor ``rest`` (``mlp.down_proj.weight``, ...) once its layer keeps ``kept`` neurons."""
    sizes = {"width": kept, "width2": 2 * kept}
    return tuple(sizes.get(axis, size) for axis, size in zip(MLP_AXES[rest.removeprefix(f"{MLP_BLOCK}.")], shape))

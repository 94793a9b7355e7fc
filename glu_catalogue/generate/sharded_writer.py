"""Write a pruned checkpoint shard by shard, as the streaming build finishes each layer.

A safetensors file is its header (every tensor's name, dtype, shape and byte offsets) followed
by the tensors' bytes. When the shapes are known up front, the header can be written first and
the tensors appended one at a time, so writing a file never needs more than one tensor in
memory (``SafetensorsWriter``). ``PrunedCheckpoint`` makes one such directory: a shard per
decoder layer plus one for the tensors outside the layers, ``model.safetensors.index.json``,
``config.json`` with the new ``intermediate_size`` and ``generation_config.json``, as
``save_pretrained`` lays them out, so ``from_pretrained`` loads it. It is written under
``<target>.partial`` and swapped into place when complete, as the in-memory path's
``save_pretrained`` is (``checkpoint_dirs``): an interrupted build leaves no half-written
checkpoint under the target's name.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import torch

from ..checkpoints.reading import CONFIG_FILE, INDEX_FILE
from ..checkpoints.safetensors import LENGTH_PREFIX_BYTES, METADATA_KEY
from ..errors import ModelFailed
from . import checkpoint_dirs
from .layer_weights import SAFETENSORS_DTYPES

#: The ``__metadata__`` transformers writes, and needs to load a file (``format``: ``pt``).
FILE_METADATA = {"format": "pt"}

#: A safetensors header is padded with spaces to a multiple of this many bytes (as the library does).
HEADER_ALIGNMENT = 8


def shard_name(number: int, n_shards: int) -> str:
    """``model-00001-of-00017.safetensors``: save_pretrained's name for shard ``number`` (from 1)."""
    return f"model-{number:05d}-of-{n_shards:05d}.safetensors"


class SafetensorsWriter:
    """One safetensors file, written header first, then each tensor in the announced order."""

    def __init__(self, path: Path, specs: list[tuple[str, torch.dtype, tuple[int, ...]]]):
        self.path = path
        self.pending = list(specs)
        header: dict[str, Any] = {METADATA_KEY: FILE_METADATA}
        position = 0
        for name, dtype, shape in specs:
            size = _n_bytes(dtype, shape)
            header[name] = {"dtype": SAFETENSORS_DTYPES[dtype], "shape": list(shape), "data_offsets": [position, position + size]}
            position += size
        self.data_bytes = position
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % HEADER_ALIGNMENT)
        self.handle = open(path, "wb")
        self.handle.write(struct.pack("<Q", len(raw)) + raw)
        self.end = LENGTH_PREFIX_BYTES + len(raw) + self.data_bytes

    def write(self, name: str, tensor: torch.Tensor) -> None:
        """Append ``tensor``, which must be the next one announced, with its announced dtype and shape."""
        expected = self.pending.pop(0) if self.pending else None
        if expected is None or expected != (name, tensor.dtype, tuple(tensor.shape)):
            raise ValueError(f"{self.path}: wrote {name} {tensor.dtype} {tuple(tensor.shape)}, the header announced {expected}")
        data = tensor.detach().to("cpu").contiguous()
        if data.numel():
            self.handle.write(data.reshape(-1).view(torch.uint8).numpy())

    def close(self) -> None:
        """Finish the file; every announced tensor must have been written."""
        self.handle.close()
        if self.pending:
            raise ValueError(f"{self.path}: {len(self.pending)} announced tensors were never written")
        if self.path.stat().st_size != self.end:
            raise ValueError(f"{self.path}: {self.path.stat().st_size} bytes written, the header announces {self.end}")


def _n_bytes(dtype: torch.dtype, shape: tuple[int, ...]) -> int:
    return math.prod(shape) * torch.empty((), dtype=dtype).element_size()


class PrunedCheckpoint:
    """The directory of one pruned model, written shard by shard under ``<target>.partial``."""

    def __init__(self, target: Path, n_shards: int):
        self.target = target
        self.partial = checkpoint_dirs.begin(target)
        self.n_shards = n_shards
        self.weight_map: dict[str, str] = {}
        self.total_bytes = 0

    def open_shard(self, number: int, specs: list[tuple[str, torch.dtype, tuple[int, ...]]]) -> SafetensorsWriter:
        """Start shard ``number`` (from 1), announcing its tensors; write them with the writer, then ``close`` it."""
        name = shard_name(number, self.n_shards)
        writer = SafetensorsWriter(self.partial / name, specs)
        self.weight_map.update({tensor_name: name for tensor_name, _, _ in specs})
        self.total_bytes += writer.data_bytes
        return writer

    def write_shard(self, number: int, tensors: list[tuple[str, torch.Tensor]]) -> None:
        """Write shard ``number`` from tensors already in memory."""
        writer = self.open_shard(number, [(name, tensor.dtype, tuple(tensor.shape)) for name, tensor in tensors])
        for name, tensor in tensors:
            writer.write(name, tensor)
        writer.close()

    def finish(self, config: Any, generation_config: Any | None, n_parameters: int) -> Path:
        """Write the index and the configs, then swap the directory in at its target (replacing an older one)."""
        index = {"metadata": {"total_parameters": n_parameters, "total_size": self.total_bytes}, "weight_map": dict(sorted(self.weight_map.items()))}
        (self.partial / INDEX_FILE).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        config.save_pretrained(self.partial)
        if generation_config is not None:
            generation_config.save_pretrained(self.partial)
        if not (self.partial / CONFIG_FILE).is_file():
            raise ModelFailed(f"{self.partial}: config.json was not written")
        return checkpoint_dirs.swap_in(self.partial, self.target)

    def abandon(self) -> None:
        """Remove what was written: the build failed."""
        checkpoint_dirs.abandon(self.partial)

"""The header of a safetensors file: tensor names, dtypes, shapes and offsets, never the data.

A safetensors file is ``N`` (8 bytes, little-endian unsigned), then ``N`` bytes of UTF-8 JSON
mapping each tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (plus an
optional ``"__metadata__"`` object of strings), then the data section. Offsets count from the
start of the data section; the tensors tile it without gaps, as the format requires.

``read_header`` reads ``8 + N`` bytes and the file's size, and nothing else: its cost does
not depend on the size of the weights. Standard library only (no torch, no ``safetensors``);
anything malformed raises ``store.ReadError``, one line naming the file.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.problems import show
from ..core.records import MAX_EXACT_INT
from ..store.reading import ReadError, file_error, open_regular

#: Bytes of the little-endian ``uint64`` header length that opens every file.
LENGTH_PREFIX_BYTES = 8

#: The safetensors library refuses headers above 100 MB; so do we.
MAX_HEADER_BYTES = 100_000_000

#: Bits per element of every dtype the safetensors format defines.
DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "I64": 64,
    "U64": 64,
    "F64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}

METADATA_KEY = "__metadata__"

#: The largest size of one dimension: what a float holds exactly, so every ratio of sizes is exact.
MAX_DIMENSION = MAX_EXACT_INT


@dataclass(frozen=True)
class TensorEntry:
    """One tensor as the header describes it, and the file it lives in."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    file: Path
    offset: int = 0  # where the tensor's bytes start in ``file``

    @property
    def n_bytes(self) -> int:
        """Bytes the tensor's data occupies in the file (its offsets were checked against its shape)."""
        return tensor_bytes(self.dtype, self.shape) or 0

    @property
    def n_elements(self) -> int:
        """Elements of the tensor: the product of its shape (1 for a scalar)."""
        return math.prod(self.shape)


@dataclass(frozen=True)
class SafetensorsHeader:
    """What ``read_header`` found in one file."""

    path: Path
    file_bytes: int
    header_bytes: int
    tensors: dict[str, TensorEntry]
    metadata: dict[str, str]

    @property
    def data_bytes(self) -> int:
        """Size of the data section: the file less the length prefix and the header."""
        return self.file_bytes - LENGTH_PREFIX_BYTES - self.header_bytes


def tensor_bytes(dtype: str, shape: tuple[int, ...]) -> int | None:
    """Bytes a tensor of ``dtype`` and ``shape`` occupies; None if it is not a whole number."""
    bits = DTYPE_BITS[dtype] * math.prod(shape)
    return bits // 8 if bits % 8 == 0 else None


def read_header(path: Path) -> SafetensorsHeader:
    """The header of the safetensors file at ``path``; the data section is never read.

    Raises ``ReadError`` when the file is missing, shorter than its length prefix, announces a
    header longer than the file, holds a header that is not UTF-8 JSON of the documented shape,
    or when the tensors' offsets do not match their shapes and dtypes or the file's size
    (a truncated download).
    """
    path = Path(path)
    try:
        with open_regular(path, "a safetensors file") as handle:
            file_bytes = os.fstat(handle.fileno()).st_size
            header_bytes = header_length(path, handle.read(LENGTH_PREFIX_BYTES), file_bytes)
            raw = handle.read(header_bytes)
    except OSError as error:
        raise file_error(path, error, "a safetensors file") from None
    return parse_header(path, raw, file_bytes)


def parse_header(path: Path, raw: bytes, file_bytes: int) -> SafetensorsHeader:
    """The header whose JSON is ``raw`` (the bytes after the length prefix) of a file of ``file_bytes``
    bytes; ``path`` names the file in errors (a local path, or a hub file as ``org/name@commit/file``)."""
    header_bytes = len(raw)
    document = _parse(path, raw)
    metadata = _metadata(path, document.pop(METADATA_KEY, None))
    data_start = LENGTH_PREFIX_BYTES + header_bytes
    tensors = {name: _entry(path, name, value, data_start) for name, value in document.items()}
    _check_offsets(path, document, file_bytes - LENGTH_PREFIX_BYTES - header_bytes)
    return SafetensorsHeader(path, file_bytes, header_bytes, tensors, metadata)


def header_length(path: Path, prefix: bytes, file_bytes: int, limit_bytes: int = MAX_HEADER_BYTES) -> int:
    """The header length the 8-byte ``prefix`` announces; ``ReadError`` if the file cannot hold it or it is over ``limit_bytes``."""
    if len(prefix) < LENGTH_PREFIX_BYTES:
        raise ReadError(path, f"not a safetensors file: {file_bytes} bytes, shorter than the {LENGTH_PREFIX_BYTES}-byte header length")
    (header_bytes,) = struct.unpack("<Q", prefix)
    room = file_bytes - LENGTH_PREFIX_BYTES
    if header_bytes > room:
        raise ReadError(
            path,
            f"corrupt safetensors header: it announces {header_bytes} header bytes but the file holds "
            f"{room} after the length prefix; the file is truncated or not safetensors",
        )
    if header_bytes > limit_bytes:
        raise ReadError(path, f"safetensors header of {header_bytes} bytes, over the limit of {limit_bytes}: not read")
    return header_bytes


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReadError(path, f"corrupt safetensors header: not UTF-8 (header byte {error.start})") from None
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise ReadError(path, f"corrupt safetensors header: invalid JSON at header byte {error.pos}: {error.msg}") from None
    except RecursionError:
        raise ReadError(path, "corrupt safetensors header: JSON nested too deeply") from None
    except ValueError as error:  # a repeated name, or an integer of more digits than Python converts
        raise ReadError(path, f"corrupt safetensors header: {error}") from None
    if not isinstance(document, dict):
        raise ReadError(path, f"corrupt safetensors header: expected a JSON object of tensors, found {type(document).__name__}")
    return document


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object of the header; a name given twice is an error (loaders would keep one of them)."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        repeated = next(name for name, _ in pairs if name in seen or seen.add(name))
        raise ValueError(f"key '{show(repeated)}' appears twice in one object")
    return document


def _metadata(path: Path, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise ReadError(path, f"corrupt safetensors header: {METADATA_KEY!r} must be an object of strings")
    return value


def _entry(path: Path, name: str, value: Any, data_start: int) -> TensorEntry:
    def fail(reason: str) -> ReadError:
        return ReadError(path, f"corrupt safetensors header: tensor '{show(name)}': {reason}")

    if not isinstance(value, dict):
        raise fail("expected an object with dtype, shape and data_offsets")
    missing = [key for key in ("dtype", "shape", "data_offsets") if key not in value]
    if missing:
        raise fail(f"no {' or '.join(missing)}")
    dtype, shape, offsets = value["dtype"], value["shape"], value["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise fail(f"unknown dtype '{show(dtype)}' (expected one of {', '.join(DTYPE_BITS)})")
    if not isinstance(shape, list) or not all(_is_count(size) and size <= MAX_DIMENSION for size in shape):
        raise fail(f"shape must be a list of non-negative integers up to 2**53, found {show(shape)}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(offset) for offset in offsets):
        raise fail(f"data_offsets must be [begin, end], two non-negative integers, found {show(offsets)}")
    begin, end = offsets
    expected = tensor_bytes(dtype, tuple(shape))
    if expected is None:
        raise fail(f"{dtype} x {shape} is not a whole number of bytes")
    if end - begin != expected:
        raise fail(f"data_offsets {offsets} hold {end - begin} bytes, expected {expected} ({dtype} x {shape})")
    return TensorEntry(name, dtype, tuple(shape), path, data_start + begin)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_offsets(path: Path, document: dict[str, Any], data_bytes: int) -> None:
    """The tensors must tile the data section from byte 0 to its end, without gaps or overlaps."""
    spans = sorted((value["data_offsets"][0], value["data_offsets"][1], name) for name, value in document.items())
    position = 0
    for begin, end, name in spans:
        if begin != position:
            raise ReadError(
                path,
                f"corrupt safetensors header: tensor '{show(name)}' starts at data byte {begin}, expected {position} "
                f"(tensors must follow each other without gaps or overlaps)",
            )
        position = end
    if position != data_bytes:
        state = "truncated" if position > data_bytes else "corrupt"
        raise ReadError(
            path, f"{state} safetensors file: its tensors need {position} data bytes, the file holds {data_bytes} after its header (re-download or re-save it)"
        )

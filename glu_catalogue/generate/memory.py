"""Memory: the peak of the work in progress (CUDA allocator peak on a GPU, peak resident set on the
CPU), what a device has free, and whether a model is built whole or streamed.

Linux lets a process reset its peak resident set size (write ``5`` to ``/proc/self/clear_refs``),
so each model's peak is its own, not the largest so far. Where that is not possible the peak
is the process's since start (``resource.getrusage``), which can only overstate.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
from pathlib import Path

from ..errors import ModelFailed

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak(device: str) -> None:
    """Start measuring a new peak on ``device`` (``cpu`` or ``cuda...``)."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return
    _return_freed_memory()
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        pass


def _return_freed_memory() -> None:
    """Hand memory freed by earlier work back to the OS, so it does not count in the next peak.

    glibc keeps freed heap pages mapped (and resident) for reuse; ``malloc_trim`` releases them.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_bytes(device: str) -> int:
    """Peak memory since the last ``reset_peak``: CUDA bytes allocated, or resident set bytes."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        return int(torch.cuda.max_memory_allocated())
    peak = _proc_bytes(_STATUS, "VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def current_bytes(device: str) -> int:
    """Memory in use now: CUDA bytes allocated, or the resident set."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.memory_allocated())
    current = _proc_bytes(_STATUS, "VmRSS")
    return current if current is not None else peak_bytes(device)


def available_bytes(device: str) -> int | None:
    """Memory a new model could take now (free GPU memory, or ``MemAvailable``); None if unknown."""
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    return _proc_bytes(Path("/proc/meminfo"), "MemAvailable")


#: The two ways ``catalogue build`` prunes a model: loaded whole, or one decoder layer at a time.
IN_MEMORY, STREAMING = "in-memory", "streaming"

#: The in-memory build holds the model plus one pruned layer and work buffers: a 10 % margin.
IN_MEMORY_MARGIN = 1.1


def choose_build_path(model_bytes: int, streaming_bytes: int, available: int | None, device: str, stream_requested: bool) -> tuple[str, str]:
    """``(IN_MEMORY | STREAMING, why)``: stream when asked to, or when the whole model would not fit.

    ``model_bytes`` is the whole model's parameters, ``streaming_bytes`` what the streaming path
    holds at once (about one layer's MLP, a few times), ``available`` the device's free memory
    (None: unknown, assumed enough). Raises ``ModelFailed`` when not even the streaming path fits.
    """
    needed, free = model_bytes * IN_MEMORY_MARGIN, "" if available is None else f", {_gib(available)} available"
    if available is not None and streaming_bytes > available:
        raise ModelFailed(f"even streaming one layer at a time needs about {_gib(streaming_bytes)} on {device}{free}: use a larger machine or --dtype")
    if stream_requested:
        return STREAMING, f"asked for (--stream); the whole model would need about {_gib(needed)} on {device}{free}"
    if available is not None and needed > available:
        return STREAMING, f"the whole model needs about {_gib(needed)} on {device}{free}"
    return IN_MEMORY, f"the whole model needs about {_gib(needed)} on {device}{free or ' (free memory unknown)'}"


def _gib(n_bytes: float) -> str:
    """``1.5 GiB``; below 0.1 GiB in MiB, so a small model does not read as needing nothing."""
    if n_bytes < 0.1 * 2**30:
        return f"{n_bytes / 2**20:.1f} MiB"
    return f"{n_bytes / 2**30:.1f} GiB"


def _proc_bytes(path: Path, key: str) -> int | None:
    """The ``key:  N kB`` line of a /proc file, in bytes; None where there is no such file or line."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


_MADV_DONTNEED = 4
_MAPS = Path("/proc/self/maps")


def release_checkpoint_pages(tensors: list, mappings: list[tuple[int, int]]) -> int:
    """Drop from the resident set the pages of ``tensors`` that map a checkpoint file; returns bytes released.

    ``from_pretrained`` leaves weights as views of the memory-mapped safetensors files. Once a
    pruned layer replaces them their pages are only page cache, but they stay counted in the
    process's memory until the whole file is unmapped. ``MADV_DONTNEED`` on a file mapping
    drops the process's pages; a later read would fetch the bytes from the file again. Callers
    pass tensors they are discarding, and only whole pages inside each tensor's own storage are
    released, so no other tensor's bytes are affected. Anonymous memory (any tensor not read
    from a checkpoint) is never touched. ``mappings`` is ``checkpoint_mappings()``, read once
    by the caller. Linux only; elsewhere a no-op.
    """
    if not mappings:
        return 0
    page = os.sysconf("SC_PAGE_SIZE")
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    released = 0
    for tensor in tensors:
        if tensor is None or tensor.device.type != "cpu":
            continue
        storage = tensor.untyped_storage()
        begin, end = storage.data_ptr(), storage.data_ptr() + storage.nbytes()
        if not any(low <= begin and end <= high for low, high in mappings):
            continue
        first, last = -(-begin // page) * page, end // page * page  # whole pages inside the tensor only
        if last > first and libc.madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), _MADV_DONTNEED) == 0:
            released += last - first
    return released


def checkpoint_mappings() -> list[tuple[int, int]]:
    """Address ranges of this process's memory-mapped ``*.safetensors`` files."""
    try:
        lines = _MAPS.read_text().splitlines()
    except OSError:
        return []
    ranges = []
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].endswith(".safetensors"):
            low, high = fields[0].split("-")
            ranges.append((int(low, 16), int(high, 16)))
    return ranges

"""Peak memory of the work in progress: CUDA allocator peak on a GPU, peak resident set on the CPU.

Linux lets a process reset its peak resident set size (write ``5`` to ``/proc/self/clear_refs``),
so each model's peak is its own, not the largest so far. Where that is not possible the peak
is the process's since start (``resource.getrusage``), which can only overstate.
"""

from __future__ import annotations

import ctypes
import gc
import resource
import sys
from pathlib import Path

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
    gc.collect()
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
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def current_bytes(device: str) -> int:
    """Memory in use now: CUDA bytes allocated, or the resident set."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.memory_allocated())
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return peak_bytes(device)


def available_bytes(device: str) -> int | None:
    """Memory a new model could take now (free GPU memory, or ``MemAvailable``); None if unknown."""
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None

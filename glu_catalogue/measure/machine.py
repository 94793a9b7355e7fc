"""The machine a measurement ran on, in one line: processor, cores, memory, accelerator (stdlib)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def processor_name() -> str:
    """The processor's model name (``/proc/cpuinfo``), else what ``platform`` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_bytes() -> int | None:
    """Physical memory in bytes (``MemTotal``); None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def describe_machine(accelerator: str | None = None) -> str:
    """``Intel(R) Xeon(R) Processor, 2 cores, 23.4 GiB, Linux x86_64`` (and the GPU, when one was used)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = memory_bytes()
    parts = [processor_name(), f"{cores} cores"]
    if memory:
        parts.append(f"{memory / 2**30:.1f} GiB")
    parts.append(f"{platform.system()} {platform.machine()}")
    if accelerator:
        parts.append(accelerator)
    return ", ".join(parts)

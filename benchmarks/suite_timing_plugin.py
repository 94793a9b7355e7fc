"""A pytest plugin for ``benchmarks/suite_time.py``: per test, its wall seconds and CPU seconds.

Each xdist worker (or the one process) writes ``nodeid, wall s, its own CPU s, its reaped
children's CPU s`` lines, tab-separated, to ``$SUITE_TIMING_DIR/<worker>.tsv``.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest


def _cpu_s() -> tuple[float, float]:
    """(this process's CPU seconds, its reaped children's)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Time the test with its setup and teardown (a fixture's cost falls on the first test that asks for it)."""
    own_before, children_before = _cpu_s()
    started = time.monotonic()
    yield
    wall_s = time.monotonic() - started
    own_after, children_after = _cpu_s()
    folder = os.environ.get("SUITE_TIMING_DIR")
    if folder:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(Path(folder) / f"{worker}.tsv", "a", encoding="utf-8") as out:
            out.write(f"{item.nodeid}\t{wall_s:.3f}\t{own_after - own_before:.3f}\t{children_after - children_before:.3f}\n")

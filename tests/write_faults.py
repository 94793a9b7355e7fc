"""Faults injected where the catalogue writes files: a failing or crashing step of the atomic writer, a build killed mid-way.

Shared by the atomic-write tests (``tests/store/test_writing.py``) and the outcome-file tests
(``tests/e2e/test_outcome_files_hostile.py``).
"""

from __future__ import annotations

import os

import pytest

from glu_catalogue.store import writing

#: The writer's system calls, in the order one file's write makes them.
STEPS = ("open", "write", "fsync", "fchmod", "replace", "unlink")


class Steps:
    """Counts the writer's calls of ``STEPS``; ``fail_at`` makes call number ``fail_at`` fail (1-based)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None, hard: bool = False):
        self.count, self.fail_at, self.hard = 0, fail_at, hard
        for name in STEPS:
            monkeypatch.setattr(writing.os, name, self._wrap(getattr(os, name)))

    def _wrap(self, real):
        def step(*args, **kwargs):
            self.count += 1
            if self.count == self.fail_at:
                if self.hard:
                    os._exit(70)  # a crash: no exception handler, no finally block runs
                raise OSError(5, f"injected fault at step {self.count} ({real.__name__})")
            if real is os.fsync:
                return None  # what is flushed when does not change what a process sees; skipping it keeps the test fast
            return real(*args, **kwargs)

        return step


#: A ``catalogue`` process that dies (exit 70) at its CRASH_AT_REPLACE-th ``os.replace``: a crash between two files of one write.
CRASHING_BUILD = """
import os, sys
from glu_catalogue.store import writing
real, calls = os.replace, [0]
def replace(*args, **kwargs):
    calls[0] += 1
    if calls[0] == int(os.environ["CRASH_AT_REPLACE"]):
        os._exit(70)
    return real(*args, **kwargs)
writing.os.replace = replace
from glu_catalogue.cli.commands import main
sys.argv = ["catalogue", *sys.argv[1:]]
main()
"""

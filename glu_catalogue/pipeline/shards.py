"""Splitting a job's work across machines: ``--shard I/N`` (or ``--shard slurm``) picks this worker's models.

A unit of work is one model with all its levels (a model is loaded once; its levels are never
split). The split is deterministic whatever order the models were given in: models sorted by id,
the I-th worker of N taking every N-th from position I (0-based, as Slurm numbers array tasks).
Each shard writes its own data directory; ``catalogue merge`` joins them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence, TypeVar

from ..core.text import whole_number
from ..errors import UsageError

#: The environment Slurm gives each task of a job array.
SLURM_TASK_ID = "SLURM_ARRAY_TASK_ID"
SLURM_TASK_COUNT = "SLURM_ARRAY_TASK_COUNT"

Unit = TypeVar("Unit")


@dataclass(frozen=True)
class Shard:
    """Worker ``index`` (0-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str | None, environ: Mapping[str, str] | None = None) -> Shard | None:
    """``"1/3"`` -> Shard(1, 3); ``"slurm"`` -> this Slurm array task's; None -> None (no sharding)."""
    if text is None:
        return None
    environ = os.environ if environ is None else environ
    if text.strip().lower() == "slurm":
        index_text, count_text = environ.get(SLURM_TASK_ID), environ.get(SLURM_TASK_COUNT)
        if index_text is None or count_text is None:
            raise UsageError(f"--shard slurm: {SLURM_TASK_ID} and {SLURM_TASK_COUNT} are not set (run it as a task of `sbatch --array=0-N`)")
        where = f"--shard slurm ({SLURM_TASK_ID}={index_text}, {SLURM_TASK_COUNT}={count_text})"
    else:
        index_text, _, count_text = text.partition("/")
        where = f"--shard {text}"
    index, count = whole_number(index_text or ""), whole_number(count_text or "")
    if index is None or count is None:
        raise UsageError(f"{where}: expected I/N with whole numbers, 0 <= I < N (e.g. --shard 0/4), or slurm")
    if not 0 <= index < count:
        raise UsageError(f"{where}: expected 0 <= I < N (shards are numbered from 0, as Slurm numbers array tasks)")
    return Shard(index, count)


def shard_units(units: Sequence[Unit], keys: Sequence[str], shard: Shard | None) -> list[Unit]:
    """The units of ``shard`` (all of them without one): sorted by ``keys``, every ``count``-th from ``index``."""
    if shard is None:
        return list(units)
    ordered = sorted(zip(keys, units), key=lambda pair: pair[0])
    return [unit for position, (_, unit) in enumerate(ordered) if position % shard.count == shard.index]

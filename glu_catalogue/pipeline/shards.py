"""Splitting a job's work across machines: ``--shard I/N`` (or ``--shard slurm``) picks this worker's share.

A unit of work is one model with its levels: a worker loads each of its models once. The split
is deterministic whatever order the models were given in: models sorted by id, the I-th worker
of N taking every N-th from position I (0-based, as Slurm numbers array tasks). ``catalogue
build`` never splits a model (``shard_units``). ``evaluate`` and ``bench`` (``shard_levels``)
split a model's levels when there are more workers than models, so that 8 GPUs serve 3 models x
7 levels: every model gets a worker, the rest go one by one to the model with the most levels
per worker, and each of a model's workers takes every k-th of its levels (low and high levels
mixed, so the workers take about as long). A worker then holds one part of one model, loaded
once. Each shard writes its own directory; ``catalogue merge`` joins them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

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
        missing = [name for name, value in ((SLURM_TASK_ID, index_text), (SLURM_TASK_COUNT, count_text)) if value is None]
        if missing:
            unset = f"{missing[0]} is not set" if len(missing) == 1 else f"{' and '.join(missing)} are not set"
            raise UsageError(f"--shard slurm: {unset} (run it as a task of `sbatch --array=0-N`)")
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


def shard_levels(levels_by_key: Mapping[str, Sequence[int]], shard: Shard | None) -> dict[str, tuple[int, ...]]:
    """This worker's share of ``levels_by_key`` (a unit's key -> its levels): key -> the levels it measures.

    Without a shard, everything. With no more workers than units, whole units (as ``shard_units``);
    with more, each worker takes one part of one unit's levels (workers past the number of
    levels take nothing).
    """
    units = {key: tuple(sorted(levels)) for key, levels in levels_by_key.items()}
    if shard is None:
        return units
    keys = sorted(units)
    if shard.count <= len(keys):
        return {key: units[key] for key in shard_units(keys, keys, shard)}
    workers = dict.fromkeys(keys, 1)
    for _ in range(shard.count - len(keys)):
        open_keys = [key for key in keys if workers[key] < len(units[key])]
        if not open_keys:
            break
        busiest = max(open_keys, key=lambda key: (len(units[key]) / workers[key], -keys.index(key)))
        workers[busiest] += 1
    parts = [(key, units[key][part :: workers[key]]) for key in keys for part in range(workers[key])]
    return dict([parts[shard.index]]) if shard.index < len(parts) else {}

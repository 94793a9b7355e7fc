"""The measuring pipeline: what ``catalogue evaluate``, ``catalogue bench`` and the next measurement share.

A measurement (``Measurement``: evaluate's lm-eval scores, bench's timings) says only what differs:
its settings' checks, what it needs before a model is loaded, its units per level (evaluate: one
per task; bench: one), what a unit was asked (the inputs digest), and how one unit of one pruned
level is measured into one file. The pipeline does the rest, in this order:

1. the measurement's settings and the request's options are checked (no file read yet);
2. the records of ``--models`` at ``--levels`` are selected, grouped by how they were built
   (``measurements.select_groups``: each group one load), and cut to this worker's share
   (``shards.shard_levels``: whole models, or a model's levels split across workers);
3. the measurement's own checks before torch, the libraries, the device, the dtypes, then what
   it prepares before any model is loaded (tasks, tokenizers, prompt lengths);
4. per (record, unit): done (its inputs digest is stored), kept (a file a killed run wrote but
   did not store) or to do;
5. per group: the model is loaded once, each level pruned in memory and checked against its
   record (``measure.levels``), each unit measured into its file and stored at once
   (``measurements.keep``); an exception fails the group's remaining units, the others go on.

With ``into`` the outcomes and measurement files go to a directory of their own beside a copy of
the records (a shard's directory; ``catalogue merge`` joins them); the records are read from
``data_dir`` either way. torch is imported only once the inputs are known to be good.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..core.records import ExpansionRecord, optipfair_versions
from ..errors import UsageError, failure_reason
from ..store.catalogue_dir import existing_catalogue
from ..store.reading import path_exists
from . import measurements
from .lock import build_lock
from .shards import Shard, shard_levels


@dataclass(frozen=True, kw_only=True)
class MeasureRequest:
    """What a measuring command was asked: which records, where, in what dtype, into which directory, which share."""

    data_dir: Path
    models: str | None = None
    levels: tuple[int, ...] | None = None
    device: str = "auto"
    dtype: str | None = None  # None: the records' own
    output: Path | None = None  # the measurement files' root (default: <store>/measurements)
    into: Path | None = None  # the outcomes' directory, when not data_dir (a shard's own)
    shard: Shard | None = None

    @property
    def store_dir(self) -> Path:
        """Where outcomes are stored (and measurement files go, unless ``output``)."""
        return Path(self.into) if self.into is not None else Path(self.data_dir)


@dataclass
class MeasuredUnit:
    """One unit of one record (evaluate: a task; bench: the level): measured, kept, done, or failed."""

    record: str
    unit: str | None
    status: str  # measured, kept (a finished file of a killed run), done, failed
    path: Path | None = None
    figures: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    machine: str | None = None  # the machine it was (or is to be) measured on
    inputs: str | None = None  # the inputs digest (``measurements.inputs_sha256``)


class Progress(Protocol):
    """What a measurement tells its caller as it goes."""

    def model_started(self, model_id: str, weights: str, levels: int) -> None: ...
    def warning(self, text: str) -> None: ...
    def unit_done(self, result: MeasuredUnit) -> None: ...


class _Silent:
    def model_started(self, model_id: str, weights: str, levels: int) -> None: ...
    def warning(self, text: str) -> None: ...
    def unit_done(self, result: MeasuredUnit) -> None: ...


@dataclass(frozen=True)
class Where:
    """Where and how a group is measured: torch's device, its name, the machine, the dtype (``bf16``...), the recipe."""

    device: str
    device_name: str
    machine: str
    dtype: str
    recipe: Any  # measure.levels.BuildRecipe


class Measurement(Protocol):
    """What one kind of measurement adds to the pipeline (``pipeline.evaluate``, ``pipeline.bench``)."""

    tool: str  # "catalogue evaluate": what outcomes say measured them
    name: str  # "evaluate": the command, and the directory under measurements/
    file_pattern: str  # the glob of its finished files, for those a killed run left

    def check(self) -> None:
        """Settings that cannot be measured: ``UsageError``, before anything is read."""

    def check_groups(self, groups: Sequence[measurements.Group]) -> None:
        """What the records alone refuse, before torch is imported."""

    def libraries(self) -> tuple[str, ...]:
        """The modules it needs (named in one line when missing)."""

    def prepare(self, groups: Sequence[measurements.Group], wheres: Sequence[Where], progress: Progress) -> None:
        """Everything it needs before a model is loaded (tasks, tokenizers, lengths); ``UsageError`` when it cannot be."""

    def units(self) -> tuple[str | None, ...]:
        """The units of one level: its tasks, or ``(None,)``."""

    def asked(self, unit: str | None, where: Where) -> dict[str, Any]:
        """What measuring ``unit`` is asked to do, for the inputs digest."""

    def measure(self, level: Any, unit: str | None, inputs: str, where: Where, directory: Path) -> tuple[Path, dict[str, float]]:
        """Measure ``unit`` of a pruned level (``measure.levels.PrunedLevel``) into one file in ``directory``: its path and headline figures."""


def run_measurement(request: MeasureRequest, measurement: Measurement, progress: Progress | None = None) -> list[MeasuredUnit]:
    """Measure every selected (record, unit) of this worker's share not yet stored with these inputs; one result each, in order."""
    progress = progress or _Silent()
    measurement.check()
    _check_request(request, measurement.name)
    selected = measurements.select_groups(request.data_dir, request.models, request.levels)
    groups = shard_groups(selected, request.shard)
    if not groups:
        levels = sum(len(group.records) for group in selected)
        progress.warning(f"--shard {request.shard}: nothing to measure in this share ({request.shard.count} workers for {levels} levels)")
        return []
    measurement.check_groups(groups)
    measurements.require_libraries(measurement.name, ("torch", "transformers", "optipfair", *measurement.libraries()))
    from ..measure.levels import measurement_dtype, measuring_device, recipe_of

    device = measuring_device(request.device)
    recipes = [recipe_of(group.records[0]) for group in groups]
    wheres = [Where(device.device, device.name, device.machine, measurement_dtype(recipe, request.dtype), recipe) for recipe in recipes]
    measurement.prepare(groups, wheres, progress)
    if request.into is not None:
        copy_records(request.data_dir, request.into)
    done = measurements.done_inputs(request.store_dir)
    results: list[MeasuredUnit] = []

    def report(result: MeasuredUnit) -> None:
        results.append(result)
        progress.unit_done(result)

    for group, where in zip(groups, wheres):
        todo = _sort_units(request, measurement, group, where, done, report)
        if todo:
            _measure_group(request, measurement, group, where, todo, progress, report)
    return results


def shard_groups(groups: list[measurements.Group], shard: Shard | None) -> list[measurements.Group]:
    """This worker's share of ``groups``: whole groups, or part of a group's levels (each kept group is one load)."""
    seen: dict[str, int] = {}
    keys = []  # the model id, and which of its groups (a model built two ways is two loads): the same whatever order models came in
    for group in groups:
        seen[group.model_id] = seen.get(group.model_id, -1) + 1
        keys.append(f"{group.model_id}#{seen[group.model_id]:04d}")
    share = shard_levels({key: [record.pruning_pct for record in group.records] for key, group in zip(keys, groups)}, shard)
    return [
        measurements.Group(group.entry, [record for record in group.records if record.pruning_pct in share[key]])
        for key, group in zip(keys, groups)
        if key in share
    ]


def copy_records(data_dir: Path, into: Path) -> None:
    """``data_dir``'s records written to ``into`` (a shard's directory), so its outcomes link there as they would in ``data_dir``.

    A record ``into`` already holds with other values is refused: that directory belongs to another catalogue.
    """
    from .publish import write_catalogue

    source = existing_catalogue(data_dir)
    with build_lock(into, wait=None):
        held = existing_catalogue(into)
        if held is not None:
            wanted = {(r.base_model, r.pruning_pct): r for r in source.models}
            other = next((r for r in held.models if wanted.get((r.base_model, r.pruning_pct), r) != r), None)
            if other is not None or held.metadata.pruning_method != source.metadata.pruning_method:
                label = f"{other.base_model}@{other.pruning_pct}" if other is not None else f"the {held.metadata.pruning_method} method"
                raise UsageError(f"--into {into}: it holds {label} unlike {data_dir}: give a directory of its own for these measurements")
        write_catalogue(into, source.models, optipfair_versions(source.models), source.metadata.pruning_method)


def _check_request(request: MeasureRequest, command: str) -> None:
    """Where the files go must be a directory (or a place one can be made); a shard needs a directory of its own."""
    for option, path in (("--data", request.data_dir), ("--output", request.output), ("--into", request.into)):
        if path is not None:
            measurements.check_directory(option, Path(path))
    if request.shard is not None and (request.into is None or Path(request.into).resolve() == Path(request.data_dir).resolve()):
        raise UsageError(
            f"--shard {request.shard}: each shard stores its outcomes in a directory of its own: give --into DIR "
            f"(e.g. --into shards/$SLURM_ARRAY_TASK_ID), then `catalogue merge` the shards"
        )
    if request.output is not None and request.shard is not None:
        raise UsageError(
            f"--shard {request.shard} with --output: a shard keeps its measurement files in its --into directory, where `catalogue merge` finds them"
        )
    if request.into is not None and not path_exists(Path(request.data_dir)):
        raise UsageError(f"--data {request.data_dir}: no such directory (the catalogue whose records are measured)")


def _sort_units(request: MeasureRequest, measurement: Measurement, group, where: Where, done: set, report) -> dict[int, list[tuple[str | None, str]]]:
    """The group's (record, unit)s: done and kept ones reported; the rest by level, with their inputs digests."""
    todo: dict[int, list[tuple[str | None, str]]] = {}
    for record in group.records:
        name = measurements.label(record)
        for unit in measurement.units():
            inputs = measurements.inputs_sha256(measurement.tool, record, measurement.asked(unit, where))
            if (name, inputs) in done:
                report(MeasuredUnit(name, unit, "done", machine=where.machine, inputs=inputs))
            elif (left := measurements.finished_file(_unit_dir(request, measurement, record, unit), measurement.file_pattern, inputs)) is not None:
                measurements.keep([left], request.store_dir)
                report(MeasuredUnit(name, unit, "kept", left, machine=where.machine, inputs=inputs))
            else:
                todo.setdefault(record.pruning_pct, []).append((unit, inputs))
    return todo


def _measure_group(request: MeasureRequest, measurement: Measurement, group, where: Where, todo: dict, progress: Progress, report) -> None:
    """One load of the group's model; each pending level pruned, checked, each of its units measured and stored."""
    from ..measure.levels import pruned_levels

    pending = [record for record in group.records if record.pruning_pct in todo]
    progress.model_started(group.model_id, where.recipe.weights.describe(), len(pending))
    finished: set[tuple[str, str | None]] = set()
    try:
        for level in pruned_levels(group.entry, pending, where.recipe, where.device, request.dtype):
            record = level.record
            for unit, inputs in todo[record.pruning_pct]:
                path, figures = measurement.measure(level, unit, inputs, where, _unit_dir(request, measurement, record, unit))
                measurements.keep([path], request.store_dir)
                finished.add((measurements.label(record), unit))
                report(MeasuredUnit(measurements.label(record), unit, "measured", path, figures, machine=where.machine, inputs=inputs))
    except Exception as error:  # a model that cannot be measured is reported; the others go on
        for record in pending:
            for unit, inputs in todo[record.pruning_pct]:
                if (measurements.label(record), unit) not in finished:
                    failed = MeasuredUnit(measurements.label(record), unit, "failed", error=failure_reason(error), machine=where.machine, inputs=inputs)
                    report(failed)


def _unit_dir(request: MeasureRequest, measurement: Measurement, record: ExpansionRecord, unit: str | None) -> Path:
    directory = measurements.measurement_dir(request.store_dir, request.output, measurement.name, record)
    return directory / unit if unit is not None else directory

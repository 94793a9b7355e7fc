"""``catalogue bench``: speed, memory and (when asked) energy of every level, from one load per model.

Per group of records (``measurements.select_groups``): the model is loaded once with the weights its
records were built from, each level is pruned in memory and checked against its record
(``measure.levels``), then timed (``measure.timing``). Each level's figures are written as one
bench file (``outcomes.readers.catalogue_bench``: every run, the summary, the machine) and
stored at once through ``results add``: a killed bench keeps every level it finished, the next
run measures only the rest, and a run with the same inputs on the same machine does nothing.
Random-init weights measure speed and memory as well as real ones (the shapes are the same);
their records say which weights ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import UsageError
from ..measure.settings import BenchSettings
from ..outcomes.readers.catalogue_bench import LAYOUT_VERSION, MARKER, summary_of
from . import measurements
from .build import failure_reason

TOOL = "catalogue bench"


@dataclass(frozen=True)
class BenchRequest:
    """Everything ``catalogue bench`` was asked to do."""

    data_dir: Path
    models: str | None = None
    levels: tuple[int, ...] | None = None
    device: str = "auto"
    dtype: str | None = None  # None: the records' own
    output: Path | None = None
    settings: BenchSettings = BenchSettings()


@dataclass
class LevelBench:
    """What happened to one record: measured (its file and figures), already done, or failed."""

    record: str
    status: str  # measured, kept (a finished file of a killed run), done, failed
    path: Path | None = None
    figures: dict[str, float] = field(default_factory=dict)
    weights_bytes: int | None = None
    error: str | None = None
    machine: str | None = None  # the machine it was (or is to be) measured on


class BenchProgress(Protocol):
    """What a bench tells its caller as it goes."""

    def model_started(self, model_id: str, weights: str, levels: int) -> None: ...
    def level_done(self, result: LevelBench) -> None: ...


class _Silent:
    def model_started(self, model_id: str, weights: str, levels: int) -> None: ...
    def level_done(self, result: LevelBench) -> None: ...


def run_bench(request: BenchRequest, progress: BenchProgress | None = None) -> list[LevelBench]:
    """Bench every selected record not yet measured with these inputs; one result per record, in order."""
    progress = progress or _Silent()
    _check_settings(request.settings)
    groups = measurements.select_groups(request.data_dir, request.models, request.levels)
    measurements.require_libraries("bench", ("torch", "transformers", "optipfair", *(("codecarbon",) if request.settings.energy else ())))
    for group in groups:
        _check_lengths(group.entry, request.settings)
    from ..measure.levels import measurement_dtype, measuring_device, pruned_levels, recipe_of
    from ..measure.timing import bench_level

    recipes = [recipe_of(group.records[0]) for group in groups]
    dtypes = [measurement_dtype(recipe, request.dtype) for recipe in recipes]  # a --dtype that cannot be: before anything is loaded
    where = measuring_device(request.device)
    device, machine = where.device, where.machine
    done = measurements.done_inputs(request.data_dir)
    results: list[LevelBench] = []
    for group, recipe, dtype in zip(groups, recipes, dtypes):
        todo, inputs, already = [], {}, len(results)
        for record in group.records:
            inputs[record.pruning_pct] = measurements.inputs_sha256(TOOL, record, {**request.settings.as_dict(), "device": where.name, "machine": machine, "dtype": dtype})
            name = measurements.label(record)
            directory = measurements.measurement_dir(request.data_dir, request.output, "bench", record)
            if (name, inputs[record.pruning_pct]) in done:
                results.append(LevelBench(name, "done", machine=machine))
            elif (left := measurements.finished_file(directory, "bench_*.json", inputs[record.pruning_pct])) is not None:
                measurements.keep([left], request.data_dir)
                results.append(LevelBench(name, "kept", path=left, machine=machine))
            else:
                todo.append(record)
        for result in results[already:]:  # this group's levels done before, or kept from a killed run
            progress.level_done(result)
        if not todo:
            continue
        progress.model_started(group.model_id, recipe.weights.describe(), len(todo))
        try:
            for level in pruned_levels(group.entry, todo, recipe, device, request.dtype):
                timings = bench_level(level.model, request.settings, device)
                record = level.record
                document = bench_document(level, timings, request.settings, inputs[record.pruning_pct], recipe, where.name, dtype, machine)
                directory = measurements.measurement_dir(request.data_dir, request.output, "bench", record)
                path = measurements.write_measurement(directory / bench_file_name(inputs[record.pruning_pct]), document)
                measurements.keep([path], request.data_dir)
                result = LevelBench(measurements.label(record), "measured", path, headline(document), level.weights_bytes, machine=machine)
                results.append(result)
                progress.level_done(result)
        except Exception as error:  # a model that cannot be measured is reported; the others go on
            finished = {r.record for r in results}
            for record in todo:
                if measurements.label(record) not in finished:
                    result = LevelBench(measurements.label(record), "failed", error=failure_reason(error), machine=machine)
                    results.append(result)
                    progress.level_done(result)
    return results


def bench_file_name(inputs: str) -> str:
    """``bench_<inputs digest, 16 digits>.json``: a bench with other inputs (another machine, dtype, settings) writes
    a file of its own beside the earlier ones, never over them."""
    return f"bench_{inputs[:16]}.json"


def bench_document(level, timings, settings: BenchSettings, inputs: str, recipe, device: str, dtype: str, machine: str) -> dict[str, Any]:
    """The bench file of one level: the record, how it was measured, every run, and the summary its runs give."""
    from ..generate.model import library_versions
    from ..measure.levels import TORCH_DTYPE_NAMES

    document: dict[str, Any] = {
        MARKER: LAYOUT_VERSION,
        "record": measurements.label(level.record),
        "total_parameters": level.parameters,
        "weights_bytes": level.weights_bytes,
        "memory_peak_bytes": timings.memory_peak_bytes,
        "memory_measured_as": timings.memory_measured_as,
        "measurement": measurements.measurement_block(
            TOOL, inputs, level.kept_indices_sha256, recipe.weights, device, TORCH_DTYPE_NAMES[dtype], machine,
            {"prompts": settings.prompt_seed}, library_versions(),
        ),
        "settings": settings.as_dict(),
        "workloads": timings.workloads,
    }
    document["summary"] = summary_of(document)
    return document


def headline(document: dict[str, Any]) -> dict[str, float]:
    """The figures a screen shows of one level: decode tokens/s at each batch, prefill tokens/s, time to first token."""
    shown = {}
    for name, quantities in document["summary"].items():
        for quantity in ("decode_tokens_per_s", "prefill_tokens_per_s", "latency_first_token_ms"):
            if quantity in quantities and not (quantity == "latency_first_token_ms" and name != "decode-b1"):
                shown[f"{name} {quantity}"] = quantities[quantity]["median"]
    shown["memory_peak_bytes"] = document["memory_peak_bytes"]
    return shown


def _check_lengths(entry, settings: BenchSettings) -> None:
    """Prompts longer than the model's positions (``max_position_embeddings``, the config class's default where the
    config leaves it out) are refused before it is loaded: past them a model's output is meaningless, and a very long
    prompt would only exhaust memory."""
    from ..generate.meta import build_config

    positions = entry.config.get("max_position_embeddings")
    if positions is None:  # the config class's default, as the model will have it
        positions = getattr(build_config(entry.config), "max_position_embeddings", None)
    if not isinstance(positions, int) or positions < 1:
        return
    longest = max((*settings.prompt_tokens, settings.decode_prompt_tokens + settings.new_tokens))
    if longest > positions:
        raise UsageError(
            f"{entry.model_id} has {positions:,} positions (max_position_embeddings): a prompt of {longest:,} tokens "
            "(--prompt-tokens, or --decode-prompt-tokens plus --new-tokens) does not fit"
        )


def _check_settings(settings: BenchSettings) -> None:
    """Settings that cannot be measured are refused before anything is loaded."""
    if settings.new_tokens < 2:
        raise UsageError(f"--new-tokens {settings.new_tokens}: decoding is timed after the first token: give 2 or more")
    if settings.warmup_runs < 0:
        raise UsageError(f"--warmup {settings.warmup_runs}: expected 0 or more")
    measurements.check_positive("--repeats", settings.repeats)
    measurements.check_positive("--decode-prompt-tokens", settings.decode_prompt_tokens)
    for value in settings.prompt_tokens:
        measurements.check_positive("--prompt-tokens", value)
    for value in settings.batch_sizes:
        measurements.check_positive("--batch-sizes", value)

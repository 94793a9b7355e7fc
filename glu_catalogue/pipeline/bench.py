"""``catalogue bench``: speed, memory and (when asked) energy of every level, as one measurement of the measuring pipeline.

The pipeline (``measuring``) selects the records, loads each model once, prunes and checks each
level and stores each file as it is written. What this module adds: a level is one unit, timed
by ``measure.timing``, and written as one bench file (``outcomes.readers.catalogue_bench``: every
run, the summary, the machine). Prompts longer than a model's positions are refused before it
is loaded. Random-init weights measure speed and memory as well as real ones (the shapes are the
same); their records say which weights ran. The inputs digest names the device and the machine:
a bench on another machine is another measurement, written beside the earlier files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..measure.settings import BenchSettings
from ..outcomes.readers.catalogue_bench import LAYOUT_VERSION, MARKER, summary_of
from . import measurements
from .measuring import MeasuredUnit, MeasureRequest, Progress, Where, run_measurement

TOOL = "catalogue bench"

#: The prompts' seed feeds torch's generator: 0 to 2**32 - 1, as evaluate's seeds.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True, kw_only=True)
class BenchRequest(MeasureRequest):
    """Everything ``catalogue bench`` was asked to do."""

    settings: BenchSettings = field(default_factory=BenchSettings)


def run_bench(request: BenchRequest, progress: Progress | None = None) -> list[MeasuredUnit]:
    """Bench every selected record not yet measured with these inputs; one result per record, in order."""
    return run_measurement(request, Bench(request.settings), progress)


class Bench:
    """Prefill, decode, latency, memory (and energy) of each pruned level: one bench file per record."""

    tool = TOOL
    name = "bench"
    file_pattern = "bench_*.json"

    def __init__(self, settings: BenchSettings):
        self.settings = settings

    def check(self) -> None:
        """Settings that cannot be measured are refused before anything is read."""
        settings = self.settings
        if settings.new_tokens < 2:
            raise UsageError(f"--new-tokens {settings.new_tokens}: decoding is timed after the first token: give 2 or more")
        if settings.warmup_runs < 0:
            raise UsageError(f"--warmup {settings.warmup_runs}: expected 0 or more")
        if not 0 <= settings.prompt_seed <= MAX_SEED:
            raise UsageError(f"--seed {settings.prompt_seed}: expected a whole number from 0 to {MAX_SEED:,}")
        measurements.check_positive("--repeats", settings.repeats)
        measurements.check_positive("--decode-prompt-tokens", settings.decode_prompt_tokens)
        for value in settings.prompt_tokens:
            measurements.check_positive("--prompt-tokens", value)
        for value in settings.batch_sizes:
            measurements.check_positive("--batch-sizes", value)

    def check_groups(self, groups: Sequence[measurements.Group]) -> None:
        """Nothing the records alone refuse: random-init weights time as real ones do."""

    def libraries(self) -> tuple[str, ...]:
        """codecarbon when energy is asked for."""
        return ("codecarbon",) if self.settings.energy else ()

    def prepare(self, groups: Sequence[measurements.Group], wheres: Sequence[Where], progress: Progress) -> None:
        """Prompts each model can hold, before it is loaded."""
        for group in groups:
            _check_lengths(group.entry, self.settings)

    def units(self) -> tuple[None]:
        """A level is one unit."""
        return (None,)

    def asked(self, unit: str | None, where: Where) -> dict[str, Any]:
        """The settings, the device and the machine, the dtype."""
        return {**self.settings.as_dict(), "device": where.device_name, "machine": where.machine, "dtype": where.dtype}

    def measure(self, level: Any, unit: str | None, inputs: str, where: Where, directory: Path) -> tuple[Path, dict[str, float]]:
        """Time the level, write its bench file; its path and headline figures."""
        from ..measure.timing import bench_level

        timings = bench_level(level.model, self.settings, where.device)
        document = bench_document(level, timings, self.settings, inputs, where.recipe, where.device_name, where.dtype, where.machine)
        path = measurements.write_measurement(directory / bench_file_name(inputs), document)
        return path, headline(document)


@dataclass(frozen=True)
class RunSpeedup:
    """A level's decode speed-up at batch 1 as this run found it, and where its figures come from."""

    speedup: Any  # core.speedup.Speedup
    level_from: str  # "this run" or "an earlier run"
    baseline_from: str


def run_speedups(store_dir: Path, results: Sequence[MeasuredUnit]) -> list[RunSpeedup]:
    """The speed-ups of this run's levels (measured now, or stored earlier with the same inputs); failed levels have none.

    A level is paired with its baseline measured the same way; a baseline outside this run (not
    selected, or failed now) is taken from what is stored and said so.
    """
    from ..core.speedup import speedups
    from ..store.outcomes_files import read_outcomes

    now = {result.inputs for result in results if result.status in ("measured", "kept")}
    ours = now | {result.inputs for result in results if result.status == "done"}
    records = {result.record for result in results if result.inputs in ours}
    stored = [o for o in read_outcomes(store_dir).outcomes if o.measurement is not None and o.measurement.tool == TOOL]
    chosen = [o for o in stored if o.measurement.inputs_sha256 in ours or (o.pruning_pct == 0 and o.record not in records)]
    origin = {o.record: ("this run" if o.measurement.inputs_sha256 in now else "an earlier run") for o in chosen}
    return [RunSpeedup(row, origin[row.record], origin.get(f"{row.base_model}@0", "an earlier run")) for row in speedups(chosen) if row.record in records]


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
            TOOL,
            inputs,
            level.kept_indices_sha256,
            recipe.weights,
            device,
            TORCH_DTYPE_NAMES[dtype],
            machine,
            {"prompts": settings.prompt_seed},
            library_versions(),
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

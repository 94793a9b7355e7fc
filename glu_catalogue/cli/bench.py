"""``catalogue bench``: speed, memory and energy of every pruned level, from one load per model."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from .measure_options import MEASURE_OPTIONS, MeasureProgress, integers, request_fields
from .output import FORMAT_OPTION, echo_json
from .registry import register


@register(nav_order=140, examples="parse")
@click.command()
@MEASURE_OPTIONS
@click.option("--prompt-tokens", default="64,256", show_default=True, help="Prefill: prompt lengths in tokens, comma-separated (batch 1).")
@click.option("--decode-prompt-tokens", type=int, default=32, show_default=True, help="Decode: the prompt's length in tokens.")
@click.option("--new-tokens", type=int, default=16, show_default=True, help="Decode: tokens generated per prompt (greedy).")
@click.option("--batch-sizes", default="1,8", show_default=True, help="Decode: batch sizes, comma-separated.")
@click.option("--warmup", type=int, default=1, show_default=True, help="Untimed runs before each workload's timed runs.")
@click.option("--repeats", type=int, default=3, show_default=True, help="Timed runs of each workload (the value is their median).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic prompts (token ids; no data set), 0 to 2**32-1.")
@click.option("--energy", is_flag=True, help="Measure each decode workload's energy with codecarbon (pip install codecarbon).")
@FORMAT_OPTION
def bench(
    models: str | None,
    levels: str | None,
    device: str,
    dtype: str | None,
    data_dir: Path | None,
    output_dir: Path | None,
    into_dir: Path | None,
    shard: str | None,
    prompt_tokens: str,
    decode_prompt_tokens: int,
    new_tokens: int,
    batch_sizes: str,
    warmup: int,
    repeats: int,
    seed: int,
    energy: bool,
    output: str,
) -> None:
    """Time every pruned level: prefill and decode throughput, latency, peak memory, weight bytes.

    Each model is loaded once, with the weights its records were built from; every level is
    pruned in memory and checked against its record (the kept neurons' digest), then timed on
    synthetic prompts: prefill at each prompt length, decoding at each batch size (time to first
    token, to the whole answer, tokens/s). Warm-up runs are excluded; each value is the median
    of the timed runs, stored with their spread in the catalogue's outcomes, linked to the
    record. At batch 1 decoding is memory-bound: the speed-up a level can reach is its
    baseline's weight bytes over its own, shown beside the measured one. Each level is stored as
    it finishes: a killed bench keeps what it measured, and a second run with the same inputs
    does nothing. With --shard, each worker benches its share into its own --into directory;
    `catalogue merge` joins them. The closing table shows the levels of this run, each saying
    whether it was measured now or earlier. Exit 0: all measured; 1: a level failed; 2: bad
    input or an option that cannot work, before any model is loaded.

    \b
    Examples:
      catalogue bench --models HuggingFaceTB/SmolLM2-135M
      catalogue bench --models meta-llama/Llama-3.2-1B --levels 0,40 --device cuda --energy
      catalogue bench --shard slurm --into benched/$SLURM_ARRAY_TASK_ID
    """
    from ..measure.settings import BenchSettings
    from ..pipeline.bench import BenchRequest, run_bench

    settings = BenchSettings(
        prompt_tokens=integers(prompt_tokens, "--prompt-tokens"),
        decode_prompt_tokens=decode_prompt_tokens,
        new_tokens=new_tokens,
        batch_sizes=integers(batch_sizes, "--batch-sizes"),
        warmup_runs=warmup,
        repeats=repeats,
        prompt_seed=seed,
        energy=energy,
    )
    request = BenchRequest(**request_fields(models, levels, device, dtype, data_dir, output_dir, into_dir, shard), settings=settings)
    results = run_bench(request, None if output == "json" else MeasureProgress())
    if output == "json":
        echo_json([{"record": r.record, "status": r.status, "file": str(r.path) if r.path else None, "figures": r.figures, "error": r.error} for r in results])
    else:
        _summary(request.store_dir, results)
    sys.exit(EXIT_PROBLEMS if any(r.status == "failed" for r in results) else EXIT_OK)


def _summary(store_dir: Path, results: list) -> None:
    """The decode speed-up of this run's levels beside its weight-bytes bound, each saying whether it was measured now or earlier."""
    from ..pipeline.bench import run_speedups

    rows = run_speedups(store_dir, results)
    if rows:
        click.echo("decode at batch 1, against the same model at 0 % (bound: its weight bytes over the level's):")
        for row in rows:
            found = row.speedup
            origin = row.level_from if row.baseline_from == row.level_from else f"{row.level_from}; baseline: {row.baseline_from}"
            click.echo(f"  {found.record:<40} {found.decode_tokens_per_s:8.2f} tokens/s  speed-up x{found.measured:.2f}  bound x{found.bound:.2f}  ({origin})")

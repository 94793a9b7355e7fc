"""How much a `catalogue bench` figure moves between benches of the very same model, against the spread of
its own repeats.

A bench stores each value with the spread of its repeats (`--repeats`), measured back to back in one
stretch of the process. This script loads one model as `catalogue bench` does (the records'
weights, each level pruned in memory and checked against its record), then benches the same
level's decoding at batch 1 several times in a row, with the shipped bench's settings (a 32-token
prompt, 16 new tokens, one warm-up, five repeats), and prints each bench's median and the spread of
its repeats, then the range of the medians. Where the medians range wider than the repeats spread,
the repeats understate how far a value can move from one bench to the next (the README's reading of
Llama-3.2-1B above its weight-bytes bound rests on this figure).

    python benchmarks/bench_spread.py                       # Llama-3.2-1B at 0 %, three benches, fp32
    python benchmarks/bench_spread.py --model Qwen/Qwen3-0.6B --level 30 --benches 5
"""

from __future__ import annotations

import argparse
import statistics

from glu_catalogue import load_catalogue
from glu_catalogue.measure.levels import pruned_levels, recipe_of
from glu_catalogue.measure.settings import BenchSettings
from glu_catalogue.measure.timing import bench_level
from glu_catalogue.pipeline.models import resolve_model

#: The shipped bench's decode settings (`catalogue bench --dtype fp32 --repeats 5`), batch 1 only.
SETTINGS = BenchSettings(prompt_tokens=(), decode_prompt_tokens=32, new_tokens=16, batch_sizes=(1,), warmup_runs=1, repeats=5, prompt_seed=0, energy=False)


def decode_rates(timings) -> list[float]:
    """Tokens/s of each timed run at batch 1: the steps after the first token over their time."""
    [workload] = timings.workloads
    return [(SETTINGS.new_tokens - 1) / run["decode_s"] for run in workload["runs"]]


def main() -> None:
    """Bench one level several times from one load and print each bench and the range of their medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="meta-llama/Llama-3.2-1B")
    parser.add_argument("--level", type=int, default=0, help="pruning % of the record benched")
    parser.add_argument("--benches", type=int, default=3)
    parser.add_argument("--dtype", default="fp32")
    args = parser.parse_args()
    [record] = [r for r in load_catalogue().models if r.base_model == args.model and r.pruning_pct == args.level and r.status == "success"]
    medians = []
    for level in pruned_levels(resolve_model(args.model), [record], recipe_of(record), "cpu", args.dtype):
        for bench in range(1, args.benches + 1):
            rates = decode_rates(bench_level(level.model, SETTINGS, "cpu"))
            medians.append(statistics.median(rates))
            print(
                f"bench {bench}: decode-b1 median {medians[-1]:.2f} tokens/s; its {len(rates)} repeats "
                f"{min(rates):.2f}-{max(rates):.2f} (std {statistics.stdev(rates):.3f})",
                flush=True,
            )
    low, high = min(medians), max(medians)
    print(f"{args.model}@{args.level}: medians of {len(medians)} benches {low:.2f}-{high:.2f} tokens/s ({(high / low - 1) * 100:.1f} % apart)")


if __name__ == "__main__":
    main()

"""How long `catalogue verify` takes as a whole process, on the shipped data and on 100,000 records.

Targets on the 2-core CI machine: under 1.5 s for the shipped data (process start included),
under 10 s for a catalogue of 100,000 records; torch (and matplotlib, mkdocs) never imported.

    python benchmarks/verify_speed.py [--records 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from glu_catalogue.core.architecture import Architecture
from glu_catalogue.core.derive import closed_form_provenance, closed_form_record
from glu_catalogue.pipeline.publish import catalogue_texts
from glu_catalogue.store.paths import default_data_dir
from glu_catalogue.store.writing import write_files

LEVELS = range(100)


def synthetic_shape(index: int) -> Architecture:
    """A plausible GLU decoder, different for every index."""
    heads = (8, 16, 24, 32)[index % 4]
    return Architecture(
        hidden_size=heads * 64,
        intermediate_size=1024 + 64 * (index % 200),
        num_hidden_layers=8 + index % 32,
        num_attention_heads=heads,
        num_key_value_heads=heads // 4 if heads >= 8 else 1,
        head_dim=64,
        vocab_size=32000 + index,
        tie_word_embeddings=bool(index % 2),
        qkv_bias=bool(index % 3 == 0),
        o_proj_bias=False,
        mlp_bias=False,
        qk_norm=bool(index % 5 == 0),
        norms_per_layer=2 + 2 * (index % 7 == 0),
    )


def write_synthetic_catalogue(directory: Path, n_records: int) -> None:
    """n_records closed-form records (models x 100 levels) written as JSON and CSV."""
    provenance = closed_form_provenance()
    records = []
    for index in range((n_records + len(LEVELS) - 1) // len(LEVELS)):
        shape = synthetic_shape(index)
        for level in LEVELS:
            if len(records) == n_records:
                break
            records.append(closed_form_record(f"bench/model-{index:05d}", shape, level, provenance))
    write_files(catalogue_texts(directory, records, "none (benchmark)", "MAW"))


def time_process(args: list[str], runs: int) -> list[float]:
    """Wall seconds of each run of ``python -m catalogue ARGS`` (exit code 0 required)."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        completed = subprocess.run([sys.executable, "-m", "glu_catalogue", *args], capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        if completed.returncode != 0:
            sys.exit(f"`catalogue {' '.join(args)}` exited {completed.returncode}:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    return seconds


def imported(args: list[str], names: tuple[str, ...]) -> list[str]:
    """Which of the top-level packages ``names`` ``python -m catalogue ARGS`` imports."""
    completed = subprocess.run([sys.executable, "-X", "importtime", "-m", "glu_catalogue", *args], capture_output=True, text=True)
    modules = {line.split("|")[-1].strip().split(".")[0] for line in completed.stderr.splitlines() if line.startswith("import time:")}
    return sorted(set(names) & modules)


def describe(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds):.3f} s (min {min(seconds):.3f}, max {max(seconds):.3f}, {len(seconds)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()

    shipped = describe(time_process(["verify"], options.runs))
    print(f"catalogue verify, shipped data ({default_data_dir()}): {shipped}  [target < 1.5 s]")
    heavy = imported(["verify"], ("torch", "matplotlib", "mkdocs"))
    print(f"torch, matplotlib or mkdocs imported by `catalogue verify`: {heavy or 'none'}  [target: none]")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        start = time.perf_counter()
        write_synthetic_catalogue(directory, options.records)
        size_mb = (directory / "expansion_rates.json").stat().st_size / 1e6
        print(f"generated {options.records} records ({size_mb:.0f} MB JSON) in {time.perf_counter() - start:.1f} s")
        large = describe(time_process(["verify", str(directory)], max(1, options.runs // 2)))
        print(f"catalogue verify, {options.records} records: {large}  [target < 10 s]")


if __name__ == "__main__":
    main()

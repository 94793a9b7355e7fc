"""How long `catalogue merge` takes to join many shards: by default 100 shards of 1,000 records each.

Each shard is a data directory of closed-form records of its own synthetic models (10 models x 100
levels), as `catalogue build --shard I/N` would leave it. Times the merge as a whole process (its
write and its verification of the 100,000 merged records included), then a second merge of the
same shards, which must change nothing.

    python benchmarks/merge_speed.py [--shards 100] [--records-per-shard 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verify_speed import LEVELS, synthetic_shape

from glu_catalogue.core.derive import closed_form_provenance, closed_form_record
from glu_catalogue.pipeline.publish import catalogue_texts
from glu_catalogue.store.writing import write_files


def write_shard(directory: Path, shard: int, n_records: int) -> None:
    """``n_records`` closed-form records of models no other shard has, written as JSON and CSV."""
    provenance = closed_form_provenance()
    models_per_shard = (n_records + len(LEVELS) - 1) // len(LEVELS)
    records = []
    for offset in range(models_per_shard):
        index = shard * models_per_shard + offset
        for level in LEVELS:
            if len(records) < n_records:
                records.append(closed_form_record(f"bench/model-{index:05d}", synthetic_shape(index), level, provenance))
    directory.mkdir(parents=True)
    write_files(catalogue_texts(directory, records, "none (benchmark)", "MAW"))


def timed_merge(shards: list[Path], out: Path) -> tuple[float, str]:
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "glu_catalogue", "merge", *map(str, shards), "--data", str(out)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(f"merge exited {completed.returncode}:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    return seconds, completed.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=100)
    parser.add_argument("--records-per-shard", type=int, default=1000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        start = time.perf_counter()
        shards = [root / "shards" / str(index) for index in range(options.shards)]
        for index, shard in enumerate(shards):
            write_shard(shard, index, options.records_per_shard)
        print(f"wrote {options.shards} shards of {options.records_per_shard:,} records in {time.perf_counter() - start:.1f} s")
        first, output = timed_merge(shards, root / "merged")
        print(f"merge of {options.shards} shards ({options.shards * options.records_per_shard:,} records): {first:.2f} s")
        print("  " + output.strip().splitlines()[-1])
        again, output = timed_merge(shards, root / "merged")
        unchanged = "files written: none (unchanged)" in output
        print(f"the same merge again: {again:.2f} s, {'nothing changed' if unchanged else 'FILES CHANGED'}")
        if not unchanged:
            sys.exit(1)


if __name__ == "__main__":
    main()

"""Figures for models outside the registry: `plan` of a config.json from a cold start, both ways,
and the memory `catalogue add` needs for a 70B-class config built on the meta device.

Targets on the 2-core CI machine: `catalogue plan --model PATH/config.json --ratio 2.4` of a type
whose facts the package ships answers in under 1 s as a fresh process, without torch (Python
start included), with the same answer as the meta-device path (`CATALOGUE_COUNT_ON_META=1`:
torch's and transformers' import and the build), timed in the same run; `catalogue add` of
Llama-3.3-70B's config on the meta device stays under 1 GiB of resident memory. Each run is its
own process, so nothing is warm but the operating system's file cache.

    python benchmarks/any_model.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from glu_catalogue.store.paths import registry_dir

PLANNED = "allenai__OLMo-2-0425-1B.json"
ADDED = "meta-llama__Llama-3.3-70B-Instruct.json"


def write_config(registry_file: str, directory: Path) -> Path:
    """The config.json values of a registry entry, written as a config.json of its own."""
    config = json.loads((registry_dir() / registry_file).read_text())["config"]
    path = directory / "config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def run(*args: str, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Seconds a ``catalogue`` process took, its own peak resident memory in bytes and what it printed (exit 0 required)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen([sys.executable, "-m", "glu_catalogue", *args], stdout=output, stderr=subprocess.PIPE, env=env)
        error = process.stderr.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.stderr.close()
        output.seek(0)
        printed = output.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"catalogue {' '.join(args)} failed: {error.strip()}")
    return seconds, usage.ru_maxrss * 1024, printed  # Linux reports kibibytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "plan").mkdir()
        config = write_config(PLANNED, root / "plan")
        plan = ("plan", "--model", str(config), "--ratio", "2.4", "--format", "json")
        meta_env = {**os.environ, "CATALOGUE_COUNT_ON_META": "1"}
        shipped = [run(*plan) for _ in range(args.runs)]
        meta = [run(*plan, env=meta_env) for _ in range(args.runs)]
        if {answer for _, _, answer in shipped + meta} != {shipped[0][2]}:
            raise SystemExit("the shipped facts and the meta device gave different answers")
        for name, runs, target in (("shipped facts, no torch", shipped, " (target < 1 s)"), ("meta device", meta, "")):
            times = [seconds for seconds, _, _ in runs]
            print(f"catalogue plan --model {config.name} --ratio 2.4, {name} (cold process, {args.runs} runs): "
                  f"median {statistics.median(times):.2f} s, fastest {min(times):.2f} s, slowest {max(times):.2f} s{target}")
        ratio = statistics.median(t for t, _, _ in meta) / statistics.median(t for t, _, _ in shipped)
        print(f"same answer both ways; the shipped facts are {ratio:.0f}x faster")
        (root / "add").mkdir()
        (root / "registry").mkdir()
        big = write_config(ADDED, root / "add")
        env = {**os.environ, "CATALOGUE_REGISTRY_DIR": str(root / "registry")}
        seconds, peak, _ = run("add", str(big), "--id", "bench/llama-70b", env={**env, "CATALOGUE_COUNT_ON_META": "1"})
        print(f"catalogue add (Llama-3.3-70B config, meta device): {seconds:.2f} s, peak resident memory "
              f"{peak / 2**20:.0f} MiB (target < 1024 MiB)")


if __name__ == "__main__":
    main()

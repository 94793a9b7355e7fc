"""Figures for models outside the registry: `plan` of a config.json from a cold start, on the transformers release
the per-type facts ship for and on another, and the memory `catalogue add` needs for a 70B-class config.

Targets on the 2-core CI machine: `catalogue plan --model PATH/config.json --ratio 2.4` of a type whose
facts the package ships answers in under 1 s as a fresh process, without torch (Python start included),
with the same answer as the meta-device path (`CATALOGUE_COUNT_ON_META=1`: torch's and transformers'
import and the build), timed in the same run. With another transformers release (`--other-python`, a
virtual environment holding it), a type whose modelling source is unchanged counts from the shipped facts
at once; a type whose source changed is derived on the meta device by the first call, which keeps its
facts in the cache, and the calls after it answer in under 1 s without torch. Both releases are timed
side by side, each config with an empty cache (`$CATALOGUE_CACHE_DIR`), every answer compared with the
meta device's on that release. `catalogue add` of Llama-3.3-70B's config on the meta device stays under
1 GiB of resident memory. Each run is its own process, so nothing is warm but the operating system's
file cache.

    python -m venv /tmp/tf-new
    /tmp/tf-new/bin/pip install torch==2.13.0 transformers   # the newest transformers
    /tmp/tf-new/bin/pip install -e '.[generate]'              # the package's own dependencies
    python benchmarks/any_model.py [--runs 5] [--other-python /tmp/tf-new/bin/python]
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

REPO = Path(__file__).resolve().parent.parent

#: Configs planned on both releases: OLMo-2's modelling source changed in transformers 5.25.0, Llama's did not.
PLANNED = {"OLMo-2-0425-1B": "allenai__OLMo-2-0425-1B.json", "Llama-3.2-1B": "meta-llama__Llama-3.2-1B.json"}
ADDED = "meta-llama__Llama-3.3-70B-Instruct.json"


def write_config(registry_file: str, directory: Path) -> Path:
    """The config.json values of a registry entry, written as a config.json of its own."""
    directory.mkdir(parents=True, exist_ok=True)
    config = json.loads((registry_dir() / registry_file).read_text())["config"]
    path = directory / "config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def run(python: str, *args: str, env: dict[str, str] | None = None) -> tuple[float, float, int, str]:
    """Wall seconds a ``catalogue`` process took, its CPU seconds (user and system), its own peak resident memory in
    bytes and what it printed (exit 0 required). The CPU time moves less than the wall time on a busy machine."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen([python, "-m", "glu_catalogue", *args], stdout=output, stderr=subprocess.PIPE, env=environment)
        error = process.stderr.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.stderr.close()
        output.seek(0)
        printed = output.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"catalogue {' '.join(args)} failed: {error.strip()}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, printed  # Linux reports kibibytes


def transformers_of(python: str) -> str:
    """The transformers release ``python`` imports (read from its metadata)."""
    code = "from importlib.metadata import version; print(version('transformers'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def plan_on(python: str, config: Path, cache: Path, runs: int) -> dict:
    """The first cold call with an empty cache, ``runs`` cold calls after it, and the meta device's call, on ``python``."""
    plan = ("plan", "--model", str(config), "--ratio", "2.4", "--format", "json")
    env = {"CATALOGUE_CACHE_DIR": str(cache)}
    first = run(python, *plan, env=env)
    how = "derived, cached" if any(cache.rglob("*.json")) else "shipped"
    then = [run(python, *plan, env=env) for _ in range(runs)]
    meta = run(python, *plan, env={**env, "CATALOGUE_COUNT_ON_META": "1"})
    if {answer for *_, answer in [first, *then]} != {meta[-1]}:
        raise SystemExit(f"{python}: the facts and the meta device gave different answers for {config}")
    median = statistics.median_low(then)  # a run that happened: its wall and CPU time together
    return {
        "facts": how,
        "first call": _seconds(first),
        f"then (median of {runs})": _seconds(median),
        f"then (slowest of {runs})": _seconds(max(then)),
        "meta device": _seconds(meta),
        "answer": meta[-1],
    }


def _seconds(result: tuple[float, float, int, str]) -> str:
    return f"{result[0]:.2f} s ({result[1]:.2f} s CPU)"


def side_by_side(pythons: list[str], root: Path, runs: int) -> None:
    """``plan --model config.json`` on each release, each config with an empty cache: the first call, then the others."""
    releases = [transformers_of(python) for python in pythons]
    print("catalogue plan --model config.json --ratio 2.4, each call a cold process, each config with an empty cache; target after the first call < 1 s")
    print(f"{'':16s} {'':22s}" + "".join(f"{'transformers ' + release:>28s}" for release in releases))
    answers = set()
    for name, registry_file in PLANNED.items():
        config = write_config(registry_file, root / name)
        results = [plan_on(python, config, root / f"cache-{index}-{name}", runs) for index, python in enumerate(pythons)]
        answers |= {(name, result.pop("answer")) for result in results}
        for row, key in enumerate(results[0]):
            print(f"{name if row == 0 else '':16s} {key:22s}" + "".join(f"{result[key]:>28s}" for result in results))
    if len(answers) != len(PLANNED):
        raise SystemExit("the releases gave different plans for the same config")
    print("every answer equal to the meta device's on its release, and the same on every release")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--other-python", help="the python of a virtual environment with another transformers release")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        side_by_side([sys.executable, *([args.other_python] if args.other_python else [])], root, args.runs)
        (root / "registry").mkdir()
        big = write_config(ADDED, root / "add")
        env = {"CATALOGUE_REGISTRY_DIR": str(root / "registry"), "CATALOGUE_COUNT_ON_META": "1"}
        seconds, _, peak, _ = run(sys.executable, "add", str(big), "--id", "bench/llama-70b", env=env)
        print(f"catalogue add (Llama-3.3-70B config, meta device): {seconds:.2f} s, peak resident memory {peak / 2**20:.0f} MiB (target < 1024 MiB)")


if __name__ == "__main__":
    main()

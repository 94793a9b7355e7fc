"""How long the test suite takes: collection, the README's test command, and what each folder costs.

Targets on the 2-core CI machine (issue 34): collecting under 5 s, the whole suite under 6 minutes.
The suite runs as the README's test command says (``python -m pytest -n 2 -q``) with a plugin
(``suite_timing_plugin.py``, beside this script) that records, per test, its wall seconds and the
CPU seconds of its worker and of the processes it waited for. Those CPU seconds leave out
Chromium's (counted when the browser closes, on the browser module's last test) and the Slurm
jobs' (children of ``slurmd``, not of the worker). The machine's speed varies from run to run
(the same tree took 349 s and 525 s here): run it twice.

    python benchmarks/suite_time.py [--collect-only]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_test_command() -> list[str]:
    """The command in the README's ``test-command`` block."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- test-command -->\s*```bash\n(.+?)\n```", text, flags=re.S)
    if block is None:
        raise SystemExit("README.md has no <!-- test-command --> block")
    return shlex.split(block[1].strip())


def timed(command: list[str], env: dict[str, str], quiet: bool = False) -> tuple[float, float, int]:
    """Run ``command`` in the repository: (wall seconds, CPU seconds of it and its children, exit code); ``quiet``: its
    output is dropped."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL if quiet else None)
    wall_s = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall_s, cpu_s, completed.returncode


def part_of(nodeid: str) -> str:
    """The row a test counts in: its folder, and an end-to-end test's file."""
    path = Path(nodeid.split("::", 1)[0])
    if path.parts[:2] == ("tests", "e2e"):
        return str(path)
    return str(path.parent) if len(path.parts) > 2 else "tests (top level)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collect-only", action="store_true", help="time the collection alone")
    args = parser.parse_args()
    env = dict(os.environ)

    wall_s, cpu_s, code = timed([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"], env, quiet=True)
    print(f"collection (python -m pytest --collect-only -q, the whole process): {wall_s:.1f} s wall, {cpu_s:.1f} s CPU (target: under 5 s)", flush=True)
    if code != 0 or args.collect_only:
        raise SystemExit(code)

    command = readme_test_command()
    with tempfile.TemporaryDirectory() as folder:
        env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")])), "SUITE_TIMING_DIR": folder}
        print("running:", shlex.join(command), flush=True)
        wall_s, cpu_s, code = timed([sys.executable, "-m", *command[command.index("pytest") :], "-p", "suite_timing_plugin"], env)
        rows = [line.split("\t") for path in Path(folder).glob("*.tsv") for line in path.read_text().splitlines()]
    per_part: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for nodeid, test_wall_s, self_cpu_s, child_cpu_s in rows:
        totals = per_part[part_of(nodeid)]
        totals[0] += float(test_wall_s)
        totals[1] += float(self_cpu_s)
        totals[2] += float(child_cpu_s)
        totals[3] += 1
    print(f"\n{'part':<48} {'tests':>6} {'worker s':>9} {'CPU s':>7} {'of which processes':>19}")
    for part, (part_wall_s, self_s, child_s, count) in sorted(per_part.items(), key=lambda item: -item[1][0]):
        print(f"{part:<48} {count:>6} {part_wall_s:>9.1f} {self_s + child_s:>7.1f} {child_s:>19.1f}")
    print(f"\nsuite: {wall_s:.1f} s wall ({wall_s / 60:.1f} min; target: under 6 min), {cpu_s:.1f} s CPU, exit code {code}")
    raise SystemExit(code)


if __name__ == "__main__":
    main()

"""How fast `catalogue hub scan` reads a base model's derivatives, and how many bytes each costs.

Starts the test suite's fake Hub (tests/fake_hub.py) on the loopback interface with the few hundred
derivatives of Llama-3.2-1B that tests/hub_derivatives.py makes (uniformly pruned at every catalogue
level, pruned layer by layer, not GLU, gated, without safetensors, and a few that drip their answers
one byte at a time), each served shaped: real config.json and safetensors headers, the weights only
a length. Runs ``python -m glu_catalogue hub scan --base-model meta-llama/Llama-3.2-1B --format json``
as a user would (a fresh Hugging Face cache, a fresh state file) once per ``--jobs`` value and prints
repositories per second, bytes per repository (what the scan says it read, and what the server
sent), and the count of each kind found. The dripping repositories cost one deadline each
(``CATALOGUE_HUB_DEADLINE_S``, ``--deadline``), which ``--slow 0`` leaves out.

    python benchmarks/hub_scan_speed.py [--jobs 1,4,8] [--deadline 2] [--slow 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fake_hub import FakeHub  # noqa: E402 - tests/ is put on the path just above
from hub_derivatives import BASE, populate  # noqa: E402 - tests/ on sys.path first


def main() -> None:
    """Scan the fake Hub's derivatives with each ``--jobs`` and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1,4,8", help="Repositories read at once, one scan per value (comma-separated).")
    parser.add_argument("--deadline", type=float, default=2.0, help="CATALOGUE_HUB_DEADLINE_S for the scans (seconds).")
    parser.add_argument("--slow", type=int, default=3, help="How many derivatives drip their answers (each costs one deadline).")
    options = parser.parse_args()
    hub = FakeHub().start()
    expected = populate(hub, n_slow=options.slow)
    print(
        f"fake Hub at {hub.endpoint}: {len(expected)} derivatives of {BASE} "
        f"({', '.join(f'{n} {kind}' for kind, n in sorted(Counter(expected.values()).items()))})"
    )
    for jobs in (int(part) for part in options.jobs.split(",")):
        with tempfile.TemporaryDirectory() as scratch:
            env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
            env.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(Path(scratch) / "hf-home"), CATALOGUE_HUB_DEADLINE_S=str(options.deadline), PYTHONPATH=str(REPO))
            hub.reset_counts()
            started = time.perf_counter()
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "glu_catalogue",
                    "hub",
                    "scan",
                    "--base-model",
                    BASE,
                    "--jobs",
                    str(jobs),
                    "--format",
                    "json",
                    "--state",
                    str(Path(scratch) / "state.jsonl"),
                ],
                capture_output=True,
                text=True,
                env=env,
                cwd=scratch,
            )
            seconds = time.perf_counter() - started
        if completed.returncode != 0:
            sys.exit(f"the scan failed (exit {completed.returncode}): {completed.stderr.strip()}")
        document = json.loads(completed.stdout)
        found = {item["repo_id"]: item["kind"] for item in document["repositories"]}
        wrong = sum(1 for repo_id, kind in expected.items() if found.get(repo_id) != kind)
        count = len(document["repositories"])
        print(
            f"--jobs {jobs}: {count} repositories in {seconds:.1f} s (process) = {count / seconds:.1f} repositories/s; "
            f"read {document['bytes_read'] / count:,.0f} bytes/repository as the scan counts it "
            f"({document['bytes_read']:,} in all; the server sent {hub.bytes_sent:,}); {wrong} classified wrongly"
        )


if __name__ == "__main__":
    main()

"""Time and peak memory of `catalogue results check` on outcome files near the 64 MiB input cap.

Target on the 2-core CI machine: any outcome file under the cap is checked in under 30 s and 1 GiB
of peak resident memory, every value read, linked, checked and held to the one-value rule (the
values stay in columns, ``outcomes/columns.py``). The script writes, in a temporary directory, a
60 MiB capability CSV of the study's layout (Llama-3.2-1B at its catalogue levels, one task per
row, two scores each: 2.6 million values), a 60 MiB capability JSON of the study's layout (2.3
million values), a 20 MiB lm-evaluation-harness results file (one model,
many tasks) and a 60 MiB codecarbon 3.x emissions.csv, every value valid; then runs
`catalogue results check` on each as its own process and prints its exit code (0: checked, no
problems), the values it checked, seconds, processor seconds (user + system: on a machine others
load, the wall time it would take alone) and peak resident memory (the child's ``ru_maxrss``),
with the load average before and after.

    python benchmarks/outcome_file_speed.py [--mib-csv 60 --mib-json 60 --mib-lm-eval 20 --mib-emissions 60]
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package of this checkout

LLAMA = "meta-llama/Llama-3.2-1B"
LEVELS = (0, 10, 20, 30, 40, 50, 60)
CAPABILITY_HEADER = ["model", "pruning_pct", "is_star", "task", "accuracy", "acc_norm"]


def capability_csv(path: Path, target_bytes: int) -> None:
    """The study's capability CSV layout: one row per (level, task), two proportions each."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CAPABILITY_HEADER)
        row = 0
        while handle.tell() < target_bytes:
            for _ in range(1000):
                writer.writerow(
                    ["Llama-3.2-1B", LEVELS[row % len(LEVELS)], "False", f"task_{row // len(LEVELS):07d}", f"0.{row % 9973:04d}", f"0.{row % 8999:04d}"]
                )
                row += 1


def capability_json(path: Path, target_bytes: int) -> None:
    """The study's capability JSON layout: one model per catalogue level, as many tasks of two scores each as fit."""
    per_task = 62 * len(LEVELS)  # bytes a task's two scores take across the levels
    tasks = [f"task_{index:07d}" for index in range(target_bytes // per_task)]
    models = {
        "baseline" if level == 0 else f"pruned_{level}": {
            "name": "Llama-3.2-1B" if level == 0 else f"Llama-3.2-1B-pruned-{level}pct",
            "pruning_pct": level,
            "results": {task: {"accuracy": 0.25 + (index % 500) / 1000, "acc_norm": 0.3 + (index % 400) / 1000} for index, task in enumerate(tasks)},
        }
        for level in LEVELS
    }
    path.write_text(json.dumps({"experiment_metadata": {"model_family": "Llama-3.2-1B"}, "benchmarks": [], "models_evaluated": models}))


def lm_eval_file(path: Path, target_bytes: int) -> None:
    """An lm-eval 0.4 results file of one model with as many tasks as fit ``target_bytes``."""
    per_task = 211  # bytes each task takes across results, n-shot, versions, n-samples, higher_is_better
    tasks = [f"task_{index:07d}" for index in range(target_bytes // per_task)]
    document = {
        "results": {task: {"alias": task, "acc,none": 0.25 + (index % 500) / 1000, "acc_stderr,none": 0.01} for index, task in enumerate(tasks)},
        "versions": {task: 1.0 for task in tasks},
        "n-shot": {task: 0 for task in tasks},
        "n-samples": {task: {"original": 100, "effective": 100} for task in tasks},
        "higher_is_better": {task: {"acc": True} for task in tasks},
        "config": {"model": "hf", "model_args": f"pretrained={LLAMA},dtype=bfloat16", "model_num_parameters": 1_235_814_400},
        "lm_eval_version": "0.4.13",
    }
    path.write_text(json.dumps(document))


def emissions_csv(path: Path, target_bytes: int) -> None:
    """codecarbon 3.x's emissions.csv (its own columns, in its order), one run per row, each consistent."""
    from glu_catalogue.outcomes.readers.codecarbon_csv import LAYOUTS

    header = LAYOUTS["3.x"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        run = 0
        while handle.tell() < target_bytes:
            for _ in range(500):
                duration, cpu, ram = 10.0 + run % 97, 1e-4 * (1 + run % 13), 2e-5
                cells = {
                    "timestamp": "2026-01-01T00:00:00",
                    "project_name": "eval",
                    "run_id": f"run-{run}",
                    "experiment_id": "x",
                    "duration": duration,
                    "emissions": 5e-5,
                    "emissions_rate": 5e-5 / duration,
                    "cpu_energy": cpu,
                    "gpu_energy": 0.0,
                    "ram_energy": ram,
                    "energy_consumed": cpu + 0.0 + ram,
                    "country_name": "France",
                    "country_iso_code": "FRA",
                    "os": "Linux",
                    "python_version": "3.11.9",
                    "codecarbon_version": "3.3.2",
                    "cpu_count": 16,
                    "cpu_model": "AMD EPYC 7R13 Processor",
                    "tracking_mode": "machine",
                    "on_cloud": "N",
                    "pue": 1.0,
                }
                writer.writerow([cells.get(column, "") for column in header])
                run += 1


def check(path: Path, *extra: str) -> tuple[int, int, float, float, int, str]:
    """`catalogue results check PATH` as its own process: exit code, values checked, seconds, processor seconds
    (user + system: what the wall time is on an idle machine), peak resident bytes, its error line (exit 2)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as report:
        process = subprocess.Popen(
            [sys.executable, "-m", "glu_catalogue", "results", "check", str(path), *extra, "--format", "json"], stdout=report, stderr=subprocess.PIPE
        )
        error = process.stderr.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
        process.stderr.close()
        report.seek(0)
        text = report.read()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 2) or "Traceback" in error:
        raise SystemExit(f"results check {path.name} failed ({code}): {error.strip()}")
    values = json.loads(text)["checked"]["outcomes"] if code != 2 else 0
    seconds, processor = time.perf_counter() - started, usage.ru_utime + usage.ru_stime
    return code, values, seconds, processor, usage.ru_maxrss * 1024, error.strip()  # Linux reports kibibytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib-csv", type=float, default=60)
    parser.add_argument("--mib-json", type=float, default=60)
    parser.add_argument("--mib-lm-eval", type=float, default=20)
    parser.add_argument("--mib-emissions", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        cases = (
            ("capability CSV", folder / "capability.csv", capability_csv, args.mib_csv, ()),
            ("capability JSON", folder / "capability.json", capability_json, args.mib_json, ()),
            ("lm-eval JSON", folder / "results_big.json", lm_eval_file, args.mib_lm_eval, ()),
            ("emissions.csv", folder / "emissions.csv", emissions_csv, args.mib_emissions, ("--record", f"{LLAMA}@40")),
        )
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print(f"{'file':<16} {'size':>9} {'exit':>4} {'values':>10} {'seconds':>8} {'CPU s':>6} {'peak RSS':>10}")
        for name, path, write, mib, extra in cases:
            writer = multiprocessing.get_context("spawn").Process(target=write, args=(path, int(mib * 2**20)))
            writer.start()  # in a process of its own: a child started by this one would count this one's memory as its own
            writer.join()
            code, values, seconds, processor, peak, error = check(path, *extra)
            said = f"  ({error.partition(': ')[2]})" if code == 2 else ""
            size = path.stat().st_size / 2**20
            print(f"{name:<16} {size:>6.1f} MiB {code:>4} {values:>10,} {seconds:>8.1f} {processor:>6.1f} {peak / 2**20:>6.0f} MiB{said}", flush=True)
            path.unlink()
        print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()

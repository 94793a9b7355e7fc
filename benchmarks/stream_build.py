"""The streaming build (one decoder layer at a time) on a model larger than memory, and against the in-memory build.

Two figures, each build in its own process so each peak is its own:

1. a streamed build of Llama-3.3-70B-Instruct (all levels 0-60, random-init weights, bf16): its
   time and peak resident memory (target: under 6 GiB, on a machine of 24 GiB for a model of
   141 GB). The model is not in the registry (``catalogue add`` brings it); this script reads
   its entry from ``benchmarks/fixtures/`` through a temporary registry directory
   (``$CATALOGUE_REGISTRY_DIR``).
2. Llama-3.2-1B, streamed against in memory, from the same random-init weights (and, with
   ``--checkpoint``, from the same checkpoint on disk): records equal, time within 1.5x, memory
   far lower.

    python benchmarks/stream_build.py                      # both, on the CPU
    python benchmarks/stream_build.py --skip-70b --checkpoint
    python benchmarks/stream_build.py --device cuda        # on a GPU: peaks are CUDA bytes allocated

Peak memory on the CPU is the process's peak resident set (``VmHWM``), imports included; the
line also gives it net of the resident set after the imports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LEVELS = [0, 10, 20, 30, 40, 50, 60]
HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "meta-llama__Llama-3.3-70B-Instruct.json"
REPOSITORY = HERE.parent


def run_build(model_id: str, path: str, device: str, weights: str) -> dict:
    """One build in this process: ``path`` is in-memory or streaming; returns time, peaks and the records' results."""
    import torch  # noqa: F401 - import cost outside the timing
    import transformers  # noqa: F401 - import cost outside the timing

    from glu_catalogue.generate import memory, streaming
    from glu_catalogue.generate import model as generate
    from glu_catalogue.generate.weights import WeightsSource
    from glu_catalogue.store.registry import get_model

    entry = get_model(model_id)
    source = WeightsSource(kind="random-init", seed=0) if weights == "random" else WeightsSource(kind="checkpoint", location=weights)
    settings = generate.BuildSettings(method="MAW", device=device, dtype="bf16", stream=path == "streaming")
    baseline = memory.current_bytes(device)
    started = time.perf_counter()
    if path == "streaming":
        build = streaming.build_streaming(entry, LEVELS, source, settings)
    else:
        build = generate.build_model(entry, LEVELS, source, settings)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_bytes": build.peak_memory_bytes,
        "baseline_bytes": baseline,
        "model_bytes": build.model_bytes,
        "results": [
            (r.pruning_pct, r.pruned_architecture.intermediate_size, r.pruned_architecture.total_parameters, r.provenance.kept_indices_sha256)
            for r in build.records
        ],
    }


def in_subprocess(model_id: str, path: str, device: str, weights: str, registry: Path | None = None) -> dict:
    """``run_build`` in a fresh Python process (its own peak), with ``registry`` as $CATALOGUE_REGISTRY_DIR."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import stream_build as b; "
        f"print(json.dumps(b.run_build({model_id!r}, {path!r}, {device!r}, {weights!r})))"
    )
    env = dict(os.environ)
    if registry is not None:
        env["CATALOGUE_REGISTRY_DIR"] = str(registry)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPOSITORY)
    if completed.returncode != 0:
        sys.exit(f"{path} build of {model_id} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB"


def describe(name: str, result: dict, device: str) -> str:
    net = result["peak_bytes"] - (result["baseline_bytes"] if device == "cpu" else 0)
    return f"{name}: {result['seconds']:.1f} s, peak {gib(result['peak_bytes'])} ({gib(net)} above the process after imports)"


def bench_70b(device: str) -> None:
    """Figure 1: a streamed random-init build of Llama-3.3-70B-Instruct, every level."""
    from glu_catalogue.core import formulas
    from glu_catalogue.store.registry import load_registry

    with tempfile.TemporaryDirectory() as registry:
        shutil.copy(FIXTURE, registry)
        entry = load_registry(Path(registry))["meta-llama/Llama-3.3-70B-Instruct"]
        print(
            f"{entry.model_id}: {formulas.total_parameters(entry.architecture):,} parameters, "
            f"{gib(formulas.total_parameters(entry.architecture) * 2)} in bf16; streamed, random-init, levels {LEVELS}, {device}",
            flush=True,
        )
        result = in_subprocess(entry.model_id, "streaming", device, "random", Path(registry))
    for level, width, total, _ in result["results"]:
        assert total == formulas.total_parameters(entry.architecture, width), level
    print("  " + describe("streaming build", result, device) + "  [target peak < 6 GiB]")
    print(f"  widths {[width for _, width, _, _ in result['results']]}, counts equal to the closed form: yes", flush=True)


def bench_1b(device: str, weights: str, label: str) -> None:
    """Figure 2: Llama-3.2-1B streamed against in memory, from the same weights."""
    model_id = "meta-llama/Llama-3.2-1B"
    in_memory = in_subprocess(model_id, "in-memory", device, weights)
    streamed = in_subprocess(model_id, "streaming", device, weights)
    assert in_memory["results"] == streamed["results"], "the two paths' records differ"
    print(f"{model_id} ({label}, levels {LEVELS}, {device}): records equal (widths, counts, kept-indices digests): yes")
    print("  " + describe("in-memory build", in_memory, device))
    print("  " + describe("streaming build", streamed, device))
    ratio = streamed["seconds"] / in_memory["seconds"]
    memory_ratio = streamed["peak_bytes"] / in_memory["peak_bytes"]
    print(f"  streaming / in-memory: time {ratio:.2f}x [target <= 1.5x], peak memory {memory_ratio:.2f}x", flush=True)


def make_checkpoint(directory: Path) -> None:
    """Llama-3.2-1B's architecture with random weights, saved by save_pretrained (bf16)."""
    import torch

    from glu_catalogue.generate.model import random_model
    from glu_catalogue.store.registry import get_model

    random_model(get_model("meta-llama/Llama-3.2-1B"), torch.bfloat16, "cpu", seed=0).save_pretrained(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--skip-70b", action="store_true", help="Only the Llama-3.2-1B comparison.")
    parser.add_argument("--skip-1b", action="store_true", help="Only the Llama-3.3-70B build.")
    parser.add_argument("--checkpoint", action="store_true", help="Also compare the two paths from a checkpoint on disk.")
    parser.add_argument("--workdir", type=Path, default=None, help="Where the checkpoint goes (default: a temporary directory).")
    options = parser.parse_args()
    if not options.skip_1b:
        bench_1b(options.device, "random", "random-init weights")
        if options.checkpoint:
            with tempfile.TemporaryDirectory(dir=options.workdir) as scratch:
                make_checkpoint(Path(scratch) / "llama-3.2-1b")
                bench_1b(options.device, str(Path(scratch) / "llama-3.2-1b"), "from a bf16 checkpoint on disk")
    if not options.skip_70b:
        bench_70b(options.device)


if __name__ == "__main__":
    main()

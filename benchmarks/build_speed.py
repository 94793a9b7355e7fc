"""The study's way against `catalogue build`, from the same checkpoint on disk, side by side.

The study's way: for each level, a fresh `from_pretrained` of the checkpoint and
`optipfair.prune_model(..., return_stats=True)` (its records carry optipfair's statistics, which
only `return_stats` produces). The catalogue's way: `generate.build_model` -- one load, every
level derived from it. Each runs in its own process, so each peak memory is its own, and each
process first warms up on a tiny checkpoint (CUDA context, transformers' loader): that one-time
start-up is neither way's work and is excluded from both timings.

    python benchmarks/build_speed.py                       # Llama-3.2-1B architecture, CPU
    python benchmarks/build_speed.py --models meta-llama/Llama-3.2-1B,meta-llama/Llama-3.2-3B --device cuda

Targets: the catalogue's way >= 10x faster than the study's on CPU (>= 20x on a GPU); its peak
memory <= 1.3x the bytes of one model (CPU: resident set above the process's baseline after
imports; GPU: CUDA bytes allocated).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LEVELS = [10, 20, 30, 40, 50, 60]


def make_checkpoint(model_id: str, directory: Path, device: str) -> None:
    """Random weights of the model's exact architecture, saved with save_pretrained (bf16)."""
    import torch

    from glu_catalogue.generate.model import random_model
    from glu_catalogue.store.registry import get_model

    model = random_model(get_model(model_id), torch.bfloat16, "cpu", seed=0)
    model.save_pretrained(directory)


def make_warmup_checkpoint(directory: Path) -> None:
    """A tiny Llama checkpoint each timed process loads once before its clock starts."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=4, vocab_size=64)
    LlamaForCausalLM(config).save_pretrained(directory)


def warm_up(device: str, warmup: Path) -> None:
    """Create the CUDA context and run transformers' loader once, outside the timings."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(warmup, dtype=torch.bfloat16, device_map=device)
    del model
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


def study_way(model_id: str, directory: Path, device: str) -> dict:
    """A fresh load and optipfair.prune_model per level, as the study's notebook did."""
    import optipfair
    import torch
    from transformers import AutoModelForCausalLM

    from glu_catalogue.generate import memory

    warm_up(device, directory.parent / "warmup")

    baseline = memory.current_bytes(device)
    memory.reset_peak(device)
    started = time.perf_counter()
    counts = {}
    for level in LEVELS:
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.bfloat16, device_map=device)
        pruned, stats = optipfair.prune_model(
            model, pruning_type="MLP_GLU", neuron_selection_method="MAW", pruning_percentage=level, show_progress=False, return_stats=True
        )
        counts[level] = stats["pruned_parameters"]
        del model, pruned
        if device == "cuda":
            torch.cuda.empty_cache()
    return {"seconds": time.perf_counter() - started, "peak_bytes": memory.peak_bytes(device), "baseline_bytes": baseline, "counts": counts}


def catalogue_way(model_id: str, directory: Path, device: str) -> dict:
    """One load, every level derived from it (what `catalogue build --weights MODEL=DIR` runs)."""
    import transformers  # noqa: F401 - import cost outside the timing, as for the study's way

    from glu_catalogue.generate import memory
    from glu_catalogue.generate import model as generate
    from glu_catalogue.generate.weights import WeightsSource
    from glu_catalogue.store.registry import get_model

    warm_up(device, directory.parent / "warmup")
    baseline = memory.current_bytes(device)
    started = time.perf_counter()
    build = generate.build_model(
        get_model(model_id),
        LEVELS,
        WeightsSource(kind="checkpoint", location=str(directory)),
        generate.BuildSettings(method="MAW", device=device, dtype="bf16"),
    )
    return {
        "seconds": time.perf_counter() - started,
        "peak_bytes": build.peak_memory_bytes,
        "baseline_bytes": baseline,
        "model_bytes": build.model_bytes,
        "counts": {r.pruning_pct: r.pruned_architecture.total_parameters for r in build.records},
    }


def in_subprocess(function: str, *args: str) -> dict:
    code = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import build_speed as b; from pathlib import Path; "
        f"print(json.dumps(b.{function}({', '.join(repr(a) for a in args[:1])}, Path({args[1]!r}), {args[2]!r})))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(f"{function} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="meta-llama/Llama-3.2-1B")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--workdir", type=Path, default=None, help="Where the checkpoints go (default: a temporary directory).")
    options = parser.parse_args()
    import torch

    device = ("cuda" if torch.cuda.is_available() else "cpu") if options.device == "auto" else options.device
    with tempfile.TemporaryDirectory(dir=options.workdir) as scratch:
        make_warmup_checkpoint(Path(scratch) / "warmup")
        for model_id in options.models.split(","):
            directory = Path(scratch) / model_id.replace("/", "__")
            started = time.perf_counter()
            make_checkpoint(model_id, directory, device)
            size = sum(f.stat().st_size for f in directory.iterdir())
            print(f"{model_id}: checkpoint of random bf16 weights, {size / 2**30:.2f} GiB, written in {time.perf_counter() - started:.0f} s")
            study = in_subprocess("study_way", model_id, str(directory), device)
            ours = in_subprocess("catalogue_way", model_id, str(directory), device)
            assert {int(k): v for k, v in study["counts"].items()} == {int(k): v for k, v in ours["counts"].items()}, "counts differ"
            model_bytes = ours["model_bytes"]

            def net(run: dict, device: str = device) -> int:
                return run["peak_bytes"] - (run["baseline_bytes"] if device == "cpu" else 0)

            print(f"  device {device}, levels {LEVELS}, counts equal: yes")
            print(
                f"  study's way (fresh load + optipfair.prune_model per level): {study['seconds']:.1f} s, peak {net(study) / 2**30:.2f} GiB "
                f"({net(study) / model_bytes:.2f}x model)"
            )
            print(
                f"  catalogue build (one load, levels derived):               {ours['seconds']:.1f} s, peak {net(ours) / 2**30:.2f} GiB "
                f"({net(ours) / model_bytes:.2f}x model)"
            )
            print(
                f"  speed-up: {study['seconds'] / ours['seconds']:.1f}x  [target >= {20 if device == 'cuda' else 10}x]; model bytes "
                f"{model_bytes / 2**30:.2f} GiB  [target peak <= 1.3x]",
                flush=True,
            )


if __name__ == "__main__":
    main()

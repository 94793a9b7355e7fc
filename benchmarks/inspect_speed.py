"""How long `catalogue inspect` takes on sharded checkpoints of the Llama-3.2-3B architecture.

Writes checkpoints of the real Llama-3.2-3B architecture (the registry's config) with random
weights, in 2 GB shards with a ``model.safetensors.index.json``, one case at a time:

* ``bf16-0``:  unpruned, bfloat16 (what the hub distributes): 6.4 GB;
* ``bf16-60``: pruned by 60 % (every MLP 3277 wide), bfloat16: 3.9 GB;
* ``f32-0``:   unpruned, float32: 12.9 GB.

Same tensors, same names, weights of very different sizes. For each it times ``python -m
catalogue inspect DIR --format json`` as a whole process (median of ``--runs``) and
``inspect_checkpoint`` in this process (median of ``--in-process-runs``), and counts the bytes the inspection reads
(``rchar`` of ``/proc/self/io``). Target: under 0.5 s as a process, flat in the weights' size;
torch is never imported by `catalogue inspect`. Each checkpoint is deleted before the next is
written, so the disk needs room for the largest one only (``--cases`` picks fewer).

Tensor names and shapes come from a ``LlamaForCausalLM`` built on the meta device, as
``save_pretrained`` writes them (a tied LM head is not saved); the inspection's total must equal
that model's ``sum(p.numel() for p in model.parameters())``.

    python benchmarks/inspect_speed.py [--cases bf16-0,bf16-60,f32-0] [--runs 7] [--in-process-runs 50] [--scratch DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from glu_catalogue.checkpoints.inspect import inspect_checkpoint
from glu_catalogue.core import formulas
from glu_catalogue.store.registry import get_model

MODEL_ID = "meta-llama/Llama-3.2-3B"
CASES = {"bf16-0": ("bfloat16", 0), "bf16-60": ("bfloat16", 60), "f32-0": ("float32", 0)}
MAX_SHARD_BYTES = 2_000_000_000


def meta_model(intermediate_size: int):
    """The transformers model of the registry's Llama-3.2-3B config at ``intermediate_size``, on the meta device."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    values = dict(get_model(MODEL_ID).config)
    model_type = values.pop("model_type")
    values["intermediate_size"] = intermediate_size
    config = AutoConfig.for_model(model_type, **values)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


def write_checkpoint(directory: Path, dtype_name: str, pruning_pct: int, seed: int = 0) -> int:
    """A sharded checkpoint with random weights; returns the parameters of the model it describes."""
    import torch
    from safetensors.torch import save_file

    entry = get_model(MODEL_ID)
    kept = formulas.kept_neurons(entry.architecture.intermediate_size, pruning_pct)
    model = meta_model(kept)
    dtype = getattr(torch, dtype_name)
    model.config.dtype = dtype
    state = model.state_dict()
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight")  # save_pretrained writes a tied head once, as the embedding
    shards: list[list[str]] = [[]]
    shard_bytes = 0
    element_bytes = torch.tensor([], dtype=dtype).element_size()
    for name, tensor in state.items():
        size = tensor.numel() * element_bytes
        if shards[-1] and shard_bytes + size > MAX_SHARD_BYTES:
            shards.append([])
            shard_bytes = 0
        shards[-1].append(name)
        shard_bytes += size
    directory.mkdir(parents=True)
    model.config.save_pretrained(directory)
    generator = torch.Generator().manual_seed(seed)
    weight_map: dict[str, str] = {}
    total_bytes = 0
    for number, names in enumerate(shards, start=1):
        file_name = f"model-{number:05d}-of-{len(shards):05d}.safetensors"
        tensors = {name: torch.randn(state[name].shape, generator=generator, dtype=dtype) for name in names}
        save_file(tensors, directory / file_name, metadata={"format": "pt"})
        total_bytes += sum(tensor.numel() * element_bytes for tensor in tensors.values())
        weight_map.update(dict.fromkeys(names, file_name))
        del tensors
    n_parameters = sum(parameter.numel() for parameter in model.parameters())
    index = {"metadata": {"total_parameters": n_parameters, "total_size": total_bytes}, "weight_map": weight_map}
    (directory / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    return n_parameters


def time_process(directory: Path, runs: int) -> list[float]:
    """Wall seconds of each ``python -m catalogue inspect DIR --format json`` (exit 0 required)."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        completed = subprocess.run([sys.executable, "-m", "glu_catalogue", "inspect", str(directory), "--format", "json"], capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        if completed.returncode != 0:
            sys.exit(f"`catalogue inspect {directory}` exited {completed.returncode}:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    return seconds


def bytes_read() -> int | None:
    """Bytes this process has read through read() calls so far (Linux), else None."""
    try:
        lines = Path("/proc/self/io").read_text().splitlines()
    except OSError:
        return None
    return int(next(line for line in lines if line.startswith("rchar:")).split()[1])


def time_in_process(directory: Path, runs: int, n_parameters: int) -> tuple[list[float], int | None]:
    """Seconds of each ``inspect_checkpoint`` call here, and the bytes the last one read."""
    seconds, read = [], None
    for _ in range(runs):
        before = bytes_read()
        start = time.perf_counter()
        inspection = inspect_checkpoint(directory)
        seconds.append(time.perf_counter() - start)
        after = bytes_read()
        read = after - before if before is not None and after is not None else None
        if not inspection.ok or inspection.total_parameters != n_parameters:
            sys.exit(f"{directory}: unexpected inspection: {inspection.total_parameters} != {n_parameters} or {inspection.report.problems}")
    return seconds, read


def torch_imported(directory: Path) -> bool:
    """True if ``catalogue inspect`` imports torch, transformers or safetensors."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "glu_catalogue", "inspect", str(directory), "--format", "json"], capture_output=True, text=True
    )
    modules = {line.split("|")[-1].strip().split(".")[0] for line in completed.stderr.splitlines() if line.startswith("import time:")}
    return bool(modules & {"torch", "transformers", "safetensors"})


def describe(seconds: list[float]) -> str:
    """Median, min and max of ``seconds``, with the number of runs."""
    return f"median {statistics.median(seconds):.4f} s (min {min(seconds):.4f}, max {max(seconds):.4f}, {len(seconds)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from {', '.join(CASES)}")
    parser.add_argument("--runs", type=int, default=7, help="process runs per checkpoint")
    parser.add_argument("--in-process-runs", type=int, default=50, help="in-process runs (milliseconds each: many, for a stable median)")
    parser.add_argument("--scratch", type=Path, default=None, help="where to write the checkpoints (default: a temporary directory)")
    options = parser.parse_args()

    names = [name.strip() for name in options.cases.split(",") if name.strip()]
    unknown = [name for name in names if name not in CASES]
    if unknown:
        sys.exit(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    rows = []
    with tempfile.TemporaryDirectory(dir=options.scratch) as scratch:
        for name in names:
            dtype_name, pruning_pct = CASES[name]
            directory = Path(scratch) / name
            start = time.perf_counter()
            n_parameters = write_checkpoint(directory, dtype_name, pruning_pct)
            os.sync()  # flush the written gigabytes first: their write-back would slow whatever runs next
            written_s = time.perf_counter() - start
            files = sorted(directory.glob("*.safetensors"))
            disk_bytes = sum(path.stat().st_blocks * 512 for path in files)
            process = time_process(directory, options.runs)
            in_process, read = time_in_process(directory, options.in_process_runs, n_parameters)
            print(
                f"{name}: {MODEL_ID} at {pruning_pct} % in {dtype_name}, {n_parameters:,} parameters, "
                f"{len(files)} shards, {disk_bytes / 1e9:.2f} GB on disk (written in {written_s:.0f} s)"
            )
            print(f"  catalogue inspect (process):  {describe(process)}  [target < 0.5 s]")
            print(f"  inspect_checkpoint (in-process): {describe(in_process)}; read {read if read is not None else '?'} bytes")
            if name == names[0]:
                print(f"  torch imported by `catalogue inspect`: {torch_imported(directory)}  [target: False]")
            rows.append((name, disk_bytes, min(process), min(in_process)))
            shutil.rmtree(directory)
    if len(rows) > 1:
        smallest, largest = min(rows, key=lambda row: row[1]), max(rows, key=lambda row: row[1])
        # The fastest run of each is the least disturbed by other work on the machine (as timeit advises).
        print(
            f"weights x{largest[1] / smallest[1]:.1f} ({smallest[0]} -> {largest[0]}): fastest process run "
            f"x{largest[2] / smallest[2]:.2f}, fastest in-process run x{largest[3] / smallest[3]:.2f}"
        )


if __name__ == "__main__":
    main()

"""Timing one pruned model: prefill, decoding at several batch sizes, peak memory, energy when asked.

Prompts are synthetic: token ids drawn from a generator seeded by ``BenchSettings.prompt_seed``
(no data set), the same for every level, so levels differ only in the model. Each workload runs
``warmup_runs`` times untimed, then ``repeats`` timed runs; the device is synchronised around
every timed region (``torch.cuda.synchronize`` on a GPU).

* prefill: one forward pass over ``batch 1 x P`` tokens, the last position's logits only (what
  generation needs), no cache kept;
* decode: the prompt's forward pass gives the first token (time to first token), then
  ``new_tokens - 1`` greedy steps with the key-value cache, one token per prompt per step.

Peak memory is CUDA's maximum allocated on a GPU, else the process's peak resident set
(``VmHWM``, reset before the level's runs): the weights, the cache and the activations. Energy
comes from codecarbon's offline tracker around each decode workload's timed runs, when asked
and installed. Figures are handed back as the bench file's workloads (``catalogue_bench``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import torch

from ..generate import memory
from .settings import BenchSettings

#: A workload's energy when codecarbon was not asked for.
ENERGY_NOT_MEASURED = None


@dataclass
class LevelTimings:
    """One level's bench figures, in the bench file's layout."""

    workloads: list[dict[str, Any]] = field(default_factory=list)
    memory_peak_bytes: int = 0
    memory_measured_as: str = ""


def synthetic_prompts(vocab_size: int, batch: int, length: int, seed: int, device: str) -> torch.Tensor:
    """``batch x length`` token ids, uniform over the vocabulary, from a generator seeded by ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab_size, (batch, length), generator=generator).to(device)


def bench_level(model: torch.nn.Module, settings: BenchSettings, device: str, on_workload: Callable[[str], None] = lambda name: None) -> LevelTimings:
    """Every workload of ``settings`` on ``model``, timed; peak memory over them all."""
    vocab = int(model.config.vocab_size)
    timings = LevelTimings(memory_measured_as="CUDA maximum allocated" if device.startswith("cuda") else "process peak resident set (VmHWM)")
    memory.reset_peak(device)
    with torch.inference_mode():
        for length in settings.prompt_tokens:
            prompt = synthetic_prompts(vocab, 1, length, settings.prompt_seed, device)
            runs = _repeat(settings, device, lambda prompt=prompt: {"prefill_s": _prefill(model, prompt, device)})
            timings.workloads.append(_workload(f"prefill-{length}", "prefill", 1, length, 0, runs, settings))
            on_workload(f"prefill-{length}")
        for batch in settings.batch_sizes:
            prompt = synthetic_prompts(vocab, batch, settings.decode_prompt_tokens, settings.prompt_seed, device)

            def run(prompt=prompt):  # this batch's prompt, bound now
                return _decode(model, prompt, settings.new_tokens, device)

            for _ in range(settings.warmup_runs):
                run()

            def timed(run=run):
                return [run() for _ in range(settings.repeats)]

            energy, runs = _with_energy(settings, device, timed, batch * settings.new_tokens * settings.repeats)  # warm-up runs not metered
            workload = _workload(f"decode-b{batch}", "decode", batch, settings.decode_prompt_tokens, settings.new_tokens, runs, settings)
            workload["energy"] = energy
            timings.workloads.append(workload)
            on_workload(f"decode-b{batch}")
    timings.memory_peak_bytes = memory.peak_bytes(device)
    return timings


def _workload(name: str, kind: str, batch: int, prompt: int, new: int, runs: list[dict], settings: BenchSettings) -> dict[str, Any]:
    return {"name": name, "kind": kind, "batch_size": batch, "prompt_tokens": prompt, "new_tokens": new, "seeds": [settings.prompt_seed], "runs": runs}


def _repeat(settings: BenchSettings, device: str, run: Callable[[], dict[str, float]]) -> list[dict[str, float]]:
    for _ in range(settings.warmup_runs):
        run()
    return [run() for _ in range(settings.repeats)]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _forward(model: torch.nn.Module, input_ids: torch.Tensor, **options: Any) -> Any:
    """The model's forward pass, computing the last position's logits only."""
    return model(input_ids=input_ids, logits_to_keep=1, **options)


def _prefill(model: torch.nn.Module, prompt: torch.Tensor, device: str) -> float:
    _sync(device)
    started = time.perf_counter()
    _forward(model, prompt, use_cache=False)
    _sync(device)
    return time.perf_counter() - started


def _decode(model: torch.nn.Module, prompt: torch.Tensor, new_tokens: int, device: str) -> dict[str, float]:
    """Seconds to the first token, and for the other ``new_tokens - 1``, greedy with the key-value cache."""
    _sync(device)
    started = time.perf_counter()
    output = _forward(model, prompt, use_cache=True)
    token = output.logits[:, -1].argmax(dim=-1, keepdim=True)
    _sync(device)
    first = time.perf_counter()
    cache_name = _cache_argument(model)
    cache = getattr(output, cache_name)
    for _ in range(new_tokens - 1):
        output = _forward(model, token, use_cache=True, **{cache_name: cache})
        cache = getattr(output, cache_name)
        token = output.logits[:, -1].argmax(dim=-1, keepdim=True)
    _sync(device)
    return {"prefill_s": first - started, "decode_s": time.perf_counter() - first}


def _cache_argument(model: torch.nn.Module) -> str:
    """The key-value cache's name in the forward pass: ``cache`` (transformers >= 5.20), else ``past_key_values``."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _with_energy(settings: BenchSettings, device: str, work: Callable[[], list], tokens: int) -> tuple[dict[str, Any] | None, list]:
    """``work()``'s result, and the energy codecarbon measured over it (None when not asked)."""
    if not settings.energy:
        return ENERGY_NOT_MEASURED, work()
    from codecarbon import OfflineEmissionsTracker

    tracker = OfflineEmissionsTracker(  # output_methods=[]: it writes no emissions.csv (its save_to_* flags are deprecated)
        country_iso_code="USA", output_methods=[], log_level="error", measure_power_secs=1, tracking_mode="process", project_name="catalogue-bench"
    )
    tracker.start()
    try:
        result = work()
    finally:
        tracker.stop()
    data = tracker.final_emissions_data
    # codecarbon's CPU power source (intel_rapl: measured; cpu_load or constant: estimated from the CPU's TDP); private, so read softly
    sources = sorted({str(getattr(part, "_mode", "unknown")) for part in getattr(tracker, "_hardware", []) if type(part).__name__ == "CPU"})
    meter = {
        "tool": "codecarbon",
        "version": metadata.version("codecarbon"),
        "mode": f"offline, tracking_mode process, cpu: {data.cpu_model}, cpu power from: {', '.join(sources) or 'unknown'}",
        "idle_power_w": None,
        "device": device,
    }
    return {"kwh": float(data.energy_consumed), "tokens": tokens, "meter": meter}, result

"""What ``catalogue bench`` runs for every level, and what ``catalogue evaluate`` asks lm-eval (stdlib)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BenchSettings:
    """What ``catalogue bench`` runs for every level (the defaults take about a minute per level of a 1B model on 2 CPU cores)."""

    prompt_tokens: tuple[int, ...] = (64, 256)
    decode_prompt_tokens: int = 32
    new_tokens: int = 16
    batch_sizes: tuple[int, ...] = (1, 8)
    warmup_runs: int = 1
    repeats: int = 3
    prompt_seed: int = 0
    energy: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The settings as the bench file and the inputs digest hold them."""
        return {
            "prompt_tokens": list(self.prompt_tokens),
            "decode_prompt_tokens": self.decode_prompt_tokens,
            "new_tokens": self.new_tokens,
            "batch_sizes": list(self.batch_sizes),
            "warmup_runs": self.warmup_runs,
            "repeats": self.repeats,
            "prompt_seed": self.prompt_seed,
            "energy": self.energy,
        }


@dataclass(frozen=True)
class EvaluateSettings:
    """What ``catalogue evaluate`` asks lm-evaluation-harness for every level."""

    tasks: tuple[str, ...]
    include_path: Path | None = None
    num_fewshot: int | None = None
    limit: float | None = None
    batch_size: int = 1
    tokenizer: str | None = None
    seed: int | None = None  # all four of lm-eval's seeds (random, numpy, torch, few-shot); None: lm-eval's defaults

    def asked(self, task: str) -> dict[str, Any]:
        """What one task's evaluation was asked to do, for the inputs digest (batch size does not change a score)."""
        return {"task": task, "num_fewshot": self.num_fewshot, "limit": self.limit, "seed": self.seed}

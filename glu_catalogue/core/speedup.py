"""Decode speed-up of each pruned level over its baseline, beside the bound weight bytes set (stdlib).

At batch 1, decoding reads every weight once per token and little else: it is memory-bound, so
a level cannot decode faster than its baseline by more than the baseline's weight bytes over its
own. ``speedups`` pairs each level's measured decode tokens/s (``catalogue bench``'s
``decode-b1``) with its baseline's (the same model at 0 %, measured the same way: same machine,
settings and dtype), and gives both ratios.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..core.outcome_records import EfficiencyOutcome

#: The workload whose speed-up the bound applies to.
BOUND_WORKLOAD = "decode-b1"


@dataclass(frozen=True)
class Speedup:
    """One level's decode speed-up at batch 1, measured and bound by weight bytes."""

    record: str
    base_model: str
    pruning_pct: int
    decode_tokens_per_s: float
    baseline_tokens_per_s: float
    weights_bytes: int
    baseline_weights_bytes: int
    machine: str  # the machine both were measured on (``Measurement.machine``)
    device: str
    dtype: str

    @property
    def measured(self) -> float:
        """Decode tokens/s over the baseline's."""
        return self.decode_tokens_per_s / self.baseline_tokens_per_s

    @property
    def bound(self) -> float:
        """The baseline's weight bytes over this level's: the speed-up a memory-bound decoder can reach."""
        return self.baseline_weights_bytes / self.weights_bytes


def speedups(outcomes: Iterable) -> list[Speedup]:
    """Every bench-measured level with a baseline measured the same way (machine, device, dtype, tokens generated), by model and level."""
    decode: dict[tuple, EfficiencyOutcome] = {}
    weights: dict[tuple, EfficiencyOutcome] = {}
    for outcome in outcomes:
        if not isinstance(outcome, EfficiencyOutcome) or outcome.measurement is None or outcome.measurement.tool != "catalogue bench":
            continue
        how = (outcome.measurement.machine, outcome.measurement.device, outcome.measurement.dtype)
        if outcome.workload.name == BOUND_WORKLOAD and outcome.quantity == "decode_tokens_per_s":
            decode[(outcome.base_model, outcome.pruning_pct, *how, outcome.workload.max_new_tokens)] = outcome
        elif outcome.quantity == "weights_bytes":
            weights[(outcome.base_model, outcome.pruning_pct, *how)] = outcome
    found = []
    for key, outcome in sorted(decode.items(), key=lambda item: (item[0][0], item[0][1])):
        model, _pct, *how, tokens = key
        baseline = decode.get((model, 0, *how, tokens))
        size, baseline_size = weights.get(key[:-1]), weights.get((model, 0, *how))
        if baseline is None or size is None or baseline_size is None:
            continue
        found.append(Speedup(outcome.record, model, outcome.pruning_pct, outcome.value, baseline.value, int(size.value), int(baseline_size.value), *how))
    return found

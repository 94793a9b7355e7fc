"""The expansion-ratio planner: what pruning gives a model a target MLP, and what it costs.

Answers, for any registry model and without building it, what optipfair 0.4.2 would do with

* ``prune_model(model, expansion_rate=R, pruning_percentage=None, expansion_divisor=D)``
  (``plan_for_ratio``: a target expansion ratio, R = ratio x 100), or
* ``prune_model(model, pruning_percentage=P, expansion_divisor=D)`` (``plan_for_pct``):

the pruning percentage optipfair derives, the MLP width it keeps, the ratio reached, the
parameter count and the reduction. Every number comes from ``glu_catalogue.core.formulas``, which
repeats optipfair's float operations, so the prediction is exact (``tests/planning/test_planner.py``
prunes tiny models with optipfair and compares). Standard library, formulas and registry only.

A model the target does not fit gets a row with a ``status`` and a ``note`` instead of
numbers, so that one model never stops the answer for the others.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from ..core import formulas, plan_notes
from ..core.plan_notes import NOTE_TEMPLATES, Status
from ..core.plan_notes import pruned_status as _status
from ..store.registry import ModelEntry


@dataclass(frozen=True)
class PlanRow:
    """One model's answer to a planning question.

    Sizes are counts; ``*_pct`` are 0-100; ``*expansion_ratio`` are factors (2.4). The
    ``pruning_pct`` is the unrounded float optipfair computes (``39.99999999999999`` happens);
    display code rounds it. Fields after ``pruning_pct`` are None when ``status`` is
    ``below-target``, ``refused`` or ``not-prunable``.
    """

    model_id: str
    family: str
    size_label: str
    hidden_size: int
    original_intermediate_size: int
    original_expansion_ratio: float
    original_total_parameters: int
    target_expansion_ratio: float | None
    expansion_divisor: int | None
    status: Status
    note: str | None
    pruning_pct: float | None
    intermediate_size: int | None
    expansion_ratio: float | None
    total_parameters: int | None
    parameters_saved: int | None
    parameter_reduction_pct: float | None
    expansion_reduction_pct: float | None

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready dict, fields in declaration order."""
        return asdict(self)


def plan_for_ratio(entry: ModelEntry, ratio: float | str | Decimal, divisor: int | None = None) -> PlanRow:
    """What ``prune_model(expansion_rate=ratio*100, expansion_divisor=divisor)`` does to ``entry``.

    ``ratio`` is a factor (2.4 = a 2.4x MLP); pass the text a person typed to keep its exact
    decimal value. Raises ``formulas.PruningError`` for a divisor optipfair does not accept.
    """
    _check_divisor(divisor)
    rate_pct = formulas.expansion_rate_pct_for_ratio(ratio)
    if entry.not_prunable:
        return _row(entry, formulas.ratio_from_rate_pct(rate_pct), divisor, "not-prunable", plan_notes.not_prunable_note(entry))
    architecture = entry.architecture
    try:
        pct = formulas.pruning_pct_for_expansion_rate(architecture.intermediate_size, architecture.hidden_size, rate_pct)
    except formulas.PruningError:
        note = NOTE_TEMPLATES["below-target"].format(
            baseline_ratio=formulas.expansion_ratio(architecture.intermediate_size, architecture.hidden_size),
            intermediate_size=architecture.intermediate_size,
            hidden_size=architecture.hidden_size,
            target_ratio=formulas.ratio_from_rate_pct(rate_pct),
        )
        return _row(entry, formulas.ratio_from_rate_pct(rate_pct), divisor, "below-target", note)
    return _pruned_row(entry, pct, formulas.ratio_from_rate_pct(rate_pct), divisor)


def plan_for_pct(entry: ModelEntry, pruning_pct: float, divisor: int | None = None) -> PlanRow:
    """What ``prune_model(pruning_percentage=pruning_pct, expansion_divisor=divisor)`` does to ``entry``.

    Raises ``formulas.PruningError`` for a divisor optipfair does not accept.
    """
    _check_divisor(divisor)
    if entry.not_prunable:
        return _row(entry, None, divisor, "not-prunable", plan_notes.not_prunable_note(entry), pruning_pct)
    return _pruned_row(entry, pruning_pct, None, divisor)


def plan(
    entries: list[ModelEntry], *, ratio: float | str | Decimal | None = None, pruning_pct: float | None = None, divisor: int | None = None
) -> list[PlanRow]:
    """One row per entry, for exactly one of ``ratio`` (a factor) or ``pruning_pct`` (0-100)."""
    if (ratio is None) == (pruning_pct is None):
        raise ValueError("give exactly one of ratio or pruning_pct")
    if ratio is not None:
        return [plan_for_ratio(entry, ratio, divisor) for entry in entries]
    return [plan_for_pct(entry, pruning_pct, divisor) for entry in entries]


def _check_divisor(divisor: int | None) -> None:
    if divisor is not None and divisor not in formulas.EXPANSION_DIVISORS:
        raise formulas.PruningError(f"expansion_divisor must be one of {list(formulas.EXPANSION_DIVISORS)} or None, got {divisor}")


def pruned_status(entry: ModelEntry) -> tuple[Status, str | None]:
    """The status and note of ``entry``'s rows that optipfair prunes: ``ok``, or ``fused-mlp`` with its note."""
    return _status(entry.architecture_facts.fused_gate_up)


def _pruned_row(entry: ModelEntry, pct: float, target: float | None, divisor: int | None) -> PlanRow:
    architecture = entry.architecture
    try:
        kept = formulas.kept_neurons(architecture.intermediate_size, pct, divisor)
    except formulas.PruningError as error:
        return _row(entry, target, divisor, "refused", NOTE_TEMPLATES["refused"].format(error=error), pct)
    original_total = formulas.total_parameters(architecture)
    pruned_total = formulas.total_parameters(architecture, kept)
    return _row(
        entry,
        target,
        divisor,
        *pruned_status(entry),
        pct,
        intermediate_size=kept,
        expansion_ratio=formulas.expansion_ratio(kept, architecture.hidden_size),
        total_parameters=pruned_total,
        parameters_saved=original_total - pruned_total,
        parameter_reduction_pct=formulas.reduction_pct(original_total, pruned_total),
        expansion_reduction_pct=formulas.reduction_pct(architecture.intermediate_size, kept),
    )


def _row(entry: ModelEntry, target: float | None, divisor: int | None, status: Status, note: str | None, pct: float | None = None, **outcome: Any) -> PlanRow:
    architecture = entry.architecture
    empty = dict.fromkeys(
        ("intermediate_size", "expansion_ratio", "total_parameters", "parameters_saved", "parameter_reduction_pct", "expansion_reduction_pct")
    )
    return PlanRow(
        model_id=entry.model_id,
        family=entry.family,
        size_label=entry.size_label,
        hidden_size=architecture.hidden_size,
        original_intermediate_size=architecture.intermediate_size,
        original_expansion_ratio=formulas.expansion_ratio(architecture.intermediate_size, architecture.hidden_size),
        original_total_parameters=formulas.total_parameters(architecture),
        target_expansion_ratio=target,
        expansion_divisor=divisor,
        status=status,
        note=note,
        pruning_pct=pct,
        **{**empty, **outcome},
    )

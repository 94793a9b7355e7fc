"""Models compared at equal expansion ratio (or pruning %): each level's value beside its own baseline's.

Pure functions of the stored outcomes and the records. A model's **level at a ratio R** is its
successful record whose pruned ``intermediate_size / hidden_size`` (optipfair's ratio reached,
exact) lies within ``tolerance`` of R; the nearest such record when several do. Nothing is
interpolated: a model with no level there gets a row saying so, with the levels it has.

A value and its baseline (the same model at 0 %) are paired when they were measured the same way:
the same file (the study's JSON, or its CSV), or the same ``catalogue evaluate``/``bench`` run
settings (tool, machine, device, dtype, weights); rows of two files that agree to the precision
both write become one row naming both files. The change is ``value - baseline`` and, where the
baseline is not 0, ``100 * change / baseline`` (%).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .formulas import DEFAULT_RATIO_TOLERANCE, expansion_ratio
from .outcome_records import EfficiencyOutcome, ScoreOutcome
from .records import ExpansionRecord, successful_by_key

Outcome = ScoreOutcome | EfficiencyOutcome


@dataclass(frozen=True)
class Compared:
    """One model's value at the level compared, beside its baseline's; or why there is none (``note``)."""

    kind: Literal["score", "efficiency"]
    task: str
    measure: str
    filter: str | None
    base_model: str
    record: str | None = None
    pruning_pct: int | None = None
    expansion_ratio: float | None = None
    value: float | None = None
    spread: float | None = None
    baseline_record: str | None = None
    baseline_value: float | None = None
    baseline_spread: float | None = None
    spread_kind: str | None = None
    sources: tuple[str, ...] = ()
    note: str | None = None

    @property
    def change(self) -> float | None:
        """``value - baseline_value`` (None without both)."""
        return None if self.value is None or self.baseline_value is None else self.value - self.baseline_value

    @property
    def change_pct(self) -> float | None:
        """The change as % of the baseline (None without both, or for a baseline of 0)."""
        change = self.change
        return None if change is None or self.baseline_value == 0 else 100 * change / self.baseline_value

    def as_dict(self) -> dict:
        """The row as plain JSON-ready values, the change included."""
        return {
            "kind": self.kind,
            "task": self.task,
            "measure": self.measure,
            "filter": self.filter,
            "base_model": self.base_model,
            "record": self.record,
            "pruning_pct": self.pruning_pct,
            "expansion_ratio": self.expansion_ratio,
            "value": self.value,
            "spread": self.spread,
            "baseline_record": self.baseline_record,
            "baseline_value": self.baseline_value,
            "baseline_spread": self.baseline_spread,
            "spread_kind": self.spread_kind,
            "change": self.change,
            "change_pct": self.change_pct,
            "sources": list(self.sources),
            "note": self.note,
        }


@dataclass(frozen=True)
class Comparison:
    """What was asked (a ratio and its tolerance, or a pruning %) and a row per measure and model."""

    ratio: float | None
    tolerance: float
    pruning_pct: int | None
    rows: tuple[Compared, ...] = field(default_factory=tuple)


def measure_key(outcome: Outcome) -> tuple[str, str, str, str | None]:
    """(kind, task or workload, metric or quantity, filter): one measure, a row group of a comparison."""
    if isinstance(outcome, ScoreOutcome):
        return ("score", outcome.task, outcome.metric, outcome.filter)
    return ("efficiency", outcome.workload.name, outcome.quantity, None)


def ways_of(outcome: Outcome) -> tuple[tuple, ...]:
    """How a value was measured, for pairing it with its baseline, most telling first: the run settings of the
    catalogue's own measurements (one file per level); else the very file, then the format and seeds of
    its runs (the study's per-run carbon files: one file per model and seeded run)."""
    how = outcome.measurement
    if how is not None:
        return (("measured", how.tool, how.machine, how.device, how.dtype, how.weights, how.weights_source),)
    seeds = tuple(outcome.runs.seeds) if isinstance(outcome, EfficiencyOutcome) and outcome.runs is not None else ()
    return (("file", outcome.source.sha256), ("format", outcome.source.format, seeds))


def spread_of(outcome: Outcome) -> tuple[float | None, str | None]:
    """A value's spread and its kind: lm-eval's ``stderr``, or the ``std`` of an efficiency value's runs."""
    if isinstance(outcome, ScoreOutcome):
        return outcome.stderr, "stderr" if outcome.stderr is not None else None
    std = outcome.runs.std if outcome.runs is not None else None
    return std, "std" if std is not None else None


def record_ratio(record: ExpansionRecord) -> float:
    """The record's pruned expansion ratio, exact: ``intermediate_size / hidden_size``."""
    block = record.pruned_architecture
    return expansion_ratio(block.intermediate_size, block.hidden_size)


def level_at(records: Sequence[ExpansionRecord], ratio: float, tolerance: float) -> ExpansionRecord | None:
    """The record of ``records`` nearest ``ratio`` within ``tolerance`` (a factor), or None."""
    near = [record for record in records if abs(record_ratio(record) - ratio) <= tolerance + 1e-12]
    return min(near, key=lambda record: (abs(record_ratio(record) - ratio), record.pruning_pct)) if near else None


def compare(
    outcomes: Iterable[Outcome],
    records: Iterable[ExpansionRecord],
    *,
    ratio: float | None = None,
    pruning_pct: int | None = None,
    tolerance: float = DEFAULT_RATIO_TOLERANCE,
    models: Sequence[str] = (),
) -> Comparison:
    """Each model's level at ``ratio`` (within ``tolerance``) or at ``pruning_pct``, per measure, beside its baseline.

    Exactly one of ``ratio`` and ``pruning_pct``; ``models`` (registry ids) keeps those models only.
    Rows are ordered by kind (scores first), task, measure, filter, then model.
    """
    if (ratio is None) == (pruning_pct is None):
        raise ValueError("give a ratio or a pruning %, not both")
    by_key = successful_by_key(records)
    levels: dict[str, list[ExpansionRecord]] = {}
    for (model_id, _), record in by_key.items():
        levels.setdefault(model_id, []).append(record)
    grouped: dict[tuple, dict[str, list[Outcome]]] = {}
    for outcome in outcomes:
        if (outcome.base_model, outcome.pruning_pct) not in by_key or (models and outcome.base_model not in models):
            continue
        grouped.setdefault(measure_key(outcome), {}).setdefault(outcome.base_model, []).append(outcome)
    rows: list[Compared] = []
    for key in sorted(grouped, key=lambda key: (key[0] != "score", key[1], key[2], key[3] or "")):
        for model_id in sorted(grouped[key]):
            model_levels = sorted(levels[model_id], key=lambda record: record.pruning_pct)
            if ratio is not None:
                level = level_at(model_levels, ratio, tolerance)
            else:
                level = next((record for record in model_levels if record.pruning_pct == pruning_pct), None)
            rows += _rows(key, model_id, level, grouped[key][model_id], ratio, tolerance, pruning_pct, model_levels)
    return Comparison(ratio, tolerance, pruning_pct, tuple(rows))


def _rows(key: tuple, model_id: str, level: ExpansionRecord | None, outcomes: list[Outcome], ratio, tolerance, pruning_pct, levels) -> list[Compared]:
    kind, task, measure, filter_ = key
    blank = Compared(kind, task, measure, filter_, model_id)
    measured = sorted({outcome.pruning_pct for outcome in outcomes})
    if level is None:
        where = f"within ±{tolerance:g} of {ratio:g}x" if ratio is not None else f"at {pruning_pct} %"
        near = [record for record in levels if record.pruning_pct in measured]
        if ratio is not None and near:
            nearest = min(near, key=lambda record: abs(record_ratio(record) - ratio))
            return [_with(blank, note=f"no level {where} (nearest measured: {record_ratio(nearest):.4f}x at {nearest.pruning_pct} %)")]
        return [_with(blank, note=f"no level {where} (measured at {', '.join(f'{pct} %' for pct in measured)})")]
    label = f"{model_id}@{level.pruning_pct}"
    at_level = [outcome for outcome in outcomes if outcome.pruning_pct == level.pruning_pct]
    base = {way: outcome for outcome in outcomes if outcome.pruning_pct == 0 for way in reversed(ways_of(outcome))}
    placed = _with(blank, record=label, pruning_pct=level.pruning_pct, expansion_ratio=record_ratio(level))
    if not at_level:
        return [_with(placed, note=f"no value of {label} (measured at {', '.join(f'{pct} %' for pct in measured)})")]
    found: list[Compared] = []
    for outcome in sorted(at_level, key=lambda outcome: outcome.source.path):
        baseline = next((base[way] for way in ways_of(outcome) if way in base), None)
        spread, spread_kind = spread_of(outcome)
        row = _with(placed, value=outcome.value, spread=spread, spread_kind=spread_kind, sources=(outcome.source.path,))
        if baseline is None:
            row = _with(row, note=f"no baseline measured the same way ({outcome.source.path} holds no value of {model_id}@0)")
        else:
            baseline_spread, _ = spread_of(baseline)
            row = _with(row, baseline_record=f"{model_id}@0", baseline_value=baseline.value, baseline_spread=baseline_spread)
            if baseline.source.path != outcome.source.path:
                row = _with(row, sources=(outcome.source.path, baseline.source.path))
        twin = next((index for index, other in enumerate(found) if _agree(other, row)), None)
        if twin is None:
            found.append(row)
        else:
            other = found[twin]
            keep = max((other, row), key=lambda item: (item.baseline_value is not None, _decimals(item.value)))
            found[twin] = _with(keep, sources=tuple(dict.fromkeys(other.sources + row.sources)))
    return found


def _with(row: Compared, **changes) -> Compared:
    return Compared(**{**row.__dict__, **changes})


def _agree(one: Compared, other: Compared) -> bool:
    """Two files' rows that give the same value and baseline, to the precision both write (a row without a
    baseline agrees with one that has it: the study's JSON whose baseline was left out, and its CSV)."""
    pairs = ((one.value, other.value), (one.baseline_value, other.baseline_value))
    for a, b in pairs:
        if a is None or b is None:
            continue
        if abs(a - b) > 0.5 * 10 ** -min(_decimals(a), _decimals(b)) + 1e-12:
            return False
    return True


def _decimals(value: float | None) -> int:
    """Decimals ``value`` is written with in its shortest repr (``7.37e-05``: 7), 0 for None."""
    if value is None:
        return 0
    exponent = decimal.Decimal(repr(float(value))).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def shared_ratios(outcomes: Iterable[Outcome], records: Iterable[ExpansionRecord], tolerance: float = DEFAULT_RATIO_TOLERANCE) -> list[tuple[float, list[str]]]:
    """The ratios (rounded to 2 decimals) where two or more models have a level with a score or efficiency value, with those levels.

    Largest first; each ``MODEL@PCT`` listed once.
    """
    by_key = successful_by_key(records)
    measured = {(outcome.base_model, outcome.pruning_pct) for outcome in outcomes if outcome.pruning_pct > 0}
    levels = sorted((round(record_ratio(by_key[key]), 2), f"{key[0]}@{key[1]}", key[0]) for key in measured if key in by_key)
    found: dict[float, dict[str, str]] = {}
    for ratio, label, model_id in levels:
        for anchor in list(found) + [ratio]:
            if abs(anchor - ratio) <= tolerance + 1e-12:
                found.setdefault(anchor, {}).setdefault(model_id, label)
                break
    return sorted(((ratio, sorted(labels.values())) for ratio, labels in found.items() if len(labels) >= 2), reverse=True)


def value_cell(value: float | None, spread: float | None = None) -> str:
    """A value for people, 5 significant digits, with its spread: ``0.2689``, ``929.43 ± 18.8``; empty for None."""
    if value is None:
        return ""
    return f"{value:.5g}" + (f" ± {spread:.3g}" if spread is not None else "")


def change_cell(change: float | None) -> str:
    """A change with its sign, 4 significant digits: ``-0.0422``; empty for None."""
    return "" if change is None else f"{change:+.4g}"


def pct_cell(change_pct: float | None) -> str:
    """A % change with its sign and one decimal, as the study writes it: ``-13.6 %``; empty for None."""
    return "" if change_pct is None else f"{change_pct:+.1f} %"

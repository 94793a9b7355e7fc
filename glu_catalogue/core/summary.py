"""The summary CSV (``expansion_rates_summary.csv``): its columns and how a record projects onto them.

The study's nine columns come first, in the study's order; the catalogue's columns follow. One
row per successful record, in the JSON's order. Display columns hold the record's rounded
values; the added ratio columns hold exact I / H; the count columns exact integers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .formulas import DISPLAY_DECIMALS, expansion_ratio
from .records import ExpansionRecord

Cell = str | int | float


@dataclass(frozen=True)
class Column:
    """One CSV column: its type, bounds and meaning (the pandera model and the Table Schema use it).

    ``kind`` is ``text``, ``integer``, ``display`` (a float rounded to ``DISPLAY_DECIMALS``) or
    ``exact`` (an unrounded float). Bounds: ``minimum <= value <= maximum``, ``value >
    exclusive_minimum``; ``min_length`` for text.
    """

    name: str
    kind: Literal["text", "integer", "display", "exact"]
    description: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    min_length: int | None = None


_ROUNDED = f", {DISPLAY_DECIMALS} decimals."

#: A display column may round to 0 (one neuron kept of a wide MLP is a 0.0x ratio); an exact one may not.
LEGACY_COLUMN_SPECS: tuple[Column, ...] = (
    Column("Model Family", "text", "Size label of the model, as the study writes it ('1B', '1B-Instruct', '3B').", min_length=1),
    Column("Pruning %", "integer", "optipfair pruning_percentage, 0-100.", minimum=0, maximum=100),
    Column("Original Expansion %", "display", "Unpruned intermediate_size / hidden_size x 100" + _ROUNDED, minimum=0),
    Column("Pruned Expansion %", "display", "Pruned intermediate_size / hidden_size x 100" + _ROUNDED, minimum=0),
    Column("Expansion Reduction %", "display", "MLP width removed, % of the unpruned width" + _ROUNDED, minimum=0, maximum=100),
    Column("Original Params (M)", "display", "Unpruned total parameters in millions" + _ROUNDED, minimum=0),
    Column("Pruned Params (M)", "display", "Pruned total parameters in millions" + _ROUNDED, minimum=0),
    Column("Param Reduction %", "display", "Parameters removed, % of the unpruned total" + _ROUNDED, minimum=0, maximum=100),
    Column("Params Saved (M)", "display", "Parameters removed, in millions" + _ROUNDED, minimum=0),
)

ADDED_COLUMN_SPECS: tuple[Column, ...] = (
    Column("Base Model", "text", "Registry id of the base model.", min_length=1),
    Column("Hidden Size", "integer", "hidden_size, H.", exclusive_minimum=0),
    Column("Original Intermediate Size", "integer", "Unpruned MLP width.", exclusive_minimum=0),
    Column("Pruned Intermediate Size", "integer", "MLP width optipfair keeps.", exclusive_minimum=0),
    Column("Original Expansion Ratio", "exact", "Unpruned intermediate_size / hidden_size, unrounded.", exclusive_minimum=0),
    Column("Pruned Expansion Ratio", "exact", "Pruned intermediate_size / hidden_size, unrounded: the study's independent variable.", exclusive_minimum=0),
    Column("Original Params", "integer", "Unpruned total parameters (tied embeddings once).", exclusive_minimum=0),
    Column("Pruned Params", "integer", "Pruned total parameters.", exclusive_minimum=0),
)

COLUMN_SPECS: dict[str, Column] = {column.name: column for column in LEGACY_COLUMN_SPECS + ADDED_COLUMN_SPECS}
LEGACY_COLUMNS: tuple[str, ...] = tuple(column.name for column in LEGACY_COLUMN_SPECS)
ADDED_COLUMNS: tuple[str, ...] = tuple(column.name for column in ADDED_COLUMN_SPECS)
COLUMNS: tuple[str, ...] = LEGACY_COLUMNS + ADDED_COLUMNS

#: Columns holding values rounded for display (compared after rounding, not exactly).
DISPLAY_COLUMNS = frozenset(name for name, column in COLUMN_SPECS.items() if column.kind == "display")
#: Columns holding exact floats.
EXACT_FLOAT_COLUMNS = frozenset(name for name, column in COLUMN_SPECS.items() if column.kind == "exact")
#: Columns holding text.
TEXT_COLUMNS = frozenset(name for name, column in COLUMN_SPECS.items() if column.kind == "text")


def summary_row(record: Mapping[str, Any], family: str) -> tuple[Cell, ...]:
    """The CSV row of a successful record given as a dict (the file's form, e.g. ``model_dump()``).

    Values in ``COLUMNS`` order; ``family`` is the 'Model Family' label (e.g. ``1B``).
    """
    original, pruned = record["original_architecture"], record["pruned_architecture"]
    reductions, stats = record["reductions"], record["optipfair_stats"]
    return (
        family,
        record["pruning_pct"],
        original["expansion_rate_percentage"],
        pruned["expansion_rate_percentage"],
        reductions["expansion_reduction_pct"],
        original["total_parameters_millions"],
        pruned["total_parameters_millions"],
        reductions["parameter_reduction_pct"],
        reductions["parameters_saved_millions"],
        record["base_model"],
        original["hidden_size"],
        original["intermediate_size"],
        pruned["intermediate_size"],
        expansion_ratio(original["intermediate_size"], original["hidden_size"]),
        expansion_ratio(pruned["intermediate_size"], pruned["hidden_size"]),
        stats["original_parameters"],
        stats["pruned_parameters"],
    )


def summary_rows(records: list[ExpansionRecord], family_of: Callable[[str], str]) -> list[tuple[Cell, ...]]:
    """The CSV rows of every successful record, in order (``family_of`` asked once per model)."""
    families = {model_id: family_of(model_id) for model_id in dict.fromkeys(record.base_model for record in records)}
    return [summary_row(record.model_dump(), families[record.base_model]) for record in records if record.status == "success"]

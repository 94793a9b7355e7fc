"""The pandera table schema of the summary CSV, checked a whole table at once.

Column order is enforced (the study's nine first, then the catalogue's); the catalogue's
columns are optional so the study's own CSV validates. Bounds come from
``summary.COLUMN_SPECS``, which the Table Schema in ``schemas/`` is generated from too. ``validate_summary`` runs the schema
lazily and returns every failure with its row, column, check and value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pandera.typing import Series

from .formulas import ROUNDING_ERROR, millions
from .summary import COLUMN_SPECS

#: Float noise on top of the rounding slack.
_NOISE = 1e-9
#: Slack of a value computed from display values: each carries up to ``ROUNDING_ERROR``.
_TWO_ROUNDINGS = 2 * ROUNDING_ERROR + _NOISE
_THREE_ROUNDINGS = 3 * ROUNDING_ERROR + _NOISE


def _field(name: str) -> Any:
    """A pandera Field with the bounds ``summary.COLUMN_SPECS`` gives the column ``name``."""
    spec = COLUMN_SPECS[name]
    bounds = {"ge": spec.minimum, "le": spec.maximum, "gt": spec.exclusive_minimum}
    if spec.min_length is not None:
        bounds["str_length"] = {"min_value": spec.min_length}
    return pa.Field(alias=name, **{key: value for key, value in bounds.items() if value is not None})


class SummaryFrame(pa.DataFrameModel):
    """One row per successful record of ``expansion_rates.json`` (columns: ``summary.COLUMN_SPECS``)."""

    model_family: Series[str] = _field("Model Family")
    pruning_pct: Series[int] = _field("Pruning %")
    original_expansion_pct: Series[float] = _field("Original Expansion %")
    pruned_expansion_pct: Series[float] = _field("Pruned Expansion %")
    expansion_reduction_pct: Series[float] = _field("Expansion Reduction %")
    original_params_millions: Series[float] = _field("Original Params (M)")
    pruned_params_millions: Series[float] = _field("Pruned Params (M)")
    param_reduction_pct: Series[float] = _field("Param Reduction %")
    params_saved_millions: Series[float] = _field("Params Saved (M)")
    base_model: Series[str] | None = _field("Base Model")
    hidden_size: Series[int] | None = _field("Hidden Size")
    original_intermediate_size: Series[int] | None = _field("Original Intermediate Size")
    pruned_intermediate_size: Series[int] | None = _field("Pruned Intermediate Size")
    original_expansion_ratio: Series[float] | None = _field("Original Expansion Ratio")
    pruned_expansion_ratio: Series[float] | None = _field("Pruned Expansion Ratio")
    original_params: Series[int] | None = _field("Original Params")
    pruned_params: Series[int] | None = _field("Pruned Params")

    class Config:
        strict = True
        ordered = True
        coerce = True

    @pa.dataframe_check(name="pruned params <= original params")
    def _params_shrink(cls, df: pd.DataFrame) -> Series[bool]:
        return df["Pruned Params (M)"] <= df["Original Params (M)"]

    @pa.dataframe_check(name="pruned expansion <= original expansion")
    def _expansion_shrinks(cls, df: pd.DataFrame) -> Series[bool]:
        return df["Pruned Expansion %"] <= df["Original Expansion %"]

    @pa.dataframe_check(name="params saved = original - pruned (M)")
    def _saved_is_difference(cls, df: pd.DataFrame) -> Series[bool]:
        difference = df["Original Params (M)"] - df["Pruned Params (M)"]
        return (df["Params Saved (M)"] - difference).abs() <= _THREE_ROUNDINGS

    @pa.dataframe_check(name="param reduction % = saved / original")
    def _reduction_is_share(cls, df: pd.DataFrame) -> Series[bool]:
        saved, original = df["Params Saved (M)"], df["Original Params (M)"]
        share = saved / original * 100
        # saved and original are each off by up to ROUNDING_ERROR; the share is furthest off at a corner.
        high = (saved + ROUNDING_ERROR) / (original - ROUNDING_ERROR).clip(lower=_NOISE) * 100 - share
        low = share - (saved - ROUNDING_ERROR) / (original + ROUNDING_ERROR) * 100
        return (df["Param Reduction %"] - share).abs() <= ROUNDING_ERROR + high.where(high > low, low) + _NOISE

    @pa.dataframe_check(name="pruned intermediate size <= original")
    def _width_shrinks(cls, df: pd.DataFrame) -> Series[bool] | bool:
        if "Pruned Intermediate Size" not in df or "Original Intermediate Size" not in df:
            return True
        return df["Pruned Intermediate Size"] <= df["Original Intermediate Size"]

    @pa.dataframe_check(name="exact params: saved (M) = original - pruned")
    def _exact_saved(cls, df: pd.DataFrame) -> Series[bool] | bool:
        if "Original Params" not in df or "Pruned Params" not in df:
            return True
        saved_millions = millions(df["Original Params"] - df["Pruned Params"])
        return (saved_millions - df["Params Saved (M)"]).abs() <= ROUNDING_ERROR + _NOISE


#: The column a table-wide check is about (the one a reader should look at first).
_CHECK_COLUMN = {
    "pruned params <= original params": "Pruned Params (M)",
    "pruned expansion <= original expansion": "Pruned Expansion %",
    "params saved = original - pruned (M)": "Params Saved (M)",
    "param reduction % = saved / original": "Param Reduction %",
    "pruned intermediate size <= original": "Pruned Intermediate Size",
    "exact params: saved (M) = original - pruned": "Params Saved (M)",
}


@dataclass(frozen=True)
class FrameFailure:
    """One failed check: the row (None: the whole table), the column, the check, the value."""

    row: int | None
    column: str | None
    check: str
    value: object


def validate_summary(frame: pd.DataFrame) -> list[FrameFailure]:
    """Every failure of ``SummaryFrame`` on ``frame`` (lazy validation), once each, in row order.

    Table-wide checks are reported once per row, on the column they are about; a column whose
    cells cannot be coerced to its type is reported per cell, without the follow-on failures
    of its value checks; a wrong column order is one failure.
    """
    try:
        SummaryFrame.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return _failures(errors.failure_cases)
    return []


def _failures(cases: pd.DataFrame) -> list[FrameFailure]:
    failures: dict[tuple[object, ...], FrameFailure] = {}
    uncoercible = set(cases.loc[cases["check"].astype(str).str.startswith("coerce_dtype"), "column"])
    cells = {(case.index, case.column): case.failure_case for case in cases.itertuples(index=False)}
    for case in cases.itertuples(index=False):
        check = str(case.check)
        row = None if case.index is None or pd.isna(case.index) else int(case.index)
        column = None if case.column is None or pd.isna(case.column) else str(case.column)
        value = case.failure_case
        if check in _CHECK_COLUMN:
            column = _CHECK_COLUMN[check]
            value = cells.get((row, column), value)
        elif check == "column_ordered":
            row, column, value = None, None, "columns are not in the schema's order"
        elif column in uncoercible and not check.startswith("coerce_dtype"):
            continue
        key = (row, column, check) if check != "column_ordered" else (check,)
        failures.setdefault(key, FrameFailure(row=row, column=column, check=check, value=value))
    return sorted(failures.values(), key=lambda f: (f.row is None, f.row or 0, f.column or "", f.check))

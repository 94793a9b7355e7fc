"""Checks of the records of one catalogue file: schema, completeness, closed form, registry.

``check_records`` works on a slice of ``models[]`` and returns plain data (problems, counts,
each record's key and projected CSV row), so large catalogues can be checked in worker
processes and merged. Nothing here prints, exits, or imports torch.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError

from ..core import derive, formulas
from ..core.architecture import ARCHITECTURE_FIELDS, DEFAULTS, LATER_FIELDS, OPTIONAL_FIELDS
from ..core.problems import Problem, show
from ..core.records import DISPLAY_FIELDS, RESULT_BLOCKS, ExpansionRecord, check_complete, status_problem
from ..core.summary import summary_row
from ..core.text import record_label
from ..store.registry import ModelEntry, guess_size_label
from ..store.writing import summary_csv_lines
from .validation import list_adapter

_EARLIER_FIELDS = tuple(name for name in ARCHITECTURE_FIELDS if name not in LATER_FIELDS)
assert ARCHITECTURE_FIELDS == _EARLIER_FIELDS + LATER_FIELDS, "LATER_FIELDS are declared last"
_earlier_values = operator.itemgetter(*_EARLIER_FIELDS)
#: Positions in a shape key of the fields an architecture cannot do without.
_REQUIRED_POSITIONS = tuple(index for index, name in enumerate(ARCHITECTURE_FIELDS) if name not in OPTIONAL_FIELDS)
#: Unrounded floats, written with repr: they must come back bit for bit.
_EXACT_FLOAT_FIELDS = frozenset({"expansion_ratio_exact", "percentage_reduction", "expansion_rate@optipfair_stats"})

#: Why a derived field has the value it should have, by field name.
_RULES = {
    "intermediate_size": f"optipfair 0.4.2's size rule, {formulas.SIZE_RULE}",
    "total_parameters": "non-MLP parameters (the closed form: embeddings + layers x (attention + norms) + final norm, "
    "or the architecture's non_mlp_parameters) + layers x MLP",
    "expansion_rate": "intermediate_size / hidden_size",
    "expansion_rate_percentage": "intermediate_size / hidden_size x 100",
    "expansion_ratio_exact": "intermediate_size / hidden_size, unrounded",
    "total_parameters_millions": "total_parameters / 1e6",
    "parameter_reduction_pct": "(original - pruned parameters) / original x 100",
    "expansion_reduction_pct": "(original - pruned intermediate size) / original x 100",
    "parameters_saved_millions": "(original - pruned parameters) / 1e6",
    "original_parameters": "the original architecture's total_parameters",
    "pruned_parameters": "the pruned architecture's total_parameters",
    "reduction": "original_parameters - pruned_parameters",
    "percentage_reduction": "reduction / original_parameters x 100, unrounded",
    "expansion_rate@optipfair_stats": "pruned intermediate_size / hidden_size x 100, unrounded",
}


@dataclass
class RecordsResult:
    """What the checks of a slice of records found; index i is the slice's i-th record."""

    problems: list[Problem] = field(default_factory=list)
    values_checked: int = 0
    keys: list[tuple[str, int] | None] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    rows: list[tuple | None] = field(default_factory=list)
    #: The CSV lines of ``rows`` (without the header), rendered where the rows were projected.
    csv_lines: str = ""

    def extend(self, other: RecordsResult) -> None:
        """Append the results of the next slice."""
        self.problems += other.problems
        self.values_checked += other.values_checked
        self.keys += other.keys
        self.labels += other.labels
        self.rows += other.rows
        self.csv_lines += other.csv_lines


def label(raw: Any, index: int) -> str:
    """How a (possibly invalid) record is named in problems: ``model @ pct%``."""
    if isinstance(raw, dict) and "base_model" in raw and "pruning_pct" in raw:
        return record_label(raw["base_model"], raw["pruning_pct"])
    return f"models[{index}]"


def check_records(file: str, models: list[Any], start: int, legacy: bool, pruning_method: str | None, registry: dict[str, ModelEntry]) -> RecordsResult:
    """Check ``models`` (entries ``start``, ``start + 1``, ... of the file) and project their CSV rows."""
    checker = _Checker(file, legacy, pruning_method, registry)
    for offset, (raw, valid) in enumerate(zip(models, _validate(file, models, start, checker))):
        checker.check(raw, valid, start + offset)
    result = checker.result
    result.csv_lines = summary_csv_lines(row for row in result.rows if row is not None)
    return result


def _validate(file: str, models: list[Any], start: int, checker: _Checker) -> list[bool]:
    """Whether each entry satisfies ``ExpansionRecord``'s schema; a problem for each failure."""
    failed: dict[int, list[dict[str, Any]]] = {}
    try:
        list_adapter(ExpansionRecord).validate_python(models)
    except ValidationError as error:
        for detail in error.errors():
            failed.setdefault(detail["loc"][0], []).append(detail)
    valid = []
    for index, entry in enumerate(models):
        name = label(entry, start + index)
        for detail in failed.get(index, ()):
            checker.result.problems.append(schema_problem(file, name, detail["loc"][1:], detail))
        problem = None if index in failed else status_problem(entry)
        if problem:
            checker.result.problems.append(Problem(file, name, "status", "", show(entry.get("status")), f"schema: {problem}", "schema"))
        valid.append(index not in failed and problem is None)
    return valid


def schema_problem(file: str, record: str, loc: Iterable[Any], detail: dict[str, Any]) -> Problem:
    """A pydantic error as a problem: the field path, what the schema wants, what was found."""
    where = ".".join(str(part) for part in loc) or "(record)"
    message = detail["msg"]
    if detail["type"] == "extra_forbidden":
        message = "unknown field: not in the schema (a typo, or a file from a newer catalogue?)"
    elif detail["type"] == "missing":
        message = "required field is missing"
    expected = detail["msg"][len("Input should be ") :] if detail["msg"].startswith("Input should be ") else ""
    found = None if detail["type"] == "missing" else detail.get("input")
    if isinstance(found, (dict, list)):
        found = type(found).__name__
    return Problem(file, record, where, show(expected), show(found), f"schema: {message}", "schema")


class _Checker:
    """The per-record checks, with caches shared by the levels of one model."""

    def __init__(self, file: str, legacy: bool, pruning_method: str | None, registry: dict[str, ModelEntry]):
        self.file, self.legacy, self.pruning_method, self.registry = file, legacy, pruning_method, registry
        self.result = RecordsResult()
        self._shapes: dict[tuple, SimpleNamespace] = {}
        self._registry_problems: dict[tuple, list[tuple[str, Any, Any]]] = {}

    def add(self, record: str, field_name: str, expected: Any, found: Any, message: str, kind: str) -> None:
        self.result.problems.append(Problem(self.file, record, field_name, show(expected), show(found), message, kind))

    def check(self, raw: Any, valid: bool, index: int) -> None:
        result = self.result
        name = label(raw, index)
        result.labels.append(name)
        if not valid:
            result.keys.append(None)
            result.rows.append(None)
            return
        result.keys.append((raw["base_model"], raw["pruning_pct"]))
        if not self.legacy:
            for field_name, reason in check_complete(raw):
                self.add(name, field_name, "present", "missing", f"catalogue records carry {field_name}: {reason}", "schema")
        method = (raw.get("provenance") or {}).get("neuron_selection_method")
        if method and self.pruning_method and method != self.pruning_method:
            self.add(
                name,
                "provenance.neuron_selection_method",
                self.pruning_method,
                method,
                "record pruned with another method than metadata.pruning_method says",
                "header",
            )
        if raw["status"] != "success":
            result.rows.append(None)
            return
        entry = self.registry.get(raw["base_model"])
        self._check_numbers(name, raw, entry)
        family = entry.size_label if entry is not None else guess_size_label(raw["base_model"])
        result.rows.append(summary_row(raw, family))

    def _check_numbers(self, name: str, raw: dict[str, Any], entry: ModelEntry | None) -> None:
        original, pruning_pct = raw["original_architecture"], raw["pruning_pct"]
        shape_key = _shape_key(original)
        if entry is not None:
            self._check_against_registry(name, entry, original, shape_key)
        shape = self._shape(shape_key)
        if shape is None and entry is not None and _same_size(original, entry):
            # A legacy record: its model's architecture comes from the registry.
            shape, shape_key = entry.architecture, tuple(getattr(entry.architecture, field) for field in ARCHITECTURE_FIELDS)
        try:
            if shape is not None:
                expected = derive.closed_form_values(shape, pruning_pct, shape_key=shape_key)
            else:
                expected = _expected_from_counts(original, raw, pruning_pct)
        except formulas.PruningError as error:
            self.add(name, "pruning_pct", "a level optipfair accepts", pruning_pct, f"optipfair would refuse: {error}", "closed-form")
            return
        for block in RESULT_BLOCKS:
            want, have = expected[block], raw[block]
            self.result.values_checked += len(want)
            if want != have:  # types were fixed by the schema, so == compares like for like
                self._compare_block(name, pruning_pct, block, want, have, shape)

    def _shape(self, shape_key: tuple) -> SimpleNamespace | None:
        if any(shape_key[index] is None for index in _REQUIRED_POSITIONS):
            return None
        shape = self._shapes.get(shape_key)
        if shape is None:
            shape = self._shapes[shape_key] = SimpleNamespace(**dict(zip(ARCHITECTURE_FIELDS, shape_key)))
        return shape

    def _check_against_registry(self, name: str, entry: ModelEntry, original: dict[str, Any], shape_key: tuple) -> None:
        cache_key = (entry.model_id, shape_key)
        mismatches = self._registry_problems.get(cache_key)
        if mismatches is None:
            registered = entry.architecture
            mismatches = [
                (field, getattr(registered, field), value)
                for field, value in zip(ARCHITECTURE_FIELDS, shape_key)
                if (field in original or field in LATER_FIELDS) and value != getattr(registered, field)
            ]
            self._registry_problems[cache_key] = mismatches
        complete = all(shape_key[index] is not None for index in _REQUIRED_POSITIONS)
        self.result.values_checked += len(ARCHITECTURE_FIELDS) if complete else 3
        for field_name, want, have in mismatches:
            self.add(
                name,
                f"original_architecture.{field_name}",
                want,
                have,
                f"differs from the registry's architecture of {entry.model_id} (data/models/)",
                "registry",
            )

    def _compare_block(self, name: str, pruning_pct: int, block: str, expected: dict[str, Any], found: dict[str, Any], shape: Any) -> None:
        for field_name, want in expected.items():
            if field_name not in found:
                continue  # a legacy record lacks the catalogue's fields; a catalogue record was reported missing
            have = found[field_name]
            key = f"{field_name}@{block}" if block == "optipfair_stats" and field_name == "expansion_rate" else field_name
            if have != want:
                message = f"should be {_RULES[key]}" if key in _EXACT_FLOAT_FIELDS else _explain(key, block, pruning_pct, shape)
                kind = "rounding" if key in DISPLAY_FIELDS else "closed-form"
                self.add(name, f"{block}.{field_name}", want, have, message, kind)


def _explain(key: str, block: str, pruning_pct: int, shape: Any) -> str:
    """Why a derived field should hold the expected value, for the problem's message."""
    if key in DISPLAY_FIELDS:
        if shape is not None:
            unrounded = derive.closed_form_values(shape, pruning_pct, rounding=derive.exact)[block][key]
            return f"should be {_RULES[key]}: {unrounded!r} rounded to {formulas.DISPLAY_DECIMALS} decimals"
        return f"should be {_RULES[key]}, rounded to {formulas.DISPLAY_DECIMALS} decimals"
    if block == "pruned_architecture" and key in ARCHITECTURE_FIELDS and key != "intermediate_size":
        return "pruning changes only intermediate_size: the rest equals the original architecture"
    if block == "original_architecture" and key == "intermediate_size":
        return "the original width of the model"
    rule = _RULES.get(key)
    return f"should be {rule}" if rule else "differs from the value recomputed from the architecture"


def _shape_key(original: dict[str, Any]) -> tuple:
    """A record side's architecture values in ``ARCHITECTURE_FIELDS`` order; an omitted field is None, or its default."""
    later = tuple(original.get(name, DEFAULTS[name]) for name in LATER_FIELDS)
    try:
        return _earlier_values(original) + later
    except KeyError:  # a legacy record, or fused_* omitted (they default to False)
        return tuple(original.get(name, DEFAULTS.get(name)) for name in _EARLIER_FIELDS) + later


def _same_size(original: dict[str, Any], entry: ModelEntry) -> bool:
    shape = entry.architecture
    return (original["hidden_size"], original["intermediate_size"], original["num_hidden_layers"]) == (
        shape.hidden_size,
        shape.intermediate_size,
        shape.num_hidden_layers,
    )


def _expected_from_counts(original: dict[str, Any], raw_record: dict[str, Any], pruning_pct: int) -> dict[str, Any]:
    """Without an architecture only sizes, ratios, roundings and differences can be recomputed."""
    kept = formulas.kept_neurons(original["intermediate_size"], pruning_pct)
    expected_original = derive.architecture_values(
        original["hidden_size"], original["intermediate_size"], original["num_hidden_layers"], original["total_parameters"]
    )
    pruned_total = raw_record["pruned_architecture"]["total_parameters"]
    return {"original_architecture": expected_original, **derive.values_from_counts(expected_original, kept, pruned_total)}

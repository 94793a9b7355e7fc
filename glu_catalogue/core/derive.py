"""Records from sizes and counts: the one place where a record's derived values are computed.

The generator calls ``record_from_counts`` with the counts it measured; ``closed_form_record``
computes a whole record by formula; the verifier calls ``closed_form_values`` /
``values_from_counts`` to learn what a record should hold and compares field by field. The
``*_values`` functions return plain dicts in the file's layout (fast enough for 100,000
records); the ``*_record`` functions validate them into ``ExpansionRecord``s. Every derived
value comes from ``glu_catalogue.core.formulas``; ``rounding=exact`` gives the unrounded values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from .._version import __version__
from . import formulas
from .architecture import ARCHITECTURE_FIELDS, DEFAULTS, EXTRA_FIELDS, LATER_FIELDS, Architecture
from .records import SCHEMA_VERSION, ExpansionRecord, Metadata, Provenance

#: The rule a closed-form record assumes, written into its provenance.
SIZE_RULE = f"optipfair 0.4.2 MLP_GLU: {formulas.SIZE_RULE}"


Rounding = Callable[[float], float]


def exact(value: float) -> float:
    """No rounding: pass as ``rounding`` to get the values behind the display values."""
    return value


def utc_now() -> str:
    """The current UTC time, ISO 8601, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def architecture_values(
    hidden_size: int,
    intermediate_size: int,
    num_hidden_layers: int,
    total_parameters: int,
    shape: Mapping[str, Any] | None = None,
    rounding: Rounding = formulas.display,
) -> dict[str, Any]:
    """One side of a record; with ``shape`` (an ``Architecture`` dump), the catalogue's added fields."""
    values: dict[str, Any] = {
        "hidden_size": hidden_size,
        "intermediate_size": intermediate_size,
        "num_hidden_layers": num_hidden_layers,
        "expansion_rate": rounding(formulas.expansion_ratio(intermediate_size, hidden_size)),
        "expansion_rate_percentage": rounding(formulas.expansion_rate_pct(intermediate_size, hidden_size)),
        "total_parameters": total_parameters,
        "total_parameters_millions": rounding(formulas.millions(total_parameters)),
    }
    if shape is not None:
        values["expansion_ratio_exact"] = formulas.expansion_ratio(intermediate_size, hidden_size)
        values.update({name: shape[name] for name in EXTRA_FIELDS if name not in LATER_FIELDS or shape[name] != DEFAULTS[name]})
    return values


def values_from_counts(
    original: Mapping[str, Any],
    pruned_intermediate_size: int,
    pruned_total_parameters: int,
    shape: Mapping[str, Any] | None = None,
    rounding: Rounding = formulas.display,
) -> dict[str, dict[str, Any]]:
    """The pruned side, reductions and optipfair stats from the original side and the pruned counts."""
    saved = original["total_parameters"] - pruned_total_parameters
    parameter_reduction = formulas.reduction_pct(original["total_parameters"], pruned_total_parameters)
    return {
        "pruned_architecture": architecture_values(
            original["hidden_size"], pruned_intermediate_size, original["num_hidden_layers"], pruned_total_parameters, shape, rounding
        ),
        "reductions": {
            "parameter_reduction_pct": rounding(parameter_reduction),
            "expansion_reduction_pct": rounding(formulas.reduction_pct(original["intermediate_size"], pruned_intermediate_size)),
            "parameters_saved_millions": rounding(formulas.millions(saved)),
        },
        "optipfair_stats": {
            "original_parameters": original["total_parameters"],
            "pruned_parameters": pruned_total_parameters,
            "reduction": saved,
            "percentage_reduction": parameter_reduction,
            "expansion_rate": formulas.expansion_rate_pct(pruned_intermediate_size, original["hidden_size"]),
        },
    }


def closed_form_values(
    shape: Architecture, pruning_pct: int, rounding: Rounding = formulas.display, shape_key: tuple | None = None
) -> dict[str, dict[str, Any]]:
    """Every derived block of the record optipfair 0.4.2 would produce for ``shape`` at ``pruning_pct``.

    ``shape_key`` (the shape's values in ``ARCHITECTURE_FIELDS`` order) saves recomputing it.
    """
    if shape_key is None:
        shape_key = tuple(getattr(shape, name, DEFAULTS.get(name)) for name in ARCHITECTURE_FIELDS)
    shape_values, original = _unpruned_values(shape_key, rounding)
    kept = formulas.kept_neurons(shape.intermediate_size, pruning_pct)
    pruned_total = formulas.total_parameters(shape, kept)
    blocks = values_from_counts(original, kept, pruned_total, shape_values, rounding)
    return {"original_architecture": dict(original), **blocks}


@lru_cache(maxsize=4096)
def _unpruned_values(shape_key: tuple, rounding: Rounding) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shape as a dict and its original side; cached because every level of a model shares them."""
    shape_values = dict(zip(ARCHITECTURE_FIELDS, shape_key))
    shape = SimpleNamespace(**shape_values)
    original = architecture_values(
        shape.hidden_size, shape.intermediate_size, shape.num_hidden_layers, formulas.total_parameters(shape), shape_values, rounding
    )
    return shape_values, original


def record_from_counts(
    base_model: str,
    pruning_pct: int,
    shape: Architecture,
    original_total_parameters: int,
    pruned_intermediate_size: int,
    pruned_total_parameters: int,
    provenance: Provenance,
) -> ExpansionRecord:
    """A successful record from measured counts of a model of ``shape`` (the unpruned architecture)."""
    shape_values = shape.model_dump()
    original = architecture_values(shape.hidden_size, shape.intermediate_size, shape.num_hidden_layers, original_total_parameters, shape_values)
    blocks = values_from_counts(original, pruned_intermediate_size, pruned_total_parameters, shape_values)
    return _record(base_model, pruning_pct, {"original_architecture": original, **blocks}, provenance)


def closed_form_record(base_model: str, shape: Architecture, pruning_pct: int, provenance: Provenance) -> ExpansionRecord:
    """The record optipfair 0.4.2 would produce for ``shape`` at ``pruning_pct``, by formula alone."""
    return _record(base_model, pruning_pct, closed_form_values(shape, pruning_pct), provenance)


def _record(base_model: str, pruning_pct: int, blocks: dict[str, Any], provenance: Provenance) -> ExpansionRecord:
    return ExpansionRecord.model_validate(
        {"base_model": base_model, "pruning_pct": pruning_pct, **blocks, "status": "success", "provenance": provenance.model_dump(exclude_none=True)}
    )


def closed_form_provenance(created_at: str | None = None) -> Provenance:
    """Provenance of a record computed by the closed form (no model built, optipfair not run)."""
    return Provenance(method="closed-form", created_at=created_at or utc_now(), catalogue_version=__version__, size_rule=SIZE_RULE)


def metadata_for(records: list[ExpansionRecord], optipfair_version: str, pruning_method: str = "MAW") -> Metadata:
    """The file header whose counts describe ``records``.

    ``generated_at`` is the newest record's ``created_at``, so rewriting unchanged records
    gives a byte-identical file.
    """
    successful = sum(record.status == "success" for record in records)
    stamps = [record.provenance.created_at for record in records if record.provenance is not None]
    return Metadata(
        generated_at=max(stamps) if stamps else utc_now(),
        optipfair_version=optipfair_version,
        total_models=len(records),
        successful=successful,
        failed=len(records) - successful,
        pruning_method=pruning_method,
        pruning_type="MLP_GLU",
        schema_version=SCHEMA_VERSION,
    )

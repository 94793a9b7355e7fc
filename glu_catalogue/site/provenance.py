"""What the site says about how the records were produced, and what in them is exact.

``exactness_sentence`` is the one sentence at the top of Home and of every model page;
``provenance_lines`` the detail, one line per way records were produced. Both read only the
records' ``provenance``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.records import ExpansionRecord, Provenance
from .markdown import code, plain

_HOW_FIELDS = (
    "method",
    "weights",
    "weights_source",
    "weights_revision",
    "seed",
    "size_rule",
    "neuron_selection_method",
    "optipfair_version",
    "torch_version",
    "transformers_version",
    "dtype",
    "device",
    "catalogue_version",
    "note",
)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def exactness_sentence(records: Iterable[ExpansionRecord], glossary: str) -> str:
    """What a reader may rely on: the sizes, counts and ratios are exact; kept neurons of random-init weights are not.

    ``glossary`` is the link to the glossary page from the page that shows the sentence.
    """
    records = list(records)
    random = sum(1 for record in records if record.provenance and record.provenance.weights == "random-init")
    closed = sum(1 for record in records if record.provenance and record.provenance.method == "closed-form")
    exact = "**Exact:** every size, parameter count and ratio here is what optipfair's size rule and the architecture give, recomputed by `catalogue verify`"
    if random == len(records) and records:
        return (
            f"{exact}. **Not meaningful:** which neurons were kept — the models were pruned from "
            f"[random-init weights]({glossary}#random-init-weights), not from their real checkpoints."
        )
    if random:
        return (
            f"{exact}. **Not meaningful:** which neurons were kept in the {_plural(random, 'record')} pruned from "
            f"[random-init weights]({glossary}#random-init-weights)."
        )
    if closed == len(records) and records:
        return f"{exact}; no model was pruned for them (computed in closed form), so no neurons were chosen."
    return f"{exact}."


def provenance_lines(records: Iterable[ExpansionRecord]) -> list[str]:
    """One sentence per way the records were produced, with how many records and when."""
    ways: dict[tuple, list[Provenance]] = {}
    missing = 0
    for record in records:
        if record.provenance is None:
            missing += 1
            continue
        key = tuple(getattr(record.provenance, name) for name in _HOW_FIELDS)
        ways.setdefault(key, []).append(record.provenance)
    lines = [_describe(items) for items in ways.values()]
    if missing:
        lines.append(f"{_plural(missing, 'record')} without provenance (the study's original layout).")
    return lines


def _describe(items: list[Provenance]) -> str:
    first = items[0]
    stamps = sorted(item.created_at for item in items)
    when = stamps[0] if stamps[0] == stamps[-1] else f"{stamps[0]} to {stamps[-1]}"
    count = f"{_plural(len(items), 'record')}, produced {when}"
    if first.method == "closed-form":
        how = "**closed form**: computed from the architecture; no model was built and optipfair was not run"
        if first.size_rule:
            how += f"; size rule {code(first.size_rule)}"
    else:
        versions = [
            f"{name} {value}"
            for name, value in (("optipfair", first.optipfair_version), ("torch", first.torch_version), ("transformers", first.transformers_version))
            if value
        ]
        how = "**measured with optipfair**: the model was built with transformers, pruned and its parameters counted"
        if versions:
            how += f" ({', '.join(versions)})"
        if first.neuron_selection_method:
            how += f"; neuron selection {first.neuron_selection_method}"
        how += _weights(first)
        if first.dtype or first.device:
            how += f"; {' on '.join(part for part in (first.dtype, first.device) if part)}"
    how += f"; catalogue {first.catalogue_version}"
    if first.note:
        how += f". Note: {plain(first.note)}"
    return f"{how} ({count})."


def _weights(provenance: Provenance) -> str:
    if provenance.weights == "random-init":
        seed = f", seed {provenance.seed}" if provenance.seed is not None else ""
        return f"; weights: random-init{seed} (the real architecture and parameter counts, but not the real model's choice of kept neurons)"
    if provenance.weights:
        source = f" {code(provenance.weights_source)}" if provenance.weights_source else ""
        revision = f" at revision {code(provenance.weights_revision)}" if provenance.weights_revision else ""
        return f"; weights: {provenance.weights}{source}{revision}"
    return ""

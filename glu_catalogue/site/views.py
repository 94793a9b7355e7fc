"""The site's view of the records: models grouped by family, baselines, cross-model equivalences.

Pure functions of the records and the registry (standard library, records, formulas): the pages,
the plots and their fingerprints are all rendered from these views, so a page never computes a
number of its own. Nothing here knows a model by name; every list comes from the records.

* A **group** is one or more models of a family whose records hold identical numbers (a base
  model and its instruct variant): the site shows one table for them.
* The **equivalence** of an expansion ratio is the pruning percentage each group needs to reach
  it: from a record where one has that ratio, else computed with optipfair's ``expansion_rate``
  rule (``formulas.pruning_pct_for_expansion_rate`` and ``formulas.kept_neurons``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, TypeVar

from ..core import formulas
from ..core.architecture import Architecture
from ..core.records import ArchitectureBlock, ExpansionRecord
from ..store.registry import ModelEntry, guess_size_label

V = TypeVar("V", int, float)
T = TypeVar("T")

#: Family of a record whose model is not in the registry.
UNREGISTERED_FAMILY = "Unregistered models"


@dataclass(frozen=True)
class ModelGroup:
    """Models of one family whose records hold the same numbers, shown as one table.

    ``records`` are the first model's records (all statuses) sorted by pruning percentage;
    ``all_records`` are every model's, for provenance.
    """

    family: str
    model_ids: tuple[str, ...]
    label: str
    records: tuple[ExpansionRecord, ...]
    all_records: tuple[ExpansionRecord, ...]
    #: Each model's size label (the registry's, else guessed from its id), in ``model_ids`` order.
    size_labels: tuple[str, ...] = ()

    # Cached: every page asks these again and again, and `catalogue verify` renders every page.
    @cached_property
    def successful(self) -> tuple[ExpansionRecord, ...]:
        """Records with status success, by pruning percentage."""
        return tuple(record for record in self.records if record.status == "success")

    @cached_property
    def pcts_by_ratio(self) -> dict[float, tuple[int, ...]]:
        """Display expansion ratio -> the pruning percentages of the successful records that have it."""
        found: dict[float, list[int]] = {}
        for record in self.successful:
            found.setdefault(record.pruned_architecture.expansion_rate, []).append(record.pruning_pct)
        return {ratio: tuple(pcts) for ratio, pcts in found.items()}

    @property
    def failed(self) -> tuple[ExpansionRecord, ...]:
        """Records with status failed, by pruning percentage."""
        return tuple(record for record in self.records if record.status == "failed")

    @cached_property
    def baseline(self) -> ArchitectureBlock | None:
        """The unpruned architecture (``original_architecture`` of a successful record)."""
        successful = self.successful
        return successful[0].original_architecture if successful else None

    @property
    def architecture(self) -> Architecture | None:
        """The unpruned ``Architecture`` (None for a legacy record lacking fields)."""
        baseline = self.baseline
        return baseline.architecture() if baseline is not None else None

    @property
    def baseline_ratio(self) -> float | None:
        """Unpruned ``I / H`` as a factor, unrounded."""
        baseline = self.baseline
        return formulas.expansion_ratio(baseline.intermediate_size, baseline.hidden_size) if baseline else None

    @property
    def mlp_share_pct(self) -> float | None:
        """Percent (0-100) of all parameters in the MLPs: what width pruning can remove."""
        architecture = self.architecture
        return formulas.mlp_share(architecture) * 100 if architecture is not None else None

    def at(self, pruning_pct: int) -> ExpansionRecord | None:
        """The successful record at ``pruning_pct``, if any."""
        return self._by_pct.get(pruning_pct)

    @cached_property
    def equivalences(self) -> dict[float, Equivalence]:
        """Display ratio -> ``equivalence(self, ratio)``, filled as pages ask."""
        return {}

    @cached_property
    def _by_pct(self) -> dict[int, ExpansionRecord]:
        return {record.pruning_pct: record for record in self.successful}

    def size_label(self, model_id: str) -> str:
        """The model's size label (``1B``): the CSV's 'Model Family' column."""
        return dict(zip(self.model_ids, self.size_labels)).get(model_id) or guess_size_label(model_id)

    def records_of(self, model_id: str) -> tuple[ExpansionRecord, ...]:
        """One model's own records (all statuses), by pruning percentage."""
        return tuple(record for record in self.all_records if record.base_model == model_id)


@dataclass(frozen=True)
class FamilyView:
    """One model family (the registry's ``family``) and its groups, smallest model first."""

    name: str
    slug: str
    groups: tuple[ModelGroup, ...]

    @property
    def model_ids(self) -> tuple[str, ...]:
        """Every model of the family present in the records."""
        return tuple(model_id for group in self.groups for model_id in group.model_ids)


def slug(text: str) -> str:
    """A file-name-safe lower-case form: ``Qwen2.5`` -> ``qwen2-5``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "models"


def short_name(model_id: str) -> str:
    """The part of a model id after its organisation: ``meta-llama/Llama-3.2-1B`` -> ``Llama-3.2-1B``."""
    return model_id.split("/")[-1]


def label_parts(model_ids: Iterable[str]) -> list[str]:
    """The first model's name, then how each other's name differs: ``['Llama-3.2-1B', 'Instruct']``."""
    first, *others = [short_name(model_id) for model_id in model_ids]
    return [first] + [name[len(first) :].strip("-_ ") if name.startswith(first) else name for name in others]


def group_label(model_ids: Iterable[str]) -> str:
    """``Llama-3.2-1B (+ Instruct)``: the first model's name, then how the others' names differ."""
    first, *extras = label_parts(model_ids)
    return f"{first} (+ {', '.join(extras)})" if extras else first


def _numbers_key(records: list[ExpansionRecord]) -> str:
    """Everything a record shows except whose it is and how it was made."""
    return json.dumps([record.model_dump(mode="json", exclude={"base_model", "provenance"}) for record in records], sort_keys=True)


def _size_key(group: ModelGroup) -> tuple:
    baseline = group.baseline
    return (baseline is None, baseline.total_parameters if baseline else 0, group.label)


def family_views(records: Iterable[ExpansionRecord], registry: Mapping[str, ModelEntry]) -> list[FamilyView]:
    """Every family present in ``records``, by name; in each, groups of identical models by size."""
    by_model: dict[str, list[ExpansionRecord]] = {}
    for record in records:
        by_model.setdefault(record.base_model, []).append(record)
    by_family: dict[str, dict[str, list[str]]] = {}
    for model_id in sorted(by_model):
        by_model[model_id].sort(key=lambda record: record.pruning_pct)
        entry = registry.get(model_id)
        family = entry.family if entry is not None else UNREGISTERED_FAMILY
        key = _numbers_key(by_model[model_id])
        by_family.setdefault(family, {}).setdefault(key, []).append(model_id)
    views = []
    for family in sorted(by_family, key=lambda name: (name == UNREGISTERED_FAMILY, name.lower())):
        groups = [
            ModelGroup(
                family=family,
                model_ids=tuple(model_ids),
                label=group_label(model_ids),
                records=tuple(by_model[model_ids[0]]),
                all_records=tuple(record for model_id in model_ids for record in by_model[model_id]),
                size_labels=tuple(registry[model_id].size_label if model_id in registry else guess_size_label(model_id) for model_id in model_ids),
            )
            for model_ids in by_family[family].values()
        ]
        views.append(FamilyView(family, slug(family), tuple(sorted(groups, key=_size_key))))
    _check_unique_slugs(views)
    return views


def _check_unique_slugs(views: list[FamilyView]) -> None:
    seen: dict[str, str] = {}
    for view in views:
        if view.slug in seen:
            raise ValueError(f"families {seen[view.slug]!r} and {view.name!r} would share the page families/{view.slug}.md")
        seen[view.slug] = view.name


def all_groups(views: Iterable[FamilyView]) -> list[ModelGroup]:
    """Every group of every family, in page order."""
    return [group for view in views for group in view.groups]


# --- cross-model equivalence ---------------------------------------------------------------------


@dataclass(frozen=True)
class Equivalence:
    """What one group needs to reach one expansion ratio.

    ``kind`` is ``record`` (``pruning_pcts`` of the records with that display ratio),
    ``computed`` (``pruning_pct`` by optipfair's expansion_rate rule, which keeps
    ``kept_neurons`` and lands on ``achieved_ratio``, rounded for display) or ``unreachable``
    (the ratio is not below the group's unpruned one).
    """

    kind: Literal["record", "computed", "unreachable"]
    pruning_pcts: tuple[int, ...] = ()
    pruning_pct: float | None = None
    kept_neurons: int | None = None
    achieved_ratio: float | None = None


def catalogue_ratios(groups: Iterable[ModelGroup]) -> list[float]:
    """Every display expansion ratio of a successful record, largest first."""
    ratios = {record.pruned_architecture.expansion_rate for group in groups for record in group.successful}
    return sorted(ratios, reverse=True)


def equivalence(group: ModelGroup, ratio: float) -> Equivalence:
    """The pruning percentage ``group`` needs to reach the display ratio ``ratio`` (computed once per group and ratio)."""
    known = group.equivalences
    if ratio not in known:
        known[ratio] = _equivalence(group, ratio)
    return known[ratio]


def _equivalence(group: ModelGroup, ratio: float) -> Equivalence:
    pcts = group.pcts_by_ratio.get(ratio, ())
    if pcts:
        return Equivalence("record", pruning_pcts=pcts)
    baseline = group.baseline
    if baseline is None:
        return Equivalence("unreachable")
    target_pct = formulas.expansion_rate_pct_for_ratio(ratio)
    try:
        pct = formulas.pruning_pct_for_expansion_rate(baseline.intermediate_size, baseline.hidden_size, target_pct)
        kept = formulas.kept_neurons(baseline.intermediate_size, pct)
    except formulas.PruningError:
        return Equivalence("unreachable")
    achieved = formulas.display(formulas.expansion_ratio(kept, baseline.hidden_size))
    return Equivalence("computed", pruning_pct=pct, kept_neurons=kept, achieved_ratio=achieved)


@dataclass(frozen=True)
class SharedRatio:
    """A display ratio that records of several groups reach, with different pruning percentages."""

    ratio: float
    pcts_by_group: tuple[tuple[ModelGroup, tuple[int, ...]], ...]

    @property
    def extremes(self) -> tuple[tuple[int, list[ModelGroup]], tuple[int, list[ModelGroup]]]:
        """(least pruning, every group needing it), (most pruning, every group needing it): ties kept."""
        return tied_extremes([(min(pcts), group) for group, pcts in self.pcts_by_group])

    @property
    def spread_pct(self) -> int:
        """Largest minus smallest pruning percentage among the groups."""
        values = [pct for _, pcts in self.pcts_by_group for pct in pcts]
        return max(values) - min(values)


def shared_ratios(groups: list[ModelGroup]) -> list[SharedRatio]:
    """Ratios reached by records of two or more groups at different pruning percentages.

    The study's point (2.4x is 40 % for Llama-3.2-1B but 10 % for 3B). The ratio most groups
    reach comes first; among equals, the widest spread of percentages, then the larger ratio.
    """
    found = []
    for ratio in catalogue_ratios(groups):
        cells = [(group, equivalence(group, ratio)) for group in groups]
        hits = tuple((group, cell.pruning_pcts) for group, cell in cells if cell.kind == "record")
        if len(hits) >= 2 and len({pcts for _, pcts in hits}) > 1:
            found.append(SharedRatio(ratio, hits))
    return sorted(found, key=lambda shared: (-len(shared.pcts_by_group), -shared.spread_pct, -shared.ratio))


def tied_extremes(pairs: Iterable[tuple[V, T]]) -> tuple[tuple[V, list[T]], tuple[V, list[T]]]:
    """(lowest value, every item with it), (highest value, every item with it); items in input order.

    The site says a tie as a tie: four models at 2.67x are all "the lowest", not one of them.
    """
    pairs = list(pairs)
    low = min(value for value, _ in pairs)
    high = max(value for value, _ in pairs)
    return (low, [item for value, item in pairs if value == low]), (high, [item for value, item in pairs if value == high])


def levels(groups: Iterable[ModelGroup]) -> list[int]:
    """Every pruning percentage of a successful record, ascending."""
    return sorted({record.pruning_pct for group in groups for record in group.successful})


def spread_levels(values: list[int], most: int) -> list[int]:
    """At most ``most`` of ``values``, evenly spread, first and last included."""
    if len(values) <= most:
        return list(values)
    step = (len(values) - 1) / (most - 1)
    return sorted({values[round(index * step)] for index in range(most)})

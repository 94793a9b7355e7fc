"""The site's view of the outcomes: each value joined to its record's expansion ratio, grouped into charts and pages.

Pure functions of ``data/outcomes.json`` (an ``OutcomesFile``) and the records. An outcome names
its record (``MODEL@PCT``); the record's pruned expansion ratio, as the data rounds it, is where
the value stands, so models meet at equal ratios. An outcome whose record the catalogue does not
hold is not shown (``catalogue verify`` reports it).

* A **measure** is one chart: a score's (task, metric, filter) or an efficiency (workload,
  quantity). Its series are one per model and way of measuring (``series_key``): the catalogue's
  own measurements by tool, machine, device and dtype, other files by their way (``WAYS``: the
  study's JSON and CSV of one table are one way); a series holds one value per record, except the
  same value (and spread) read from two files, which is one point with both sources. Values that
  differ stay apart: a second value of a record starts a second series of that way.
* A **subject** is one page: an lm-eval task, or an efficiency workload, with its measures. The
  page of ``decode-b1`` also holds each benched level's decode speed-up beside the bound its weight
  bytes set (``core.speedup``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..core.outcome_records import EfficiencyOutcome, ScoreOutcome
from ..core.records import ExpansionRecord, successful_by_key
from ..core.speedup import BOUND_WORKLOAD, Speedup, speedups
from .views import short_name, slug

Outcome = ScoreOutcome | EfficiencyOutcome
Kind = Literal["score", "efficiency"]


#: Formats whose values are single runs of a value another file aggregates (the study's per-run carbon files):
#: charted and listed on their workload's page, left out of the pages that set values side by side.
RUN_PART_FORMATS = frozenset({"study-carbon-run"})


#: Formats that write one way of measuring, by that way: the study's capability JSON and CSV give the same
#: table twice. A format not named here is a way of its own.
WAYS = {"study-capability-json": "study-capability", "study-capability-csv": "study-capability"}


def way_of(source_format: str) -> str:
    """The way of measuring a file's format writes (``WAYS``): ``study-capability-csv`` -> ``study-capability``."""
    return WAYS.get(source_format, source_format)


def is_run_part(outcome: Outcome) -> bool:
    """True for one run of a value another file gives as the runs' mean (``RUN_PART_FORMATS``)."""
    return outcome.source.format in RUN_PART_FORMATS


def spread_of(outcome: Outcome) -> float | None:
    """A value's spread: lm-eval's standard error, or the standard deviation of an efficiency value's runs."""
    if isinstance(outcome, ScoreOutcome):
        return outcome.stderr
    return outcome.runs.std if outcome.runs is not None else None


#: Significant digits of a value on the site (the study's four decimals survive) and of its spread.
VALUE_DIGITS = 7
SPREAD_DIGITS = 3
#: A perplexity chart is drawn on a log scale when its largest value is this many times its smallest.
LOG_SCALE_SPAN = 10


def value_text(value: float) -> str:
    """An outcome's value for people, ``VALUE_DIGITS`` significant: ``0.3626``, ``2941.08``, ``0.0002710690`` -> ``0.000271069``."""
    return f"{value:.{VALUE_DIGITS}g}"


def spread_text(spread: float) -> str:
    """A stderr or a runs' std for people, ``SPREAD_DIGITS`` significant: ``0.0068``, ``9.89e-06``."""
    return f"{spread:.{SPREAD_DIGITS}g}"


@dataclass(frozen=True)
class OutcomePoint:
    """One stored outcome and the record it measured."""

    outcome: Outcome
    record: ExpansionRecord

    @property
    def expansion_ratio(self) -> float:
        """The record's pruned ``intermediate_size / hidden_size``, as the data rounds it."""
        return self.record.pruned_architecture.expansion_rate

    @property
    def spread(self) -> float | None:
        """``spread_of`` the outcome."""
        return spread_of(self.outcome)


def subject_of(outcome: Outcome) -> tuple[Kind, str]:
    """The page an outcome is shown on: (kind, task) or (kind, workload)."""
    return (outcome.kind, outcome.task if isinstance(outcome, ScoreOutcome) else outcome.workload.name)


def measure_of(outcome: Outcome) -> tuple[str, str | None]:
    """What an outcome measures on its page: (metric, filter) or (quantity, None)."""
    return (outcome.metric, outcome.filter) if isinstance(outcome, ScoreOutcome) else (outcome.quantity, None)


@dataclass(frozen=True)
class Measure:
    """One chart: a metric (and filter) of a task, or a quantity of a workload, over every model."""

    kind: Kind
    subject: str
    name: str
    filter: str | None
    points: tuple[OutcomePoint, ...]

    @property
    def label(self) -> str:
        """``exact_match (strict-match)``: the metric and its filter (lm-eval's ``none`` left out)."""
        return f"{self.name} ({self.filter})" if self.filter not in (None, "none") else self.name

    @property
    def chart_name(self) -> str:
        """The chart's key in the browser's data and its anchor on the page: ``outcome-gsm8k-exact-match-strict-match``."""
        return f"{'outcome' if self.kind == 'score' else 'efficiency'}-{slug(self.subject)}-{slug(self.label)}"

    @property
    def log_scale(self) -> bool:
        """True for a perplexity whose values span ``LOG_SCALE_SPAN`` or more: drawn on a log scale."""
        values = [point.outcome.value for point in self.points]
        return "perplexity" in self.name and min(values) > 0 and max(values) >= LOG_SCALE_SPAN * min(values)

    @property
    def series(self) -> tuple[tuple[str, tuple[OutcomePoint, ...]], ...]:
        """(label, points by ratio) per model and way of measuring (``series_key``); the way is named where a
        model has several or a way splits. A record's second value joins the series holding the same value and
        spread (one point, two sources: ``chart_points``); a different one goes to the way's ``#2`` and on."""
        buckets: dict[tuple[str, tuple], list[list[OutcomePoint]]] = {}
        for point in self.points:
            lists = buckets.setdefault((point.outcome.base_model, series_key(point.outcome)), [])
            place = next((items for items in lists if any(same_point(item, point) for item in items)), None)
            if place is None:
                place = next((items for items in lists if all(item.record.pruning_pct != point.record.pruning_pct for item in items)), None)
            if place is None:
                place = []
                lists.append(place)
            place.append(point)
        ways_per_model = Counter(model_id for model_id, _ in buckets)
        series = []
        for (model_id, _), lists in buckets.items():
            for index, items in enumerate(lists):
                label = short_name(model_id)
                if ways_per_model[model_id] > 1 or len(lists) > 1:
                    label += f" ({series_name(items)})"
                if index:
                    label += f" #{index + 1}"
                series.append((label, tuple(sorted(items, key=lambda item: (item.expansion_ratio, item.outcome.source.path)))))
        return tuple(series)


def same_point(first: OutcomePoint, second: OutcomePoint) -> bool:
    """True when two values are one point of a chart: the same record, value and spread (from two files)."""
    return (first.record.pruning_pct, first.outcome.value, first.spread) == (second.record.pruning_pct, second.outcome.value, second.spread)


def chart_points(points: Iterable[OutcomePoint]) -> list[list[OutcomePoint]]:
    """A series' points as its chart draws them, by ratio: the values of one record (the same value from each of
    its files) together."""
    grouped: dict[int, list[OutcomePoint]] = {}
    for point in points:
        grouped.setdefault(point.record.pruning_pct, []).append(point)
    return sorted(grouped.values(), key=lambda group: group[0].expansion_ratio)


def series_key(outcome: Outcome) -> tuple:
    """Which line of its model's chart a value belongs to. Values the catalogue measured (``evaluate``,
    ``bench``: one file per level) join by how they were measured: tool, machine, device, dtype and
    weights. Values read from other files join by the way their format writes (``way_of``), so an lm-eval
    results file per level still draws one line, and the study's JSON and CSV copies of one table one."""
    how = outcome.measurement
    if how is not None:
        return ("measured", how.tool, how.machine, how.device, how.dtype, how.weights, how.weights_source)
    return ("read", way_of(outcome.source.format))


def measured_on(machine: str, dtype: str) -> str:
    """``on AMD EPYC, float32``: the machine's processor and the dtype, as a label names a way of measuring."""
    return f"on {machine.split(',')[0]}, {dtype}"


def series_name(points: list[OutcomePoint]) -> str:
    """What tells a series apart from its model's others: the tool, machine and dtype of a measurement,
    ``single runs`` for runs of a value another file gives as their mean (``RUN_PART_FORMATS``), else its file's
    name when it is one file, else the way its files' format writes (``way_of``)."""
    how = points[0].outcome.measurement
    if how is not None:
        return f"{how.tool.removeprefix('catalogue ')} {measured_on(how.machine, how.dtype)}"
    if all(is_run_part(point.outcome) for point in points):
        return "single runs"
    files = {point.outcome.source.path for point in points}
    return files.pop().rsplit("/", 1)[-1] if len(files) == 1 else way_of(points[0].outcome.source.format)


@dataclass(frozen=True)
class BoundPoint:
    """One benched level's decode speed-up at batch 1 and its weight-bytes bound, with the record it measured."""

    speedup: Speedup
    record: ExpansionRecord

    @property
    def expansion_ratio(self) -> float:
        """The record's pruned ``intermediate_size / hidden_size``, as the data rounds it."""
        return self.record.pruned_architecture.expansion_rate


@dataclass(frozen=True)
class Subject:
    """One outcome page: an lm-eval task or an efficiency workload, its measures, and (``decode-b1``) the speed-up bound."""

    kind: Kind
    name: str
    measures: tuple[Measure, ...]
    bound: tuple[BoundPoint, ...] = ()

    @property
    def points(self) -> tuple[OutcomePoint, ...]:
        """Every value of the page."""
        return tuple(point for measure in self.measures for point in measure.points)


def outcome_points(outcomes: Iterable[Outcome], records: Iterable[ExpansionRecord]) -> list[OutcomePoint]:
    """Each outcome whose record is a successful record of ``records``, with that record; in file order."""
    by_key = successful_by_key(records)
    found = ((outcome, by_key.get((outcome.base_model, outcome.pruning_pct))) for outcome in outcomes)
    return [OutcomePoint(outcome, record) for outcome, record in found if record is not None]


def subjects(points: Iterable[OutcomePoint]) -> list[Subject]:
    """The outcome pages: tasks, then efficiency workloads, each by name; its measures by name and filter.

    ``ValueError`` if two pages or two charts of one page would share an address.
    """
    points = list(points)
    grouped: dict[tuple[Kind, str], dict[tuple[str, str | None], list[OutcomePoint]]] = {}
    for point in points:
        grouped.setdefault(subject_of(point.outcome), {}).setdefault(measure_of(point.outcome), []).append(point)
    found = []
    for kind, name in sorted(grouped, key=lambda key: (key[0] != "score", key[1])):
        by_measure = grouped[(kind, name)]
        measures = tuple(
            Measure(kind, name, measure, filter_, tuple(by_measure[(measure, filter_)]))
            for measure, filter_ in sorted(by_measure, key=lambda key: (key[0], key[1] or ""))
        )
        bound = bound_points(points) if (kind, name) == ("efficiency", BOUND_WORKLOAD) else ()
        found.append(Subject(kind, name, measures, bound))
    _check_unique([(subject.kind, slug(subject.name)) for subject in found], "outcome pages")
    _check_unique([measure.chart_name for subject in found for measure in subject.measures], "outcome charts")
    return found


def bound_points(points: Iterable[OutcomePoint]) -> tuple[BoundPoint, ...]:
    """Every benched level's measured decode speed-up and weight-bytes bound (``core.speedup``), by model and level."""
    points = list(points)
    records = {point.outcome.record: point.record for point in points}
    return tuple(BoundPoint(speedup, records[speedup.record]) for speedup in speedups(point.outcome for point in points))


def _check_unique(keys: list, what: str) -> None:
    repeated = sorted({str(key) for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"two {what} would share the address {repeated[0]}: rename a task, metric or workload")

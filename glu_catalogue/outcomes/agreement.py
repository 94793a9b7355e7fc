"""One file, one record; one value per thing: the rule ``results check``, ``results add``, ``verify`` and ``merge`` share.

* **One record per place of a source.** A value stands at one place (``location``) of one file
  (its ``sha256``); it measured one record. The same place stored under a second record (the
  same file given again with another ``--record``) is refused, naming the first.
* **One value per thing.** A thing is a score's (record, task, metric, filter, n-shot; an n-shot
  a file does not state matches any). One source never states two values for one thing: a file
  that does contradicts itself, and neither value is kept. Two sources may each give a score;
  they must agree within their stated uncertainty: two standard errors of their difference
  (``sqrt(se_a**2 + se_b**2)``), and never less than half a unit in the last decimal either value
  is written with. The first value (the one already stored, or the file named first) is kept;
  the other is left out, naming it. Efficiency values are runs (codecarbon writes a line per
  run, a machine is never twice the same), so the rule does not compare them; the readers check
  a run that two files give (``ingest.same_run_problems``).

Pure: outcomes in, findings out (``Problem``, ``LeftOut``); no files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..core.outcome_records import EfficiencyOutcome, LeftOut, ScoreOutcome
from ..core.problems import Problem, show

#: How many standard errors of their difference two sources' scores may differ by.
STDERR_MULTIPLE = 2.0

Outcome = ScoreOutcome | EfficiencyOutcome


def thing(outcome: ScoreOutcome) -> tuple:
    """What one score measures, less its n-shot: (record, task, metric, filter).

    The n-shot is compared apart (``same_shots``): a file that does not state it (the study's CSV)
    may give the value of a file that does.
    """
    return (outcome.record, outcome.task, outcome.metric, outcome.filter)


def same_shots(first: ScoreOutcome, second: ScoreOutcome) -> bool:
    """True when two values of one thing may be of the same n-shot: equal, or one of them unstated."""
    return first.n_shot is None or second.n_shot is None or first.n_shot == second.n_shot


def describe(outcome: ScoreOutcome) -> str:
    """The thing a score measures, in words: ``mmlu acc (filter none, 5-shot)``."""
    shots = "n-shot not stated" if outcome.n_shot is None else f"{outcome.n_shot}-shot"
    return f"{outcome.task} {outcome.metric} (filter {outcome.filter or 'none'}, {shots})"


def rounding_unit(value: float) -> float:
    """The unit of the last digit of ``value`` as written (``0.31`` -> 0.01, ``1e-05`` -> 1e-05, ``5.0`` -> 1): Python's
    shortest repr, read as the file wrote it; a whole number's unit is 1 (``1500`` is not taken for ``1.5e3``)."""
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return 10.0 ** min(int(exponent), 0)


def tolerance(first: ScoreOutcome, second: ScoreOutcome) -> float:
    """How far two sources' values of one thing may differ: their stated uncertainty, at least their rounding
    (half a unit in the last digit of the coarser of the two)."""
    rounding = 0.5 * max(rounding_unit(first.value), rounding_unit(second.value))
    if first.stderr is not None and second.stderr is not None:
        return max(rounding, STDERR_MULTIPLE * math.hypot(first.stderr, second.stderr))
    return rounding


@dataclass(frozen=True)
class Disagreement:
    """Two values of one thing: ``kept`` (seen first) and ``other``; from one source (a file contradicting itself) or two."""

    kept: ScoreOutcome
    other: ScoreOutcome

    @property
    def same_source(self) -> bool:
        """True when one file states both values (then neither is kept)."""
        return self.kept.source.sha256 == self.other.source.sha256

    def reason(self) -> str:
        """The sentence a person reads: which source gives which value, and the tolerance where there is one."""
        kept, other = self.kept, self.other
        if self.same_source:
            return (
                f"the file gives {describe(other)} of {other.record} twice: {show(kept.value)} at {kept.source.location} "
                f"and {show(other.value)} at {other.source.location}; one source states one value, so neither is kept"
            )
        return (
            f"{kept.source.path} ({kept.source.location}) gives {describe(other)} of {other.record} as {show(kept.value)}, kept; "
            f"the two differ by {show(abs(kept.value - other.value))}, beyond {show(tolerance(kept, other))} "
            "(their stated uncertainty, or the rounding of the values as written)"
        )

    def problems(self) -> list[Problem]:
        """The problem at the other value's place; for one source contradicting itself, at both places."""
        found = [self.other] + ([self.kept] if self.same_source else [])
        return [
            Problem(
                outcome.source.path,
                outcome.record,
                outcome.source.location,
                show(self.kept.value if outcome is self.other else self.other.value),
                show(outcome.value),
                self.reason(),
                "outcome-agreement",
            )
            for outcome in found
        ]

    def left_out(self) -> list[LeftOut]:
        """What is not stored: the other value (it names the kept one's source); both, where one source gave both."""
        found = [self.other] + ([self.kept] if self.same_source else [])
        return [
            LeftOut(
                source=outcome.source,
                record=outcome.record,
                what=describe(outcome),
                value=show(outcome.value),
                reason=self.reason(),
                kind="outcome-agreement",
                disagrees_with=None if self.same_source else self.kept.source,
            )
            for outcome in found
        ]


def disagreements(outcomes: Iterable[Outcome]) -> list[Disagreement]:
    """Every pair of values of one thing that the rule refuses, in the order the outcomes come (the first of a thing is kept).

    A value is compared with the values of its thing kept so far: with one from its own source,
    any difference is a disagreement; with another source's score, a difference beyond
    ``tolerance``. Efficiency values are runs, not compared.
    """
    kept: dict[tuple, list[ScoreOutcome]] = {}
    found = []
    for outcome in outcomes:
        if not isinstance(outcome, ScoreOutcome):
            continue
        earlier = kept.setdefault(thing(outcome), [])
        clash = next((other for other in earlier if same_shots(other, outcome) and _disagree(other, outcome)), None)
        if clash is None:
            earlier.append(outcome)
            continue
        found.append(Disagreement(clash, outcome))
        if clash.source.sha256 == outcome.source.sha256:
            earlier.remove(clash)  # a file contradicting itself keeps neither value: neither is compared with the next
    return found


def _disagree(first: ScoreOutcome, second: ScoreOutcome) -> bool:
    if first.source.sha256 == second.source.sha256:
        return first.source.location != second.source.location and first.value != second.value
    return abs(first.value - second.value) > tolerance(first, second) + 1e-12


def second_records(items: Sequence) -> list[tuple]:
    """Places of a source (sha256, location) that ``items`` (outcomes and values left out) put under a second record:
    ``(first, second)`` pairs, the first being the item seen first."""
    first: dict[tuple[str, str], object] = {}
    found = []
    for item in items:
        if item.record is None:
            continue
        key = (item.source.sha256, item.source.location)
        earlier = first.setdefault(key, item)
        if earlier.record != item.record:
            found.append((earlier, item))
    return found


def second_record_message(first, second) -> str:
    """The one line for a source put under a second record: the file, the first record, the second."""
    return (
        f"{second.source.path} ({second.source.location}) is stored under {first.record} (sha256 {first.source.sha256[:12]}...); "
        f"a source's values belong to one record, not also to {second.record}"
    )


def refusal(outcomes: Sequence[Outcome], left_out: Sequence[LeftOut] = ()) -> str | None:
    """The first breach of the rule among outcomes to be written together (``merge``), in one line; None when they keep it."""
    clashes = second_records([*outcomes, *left_out])
    if clashes:
        return second_record_message(*clashes[0])
    found = disagreements(outcomes)
    if found:
        first = found[0].other
        return f"{first.source.path} ({first.source.location}): {found[0].reason()}"
    return None

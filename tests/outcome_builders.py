"""Small outcomes and the shipped records, for the in-process tests of outcomes/ and site/.

``score`` and ``efficiency`` build stored outcomes (``core.outcome_records``) of a record ``MODEL@PCT``
with only the fields a test cares about; ``shipped_records`` is the repository's catalogue by
(model, pruning %), read once per session.
"""

from __future__ import annotations

import functools
from typing import Any

from glu_catalogue.core.outcome_records import EfficiencyOutcome, Measurement, OutcomeSource, ScoreOutcome
from glu_catalogue.core.records import ExpansionRecord, successful_by_key


@functools.cache
def shipped_records() -> dict[tuple[str, int], ExpansionRecord]:
    """The successful records of data/expansion_rates.json by (model, pruning %)."""
    import glu_catalogue

    return successful_by_key(glu_catalogue.load_catalogue().models)


def source(path: str = "results.json", format: str = "lm-eval-results", location: str = "-", sha256: str = "0" * 64) -> OutcomeSource:
    """Where a value was read."""
    return OutcomeSource(path=path, sha256=sha256, format=format, location=location)


def score(record: str, task: str, metric: str, value: float, *, stderr: float | None = None, **fields: Any) -> ScoreOutcome:
    """A stored score of ``record`` (``MODEL@PCT``); ``fields`` set the others (``filter``, ``source``, ...)."""
    model, _, pct = record.rpartition("@")
    fields.setdefault("source", source(location=f"results.{task}.{metric}"))
    return ScoreOutcome(record=record, base_model=model, pruning_pct=int(pct), task=task, metric=metric, value=value, stderr=stderr, **fields)


def bench_measurement(machine: str = "AMD EPYC, 2 cores", dtype: str = "float32") -> Measurement:
    """How ``catalogue bench`` measured a value on ``machine`` in ``dtype``."""
    return Measurement(
        tool="catalogue bench",
        catalogue_version="0.1.0",
        inputs_sha256="1" * 64,
        kept_indices_sha256="2" * 64,
        weights="random-init",
        weights_source="random",
        device="cpu",
        dtype=dtype,
        machine=machine,
    )


def efficiency(record: str, workload: str, quantity: str, value: float, **fields: Any) -> EfficiencyOutcome:
    """A stored efficiency value of ``record`` under ``workload``; ``fields`` set the others (``runs``, ``measurement``, ``source``)."""
    model, _, pct = record.rpartition("@")
    fields.setdefault("source", source("bench.json", "catalogue-bench", f"{workload}.{quantity}"))
    return EfficiencyOutcome(
        record=record, base_model=model, pruning_pct=int(pct), workload={"name": workload, "max_new_tokens": 16}, quantity=quantity, value=value, **fields
    )


def bench_level(record: str, tokens_per_s: float, weights_bytes: int, machine: str = "AMD EPYC, 2 cores") -> list[EfficiencyOutcome]:
    """What ``catalogue bench`` stores of one level that the decode speed-up reads: decode-b1's tokens/s and the weight bytes."""
    how = bench_measurement(machine)
    return [
        efficiency(record, "decode-b1", "decode_tokens_per_s", tokens_per_s, measurement=how),
        efficiency(record, "memory", "weights_bytes", weights_bytes, measurement=how),
    ]

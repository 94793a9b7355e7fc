"""What a pruned model scores and costs, as records beside the architecture records: one per measured value.

A ``ScoreOutcome`` is one (catalogue record, task, metric, filter) of lm-evaluation-harness: the
value, its standard error (None where the harness gave ``"N/A"``), n-shot, samples, direction, the
harness and its version, the task's version or hash. An ``EfficiencyOutcome`` is one (record,
workload, quantity) of an efficiency run: the quantity's unit is in its name (``energy_net_kwh``,
``joules_per_token``, ``throughput_tokens_per_s``, ``latency_first_token_ms``, ...), the value is
the mean of the runs, and ``runs`` holds their count, spread, extremes and seeds. Every outcome
names the record it measured (``MODEL@PCT``) and its source: the file's path and sha256, its
format, and where in the file the value stands.

``OutcomesFile`` is ``data/outcomes.json``: the outcomes, and the values left out with the reason.
Pure Pydantic; no files, no torch.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from .architecture import NonNegativeInt, StrictModel

#: Version of the layout of outcomes.json.
OUTCOMES_SCHEMA_VERSION = "1.0"

#: The formats the readers know, by name.
SourceFormat = Literal[
    "lm-eval-results", "study-capability-json", "study-capability-csv", "study-carbon-json", "study-carbon-run", "codecarbon-csv"
]

#: Efficiency quantities, each with its unit in its name.
Quantity = Literal[
    "energy_net_kwh", "energy_raw_kwh", "energy_idle_kwh", "joules_per_token", "throughput_tokens_per_s",
    "latency_first_token_ms", "latency_whole_answer_ms", "memory_peak_gib", "model_size_gib", "duration_s",
    "emissions_kg_co2eq",
]  # fmt: skip


class OutcomeSource(StrictModel):
    """Where a value was read: the file as given (path), its bytes' sha256, its format, and the place in it."""

    path: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    format: SourceFormat
    location: str = Field(description="Where in the file: a JSON path (models_evaluated.baseline.results.mmlu.accuracy) or a CSV line")


class ScoreOutcome(StrictModel):
    """One lm-evaluation-harness value of one catalogue record."""

    kind: Literal["score"] = "score"
    record: str = Field(description="The catalogue record measured: MODEL@PCT")
    base_model: str
    pruning_pct: Annotated[int, Field(ge=0, le=100)]
    task: str
    metric: str
    filter: str | None = None
    value: float
    stderr: float | None = Field(default=None, description="None where the file gives none or 'N/A'")
    n_shot: NonNegativeInt | None = None
    n_samples: NonNegativeInt | None = None
    higher_is_better: bool | None = None
    harness: str = "lm-evaluation-harness"
    harness_version: str | None = None
    task_version: str | None = None
    task_hash: str | None = None
    source: OutcomeSource


class Workload(StrictModel):
    """What an efficiency run did: the task its prompts came from, the batch, the prompts, the answer length."""

    name: str
    task: str | None = None
    batch_size: NonNegativeInt | None = None
    prompt_count: NonNegativeInt | None = None
    max_new_tokens: NonNegativeInt | None = None


class Runs(StrictModel):
    """The runs a value aggregates: their count, mean, standard deviation, extremes, seeds, outliers left out."""

    count: NonNegativeInt
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    seeds: list[int] = Field(default_factory=list)
    outliers_excluded: NonNegativeInt | None = None


class EnergyMeter(StrictModel):
    """How energy was measured: codecarbon's version and mode, the idle power subtracted, the device."""

    tool: str = "codecarbon"
    version: str | None = None
    mode: str | None = None
    idle_power_w: float | None = None
    device: str | None = None


class EfficiencyOutcome(StrictModel):
    """One efficiency quantity of one catalogue record under one workload (the mean of its runs)."""

    kind: Literal["efficiency"] = "efficiency"
    record: str
    base_model: str
    pruning_pct: Annotated[int, Field(ge=0, le=100)]
    workload: Workload
    quantity: Quantity
    value: float
    runs: Runs | None = None
    meter: EnergyMeter | None = None
    source: OutcomeSource


Outcome = Annotated[Union[ScoreOutcome, EfficiencyOutcome], Field(discriminator="kind")]


class LeftOut(StrictModel):
    """A value a file gives that is not stored, and why (a check rejected it)."""

    source: OutcomeSource
    record: str | None = None
    what: str
    value: str
    reason: str
    kind: str


class OutcomesFile(StrictModel):
    """``data/outcomes.json``: every stored outcome, and every value left out with its reason."""

    schema_version: Literal["1.0"] = OUTCOMES_SCHEMA_VERSION
    outcomes: list[Outcome] = Field(default_factory=list)
    left_out: list[LeftOut] = Field(default_factory=list)


def outcome_key(outcome: ScoreOutcome | EfficiencyOutcome) -> tuple:
    """What makes an outcome one value: record, what was measured, and the source file's format and place."""
    if isinstance(outcome, ScoreOutcome):
        measured: tuple = (outcome.task, outcome.metric, outcome.filter)
    else:
        measured = (outcome.workload.name, outcome.quantity)
    return (outcome.record, outcome.kind, *measured, outcome.source.sha256, outcome.source.location)

"""What a pruned model scores and costs, as records beside the architecture records: one per measured value.

A ``ScoreOutcome`` is one (catalogue record, task, metric, filter) of lm-evaluation-harness: the
value, its standard error (None where the harness gave ``"N/A"``), n-shot, samples, direction, the
harness and its version, the task's version or hash. An ``EfficiencyOutcome`` is one (record,
workload, quantity) of an efficiency run: the quantity's unit is in its name (``energy_net_kwh``,
``joules_per_token``, ``throughput_tokens_per_s``, ``latency_first_token_ms``, ...), the value is
the mean of the runs (``catalogue bench``: their median, ``runs.aggregate`` says which), and
``runs`` holds their count, spread, extremes and seeds. Every outcome names the record it measured (``MODEL@PCT``), how the catalogue measured it where it did
(``Measurement``: ``catalogue evaluate`` and ``catalogue bench``) and its source: the file's path and sha256, its
format, and where in the file the value stands.

``OutcomesFile`` is ``data/outcomes.json``: the outcomes, and the values left out with the reason.
Pure Pydantic; no files, no torch.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .architecture import NonNegativeInt, StrictModel
from .source_formats import add_format_enum, known_format

#: Version of the layout of outcomes.json.
OUTCOMES_SCHEMA_VERSION = "1.0"

#: The formats the readers know, by name: each reader declares its own in its module (``outcomes/readers/``), a
#: stored outcome naming any other is invalid, and the JSON Schema lists them (``core.source_formats``).
SourceFormat = Annotated[str, AfterValidator(known_format), Field(json_schema_extra=add_format_enum)]

#: Efficiency quantities, each with its unit in its name.
Quantity = Literal[
    "energy_net_kwh",
    "energy_raw_kwh",
    "energy_idle_kwh",
    "joules_per_token",
    "throughput_tokens_per_s",
    "latency_first_token_ms",
    "latency_whole_answer_ms",
    "memory_peak_gib",
    "model_size_gib",
    "duration_s",
    "emissions_kg_co2eq",
    "prefill_tokens_per_s",
    "decode_tokens_per_s",
    "memory_peak_bytes",
    "weights_bytes",
]


class OutcomeSource(StrictModel):
    """Where a value was read: the file as given (path), its bytes' sha256, its format, and the place in it."""

    path: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    format: SourceFormat
    location: str = Field(description="Where in the file: a JSON path (models_evaluated.baseline.results.mmlu.accuracy) or a CSV line")


class Measurement(StrictModel):
    """How ``catalogue evaluate`` or ``catalogue bench`` measured a value: the pruned model as made, where, with what.

    ``kept_indices_sha256`` is the digest of the neurons the measured model kept, equal to its
    record's; ``inputs_sha256`` hashes what was asked (tasks, shots, limit, workloads, dtype, weights),
    so a second run with the same inputs knows the value is there. Random-init weights are said in
    ``weights`` and ``note``: their scores measure nothing about the real model.
    """

    tool: Literal["catalogue evaluate", "catalogue bench"]
    catalogue_version: str
    inputs_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    kept_indices_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    weights: Literal["checkpoint", "hub", "random-init"]
    weights_source: str
    weights_revision: str | None = None
    seed: int | None = Field(default=None, description="The random-init weights' seed (None for real weights)")
    device: str
    dtype: str
    machine: str = Field(description="The machine: processor, cores, memory, accelerator")
    seeds: dict[str, int] = Field(default_factory=dict, description="The harness's or the prompts' random seeds, by name")
    versions: dict[str, str] = Field(default_factory=dict, description="torch, transformers, optipfair, lm-eval, codecarbon")
    note: str | None = None


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
    measurement: Measurement | None = Field(default=None, description="How catalogue evaluate measured it (None: read from a file made elsewhere)")
    source: OutcomeSource


class Workload(StrictModel):
    """What an efficiency run did: the task its prompts came from, the batch, the prompts, the answer length."""

    name: str
    task: str | None = None
    batch_size: NonNegativeInt | None = None
    prompt_count: NonNegativeInt | None = None
    max_new_tokens: NonNegativeInt | None = None


class Runs(StrictModel):
    """The runs a value aggregates: their count, mean or median, standard deviation, extremes, seeds, outliers left out."""

    count: NonNegativeInt
    aggregate: Literal["mean", "median"] = Field(default="mean", description="Which of the runs' statistics the outcome's value is")
    mean: float | None = None
    median: float | None = None
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
    measurement: Measurement | None = Field(default=None, description="How catalogue bench measured it (None: read from a file made elsewhere)")
    source: OutcomeSource


Outcome = Annotated[ScoreOutcome | EfficiencyOutcome, Field(discriminator="kind")]


class LeftOut(StrictModel):
    """A value a file gives that is not stored, and why (a check rejected it)."""

    source: OutcomeSource
    record: str | None = None
    what: str
    value: str
    reason: str
    kind: str
    disagrees_with: OutcomeSource | None = Field(
        default=None, description="Where two sources disagree: the source whose value of the same record and measurement was kept"
    )


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

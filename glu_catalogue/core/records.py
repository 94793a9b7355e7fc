"""The catalogue's records: strict, frozen Pydantic models of ``data/expansion_rates.json``.

The layout is the study's own (``metadata`` + ``models[]`` with ``base_model``, ``pruning_pct``,
``original_architecture``, ``pruned_architecture``, ``reductions``, ``optipfair_stats``,
``status``), key for key, so code written for the study's files reads ours. What the study's
files lack is added as optional fields, which lets the same models read the legacy files:

* ``metadata.schema_version`` -- present in catalogue files, absent in legacy ones;
* ``expansion_ratio_exact`` next to the rounded ``expansion_rate``;
* the whole architecture (heads, head_dim, vocab, tied embeddings, biases, norms), so the
  parameter count can be recomputed from the record alone;
* ``provenance`` per record: how the numbers were produced, with which versions, when.

A file with ``schema_version`` must carry every added field; ``check_complete`` says which are
missing. Records are data: no I/O, no torch. Units follow the names: ``*_pct`` and
``*_percentage`` are 0-100, ``expansion_rate`` / ``expansion_ratio_exact`` are factors,
``*_millions`` are counts / 1e6, ``total_parameters`` is a count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, model_validator

from ..errors import RecordNotFound
from .architecture import ARCHITECTURE_FIELDS, LATER_FIELDS, MAX_EXACT_INT, OPTIONAL_FIELDS, Architecture, NonNegativeInt, PositiveInt, StrictModel, described
from .formulas import DISPLAY_DECIMALS
from .text import record_label

#: The schema version this code reads and writes; a file claiming another is refused by the schema.
SchemaVersion = Literal["1.0"]
SCHEMA_VERSION: str = get_args(SchemaVersion)[0]

#: Fields written rounded to ``DISPLAY_DECIMALS`` places; the verifier checks the rounding.
DISPLAY_FIELDS = frozenset(
    {
        "expansion_rate",
        "expansion_rate_percentage",
        "total_parameters_millions",
        "parameter_reduction_pct",
        "expansion_reduction_pct",
        "parameters_saved_millions",
    }
)

Status = Literal["success", "failed"]
NeuronSelectionMethod = Literal["MAW", "PPM", "VOW", "PON", "L2"]

#: The largest integer a record may hold (``architecture.MAX_EXACT_INT``, 2**53).
Count = Annotated[int, Field(ge=0, le=MAX_EXACT_INT)]
Percentage = Annotated[float, Field(ge=0, le=100)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
ModelId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]


def _iso_8601(value: str) -> str:
    """``value`` if it is an ISO 8601 date and time (``2025-01-31T12:00:00Z``); ``ValueError`` otherwise."""
    try:
        datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise ValueError("not an ISO 8601 date and time (e.g. 2025-01-31T12:00:00Z)") from None
    if "T" not in value:
        raise ValueError("not an ISO 8601 date and time: no time part (e.g. 2025-01-31T12:00:00Z)")
    return value


#: An ISO 8601 date and time, as ``derive.utc_now`` writes it (the study's files omit the zone).
IsoTime = Annotated[str, AfterValidator(_iso_8601)]


def _display(description: str) -> object:
    return Field(description=f"{description} Rounded to {DISPLAY_DECIMALS} decimals for display.")


class ArchitectureBlock(StrictModel):
    """One side of a record (``original_architecture`` or ``pruned_architecture``): the architecture it carries.

    The first seven fields are the study's; then the exact ratio and the rest of the
    architecture, optional so the study's own files validate (catalogue files carry them all).
    """

    # The study's seven: sizes, the ratio as a factor and in percent, the total as a count and in millions.
    hidden_size: PositiveInt = Field(description=described("hidden_size"))
    intermediate_size: PositiveInt = Field(description="MLP width I on this side.")
    num_hidden_layers: PositiveInt = Field(description=described("num_hidden_layers"))
    expansion_rate: NonNegativeFloat = _display("Expansion ratio I / H as a factor (4.0 = 4x).")
    expansion_rate_percentage: NonNegativeFloat = _display("Expansion ratio I / H x 100 (optipfair's unit).")
    total_parameters: PositiveInt = Field(description="All parameters, tied embeddings counted once.")
    total_parameters_millions: NonNegativeFloat = _display("total_parameters / 1e6.")
    expansion_ratio_exact: PositiveFloat | None = Field(default=None, description="I / H, unrounded.")
    # ``Architecture``'s other fields (``EXTRA_FIELDS``), in its order and with its types, optional here.
    num_attention_heads: PositiveInt | None = Field(default=None, description=described("num_attention_heads"))
    num_key_value_heads: PositiveInt | None = Field(default=None, description=described("num_key_value_heads"))
    head_dim: PositiveInt | None = Field(default=None, description=described("head_dim"))
    vocab_size: PositiveInt | None = Field(default=None, description=described("vocab_size"))
    tie_word_embeddings: bool | None = Field(default=None, description=described("tie_word_embeddings"))
    qkv_bias: bool | None = Field(default=None, description=described("qkv_bias"))
    o_proj_bias: bool | None = Field(default=None, description=described("o_proj_bias"))
    mlp_bias: bool | None = Field(default=None, description=described("mlp_bias"))
    qk_norm: bool | None = Field(default=None, description=described("qk_norm"))
    norms_per_layer: NonNegativeInt | None = Field(default=None, description=described("norms_per_layer"))
    fused_qkv: bool | None = Field(default=None, description=described("fused_qkv"))
    fused_gate_up: bool | None = Field(default=None, description=described("fused_gate_up"))
    qk_norm_all_heads: bool | None = Field(default=None, description=described("qk_norm_all_heads"))
    norm_bias: bool | None = Field(default=None, description=described("norm_bias"))
    o_proj_hidden_input: bool | None = Field(default=None, description=described("o_proj_hidden_input"))
    non_mlp_parameters: PositiveInt | None = Field(default=None, description=described("non_mlp_parameters"))
    num_mlp_layers: NonNegativeInt | None = Field(default=None, description=described("num_mlp_layers"))

    def architecture(self) -> Architecture | None:
        """This side's ``Architecture``, or None where a legacy block lacks fields."""
        values = {name: getattr(self, name) for name in ARCHITECTURE_FIELDS}
        if any(values[name] is None for name in ARCHITECTURE_FIELDS if name not in OPTIONAL_FIELDS):
            return None
        return Architecture.model_validate({name: value for name, value in values.items() if value is not None})


class Reductions(StrictModel):
    """What pruning removed, in display units."""

    parameter_reduction_pct: Percentage = _display("Parameters removed, % of the original total.")
    expansion_reduction_pct: Percentage = _display("MLP width removed, % of the original I.")
    parameters_saved_millions: NonNegativeFloat = _display("Parameters removed, in millions.")


class OptipfairStats(StrictModel):
    """The dictionary ``optipfair.prune_model(..., return_stats=True)`` returns, unrounded."""

    # ``expansion_rate`` here is optipfair's percent, kept as the legacy files write it;
    # ``formulas.ratio_from_rate_pct`` / ``rate_pct_from_ratio`` convert it to and from a factor.

    original_parameters: PositiveInt
    pruned_parameters: PositiveInt
    reduction: Count = Field(description="original_parameters - pruned_parameters.")
    percentage_reduction: Percentage = Field(description="reduction / original_parameters * 100.")
    expansion_rate: PositiveFloat = Field(
        description="The first layer's pruned expansion ratio I / H in percent (x 100), unrounded: optipfair's unit, "
        "240.04 for 2.4004x, where pruned_architecture.expansion_rate is the factor."
    )
    pruned_layers: Count | None = Field(default=None, description="Layers pruned (selective pruning only).")
    total_layers: PositiveInt | None = Field(default=None, description="Layers in the model (selective pruning only).")


class Provenance(StrictModel):
    """How a record's numbers were produced.

    ``method`` is ``closed-form`` (computed by the closed-form formulas; no model was built) or
    ``optipfair`` (a model was materialised with transformers, pruned with optipfair and counted).
    ``weights`` says where the pruned weights came from: ``random-init`` weights give the real
    shapes and counts, but the kept neurons are not those of the real model.
    """

    method: Literal["closed-form", "optipfair"]
    created_at: IsoTime = Field(description="ISO 8601 UTC time the record was produced.")
    catalogue_version: str
    size_rule: str | None = Field(default=None, description="The pruning size rule a closed-form record assumes.")
    optipfair_version: str | None = None
    torch_version: str | None = None
    transformers_version: str | None = None
    neuron_selection_method: NeuronSelectionMethod | None = None
    weights: Literal["random-init", "checkpoint", "hub"] | None = None
    weights_source: str | None = Field(default=None, description="Checkpoint path, hub id, or 'random'.")
    weights_revision: str | None = Field(default=None, description="Hub revision, where one was used.")
    seed: Count | None = Field(default=None, description="Seed of random-init weights.")
    config_sha256: str | None = Field(default=None, description="sha256 of the config the model was built from.")
    device: str | None = Field(default=None, description="Device name the model was pruned on.")
    dtype: str | None = Field(default=None, description="Weight dtype, e.g. bfloat16.")
    build_path: Literal["in-memory", "streaming"] | None = Field(
        default=None, description="How the model was pruned: 'in-memory' (loaded whole) or 'streaming' (one decoder layer at a time)."
    )
    wall_time_s: NonNegativeFloat | None = Field(default=None, description="Seconds spent on this level.")
    peak_memory_bytes: Count | None = Field(default=None, description="Peak memory while building this model.")
    kept_indices_sha256: str | None = Field(default=None, description="sha256 of the kept neuron indices, all layers.")
    note: str | None = None


class ExpansionRecord(StrictModel):
    """One pruned configuration: a base model at one pruning percentage.

    ``status == "success"`` records carry every block; ``"failed"`` ones carry ``error``.
    """

    base_model: ModelId = Field(description="Registry id of the base model, e.g. meta-llama/Llama-3.2-1B.")
    pruning_pct: Annotated[int, Field(ge=0, le=100)] = Field(description="optipfair pruning_percentage, 0-100.")
    original_architecture: ArchitectureBlock | None = None
    pruned_architecture: ArchitectureBlock | None = None
    reductions: Reductions | None = None
    optipfair_stats: OptipfairStats | None = None
    status: Status
    error: str | None = Field(default=None, description="Why a failed record failed.")
    provenance: Provenance | None = None

    @model_validator(mode="after")
    def _blocks_match_status(self) -> ExpansionRecord:
        problem = status_problem(self.__dict__)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def label(self) -> str:
        """How problems name this record: ``model @ pct%``."""
        return record_label(self.base_model, self.pruning_pct)


RESULT_BLOCKS = ("original_architecture", "pruned_architecture", "reductions", "optipfair_stats")


def status_problem(record: Mapping[str, Any]) -> str | None:
    """Why a record's blocks do not fit its status (None if they do); ``record`` as a dict."""
    if record.get("status") == "success":
        missing = [name for name in RESULT_BLOCKS if record.get(name) is None]
        if missing:
            return f"a successful record needs {', '.join(missing)}"
    elif not record.get("error"):
        return "a failed record needs an error message"
    return None


class Metadata(StrictModel):
    """The catalogue file's header; the counts describe ``models[]``."""

    generated_at: IsoTime = Field(description="ISO 8601 time the file was written.")
    optipfair_version: str
    total_models: Count = Field(description="Entries in models[].")
    successful: Count = Field(description="Entries with status success.")
    failed: Count = Field(description="Entries with status failed.")
    pruning_method: NeuronSelectionMethod
    pruning_type: Literal["MLP_GLU"]
    schema_version: SchemaVersion | None = Field(default=None, description="Catalogue schema version; absent in the study's original files.")


def successful_by_key(records: Iterable[ExpansionRecord]) -> dict[tuple[str, int], ExpansionRecord]:
    """The successful records of ``records`` by (base model, pruning %): what outcomes and checkpoints are joined to."""
    return {(record.base_model, record.pruning_pct): record for record in records if record.status == "success"}


#: The catalogue's ``optipfair_version`` when no record was built by optipfair.
CLOSED_FORM_VERSION = "none (closed form of the 0.4.2 size rule)"


def optipfair_versions(records: Iterable[ExpansionRecord]) -> str:
    """The optipfair versions the records were built with, for the catalogue's metadata (closed form: none)."""
    versions = {r.provenance.optipfair_version for r in records if r.provenance and r.provenance.optipfair_version}
    return ", ".join(sorted(versions)) if versions else CLOSED_FORM_VERSION


class Catalogue(StrictModel):
    """The whole ``expansion_rates.json``."""

    metadata: Metadata
    models: list[ExpansionRecord]

    @property
    def is_legacy(self) -> bool:
        """True for the study's own layout (no ``schema_version``)."""
        return self.metadata.schema_version is None

    def record(self, base_model: str, pruning_pct: int) -> ExpansionRecord:
        """The successful record of ``base_model`` at ``pruning_pct``; ``RecordNotFound`` if there is none."""
        for record in self.models:
            if record.base_model == base_model and record.pruning_pct == pruning_pct and record.status == "success":
                return record
        raise RecordNotFound(f"no successful record {record_label(base_model, pruning_pct)} in this catalogue")


#: What every side of a catalogue record carries (``LATER_FIELDS`` may be omitted: their default).
COMPLETE_BLOCK_FIELDS = ("expansion_ratio_exact", *(name for name in ARCHITECTURE_FIELDS if name not in LATER_FIELDS))
_COMPLETE_BLOCK_KEYS = frozenset(COMPLETE_BLOCK_FIELDS)


def check_complete(record: ExpansionRecord | Mapping[str, Any]) -> list[tuple[str, str]]:
    """Fields a catalogue-format record must carry but lacks, as ``(field path, reason)``.

    ``record`` is a validated record or its raw dict (the file's form); legacy records lack them all.
    """
    raw = record.model_dump(exclude_none=True) if isinstance(record, ExpansionRecord) else record
    blocks = [(side, raw.get(side)) for side in ("original_architecture", "pruned_architecture")]
    blocks = [(side, block) for side, block in blocks if isinstance(block, Mapping)]
    if "provenance" in raw and all(block.keys() >= _COMPLETE_BLOCK_KEYS for _, block in blocks):
        return []  # the common case, decided without building the list
    missing: list[tuple[str, str]] = []
    if "provenance" not in raw:
        missing.append(("provenance", "how the record was produced"))
    for side, block in blocks:
        for name in COMPLETE_BLOCK_FIELDS:
            if name not in block:
                missing.append((f"{side}.{name}", "needed to recompute the parameter count"))
    return missing

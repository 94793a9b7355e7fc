"""A GLU decoder's architecture, declared once.

``Architecture`` holds every number the parameter count of a GLU decoder depends on: the one
form the closed form (``formulas``) counts. The architecture appears in three other forms, each
with one job, and each repeats these fields with the types and descriptions declared here:

* ``records.ArchitectureBlock``: the architecture a record carries, as the catalogue file stores
  it (``original_architecture`` / ``pruned_architecture``): the fields, optional so the study's
  legacy files validate, beside the study's display values; ``ArchitectureBlock.architecture()``
  gives back the ``Architecture``;
* ``store.registry.ArchitectureFacts``: a registry entry's ``architecture_facts``, the fields
  config.json does not state (``FACT_FIELDS``; ``head_dim`` under the name ``head_dim_effective``),
  joined with the entry's ``config`` by ``Architecture.from_config``;
* ``model_facts.DerivedFacts``: what a model's transformers class says (read off a build on the
  meta device, or from the shipped type facts): its ``Architecture``, totals and parameter names;
  ``facts_document()`` writes them as ``ArchitectureFacts``.

The site and the command line show the fields in ``ARCHITECTURE_FIELDS`` order with ``describe``.
Adding a field here means adding it to ``ArchitectureBlock`` and ``ArchitectureFacts`` too: their
tests fail until the two declare it as ``Architecture`` does. Units: sizes and counts
are plain ``int``; flags are ``bool``.

The closed form (``formulas.closed_form_non_mlp_parameters``) counts a Llama-style decoder from
these fields. An architecture with parts it does not know (MLA attention, recurrent blocks,
extra projections) carries ``non_mlp_parameters``, measured once when the model is added: the
total of every architecture is then ``non_mlp_parameters + layers x MLP``, and width pruning
changes only the MLP term. ``Experts`` describes a mixture-of-experts model's routed experts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The largest integer an architecture or a record may hold: 2**53, the last one a float holds
#: exactly, so every ratio and display value derived from it is exact (real counts are below 10**13).
MAX_EXACT_INT = 2**53

PositiveInt = Annotated[int, Field(gt=0, le=MAX_EXACT_INT)]
NonNegativeInt = Annotated[int, Field(ge=0, le=MAX_EXACT_INT)]


class StrictModel(BaseModel):
    """Frozen, unknown fields rejected, no type coercion, no NaN or infinity."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


class Architecture(StrictModel):
    """Every architecture number the parameter count of a GLU decoder depends on.

    ``intermediate_size`` is the MLP width; a uniformly pruned model has the same architecture
    with a smaller one.
    """

    hidden_size: PositiveInt = Field(description="Width of the residual stream, H.")
    intermediate_size: PositiveInt = Field(description="Width of each GLU MLP, I (neuron pairs).")
    num_hidden_layers: PositiveInt = Field(description="Decoder layers, L.")
    num_attention_heads: PositiveInt = Field(description="Query heads.")
    num_key_value_heads: PositiveInt = Field(description="Key/value heads (GQA groups).")
    head_dim: PositiveInt = Field(description="Width of one attention head (not always H / heads).")
    vocab_size: PositiveInt = Field(description="Rows of the token embedding.")
    tie_word_embeddings: bool = Field(description="LM head shares the embedding matrix (counted once).")
    qkv_bias: bool = Field(description="q/k/v projections carry biases (Qwen2).")
    o_proj_bias: bool = Field(description="The attention output projection carries a bias.")
    mlp_bias: bool = Field(description="gate/up/down projections carry biases.")
    qk_norm: bool = Field(description="RMSNorm(head_dim) on queries and keys (Qwen3, Gemma-3).")
    norms_per_layer: NonNegativeInt = Field(description="Norms of size H per layer (2; Gemma-2/3: 4; Cohere: 1).")
    fused_qkv: bool = Field(default=False, description="q/k/v stored as one qkv_proj matrix (Phi-3).")
    fused_gate_up: bool = Field(default=False, description="gate/up stored as one gate_up_proj matrix (Phi-3).")
    qk_norm_all_heads: bool = Field(
        default=False, description="The q/k norms span all heads (q: heads x head_dim, k: kv heads x head_dim; OLMo-2), not one head_dim each."
    )
    norm_bias: bool = Field(default=False, description="Every norm of size H is a LayerNorm with a bias (StableLM): 2 vectors each.")
    o_proj_hidden_input: bool = Field(
        default=False, description="The attention output projection takes H inputs, not heads x head_dim (transformers' Helium); set only where the two differ."
    )
    non_mlp_parameters: PositiveInt | None = Field(
        default=None,
        description="Every parameter outside the GLU MLPs (sum of numel on the meta device, measured when the model was "
        "added); None: the closed form of the other fields gives it.",
    )
    num_mlp_layers: NonNegativeInt | None = Field(
        default=None, description="Layers with a dense GLU MLP of width intermediate_size (a mixture-of-experts model's dense layers); None: every layer."
    )

    @model_validator(mode="after")
    def _heads_group(self) -> Architecture:
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(f"num_attention_heads ({self.num_attention_heads}) must be a multiple of num_key_value_heads ({self.num_key_value_heads})")
        return self

    @classmethod
    def from_config(cls, config: Mapping[str, Any], facts: Mapping[str, Any]) -> Architecture:
        """The architecture from config.json values plus the facts a config does not state.

        ``facts`` holds ``FACT_FIELDS`` (``head_dim`` also as ``head_dim_effective``). Defaults
        are transformers': ``num_key_value_heads`` = heads, tied embeddings. A missing config
        key raises ``KeyError`` naming it.

        A fact that also names a config field (``hidden_size``, ...) overrides config.json: a
        multimodal model states its decoder's sizes in ``text_config``, a class its defaults.
        """
        stated = {name: facts[name] for name in ARCHITECTURE_FIELDS if facts.get(name) is not None}
        values = {name: stated[name] if name in stated else config[name] for name in REQUIRED_CONFIG_FIELDS}
        heads = values["num_attention_heads"]
        values["num_key_value_heads"] = stated.get("num_key_value_heads") or config.get("num_key_value_heads") or heads
        values["tie_word_embeddings"] = stated.get("tie_word_embeddings", config.get("tie_word_embeddings", True))
        values.update({name: facts[name] for name in FACT_FIELDS if name in facts})
        if "head_dim" not in values:
            values["head_dim"] = facts["head_dim_effective"]
        return cls.model_validate(values)

    def flags(self) -> list[str]:
        """The names of the optional parts this architecture has (``qkv_bias``, ``fused_gate_up``, ...)."""
        return [name for name in FLAG_FIELDS if getattr(self, name)]

    def describe(self) -> str:
        """One line for people: hidden size, layers, heads, vocabulary, embeddings, norms, flags."""
        extras = self.flags()
        text = (
            f"hidden {self.hidden_size}, {self.num_hidden_layers} layers, {self.num_attention_heads} heads / "
            f"{self.num_key_value_heads} kv heads x {self.head_dim}, vocab {self.vocab_size}, "
            f"{'tied' if self.tie_word_embeddings else 'untied'} embeddings, {self.norms_per_layer} norms per layer"
        )
        return text + (f", {', '.join(extras)}" if extras else "")


class Experts(StrictModel):
    """The routed experts of a mixture-of-experts GLU decoder: what its total and active counts need.

    Each routed expert is a GLU MLP of width ``moe_intermediate_size``; a token passes through
    ``num_experts_per_tok`` of the ``num_experts`` in each of the ``num_moe_layers`` MoE layers.
    Routers and shared experts are always active and count among the non-MLP parameters.
    """

    num_experts: PositiveInt = Field(description="Routed experts per MoE layer.")
    num_experts_per_tok: PositiveInt = Field(description="Routed experts a token passes through per MoE layer (top-k).")
    moe_intermediate_size: PositiveInt = Field(description="Width of one expert's GLU MLP.")
    num_moe_layers: PositiveInt = Field(description="Layers whose MLP is a mixture of experts.")
    expert_bias: bool = Field(default=False, description="The experts' projections carry biases.")


def described(name: str) -> str:
    """``Architecture``'s description of field ``name``: the text every record that repeats the field shows."""
    return Architecture.model_fields[name].description or ""


#: config.json keys naming how many routed experts a token passes through (top-k), first stated first.
TOP_K_KEYS = ("num_experts_per_tok", "moe_topk", "num_experts_per_token", "top_k", "moe_k")

#: Every field, in declaration order (the order records, tables and pages show them in).
ARCHITECTURE_FIELDS = tuple(Architecture.model_fields)

#: The study's own three sizes, which every record side carries (legacy files included).
SIZE_FIELDS = ("hidden_size", "intermediate_size", "num_hidden_layers")

#: Fields a record side carries only in catalogue (non-legacy) files.
EXTRA_FIELDS = tuple(name for name in ARCHITECTURE_FIELDS if name not in SIZE_FIELDS)

#: Fields that may be omitted and then take their default (False or None).
OPTIONAL_FIELDS = tuple(name for name, field in Architecture.model_fields.items() if not field.is_required())

#: Each optional field's default.
DEFAULTS = {name: Architecture.model_fields[name].default for name in OPTIONAL_FIELDS}

#: Fields added after schema 1.0: a record may omit them, and a record written by the catalogue
#: omits them where they hold their default, so the records of earlier models stay as they were.
LATER_FIELDS = ("qk_norm_all_heads", "norm_bias", "o_proj_hidden_input", "non_mlp_parameters", "num_mlp_layers")

#: The yes/no parts an architecture may have beyond a plain Llama-style decoder.
FLAG_FIELDS = tuple(name for name, field in Architecture.model_fields.items() if field.annotation in (bool, "bool") and name != "tie_word_embeddings")

#: config.json keys that cannot be defaulted.
REQUIRED_CONFIG_FIELDS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size")

#: The fields config.json states (the rest are facts).
CONFIG_FIELDS = (*REQUIRED_CONFIG_FIELDS, "num_key_value_heads", "tie_word_embeddings")

#: What a model's config.json does not say but its transformers class does: read off the
#: model's parameters (registry ``architecture_facts``, checkpoint tensor names).
FACT_FIELDS = ("head_dim", "qkv_bias", "o_proj_bias", "mlp_bias", "qk_norm", "norms_per_layer", "fused_qkv", "fused_gate_up", *LATER_FIELDS)

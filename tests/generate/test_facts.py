"""Architecture facts read off transformers' classes on the meta device (``generate.facts``).

The eighteen hand-checked registry entries are the oracle: the facts derived from their configs
equal theirs, and the measured non-MLP count equals their closed form. Every entry
``catalogue add`` wrote is what its config derives today. Configs that are not GLU decoders, or
that transformers cannot build, are refused with one line naming what was found.
"""

from __future__ import annotations

import pytest

from glu_catalogue.core import formulas
from glu_catalogue.core.architecture import ARCHITECTURE_FIELDS
from glu_catalogue.errors import ArchitectureError, NotGluModel
from glu_catalogue.store.registry import load_registry

pytestmark = pytest.mark.torch

REGISTRY = load_registry()
HAND_CHECKED = sorted(m for m, e in REGISTRY.items() if not e.architecture_facts.transformers_version and not e.same_architecture_as)
ADDED = sorted(m for m, e in REGISTRY.items() if e.architecture_facts.transformers_version)


@pytest.mark.parametrize("model_id", HAND_CHECKED)
def test_derived_facts_equal_the_hand_checked_ones(model_id):
    from glu_catalogue.generate.facts import derive_facts

    entry = REGISTRY[model_id]
    derived = derive_facts(entry.config)
    measured = derived.architecture
    for name in ARCHITECTURE_FIELDS:
        if name not in ("non_mlp_parameters", "num_mlp_layers"):
            assert getattr(measured, name) == getattr(entry.architecture, name), name
    assert measured.non_mlp_parameters == formulas.closed_form_non_mlp_parameters(entry.architecture)
    assert derived.total_parameters == derived.closed_form_parameters == formulas.total_parameters(entry.architecture)
    facts = entry.architecture_facts
    assert derived.transformers_class == facts.transformers_class
    assert list(derived.mlp_param_names) == facts.mlp_param_names
    assert list(derived.attn_param_names) == facts.attn_param_names
    assert derived.not_prunable is None and derived.experts is None


@pytest.mark.parametrize("model_id", ADDED)
def test_added_entries_are_what_their_config_derives(model_id):
    import transformers

    from glu_catalogue.pipeline.models import registry_facts

    entry = REGISTRY[model_id]
    if entry.architecture_facts.transformers_version != transformers.__version__:
        pytest.skip(f"facts established with transformers {entry.architecture_facts.transformers_version}")
    from glu_catalogue.generate.facts import derive_facts

    derived = derive_facts(entry.config)
    assert registry_facts(derived, entry.config) == entry.architecture_facts.model_dump(exclude_none=True)
    assert formulas.total_parameters(entry.architecture) == derived.total_parameters


def test_mixture_of_experts_counts():
    mixtral = REGISTRY["mistralai/Mixtral-8x7B-v0.1"]
    experts = mixtral.experts
    assert (experts.num_experts, experts.num_experts_per_tok, experts.moe_intermediate_size) == (8, 2, 14336)
    assert formulas.total_parameters(mixtral.architecture) == 46_702_792_704
    # 2 of 8 experts per token: the 6 idle ones are 32 layers x 6 x 3 x 4096 x 14336
    assert formulas.active_parameters(mixtral.architecture, experts) == 46_702_792_704 - 32 * 6 * 3 * 4096 * 14336
    qwen = REGISTRY["Qwen/Qwen3-30B-A3B"]
    assert formulas.mlp_layers(qwen.architecture) == 0 and qwen.not_prunable


def test_new_closed_form_facts():
    olmo2, stablelm = REGISTRY["allenai/OLMo-2-0425-1B"].architecture, REGISTRY["stabilityai/stablelm-2-1_6b"].architecture
    assert olmo2.qk_norm_all_heads and not olmo2.norm_bias
    assert stablelm.norm_bias and stablelm.qkv_bias
    for shape in (olmo2, stablelm):
        assert formulas.closed_form_non_mlp_parameters(shape) == shape.non_mlp_parameters


def test_a_model_without_a_glu_mlp_names_the_mlp_it_found():
    from glu_catalogue.generate.facts import derive_facts

    config = {"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100}
    with pytest.raises(NotGluModel, match=r"GPT2LMHeadModel is not a GLU decoder: .*GPT2MLP \(c_fc, c_proj"):
        derive_facts(config)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"hidden_size": 64}, "no model_type"),
        ({"model_type": "no-such-model"}, "unknown to transformers"),
        ({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 5}, "llama"),
    ],
)
def test_configs_transformers_cannot_build(config, message):
    from glu_catalogue.generate.facts import derive_facts

    with pytest.raises(ArchitectureError, match=message):
        derive_facts(config)


def test_a_top_k_above_the_experts_is_refused_rather_than_counted():
    """An active count above the total would be nonsense: a config routing through more experts than there are is refused."""
    from glu_catalogue.generate.coverage import tiny_config_values
    from glu_catalogue.generate.facts import derive_facts

    values = {**tiny_config_values("qwen3_moe"), "num_experts_per_tok": 6}
    with pytest.raises(ArchitectureError, match="routes each token through 6 experts, more than the 4 of a layer"):
        derive_facts(values)
    two = derive_facts({**values, "num_experts_per_tok": 2})
    assert two.experts.num_experts == 4 and two.active_parameters < two.total_parameters

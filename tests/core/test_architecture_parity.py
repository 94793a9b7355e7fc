"""The closed form equals ``sum(p.numel() for p in model.parameters())`` of real transformers models.

Models are built on the meta device (shapes without memory), except where optipfair must
really prune, which needs weights: those models are tiny.
"""

from __future__ import annotations

import pytest
from conftest import meta_count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glu_catalogue.core import formulas
from glu_catalogue.core.architecture import Architecture

pytestmark = pytest.mark.torch


@st.composite
def small_llama(draw) -> Architecture:
    kv_heads = draw(st.integers(1, 4))
    heads = kv_heads * draw(st.integers(1, 4))
    head_dim = draw(st.sampled_from([2, 4, 8, 16]))
    # transformers wants hidden divisible by heads; head_dim need not be hidden / heads.
    hidden = heads * draw(st.integers(1, 12))
    bias = draw(st.booleans())
    return Architecture(
        hidden_size=hidden,
        intermediate_size=draw(st.integers(2, 96)),
        num_hidden_layers=draw(st.integers(1, 4)),
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        vocab_size=draw(st.integers(8, 300)),
        tie_word_embeddings=draw(st.booleans()),
        qkv_bias=bias,
        o_proj_bias=bias,
        mlp_bias=draw(st.booleans()),
        qk_norm=False,
        norms_per_layer=2,
    )


def llama_config(shape: Architecture) -> dict:
    return dict(
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers,
        num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_key_value_heads,
        head_dim=shape.head_dim,
        vocab_size=shape.vocab_size,
        tie_word_embeddings=shape.tie_word_embeddings,
        attention_bias=shape.qkv_bias,
        mlp_bias=shape.mlp_bias,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=small_llama())
def test_random_small_llama_configs_on_the_meta_device(shape):
    assert meta_count(llama_config(shape), "llama") == formulas.total_parameters(shape)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=small_llama(), pruning_pct=st.integers(0, 100))
def test_optipfair_really_prunes_to_the_closed_form(shape, pruning_pct):
    import optipfair
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    if pruning_pct and formulas.neurons_to_prune(shape.intermediate_size, pruning_pct) == 0:
        pruning_pct = 0  # optipfair refuses a level that prunes nothing; tested in test_formulas
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**llama_config(shape)))
    pruned = optipfair.prune_model(model, pruning_type="MLP_GLU", pruning_percentage=pruning_pct, show_progress=False)
    kept = formulas.kept_neurons(shape.intermediate_size, pruning_pct)
    assert pruned.config.intermediate_size == kept
    assert all(layer.mlp.gate_proj.out_features == kept for layer in pruned.model.layers)
    assert sum(parameter.numel() for parameter in pruned.parameters()) == formulas.total_parameters(shape, kept)

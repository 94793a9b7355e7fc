"""Every level derived from one load equals `optipfair.prune_model` on a fresh copy at that level."""

from __future__ import annotations

import copy

import pytest

pytestmark = pytest.mark.torch

LEVELS = [0, 10, 20, 30, 40, 50, 60]


def tiny_llama(dtype_name: str, *, ties: bool, tied_embeddings: bool = True, mlp_bias: bool = False, seed: int = 0):
    """A small random Llama; with ``ties`` its weights take few values, so importance scores tie often."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        hidden_size=64,
        intermediate_size=200,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=97,
        tie_word_embeddings=tied_embeddings,
        mlp_bias=mlp_bias,
    )
    model = LlamaForCausalLM(config).to(getattr(torch, dtype_name))
    if ties:
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.copy_(torch.randint(-3, 4, parameter.shape) * 0.01)
    return model


def reference(model, method: str, level: int):
    import optipfair

    return optipfair.prune_model(copy.deepcopy(model), pruning_type="MLP_GLU", neuron_selection_method=method, pruning_percentage=level, show_progress=False)


def assert_same_model(ours, theirs) -> None:
    import torch

    ours_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(their_state)
    for name, tensor in their_state.items():
        assert ours_state[name].dtype == tensor.dtype, name
        assert torch.equal(ours_state[name], tensor), name
    assert ours.config.intermediate_size == theirs.config.intermediate_size
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())


@pytest.mark.parametrize("method", ["MAW", "VOW", "PON", "L2"])
@pytest.mark.parametrize(("dtype_name", "ties"), [("float32", False), ("bfloat16", False), ("bfloat16", True)])
def test_every_level_equals_optipfair(method, dtype_name, ties):
    from glu_catalogue.generate.pruning import LevelPruner, importance_scores, kept_indices

    base = tiny_llama(dtype_name, ties=ties)
    ours = copy.deepcopy(base)
    levels = LEVELS + [33, 95]
    pruner = LevelPruner(ours, method, levels)
    for level, width in zip(sorted(levels), pruner.widths):
        kept = pruner.advance()
        assert_same_model(ours, reference(base, method, level))
        for layer_index, layer in enumerate(base.model.layers):
            from glu_catalogue.generate.pruning import LayerMlp

            expected = kept_indices(importance_scores(LayerMlp(layer.mlp), method), width)
            assert kept[layer_index].tolist() == expected.tolist()


def test_ties_exercise_the_spare_store():
    """With heavily tied scores topk keeps non-nested sets; the spare rows make the result exact anyway."""
    from glu_catalogue.generate.pruning import LevelPruner

    base = tiny_llama("bfloat16", ties=True)
    pruner = LevelPruner(copy.deepcopy(base), "MAW", list(range(0, 100, 3)))
    nested = all(set(later.tolist()) <= set(earlier.tolist()) for layer in pruner.kept for earlier, later in zip(layer, layer[1:]))
    spare_sizes = []
    for _ in pruner.levels:
        pruner.advance()
        spare_sizes.append(sum(0 if spare is None else spare.indices.numel() for spare in pruner._spares))
    if nested:
        pytest.skip("topk happened to keep nested sets on this platform; the equality tests still hold")
    assert max(spare_sizes) > 0


@pytest.mark.parametrize("options", [{"tied_embeddings": False}, {"mlp_bias": True}])
def test_untied_embeddings_and_mlp_biases(options):
    from glu_catalogue.generate.pruning import LevelPruner

    base = tiny_llama("float32", ties=False, **options)
    ours = copy.deepcopy(base)
    pruner = LevelPruner(ours, "MAW", LEVELS)
    for level in LEVELS:
        pruner.advance()
        assert_same_model(ours, reference(base, "MAW", level))


def test_fused_gate_up_keeps_the_neurons_optipfair_keeps_on_an_unfused_twin():
    """Phi-3's fused gate_up_proj, which optipfair refuses, pruned like a Llama twin with the same weights."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Phi3Config, Phi3ForCausalLM

    from glu_catalogue.generate.pruning import LevelPruner

    torch.manual_seed(1)
    common = dict(hidden_size=64, intermediate_size=200, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4, vocab_size=97)
    phi = Phi3ForCausalLM(Phi3Config(**common, pad_token_id=0)).to(torch.bfloat16)
    twin = LlamaForCausalLM(LlamaConfig(**common)).to(torch.bfloat16)
    with torch.no_grad():
        for phi_layer, twin_layer in zip(phi.model.layers, twin.model.layers):
            gate, up = phi_layer.mlp.gate_up_proj.weight.chunk(2, dim=0)
            twin_layer.mlp.gate_proj.weight.copy_(gate)
            twin_layer.mlp.up_proj.weight.copy_(up)
            twin_layer.mlp.down_proj.weight.copy_(phi_layer.mlp.down_proj.weight)
    pruner = LevelPruner(phi, "MAW", LEVELS)
    for level in LEVELS:
        pruner.advance()
        pruned_twin = reference(twin, "MAW", level)
        for phi_layer, twin_layer in zip(phi.model.layers, pruned_twin.model.layers):
            gate, up = phi_layer.mlp.gate_up_proj.weight.chunk(2, dim=0)
            assert torch.equal(gate, twin_layer.mlp.gate_proj.weight)
            assert torch.equal(up, twin_layer.mlp.up_proj.weight)
            assert torch.equal(phi_layer.mlp.down_proj.weight, twin_layer.mlp.down_proj.weight)
        assert phi.config.intermediate_size == pruned_twin.config.intermediate_size
        output = phi(torch.tensor([[1, 2, 3]]))  # the pruned fused model still runs
        assert output.logits.shape == (1, 3, 97)


@pytest.mark.parametrize("dtype_name", ["float32", "bfloat16", "float16"])
def test_fast_peak_to_peak_scores_are_optipfairs_bit_for_bit(dtype_name):
    import torch
    from optipfair.pruning.mlp_glu import compute_neuron_pair_importance_maw

    from glu_catalogue.generate.pruning import _peak_to_peak_scores

    generator = torch.Generator().manual_seed(3)
    gate = torch.randn(300, 64, generator=generator).to(getattr(torch, dtype_name))
    up = torch.randn(300, 64, generator=generator).to(getattr(torch, dtype_name))
    assert torch.equal(_peak_to_peak_scores(gate, up), compute_neuron_pair_importance_maw(gate.float(), up.float()))

"""The closed form and optipfair's size rule, by hand-checked examples and by properties."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import DATA, load_json
from hypothesis import assume, given
from hypothesis import strategies as st

from glu_catalogue.core import formulas
from glu_catalogue.core.formulas import PruningError


def tiny_shape(**overrides):
    """H=4, I=8, L=1, 2 heads of 2, 1 kv head, vocab 10, tied: small enough to count by hand."""
    values = dict(
        hidden_size=4,
        intermediate_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=2,
        vocab_size=10,
        tie_word_embeddings=True,
        qkv_bias=False,
        o_proj_bias=False,
        mlp_bias=False,
        qk_norm=False,
        norms_per_layer=2,
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def test_total_parameters_counted_by_hand():
    # embeddings 10*4 = 40; q 4*4 = 16, k 4*2 = 8, v 8, o 16 -> 48; MLP 3*4*8 = 96; norms 2*4 = 8; final norm 4
    assert formulas.total_parameters(tiny_shape()) == 40 + 48 + 96 + 8 + 4


def test_each_architecture_feature_adds_what_it_should():
    base = formulas.total_parameters(tiny_shape())
    assert formulas.total_parameters(tiny_shape(tie_word_embeddings=False)) == base + 40  # LM head V*H
    assert formulas.total_parameters(tiny_shape(qkv_bias=True)) == base + 4 + 2 + 2  # q, k, v biases
    assert formulas.total_parameters(tiny_shape(o_proj_bias=True)) == base + 4
    assert formulas.total_parameters(tiny_shape(mlp_bias=True)) == base + 8 + 8 + 4  # gate, up, down
    assert formulas.total_parameters(tiny_shape(qk_norm=True)) == base + 2 + 2  # RMSNorm(head_dim) on q and k
    assert formulas.total_parameters(tiny_shape(norms_per_layer=4)) == base + 8
    # head_dim that is not hidden/heads widens q/k/v/o: q 4*6, k 4*3, v 4*3, o 6*4 = 72 instead of 48
    assert formulas.total_parameters(tiny_shape(head_dim=3)) == base - 48 + 72


def test_intermediate_size_override_prunes_only_the_mlp():
    shape = tiny_shape()
    assert formulas.total_parameters(shape) - formulas.total_parameters(shape, 5) == 3 * 4 * (8 - 5)


@pytest.mark.parametrize("mlp_bias", [False, True])
def test_parameters_per_neuron_is_what_one_pair_holds_in_all_layers(mlp_bias):
    shape = tiny_shape(num_hidden_layers=3, mlp_bias=mlp_bias)
    # gate row H + up row H + down column H (+ a gate and an up bias), in each of 3 layers
    assert formulas.parameters_per_neuron(shape) == 3 * (3 * 4 + (2 if mlp_bias else 0))
    for kept in range(1, 9):
        removed = (8 - kept) * formulas.parameters_per_neuron(shape)
        assert formulas.total_parameters(shape) - removed == formulas.total_parameters(shape, kept)


def test_total_parameters_by_layer_sums_each_layers_mlp():
    shape = tiny_shape(num_hidden_layers=3, mlp_bias=True)
    assert formulas.total_parameters_by_layer(shape, [8, 8, 8]) == formulas.total_parameters(shape)
    assert formulas.total_parameters_by_layer(shape, [5, 5, 5]) == formulas.total_parameters(shape, 5)
    # one layer pruned from 8 to 5: gate, up (4*3 each + 3 biases each) and down (4*3) lose 3*4*3 + 2*3
    assert formulas.total_parameters(shape) - formulas.total_parameters_by_layer(shape, [8, 5, 8]) == 3 * 4 * 3 + 2 * 3
    assert formulas.non_mlp_parameters(shape) + 3 * formulas.mlp_parameters(4, 8, True) == formulas.total_parameters(shape)
    with pytest.raises(ValueError, match="2 MLP widths for 3 layers"):
        formulas.total_parameters_by_layer(shape, [8, 8])


@pytest.mark.parametrize(("pruning_pct", "kept"), [(0, 8192), (10, 7373), (20, 6554), (30, 5735), (40, 4916), (50, 4096), (60, 3277)])
def test_kept_neurons_reproduces_the_study_sizes(pruning_pct, kept):
    assert formulas.kept_neurons(8192, pruning_pct) == kept


def test_kept_neurons_truncates_like_python_floats():
    # 29 / 100 * 100 is 28.999999999999996 in floats: optipfair prunes 28 neurons, not 29.
    assert formulas.neurons_to_prune(100, 29) == 28
    assert formulas.kept_neurons(100, 29) == 72


def test_kept_neurons_never_below_one():
    assert formulas.kept_neurons(8192, 100) == 1


@pytest.mark.parametrize(("divisor", "kept"), [(32, 7360), (64, 7360), (128, 7296), (256, 7168)])
def test_expansion_divisor_rounds_down(divisor, kept):
    assert formulas.kept_neurons(8192, 10, divisor) == kept


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((8192, 101), "between 0 and 100"),
        ((8192, -1), "between 0 and 100"),
        ((8192, 10, 100), "expansion_divisor must be one of"),
        ((8192, 0.001), "no effective pruning"),  # int(0.08192) = 0 neurons
        ((256, 0.1, 256), "no effective pruning"),  # nothing pruned, 256 is already a multiple
    ],
)
def test_kept_neurons_refuses_what_optipfair_refuses(args, message):
    with pytest.raises(PruningError, match=message):
        formulas.kept_neurons(*args)


def test_divisor_rounding_keeps_at_least_one_neuron():
    assert formulas.kept_neurons(100, 50, 128) == 1


@pytest.mark.parametrize(("hidden", "kept"), [(2048, 4916), (3072, 7373)])
def test_expansion_rate_240_reproduces_the_study(hidden, kept):
    # The study: 2.4x is 40 % for Llama-3.2-1B (H=2048) and 10 % for Llama-3.2-3B (H=3072).
    pct = formulas.pruning_pct_for_expansion_rate(8192, hidden, 240)
    assert formulas.kept_neurons(8192, pct) == kept


def test_expansion_rate_at_or_above_current_is_refused():
    with pytest.raises(PruningError, match="nothing to prune"):
        formulas.pruning_pct_for_expansion_rate(8192, 2048, 400)


def test_ratios_and_reductions():
    assert formulas.expansion_ratio(8192, 2048) == 4.0
    assert formulas.expansion_rate_pct(7373, 2048) == 360.009765625
    assert formulas.reduction_pct(1235814400, 1155303424) == pytest.approx(6.5148112855781575, rel=1e-15)
    assert formulas.millions(80510976) == 80.510976
    assert formulas.display(360.009765625) == 360.01


def test_optipfair_percent_and_the_factor_convert_both_ways():
    """optipfair's expansion_rate (percent) and the records' expansion_rate (factor): one pair of conversions."""
    assert formulas.ratio_from_rate_pct(240.0) == 2.4
    assert formulas.rate_pct_from_ratio(4.0) == 400.0
    assert formulas.rate_pct_from_ratio(formulas.expansion_ratio(7373, 2048)) == formulas.expansion_rate_pct(7373, 2048)


def test_every_record_states_optipfair_percent_of_its_pruned_factor():
    """The stored ``optipfair_stats.expansion_rate`` is the pruned side's exact factor in percent."""
    records = [m for m in load_json(DATA / "expansion_rates.json")["models"] if m["status"] == "success"]
    assert records
    for record in records:
        factor = record["pruned_architecture"]["expansion_ratio_exact"]
        assert record["optipfair_stats"]["expansion_rate"] == formulas.rate_pct_from_ratio(factor), record["base_model"]
        assert formulas.ratio_from_rate_pct(record["optipfair_stats"]["expansion_rate"]) == pytest.approx(factor, rel=1e-15)


def test_mlp_share_is_the_fraction_of_mlp_parameters():
    shape = tiny_shape()
    assert formulas.mlp_share(shape) == 96 / 196


@given(intermediate=st.integers(min_value=2, max_value=100_000), low=st.integers(min_value=0, max_value=100), high=st.integers(min_value=0, max_value=100))
def test_kept_neurons_is_monotone_and_bounded(intermediate, low, high):
    low, high = sorted((low, high))
    for level in (low, high):  # a level > 0 that prunes nothing is refused, as tested below
        assume(level == 0 or formulas.neurons_to_prune(intermediate, level) > 0)
    kept_low = formulas.kept_neurons(intermediate, low)
    kept_high = formulas.kept_neurons(intermediate, high)
    assert 1 <= kept_high <= kept_low <= intermediate


@given(intermediate=st.integers(min_value=1, max_value=100_000), pruning_pct=st.floats(0.0001, 100))
def test_a_level_that_prunes_nothing_is_refused(intermediate, pruning_pct):
    if formulas.neurons_to_prune(intermediate, pruning_pct) == 0:
        with pytest.raises(PruningError, match="no effective pruning"):
            formulas.kept_neurons(intermediate, pruning_pct)
    else:
        assert formulas.kept_neurons(intermediate, pruning_pct) < intermediate


@given(hidden=st.integers(1, 512), intermediate=st.integers(2, 4096), layers=st.integers(1, 8), pruning_pct=st.integers(0, 100))
def test_pruning_removes_exactly_three_matrices_per_layer(hidden, intermediate, layers, pruning_pct):
    shape = tiny_shape(hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers)
    assume(formulas.neurons_to_prune(intermediate, pruning_pct) > 0 or pruning_pct == 0)
    kept = formulas.kept_neurons(intermediate, pruning_pct)
    removed = formulas.total_parameters(shape) - formulas.total_parameters(shape, kept)
    assert removed == layers * 3 * hidden * (intermediate - kept)

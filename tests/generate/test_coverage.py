"""Coverage as a test: every causal-LM model type of the installed transformers, end to end.

For each type, a tiny config of its default (``generate.coverage.tiny_config_values``) is built
on the meta device and classified. Every dense GLU type not in ``coverage.EXCEPTIONS``:

* its facts are derived and its total is ``sum(numel)`` of a real tiny model built from the
  same config;
* where the catalogue prunes it, three levels are pruned with ``LevelPruner`` and each pruned
  model's ``sum(numel)`` equals the formula (``formulas.total_parameters`` of the derived
  architecture at the kept width); where optipfair accepts the model, every level equals
  ``optipfair.prune_model`` on a fresh copy, tensor for tensor; a fused ``gate_up_proj`` is
  shown to be [gate; up] by the MLP's own forward, and pruned as optipfair prunes its split twin;
* a tiny checkpoint saved by transformers (baseline, and the last level where prunable) is
  inspected from its headers with no problems.

Every mixture-of-experts type: total and active parameters from the facts equal a count on the
built model, and a tiny checkpoint saved by transformers inspects from its headers with no
problems, its total ``sum(numel)`` and its active parameters the facts' (``UNSAVABLE``: the types
transformers cannot save). A type listed in ``EXCEPTIONS`` must still fail, so the list stays true; a type
transformers cannot build must be listed. The site's coverage table (docs/reference/coverage.md) must be what
``coverage_table()`` generates, so a new transformers type shows up here as a failure.
"""

from __future__ import annotations

import copy
import re

import pytest
from conftest import REPO

#: The site page holding the coverage table (between its markers).
COVERAGE_PAGE = "docs/reference/coverage.md"

pytestmark = pytest.mark.torch

LEVELS = (10, 40, 60)

#: Mixture-of-experts types whose tiny model transformers 5.24 cannot ``save_pretrained``, and why; the
#: test fails when one saves, so the list stays true.
UNSAVABLE = {
    "inkling2_text": "its weight conversion pads the embedding to a vocabulary the tiny config does not have (a negative size)",
    "inkling2_loop_text": "its weight conversion pads the embedding to a vocabulary the tiny config does not have (a negative size)",
}


def _types() -> list[str]:
    """The model types of the committed coverage table, read as text so collecting imports no transformers.

    ``test_the_site_shows_the_current_coverage_table`` fails when that table is not the installed
    transformers' own, so these are its causal-LM types.
    """
    text = (REPO / COVERAGE_PAGE).read_text(encoding="utf-8")
    section = text.split("<!-- coverage-table -->", 1)[1].split("<!-- /coverage-table -->", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \|", section, flags=re.M)  # the GLU and not-handled types
    without_glu = next((line for line in section.splitlines() if line.startswith("Without a GLU MLP")), "")
    return sorted({*rows, *re.findall(r"`([^`]+)`", without_glu)})


@pytest.mark.parametrize("model_type", _types())
def test_every_causal_lm_type(model_type, tmp_path):
    from glu_catalogue.generate.coverage import EXCEPTIONS, classify

    item = classify(model_type)
    if model_type in EXCEPTIONS:
        assert not handled(item, tmp_path), f"{model_type} works now: remove it from coverage.EXCEPTIONS"
        return
    assert item.kind != "exception", f"{model_type}: {item.reason} - add it to coverage.EXCEPTIONS with the reason, or a TINY_OVERRIDES entry that builds it"
    if item.kind != "not-glu":  # a type without a GLU MLP has nothing to check: the coverage table names it
        check(item, tmp_path)


def handled(item, directory) -> bool:
    """True when the type is classified and passes its check."""
    if item.kind == "exception":
        return False
    try:
        check(item, directory)
    except Exception:
        return False
    return True


def check(item, directory) -> None:
    """The end-to-end check of one GLU type (dense or mixture of experts); raises when it fails."""
    if item.kind == "moe":
        check_moe(item, directory)
    else:
        check_dense(item, directory)


def tiny_model(model_type: str, seed: int = 0):
    """A real tiny model of ``model_type`` (random weights, float32, CPU)."""
    import torch
    from transformers import AutoModelForCausalLM

    from glu_catalogue.generate.coverage import tiny_config_values
    from glu_catalogue.generate.meta import build_config

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(build_config(tiny_config_values(model_type)))
    return model.float().eval()


def numel(model) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def check_dense(item, directory) -> None:
    from glu_catalogue.core import formulas

    facts = item.facts
    architecture = facts.architecture
    model = tiny_model(item.model_type)
    assert numel(model) == facts.total_parameters == formulas.total_parameters(architecture)
    if facts.not_prunable:
        assert_inspects_clean(model, directory / "baseline")
        return
    if architecture.fused_gate_up:
        check_fused(model, architecture)
    else:
        check_against_optipfair(model, architecture)
    assert_inspects_clean(model, directory / "baseline")
    pruned = prune(model, architecture)
    assert_inspects_clean(pruned, directory / "pruned")


def prune(model, architecture):
    """``model`` pruned by ``LevelPruner`` to each of ``LEVELS``; every level counted against the formula."""
    from glu_catalogue.core import formulas
    from glu_catalogue.generate.pruning import LevelPruner

    pruner = LevelPruner(model, "MAW", list(LEVELS))
    for width in pruner.widths:
        pruner.advance()
        assert model.config.get_text_config().intermediate_size == width
        assert numel(model) == formulas.total_parameters(architecture, width)
    return model


def check_against_optipfair(model, architecture) -> None:
    """Every level of ``LevelPruner`` equals ``optipfair.prune_model`` on a fresh copy, tensor for tensor."""
    import optipfair
    import torch

    from glu_catalogue.generate.pruning import LevelPruner

    ours = copy.deepcopy(model)
    pruner = LevelPruner(ours, "MAW", list(LEVELS))
    for level in pruner.levels:
        pruner.advance()
        theirs = optipfair.prune_model(copy.deepcopy(model), pruning_type="MLP_GLU", pruning_percentage=level, show_progress=False)
        ours_state, their_state = ours.state_dict(), theirs.state_dict()
        assert list(ours_state) == list(their_state)
        assert all(torch.equal(ours_state[name], tensor) for name, tensor in their_state.items())


def check_fused(model, architecture) -> None:
    """A fused gate_up_proj is [gate; up] (the MLP's forward says so) and is pruned as optipfair prunes the split twin."""
    import torch
    from optipfair.pruning.mlp_glu import prune_neuron_pairs
    from torch import nn

    from glu_catalogue.generate.decoder import find_decoder
    from glu_catalogue.generate.pruning import LevelPruner

    _, layers = find_decoder(model)
    twins = []
    x = torch.randn(1, 3, architecture.hidden_size, generator=torch.Generator().manual_seed(0))
    for layer in layers:
        mlp = layer.mlp
        gate, up = mlp.gate_up_proj.weight.detach().chunk(2, dim=0)
        act = getattr(mlp, "activation_fn", None) or mlp.act_fn
        with torch.no_grad():
            expected = nn.functional.linear(act(nn.functional.linear(x, gate)) * nn.functional.linear(x, up), mlp.down_proj.weight)
            assert torch.allclose(mlp(x), expected, atol=1e-6), "the fused weight is not [gate; up]"
        twin = nn.Module()
        twin.gate_proj, twin.up_proj = nn.Linear(*gate.shape[::-1], bias=False), nn.Linear(*up.shape[::-1], bias=False)
        twin.down_proj = nn.Linear(*mlp.down_proj.weight.shape[::-1], bias=False)
        with torch.no_grad():
            twin.gate_proj.weight.copy_(gate), twin.up_proj.weight.copy_(up), twin.down_proj.weight.copy_(mlp.down_proj.weight)
        twins.append(twin)
    pruner = LevelPruner(model, "MAW", list(LEVELS))
    for level in pruner.levels:
        pruner.advance()
        for layer, twin in zip(layers, twins):
            new_gate, new_up, new_down, _ = prune_neuron_pairs(twin, level)
            gate, up = layer.mlp.gate_up_proj.weight.chunk(2, dim=0)
            assert torch.equal(gate, new_gate.weight) and torch.equal(up, new_up.weight)
            assert torch.equal(layer.mlp.down_proj.weight, new_down.weight)


def assert_inspects_clean(model, directory) -> None:
    """``save_pretrained`` the model and inspect the checkpoint from its headers: no problems."""
    from glu_catalogue.checkpoints.inspect import inspect_checkpoint

    model.save_pretrained(directory)
    inspection = inspect_checkpoint(directory)
    assert inspection.report.ok, [(p.field, p.expected, p.found, p.message) for p in inspection.report.problems]
    if inspection.standard_layout:  # other layouts may save buffers beside the parameters
        assert inspection.total_parameters == inspection.closed_form_total_parameters == numel(model)


def check_moe(item, directory) -> None:
    """Total and active parameters of a mixture of experts equal counts on the built model; its saved checkpoint inspects clean."""
    from glu_catalogue.generate.decoder import find_decoder, layer_mlp

    facts, experts = item.facts, item.facts.experts
    model = tiny_model(item.model_type)
    total = numel(model)
    assert total == facts.total_parameters
    _, layers = find_decoder(model)
    routed = [numel(layer_mlp(index, layer).module.experts) for index, layer in enumerate(layers) if layer_mlp(index, layer).kind == "moe"]
    idle = sum(count * (experts.num_experts - experts.num_experts_per_tok) // experts.num_experts for count in routed)
    assert facts.active_parameters == total - idle
    if item.model_type in UNSAVABLE:
        with pytest.raises(RuntimeError):
            model.save_pretrained(directory / "baseline")
        return
    assert_moe_inspects_clean(model, directory / "baseline", facts)


def assert_moe_inspects_clean(model, directory, facts) -> None:
    """``save_pretrained`` a mixture of experts and inspect it from its headers: no problems, the model's
    total, the facts' MoE layers, experts and active parameters."""
    from glu_catalogue.checkpoints.inspect import inspect_checkpoint
    from glu_catalogue.core import formulas

    experts = facts.experts
    model.save_pretrained(directory)
    inspection = inspect_checkpoint(directory)
    assert inspection.report.ok, [(p.record, p.field, p.expected, p.found, p.message) for p in inspection.report.problems]
    assert inspection.total_parameters == numel(model)
    layers = inspection.expert_layers.values()
    assert len(layers) == experts.num_moe_layers
    assert {layer.num_experts for layer in layers} == {experts.num_experts}
    hidden = inspection.weights_hidden_size
    for layer in layers:  # the width read off the shapes makes each expert's count a GLU MLP's
        one_expert = formulas.mlp_parameters(hidden, layer.expert_intermediate_size, experts.expert_bias)
        assert layer.routed.n_parameters == experts.num_experts * one_expert
    assert facts.architecture.hidden_size == hidden
    assert {layer.expert_intermediate_size for layer in layers} == {experts.moe_intermediate_size}
    if experts.num_experts_per_tok > experts.num_experts:  # a tiny config's top-k left above its experts
        assert inspection.active_parameters is None
        assert "more than the" in inspection.active_unknown_reason and inspection.active_unknown_reason in inspection.notes
    else:
        assert inspection.active_parameters == facts.active_parameters


def test_the_site_shows_the_current_coverage_table():
    from glu_catalogue.generate.coverage import coverage_table

    text = (REPO / COVERAGE_PAGE).read_text(encoding="utf-8")
    match = re.search(r"<!-- coverage-table -->\n(.*?)<!-- /coverage-table -->", text, flags=re.S)
    assert match, f"{COVERAGE_PAGE} lacks the <!-- coverage-table --> section"
    assert match.group(1) == coverage_table(), f"{COVERAGE_PAGE}'s coverage table is stale: paste `python -m glu_catalogue.generate.coverage`"

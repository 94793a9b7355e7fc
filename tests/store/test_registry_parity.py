"""Every registry architecture, built by transformers, has the catalogue's parameter count.

For each ``data/models/`` entry the model is built with ``AutoModelForCausalLM.from_config`` on
the meta device (shapes without memory) at baseline and at pruning levels, with the MLP width
optipfair keeps (``formulas.kept_neurons``), and ``sum(p.numel())`` must equal
``formulas.total_parameters`` to the parameter: the first eighteen entries (hand-checked facts,
closed form) at every catalogue level, the entries ``catalogue add`` wrote (a measured non-MLP
count) at three. A second test checks that the facts the count relies on (biases, q/k norms,
norms per layer, head_dim, fused projections, the class) are what transformers really builds,
so a total cannot match by coincidence. Models that cannot be pruned are counted at baseline.
"""

from __future__ import annotations

import pytest
from conftest import build_on_meta

from glu_catalogue.core import formulas
from glu_catalogue.pipeline.build import DEFAULT_LEVELS
from glu_catalogue.store.registry import load_registry

pytestmark = pytest.mark.torch

REGISTRY = load_registry()

#: Levels of an entry ``catalogue add`` wrote: its MLP term is the only thing pruning changes.
ADDED_LEVELS = (0, 30, 60)


def _cases() -> list[tuple[str, int]]:
    cases = []
    for model_id, entry in sorted(REGISTRY.items()):
        if entry.not_prunable:
            levels = (0,)
        else:
            levels = ADDED_LEVELS if entry.architecture_facts.transformers_version else DEFAULT_LEVELS
        cases += [(model_id, level) for level in levels]
    return cases


@pytest.mark.parametrize(("model_id", "pruning_pct"), _cases())
def test_total_equals_transformers_count(model_id, pruning_pct):
    entry = REGISTRY[model_id]
    kept = formulas.kept_neurons(entry.architecture.intermediate_size, pruning_pct)
    model = build_on_meta(entry.config, entry.config["model_type"], kept)
    counted = sum(parameter.numel() for parameter in model.parameters())
    assert counted == formulas.total_parameters(entry.architecture, kept)


@pytest.mark.parametrize("model_id", sorted(m for m, e in REGISTRY.items() if not e.architecture_facts.transformers_version))
def test_architecture_facts_match_the_built_model(model_id):
    entry = REGISTRY[model_id]
    facts = entry.architecture_facts
    model = build_on_meta(entry.config, entry.config["model_type"])
    assert type(model).__name__ == facts.transformers_class
    layer = model.model.layers[0]
    assert sorted(name for name, _ in layer.mlp.named_parameters()) == facts.mlp_param_names
    assert sorted(name for name, _ in layer.self_attn.named_parameters()) == facts.attn_param_names
    assert layer.self_attn.head_dim == facts.head_dim_effective
    own = {name for name, _ in layer.named_parameters() if not name.startswith(("mlp.", "self_attn."))}
    assert len(own) == facts.norms_per_layer, f"norm vectors of one layer: {sorted(own)}"

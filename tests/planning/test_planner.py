"""The planner and its commands: the study's answers, every registry model, and optipfair itself.

The last tests prune tiny random models with optipfair, with arguments chosen by hypothesis,
and require the planner's prediction (kept width, parameter count, or a refusal) to match.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest
from conftest import REPO, invoke
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from glu_catalogue.core import formulas
from glu_catalogue.core.formulas import expansion_rate_pct_for_ratio
from glu_catalogue.planning.planner import plan, plan_for_pct, plan_for_ratio
from glu_catalogue.store.registry import ModelEntry, get_model, load_registry

REGISTRY = load_registry()
LLAMA_1B, LLAMA_3B = "meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-3B"
PLAN_KEYS = {"model_id", "pruning_pct", "intermediate_size", "expansion_ratio", "total_parameters", "parameter_reduction_pct"}
MODELS_KEYS = {"model_id", "hidden_size", "intermediate_size", "num_hidden_layers", "expansion_ratio", "total_parameters"}

#: The architectures of the issue: every one is a registry entry, plus the Instruct variants.
ISSUE_MODELS = {
    "meta-llama/Llama-3.2-1B",
    "meta-llama/Llama-3.2-3B",
    "meta-llama/Llama-3.1-8B",
    "Qwen/Qwen2.5-0.5B",
    "Qwen/Qwen2.5-1.5B",
    "Qwen/Qwen2.5-3B",
    "Qwen/Qwen2.5-7B",
    "Qwen/Qwen3-0.6B",
    "Qwen/Qwen3-1.7B",
    "mistralai/Mistral-7B-v0.3",
    "google/gemma-2-2b",
    "google/gemma-3-1b-pt",
    "HuggingFaceTB/SmolLM2-135M",
    "HuggingFaceTB/SmolLM2-360M",
    "HuggingFaceTB/SmolLM2-1.7B",
    "microsoft/Phi-3-mini-4k-instruct",
    "meta-llama/Llama-3.2-1B-Instruct",
    "meta-llama/Llama-3.2-3B-Instruct",
}


def plan_json(*args: str) -> list[dict]:
    result = invoke("plan", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- the study's answers ------------------------------------------------------------------


def test_study_answers_for_a_2_4x_mlp():
    rows = {row["model_id"]: row for row in plan_json("--ratio", "2.4", "--model", LLAMA_1B, "--model", LLAMA_3B)}
    assert list(rows) == [LLAMA_1B, LLAMA_3B]
    assert (round(rows[LLAMA_1B]["pruning_pct"], 2), rows[LLAMA_1B]["intermediate_size"]) == (40.0, 4916)
    assert (round(rows[LLAMA_3B]["pruning_pct"], 2), rows[LLAMA_3B]["intermediate_size"]) == (10.0, 7373)
    for model_id, row in rows.items():
        shape = REGISTRY[model_id].architecture
        assert row["status"] == "ok" and row["note"] is None
        assert row["total_parameters"] == formulas.total_parameters(shape, row["intermediate_size"])
        assert row["expansion_ratio"] == row["intermediate_size"] / shape.hidden_size


def test_study_answers_in_the_table():
    result = invoke("plan", "--ratio", "2.4", "--model", LLAMA_1B, "--model", LLAMA_3B)
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("│")}
    assert "40.00" in lines[LLAMA_1B].split() and "4916" in lines[LLAMA_1B].split()
    assert "10.00" in lines[LLAMA_3B].split() and "7373" in lines[LLAMA_3B].split()
    assert "expansion_rate=240" in result.stdout


def test_pct_is_the_same_question_forward():
    forward = {row["model_id"]: row for row in plan_json("--pct", "40", "--model", LLAMA_1B)}
    assert forward[LLAMA_1B]["pruning_pct"] == 40 and forward[LLAMA_1B]["intermediate_size"] == 4916
    for entry in REGISTRY.values():
        backward = plan_for_ratio(entry, "2.4")
        if backward.pruning_pct is not None:
            assert plan_for_pct(entry, backward.pruning_pct).intermediate_size == backward.intermediate_size


# --- every registry model -----------------------------------------------------------------


def test_models_lists_every_registry_architecture_with_its_closed_form_total():
    result = invoke("models", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {row["model_id"] for row in rows} == set(REGISTRY) >= ISSUE_MODELS
    for row in rows:
        assert MODELS_KEYS <= set(row)
        entry = REGISTRY[row["model_id"]]
        shape = entry.architecture
        assert row["total_parameters"] == formulas.total_parameters(shape)
        assert row["mlp_share_pct"] == pytest.approx(formulas.mlp_share(shape) * 100)
        if formulas.mlp_layers(shape):
            assert row["expansion_ratio"] == shape.intermediate_size / shape.hidden_size
        else:  # a mixture of experts without dense layers: the experts' ratio instead
            assert row["expansion_ratio"] is None
            assert row["experts_expansion_ratio"] == entry.experts.moe_intermediate_size / shape.hidden_size
        if entry.experts is not None:
            assert row["active_parameters"] == formulas.active_parameters(shape, entry.experts) < row["total_parameters"]


def test_models_table_has_a_row_per_model():
    result = invoke("models")
    assert result.exit_code == 0, result.output
    for model_id in REGISTRY:
        assert f"│ {model_id} " in result.stdout


def test_plan_without_models_answers_for_every_registry_model():
    rows = plan_json("--ratio", "2.4")
    assert [row["model_id"] for row in rows] == list(REGISTRY)
    for row in rows:
        assert PLAN_KEYS <= set(row)
        if REGISTRY[row["model_id"]].not_prunable:
            assert row["status"] == "not-prunable" and row["intermediate_size"] is None and row["note"], row
            continue
        assert row["status"] in ("ok", "fused-mlp"), row
        assert row["intermediate_size"] == formulas.kept_neurons(row["original_intermediate_size"], row["pruning_pct"])


def test_fused_mlp_is_flagged_but_still_answered():
    (row,) = plan_json("--ratio", "2.4", "--model", "microsoft/Phi-3-mini-4k-instruct")
    assert row["status"] == "fused-mlp" and "gate_up_proj" in row["note"]
    assert row["intermediate_size"] == formulas.kept_neurons(8192, row["pruning_pct"])


# --- targets a model cannot reach ---------------------------------------------------------


def test_baseline_at_or_below_the_target_says_so_and_the_others_answer():
    result = invoke("plan", "--ratio", "3", "--model", LLAMA_3B, "--model", LLAMA_1B)
    assert result.exit_code == 0, result.output
    assert "below-target [1]" in result.stdout
    assert "[1] meta-llama/Llama-3.2-3B: baseline ratio 2.667x (8192/3072) is already at or below the target 3x" in result.stdout
    rows = {row["model_id"]: row for row in plan_json("--ratio", "3", "--model", LLAMA_3B, "--model", LLAMA_1B)}
    assert rows[LLAMA_3B]["status"] == "below-target" and rows[LLAMA_3B]["intermediate_size"] is None
    assert rows[LLAMA_1B]["status"] == "ok" and rows[LLAMA_1B]["intermediate_size"] == 6144


def test_a_target_equal_to_the_baseline_is_below_target():
    assert plan_for_ratio(get_model(LLAMA_1B), "4").status == "below-target"


def test_a_level_that_prunes_nothing_is_refused():
    (row,) = plan_json("--pct", "0.001", "--model", LLAMA_1B)
    assert row["status"] == "refused" and "no effective pruning" in row["note"]
    assert row["pruning_pct"] == 0.001 and row["intermediate_size"] is None


# --- divisors -----------------------------------------------------------------------------


@pytest.mark.parametrize("divisor", formulas.EXPANSION_DIVISORS)
def test_divisor_rounds_the_kept_width_down(divisor):
    (row,) = plan_json("--ratio", "2.4", "--model", LLAMA_1B, "--divisor", str(divisor))
    assert row["intermediate_size"] == 4916 // divisor * divisor
    assert row["expansion_divisor"] == divisor
    assert row["total_parameters"] == formulas.total_parameters(REGISTRY[LLAMA_1B].architecture, row["intermediate_size"])


def test_divisor_that_rounds_back_to_the_baseline_is_refused():
    (row,) = plan_json("--pct", "1", "--model", "HuggingFaceTB/SmolLM2-135M", "--divisor", "256")
    # 1 % of 1536 prunes 15 neurons: 1521 rounds down to 1280, which is allowed ...
    assert row["intermediate_size"] == 1280
    (row,) = plan_json("--pct", "0.01", "--model", LLAMA_1B, "--divisor", "32")
    # ... but 0.01 % of 8192 prunes nothing, and 8192 is already a multiple of 32.
    assert row["status"] == "refused" and "no effective pruning" in row["note"]


def test_an_invalid_divisor_is_a_usage_error():
    result = invoke("plan", "--pct", "10", "--divisor", "100")
    assert result.exit_code == 2
    with pytest.raises(formulas.PruningError, match="expansion_divisor must be one of"):
        plan_for_pct(get_model(LLAMA_1B), 10, divisor=100)


# --- the command line ---------------------------------------------------------------------


def test_unknown_model_is_exit_2_with_a_suggestion():
    result = invoke("plan", "--ratio", "2.4", "--model", "meta-llama/Llama-3.2-1b")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: unknown model id")
    assert "did you mean meta-llama/Llama-3.2-1B" in result.stderr


@pytest.mark.parametrize("args", [(), ("--ratio", "2.4", "--pct", "40"), ("--ratio", "abc"), ("--ratio", "-1"), ("--pct", "101")])
def test_bad_targets_are_usage_errors(args):
    result = invoke("plan", *args, "--model", LLAMA_1B)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_repeated_model_is_answered_once():
    assert len(plan_json("--pct", "10", "--model", LLAMA_1B, "--model", LLAMA_1B)) == 1


def test_plan_needs_exactly_one_target():
    with pytest.raises(ValueError, match="exactly one"):
        plan([get_model(LLAMA_1B)])


# --- the ratio's float path ---------------------------------------------------------------


@pytest.mark.parametrize(("ratio", "rate_pct"), [("2.4", 240), (2.4, 240), ("2.3", 230), (2.3, 230), ("1.15", 115), ("3", 300)])
def test_ratio_becomes_the_percentage_a_person_passes(ratio, rate_pct):
    assert expansion_rate_pct_for_ratio(ratio) == rate_pct


def test_the_float_product_would_be_off():
    assert 2.3 * 100 != 230  # the reason expansion_rate_pct_for_ratio works in decimal


@pytest.mark.parametrize("ratio", ["abc", "nan", "inf", ""])
def test_ratio_that_is_not_a_number(ratio):
    with pytest.raises(ValueError, match="not a"):
        expansion_rate_pct_for_ratio(ratio)


# --- against optipfair itself -------------------------------------------------------------


def tiny_entry(hidden: int, intermediate: int, layers: int) -> ModelEntry:
    """A registry entry for a tiny Llama (4 heads, 2 KV heads), built like a real one."""
    base = REGISTRY[LLAMA_1B]
    config = {
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": hidden // 4,
        "vocab_size": 32,
        "tie_word_embeddings": True,
    }
    facts = base.architecture_facts.model_copy(update={"head_dim_effective": hidden // 4})
    return base.model_copy(update={"model_id": f"tiny/llama-{hidden}-{intermediate}", "config": config, "architecture_facts": facts})


def tiny_model(entry: ModelEntry):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    values = {key: value for key, value in entry.config.items() if key != "model_type"}
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(**values))


@st.composite
def planning_questions(draw):
    hidden = draw(st.sampled_from([32, 48, 64]))
    intermediate = draw(st.integers(2, 600))
    entry = tiny_entry(hidden, intermediate, draw(st.integers(1, 2)))
    divisor = draw(st.sampled_from([None, *formulas.EXPANSION_DIVISORS]))
    if draw(st.booleans()):
        # A ratio as a person writes it (two decimals at most), up to beyond the baseline.
        rate_pct = draw(st.integers(1, intermediate * 100 // hidden + 50))
        return entry, {"ratio": f"{rate_pct / 100:g}"}, {"expansion_rate": rate_pct, "pruning_percentage": None}, divisor
    pct = draw(st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False)))
    return entry, {"pruning_pct": pct}, {"pruning_percentage": pct}, divisor


def by_pct(hidden: int, intermediate: int, pct: float, divisor: int | None = None):
    return tiny_entry(hidden, intermediate, 1), {"pruning_pct": pct}, {"pruning_percentage": pct}, divisor


def by_ratio(hidden: int, intermediate: int, ratio: str, divisor: int | None = None):
    rate_pct = expansion_rate_pct_for_ratio(ratio)
    return tiny_entry(hidden, intermediate, 1), {"ratio": ratio}, {"expansion_rate": rate_pct, "pruning_percentage": None}, divisor


@pytest.mark.torch
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=planning_questions())
@example(question=by_pct(32, 256, 0.1, 32))  # prunes nothing, 256 is a multiple of 32: refused
@example(question=by_pct(32, 100, 0.5))  # prunes nothing without a divisor: refused
@example(question=by_pct(32, 200, 50, 256))  # 100 kept rounds to 0, then up to 1 neuron
@example(question=by_pct(64, 300, 100))  # at most I - 1 pruned: 1 kept
@example(question=by_pct(32, 300, 0, 256))  # 0 %, but the divisor still rounds 300 to 256
@example(question=by_ratio(32, 96, "3"))  # a target equal to the baseline: refused
@example(question=by_ratio(64, 300, "2.3", 64))  # 2.3 * 100 is not 230 in floats
@example(question=by_ratio(48, 592, "0.01"))  # almost everything pruned
def test_planner_predicts_what_optipfair_does(question):
    import optipfair

    entry, target, arguments, divisor = question
    (row,) = plan([entry], divisor=divisor, **target)
    event(f"{row.status}, divisor {divisor}, {next(iter(target))}")
    model = tiny_model(entry)
    call = dict(pruning_type="MLP_GLU", neuron_selection_method="MAW", expansion_divisor=divisor, show_progress=False, **arguments)
    if row.status in ("below-target", "refused"):
        with pytest.raises(ValueError):
            optipfair.prune_model(model, **call)
        return
    assert row.status == "ok"
    pruned = optipfair.prune_model(model, **call)
    assert pruned.config.intermediate_size == row.intermediate_size
    assert all(layer.mlp.gate_proj.out_features == row.intermediate_size for layer in pruned.model.layers)
    assert sum(parameter.numel() for parameter in pruned.parameters()) == row.total_parameters


@pytest.mark.torch
def test_optipfair_refuses_the_fused_mlp_the_planner_flags():
    import optipfair
    import torch
    from transformers import Phi3Config, Phi3ForCausalLM

    phi3 = REGISTRY["microsoft/Phi-3-mini-4k-instruct"]
    sizes = dict(hidden_size=32, intermediate_size=96, num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=4)
    config = Phi3Config(**sizes, vocab_size=32, pad_token_id=0, bos_token_id=0, eos_token_id=0)
    torch.manual_seed(0)
    model = Phi3ForCausalLM(config)
    assert plan_for_pct(phi3, 10).status == "fused-mlp"
    with pytest.raises(ValueError, match="not compatible with GLU pruning"):
        optipfair.prune_model(model, pruning_type="MLP_GLU", pruning_percentage=10, show_progress=False)


# --- the README's examples ----------------------------------------------------------------


def readme_examples() -> list[tuple[str, str]]:
    """``(command, output)`` of every ``$ catalogue models|plan`` console block in README.md and the command pages."""
    documents = [REPO / "README.md", *sorted((REPO / "docs" / "commands").glob("*.md"))]
    text = "\n".join(document.read_text(encoding="utf-8") for document in documents)
    blocks = re.findall(r"```console\n\$ (catalogue (?:models|plan)[^\n]*)\n(.*?)```", text, flags=re.S)
    return [(command, output) for command, output in blocks]


@pytest.mark.parametrize(("command", "output"), readme_examples())
def test_readme_shows_real_output(command, output, tmp_path, monkeypatch):
    if "./config.json" in command:  # the README's config.json is OLMo-2-0425-1B's, as the registry holds it, in olmo2-1b/
        entry = json.loads((REPO / "data" / "models" / "allenai__OLMo-2-0425-1B.json").read_text())
        folder = tmp_path / "olmo2-1b"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(entry["config"]))
        monkeypatch.chdir(folder)
    result = invoke(*shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    shown = "\n".join(line.rstrip() for line in result.stdout.splitlines()) + "\n"
    assert shown == output, f"README.md is stale for `{command}`: paste its current output"

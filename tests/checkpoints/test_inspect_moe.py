"""`catalogue inspect` of mixture-of-experts checkpoints: experts, dense layers beside them, active parameters.

Two sources, as for dense checkpoints (tests/checkpoints/test_inspect.py): headers written by
``safetensors_files`` in the stacked layout transformers 5 saves (no torch), and a tiny Qwen3-MoE
saved by transformers with dense MLPs in layers 0 and 2 (``mlp_only_layers``). Every MoE type of the
coverage table is inspected in tests/generate/test_coverage.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke, load_json
from safetensors_files import read_tensors, write_checkpoint

from glu_catalogue.checkpoints.inspect import inspect_checkpoint
from glu_catalogue.cli.inspect_text import expert_lines
from glu_catalogue.core import formulas

#: The tiny mixture of experts of these tests: H, dense width, expert width, experts, top-k, layers, dense layers.
H, DENSE, WIDTH, EXPERTS, TOP_K, LAYERS, MLP_ONLY = 64, 192, 32, 4, 2, 4, (0, 2)
VOCAB, HEADS, KV_HEADS, HEAD_DIM = 128, 4, 2, 16


def inspect_json(directory: Path) -> tuple[int, dict]:
    result = invoke("inspect", str(directory), "--format", "json")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def fields(document: dict) -> list[tuple[str, str]]:
    return [(problem["record"], problem["field"]) for problem in document["problems"]]


def problem(document: dict, field: str) -> dict:
    return next(found for found in document["problems"] if found["field"] == field)


# --- headers only: the stacked layout of transformers 5 (no torch) ----------------------------


def stacked_moe_config() -> dict:
    """A Qwen3-MoE config.json of the tiny sizes."""
    return {
        "architectures": ["Qwen3MoeForCausalLM"],
        "model_type": "qwen3_moe",
        "hidden_size": H,
        "intermediate_size": DENSE,
        "moe_intermediate_size": WIDTH,
        "num_experts": EXPERTS,
        "num_experts_per_tok": TOP_K,
        "num_hidden_layers": LAYERS,
        "mlp_only_layers": list(MLP_ONLY),
        "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS,
        "head_dim": HEAD_DIM,
        "vocab_size": VOCAB,
        "tie_word_embeddings": False,
    }


def stacked_moe_tensors() -> dict:
    """Its tensors as transformers 5 holds them: experts stacked (gate_up [E, 2I, H], down [E, H, I]), a router, dense layers 0 and 2."""
    tensors = {"model.embed_tokens.weight": ("F32", [VOCAB, H]), "model.norm.weight": ("F32", [H]), "lm_head.weight": ("F32", [VOCAB, H])}
    for index in range(LAYERS):
        layer = f"model.layers.{index}."
        tensors.update(
            {
                layer + "input_layernorm.weight": ("F32", [H]),
                layer + "post_attention_layernorm.weight": ("F32", [H]),
                layer + "self_attn.q_proj.weight": ("F32", [HEADS * HEAD_DIM, H]),
                layer + "self_attn.k_proj.weight": ("F32", [KV_HEADS * HEAD_DIM, H]),
                layer + "self_attn.v_proj.weight": ("F32", [KV_HEADS * HEAD_DIM, H]),
                layer + "self_attn.o_proj.weight": ("F32", [H, HEADS * HEAD_DIM]),
            }
        )
        if index in MLP_ONLY:
            dense = (("gate_proj", [DENSE, H]), ("up_proj", [DENSE, H]), ("down_proj", [H, DENSE]))
            tensors.update({layer + f"mlp.{name}.weight": ("F32", shape) for name, shape in dense})
        else:
            tensors.update(
                {
                    layer + "mlp.gate.weight": ("F32", [EXPERTS, H]),
                    layer + "mlp.experts.gate_up_proj": ("F32", [EXPERTS, 2 * WIDTH, H]),
                    layer + "mlp.experts.down_proj": ("F32", [EXPERTS, H, WIDTH]),
                }
            )
    return tensors


def elements(tensors: dict) -> int:
    total = 0
    for _, shape in tensors.values():
        count = 1
        for size in shape:
            count *= size
        total += count
    return total


def test_stacked_experts_from_the_headers(tmp_path):
    tensors = stacked_moe_tensors()
    write_checkpoint(tmp_path, stacked_moe_config(), tensors, n_shards=2)
    code, document = inspect_json(tmp_path)
    assert code == 0, document["problems"]
    total = elements(tensors)
    idle = 2 * (EXPERTS - TOP_K) * formulas.mlp_parameters(H, WIDTH, False)  # 2 MoE layers, 2 idle experts each
    assert document["mixture_of_experts"] is True
    assert (document["total_parameters"], document["active_parameters"]) == (total, total - idle)
    assert (document["experts_per_token"], document["experts_per_token_key"]) == (2, "num_experts_per_tok")
    assert document["layer_intermediate_sizes"] == [DENSE, None, DENSE, None]
    assert [layer["kind"] for layer in document["layer_mlps"]] == ["dense", "experts", "dense", "experts"]
    layer_1 = document["layer_mlps"][1]
    assert (layer_1["num_experts"], layer_1["expert_intermediate_size"], layer_1["expert_expansion_ratio"]) == (4, 32, 0.5)
    assert (layer_1["routed_expert_parameters"], layer_1["router_parameters"], layer_1["num_shared_experts"]) == (EXPERTS * 3 * H * WIDTH, EXPERTS * H, 0)


def test_stacked_the_other_way_round(tmp_path):
    """GPT-OSS and Llama 4 stack gate_up as [E, H, 2I] and down as [E, I, H]: the same experts."""
    tensors = stacked_moe_tensors()
    for index in (1, 3):
        tensors[f"model.layers.{index}.mlp.experts.gate_up_proj"] = ("F32", [EXPERTS, H, 2 * WIDTH])
        tensors[f"model.layers.{index}.mlp.experts.down_proj"] = ("F32", [EXPERTS, WIDTH, H])
    write_checkpoint(tmp_path, stacked_moe_config(), tensors)
    code, document = inspect_json(tmp_path)
    assert code == 0, document["problems"]
    assert [layer.get("expert_intermediate_size") for layer in document["layer_mlps"]] == [None, 32, None, 32]


def test_an_expert_tensor_of_another_width_in_one_layer(tmp_path):
    tensors = stacked_moe_tensors()
    tensors["model.layers.3.mlp.experts.down_proj"] = ("F32", [EXPERTS, H, WIDTH + 2])
    write_checkpoint(tmp_path, stacked_moe_config(), tensors)
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert fields(document) == [("layer 3", "mlp.experts.down_proj")]
    found = problem(document, "mlp.experts.down_proj")
    assert (found["expected"], found["found"]) == ("32", "34")
    assert "expert width of 34 but mlp.experts.gate_up_proj of 32" in found["message"]


def test_the_config_against_the_experts(tmp_path):
    config = {**stacked_moe_config(), "num_experts": 8, "moe_intermediate_size": 48}
    write_checkpoint(tmp_path, config, stacked_moe_tensors())
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert fields(document) == [("layers 1, 3", "num_experts"), ("layers 1, 3", "moe_intermediate_size")]
    assert (problem(document, "num_experts")["expected"], problem(document, "num_experts")["found"]) == ("4", "8")
    assert problem(document, "moe_intermediate_size")["expected"] == "32"


def test_a_missing_layer_is_still_caught(tmp_path):
    tensors = {name: spec for name, spec in stacked_moe_tensors().items() if not name.startswith("model.layers.3.")}
    write_checkpoint(tmp_path, stacked_moe_config(), tensors)
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert fields(document) == [("(model)", "num_hidden_layers")]
    assert (problem(document, "num_hidden_layers")["expected"], problem(document, "num_hidden_layers")["found"]) == ("3", "4")


def test_without_top_k_the_active_parameters_are_unknown(tmp_path):
    config = {key: value for key, value in stacked_moe_config().items() if key != "num_experts_per_tok"}
    write_checkpoint(tmp_path, config, stacked_moe_tensors())
    code, document = inspect_json(tmp_path)
    assert code == 0, document["problems"]
    assert document["active_parameters"] is None and document["experts_per_token"] is None
    assert any("states no number of experts per token (num_experts_per_tok, moe_topk" in note for note in document["notes"])
    assert expert_lines(inspect_checkpoint(tmp_path))[-1] == "active        unknown per token (see the note)"


def test_a_top_k_above_the_experts_leaves_the_active_parameters_unknown(tmp_path):
    write_checkpoint(tmp_path, {**stacked_moe_config(), "num_experts_per_tok": EXPERTS + 2}, stacked_moe_tensors())
    code, document = inspect_json(tmp_path)
    assert code == 0, document["problems"]
    assert document["active_parameters"] is None
    assert any(f"num_experts_per_tok is {EXPERTS + 2}, more than the {EXPERTS} routed experts of a layer" in note for note in document["notes"])


def test_a_dense_checkpoint_has_no_expert_lines(tmp_path):
    tensors = {name: spec for name, spec in stacked_moe_tensors().items() if ".experts." not in name and ".mlp.gate." not in name}
    for index in (1, 3):
        for name, shape in (("gate_proj", [DENSE, H]), ("up_proj", [DENSE, H]), ("down_proj", [H, DENSE])):
            tensors[f"model.layers.{index}.mlp.{name}.weight"] = ("F32", shape)
    write_checkpoint(tmp_path, stacked_moe_config(), tensors)
    inspection = inspect_checkpoint(tmp_path)
    assert inspection.ok and not inspection.moe and expert_lines(inspection) == []
    assert inspection.active_parameters == inspection.total_parameters == inspection.closed_form_total_parameters


# --- saved by transformers: Qwen3-MoE with dense layers 0 and 2 -------------------------------


@pytest.fixture(scope="module")
def qwen3_moe(tmp_path_factory) -> tuple[Path, int]:
    """A tiny Qwen3-MoE (4 layers, ``mlp_only_layers=[0, 2]``) saved by transformers in shards with an index, and its ``sum(numel)``."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen3MoeConfig

    config = Qwen3MoeConfig(
        hidden_size=H,
        intermediate_size=DENSE,
        moe_intermediate_size=WIDTH,
        num_experts=EXPERTS,
        num_experts_per_tok=TOP_K,
        num_hidden_layers=LAYERS,
        mlp_only_layers=list(MLP_ONLY),
        num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS,
        head_dim=HEAD_DIM,
        vocab_size=VOCAB,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    directory = tmp_path_factory.mktemp("qwen3-moe") / "qwen3-moe"
    model.save_pretrained(directory, max_shard_size="200KB")
    return directory, sum(parameter.numel() for parameter in model.parameters())


@pytest.mark.torch
def test_qwen3_moe_with_dense_layers(qwen3_moe):
    from glu_catalogue.generate.facts import derive_facts

    directory, n_parameters = qwen3_moe
    inspection = inspect_checkpoint(directory)
    assert inspection.ok, [(p.record, p.field, p.found) for p in inspection.report.problems]
    assert len(inspection.checkpoint.headers) > 1
    assert sorted(inspection.expert_layers) == [1, 3]
    assert inspection.layer_intermediate_sizes == [DENSE, None, DENSE, None]
    assert {(layer.num_experts, layer.expert_intermediate_size, layer.shared) for layer in inspection.expert_layers.values()} == {(4, 32, None)}
    assert inspection.total_parameters == n_parameters
    facts = derive_facts(load_json(directory / "config.json"))
    assert inspection.active_parameters == facts.active_parameters == n_parameters - 2 * 2 * formulas.mlp_parameters(H, WIDTH, False)
    assert expert_lines(inspection)[:5] == [
        "experts       2 of 4 layers route to 4 experts, 2 per token (config.json num_experts_per_tok):",
        "  layer 0: dense MLP 192 (3.00x)",
        "  layer 1: 32 x 4 experts (0.50x each)",
        "  layer 2: dense MLP 192 (3.00x)",
        "  layer 3: 32 x 4 experts (0.50x each)",
    ]
    printed = invoke("inspect", str(directory)).stdout
    assert "MLP widths" not in printed and "  layer 1: 32 x 4 experts (0.50x each)" in printed
    assert f"active        {facts.active_parameters:,} of {n_parameters:,} parameters per token" in printed


@pytest.mark.torch
def test_a_saved_expert_of_another_width_or_missing(qwen3_moe, tmp_path):
    directory, _ = qwen3_moe
    tensors = {}
    for shard in sorted(directory.glob("*.safetensors")):
        tensors.update(read_tensors(shard))
    assert "model.layers.3.mlp.experts.1.up_proj.weight" in tensors  # transformers saves the experts one by one
    tensors["model.layers.3.mlp.experts.1.up_proj.weight"] = ("F32", [30, H])
    del tensors["model.layers.1.mlp.experts.2.down_proj.weight"]
    write_checkpoint(tmp_path, load_json(directory / "config.json"), tensors)
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert fields(document) == [("layer 1", "mlp.experts.2.down_proj.weight"), ("layer 3", "mlp.experts.1.up_proj.weight")]
    missing, narrower = document["problems"]
    assert (missing["expected"], missing["found"]) == ("present", "absent")
    assert (narrower["expected"], narrower["found"]) == ("32", "30")


@pytest.mark.torch
def test_a_shard_the_index_names_is_missing(qwen3_moe, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(qwen3_moe[0], copy)
    weight_map = load_json(copy / "model.safetensors.index.json")["weight_map"]
    shard = copy / weight_map["model.layers.3.mlp.experts.0.gate_proj.weight"]
    shard.unlink()
    result = invoke("inspect", str(copy))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {shard}: missing: model.safetensors.index.json maps "
        f"{sum(name == shard.name for name in weight_map.values())} tensors to this shard (copy the shard or re-save the checkpoint)"
    )

"""`catalogue inspect` and `catalogue verify --checkpoint`: checkpoints read from their headers only.

Checkpoints come from two places: transformers' ``save_pretrained`` of tiny models pruned with
optipfair (the ``torch`` tests), and ``safetensors_files``, which writes exact headers over zero
data (full-size architectures in a few kilobytes of disk, no torch).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from conftest import invoke, load_json, run_cli, run_here
from safetensors_files import llama_config, llama_tensors, read_tensors, write_checkpoint, write_safetensors

from glu_catalogue.checkpoints.checks import layer_span, widths_by_layer
from glu_catalogue.checkpoints.inspect import inspect_checkpoint
from glu_catalogue.core import formulas
from glu_catalogue.store.paths import CATALOGUE_FILE, default_data_dir
from glu_catalogue.store.reading import ReadError, load_catalogue
from glu_catalogue.store.registry import get_model

LLAMA_1B = get_model("meta-llama/Llama-3.2-1B").architecture


def inspect_json(directory: Path, *extra: str) -> tuple[int, dict]:
    result = invoke("inspect", str(directory), "--format", "json", *extra)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def fields(document: dict) -> list[tuple[str, str]]:
    return [(problem["record"], problem["field"]) for problem in document["problems"]]


def one_line_error(result, path: Path) -> str:
    """The stderr of an exit-2 run: exactly one line, naming ``path``."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: "), lines[0]
    return lines[0]


# --- full-size architectures, header only (no torch) ------------------------------------------


@pytest.fixture
def llama_1b_at_40(tmp_path) -> Path:
    """Llama-3.2-1B pruned by 40 % (every layer 4916 wide), bf16, two shards and an index."""
    kept = formulas.kept_neurons(LLAMA_1B.intermediate_size, 40)
    shape = LLAMA_1B.model_copy(update={"intermediate_size": kept})
    directory = tmp_path / "llama-1b-40"
    write_checkpoint(directory, llama_config(shape), llama_tensors(shape), n_shards=2)
    return directory


def test_a_uniformly_pruned_checkpoint_is_reported_and_clean(llama_1b_at_40):
    code, document = inspect_json(llama_1b_at_40)
    kept = formulas.kept_neurons(8192, 40)
    assert code == 0, document["problems"]
    assert document["config_intermediate_size"] == kept
    assert document["layer_intermediate_sizes"] == [kept] * 16
    assert document["layer_expansion_ratios"] == [kept / 2048] * 16
    assert document["uniform"] is True and document["problems"] == []
    assert document["total_parameters"] == formulas.total_parameters(LLAMA_1B, kept)
    assert document["n_files"] == 2 and document["n_tensors"] == 1 + 16 * 9 + 1


def test_people_see_runs_of_layers_and_the_totals(llama_1b_at_40):
    result = invoke("inspect", str(llama_1b_at_40))
    assert result.exit_code == 0, result.output
    assert "  layers 0-15: 4916 (2.40x)" in result.stdout.splitlines()
    assert f"parameters    {formulas.total_parameters(LLAMA_1B, 4916):,} counted" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("OK: no problems")


def test_the_catalogue_record_it_claims_to_be(llama_1b_at_40):
    assert invoke("verify", "--checkpoint", str(llama_1b_at_40), "--record", "meta-llama/Llama-3.2-1B@40").exit_code == 0
    result = invoke("verify", "--checkpoint", str(llama_1b_at_40), "--record", "meta-llama/Llama-3.2-1B@30", "--format", "json")
    assert result.exit_code == 1
    label = "meta-llama/Llama-3.2-1B @ 30%"
    assert fields(json.loads(result.stdout)) == [(label, "pruned_architecture.intermediate_size"), (label, "pruned_architecture.total_parameters")]


@pytest.mark.parametrize(
    ("record", "hint"),
    [
        ("meta-llama/Llama-3.2-1B@45", "meta-llama/Llama-3.2-1B is catalogued at 0, 10, 20, 30, 40, 50, 60 %"),
        ("meta-llama/Llama-3.2-1b@40", "did you mean meta-llama/Llama-3.2-1B@40"),
        ("meta-llama/Llama-3.2-1B", "expected MODEL@PCT"),
    ],
)
def test_an_unknown_record_is_exit_2_with_a_suggestion(llama_1b_at_40, record, hint):
    result = invoke("verify", "--checkpoint", str(llama_1b_at_40), "--record", record)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and hint in result.stderr and len(result.stderr.splitlines()) == 1


def test_every_catalogue_record_matches_a_checkpoint_of_its_architecture(tmp_path):
    """A header-only checkpoint of each catalogued (model, level) verifies against its record."""
    catalogue = load_catalogue(default_data_dir() / CATALOGUE_FILE)
    nameable = [  # the layouts llama_tensors writes: Llama's RMSNorms, no q/k norms, no fused projections, a GLU MLP in every layer
        record
        for record in catalogue.models
        if (shape := record.pruned_architecture.architecture()) is not None
        and shape.norms_per_layer == 2
        and not (shape.qk_norm or shape.fused_qkv or shape.fused_gate_up or shape.norm_bias)
        and shape.non_mlp_parameters is None
        and shape.num_mlp_layers in (None, shape.num_hidden_layers)
    ]
    assert nameable
    for record in nameable:
        shape = record.pruned_architecture.architecture()
        directory = tmp_path / f"{record.base_model.replace('/', '__')}-{record.pruning_pct}"
        write_checkpoint(directory, llama_config(shape), llama_tensors(shape))
        inspection = inspect_checkpoint(directory, f"{record.base_model}@{record.pruning_pct}")
        assert inspection.ok, (record.label, inspection.report.problems)
        assert inspection.total_parameters == record.pruned_architecture.total_parameters


def test_inspection_reads_headers_only(llama_1b_at_40):
    """1.8 GB of (sparse) weights, well under a megabyte read: only the headers and the config."""
    io_file = Path("/proc/self/io")
    if not io_file.exists():
        pytest.skip("needs Linux /proc/self/io")

    def bytes_read() -> int:
        return int(next(line for line in io_file.read_text().splitlines() if line.startswith("rchar:")).split()[1])

    inspect_checkpoint(llama_1b_at_40)  # first call: imports
    before = bytes_read()
    inspection = inspect_checkpoint(llama_1b_at_40)
    read = bytes_read() - before
    assert inspection.file_bytes > 1_800_000_000
    assert read < 1_000_000, read


def test_a_selectively_pruned_checkpoint_flags_the_config(tmp_path):
    widths = [8192] * 6 + [4916] * 10
    shape = LLAMA_1B.model_copy(update={"intermediate_size": 4916})
    write_checkpoint(tmp_path, llama_config(shape), llama_tensors(shape, widths))
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert document["layer_intermediate_sizes"] == widths and document["uniform"] is False
    assert document["total_parameters"] == document["closed_form_total_parameters"]
    assert document["total_parameters"] == formulas.total_parameters_by_layer(shape, widths)
    assert fields(document) == [("layers 0-5", "intermediate_size")]
    assert document["problems"][0]["expected"] == "per layer: layers 0-5: 8192; layers 6-15: 4916"
    assert document["problems"][0]["found"] == "4916"


def test_a_config_that_forgot_the_pruning(tmp_path):
    shape = LLAMA_1B.model_copy(update={"intermediate_size": 4916})
    write_checkpoint(tmp_path, llama_config(LLAMA_1B), llama_tensors(shape))
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert fields(document) == [("layers 0-15", "intermediate_size")]
    assert (document["problems"][0]["expected"], document["problems"][0]["found"]) == ("4916", "8192")


@pytest.mark.parametrize(
    ("key", "value", "problem_fields"),
    [
        ("num_hidden_layers", 15, [("(model)", "num_hidden_layers"), ("(model)", "total_parameters")]),
        ("vocab_size", 128000, [("(model)", "vocab_size"), ("(model)", "total_parameters")]),
        ("hidden_size", 2304, [("layers 0-15", "mlp.gate_proj.weight"), ("layers 0-15", "mlp.up_proj.weight"), ("layers 0-15", "mlp.down_proj.weight")]),
        ("num_attention_heads", 16, [("layers 0-15", "self_attn.q_proj.weight"), ("layers 0-15", "self_attn.o_proj.weight"), ("(model)", "total_parameters")]),
        ("num_key_value_heads", 4, [("layers 0-15", "self_attn.k_proj.weight"), ("layers 0-15", "self_attn.v_proj.weight"), ("(model)", "total_parameters")]),
        ("attention_bias", True, [("(model)", "attention_bias")]),
        ("tie_word_embeddings", False, [("(model)", "tie_word_embeddings"), ("(model)", "total_parameters")]),
    ],
)
def test_config_against_weights(tmp_path, key, value, problem_fields):
    write_checkpoint(tmp_path, {**llama_config(LLAMA_1B), key: value}, llama_tensors(LLAMA_1B))
    code, document = inspect_json(tmp_path)
    assert code == 1
    found = fields(document)
    assert all(item in found for item in problem_fields), found


def test_gate_up_and_down_must_agree_within_a_layer(tmp_path):
    tensors = llama_tensors(LLAMA_1B)
    tensors["model.layers.3.mlp.up_proj.weight"] = ("BF16", [8000, 2048])
    write_checkpoint(tmp_path, llama_config(LLAMA_1B), tensors)
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert ("layer 3", "mlp.up_proj.weight") in fields(document)
    problem = next(p for p in document["problems"] if p["field"] == "mlp.up_proj.weight")
    assert (problem["expected"], problem["found"]) == ("8192", "8000")
    assert problem["file"].endswith("model.safetensors")


def test_a_missing_layer_tensor_is_a_problem(tmp_path):
    tensors = llama_tensors(LLAMA_1B)
    del tensors["model.layers.7.mlp.down_proj.weight"]
    write_checkpoint(tmp_path, llama_config(LLAMA_1B), tensors)
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert ("layer 7", "mlp.down_proj.weight") in fields(document)


def test_shards_without_an_index(tmp_path):
    write_checkpoint(tmp_path, llama_config(LLAMA_1B), llama_tensors(LLAMA_1B), n_shards=3, index=False)
    code, document = inspect_json(tmp_path)
    assert code == 0, document["problems"]
    assert document["n_files"] == 3 and document["total_parameters"] == formulas.total_parameters(LLAMA_1B)


def test_the_index_and_the_shards_must_agree(tmp_path):
    write_checkpoint(tmp_path, llama_config(LLAMA_1B), llama_tensors(LLAMA_1B), n_shards=2)
    index_path = tmp_path / "model.safetensors.index.json"
    index = load_json(index_path)
    index["weight_map"]["model.norm.weight"] = "model-00001-of-00002.safetensors"  # it is in shard 2
    del index["weight_map"]["model.embed_tokens.weight"]
    index["metadata"]["total_parameters"] = 1
    index_path.write_text(json.dumps(index))
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert fields(document) == [("(index)", "model.norm.weight"), ("(index)", "model.embed_tokens.weight"), ("(index)", "metadata.total_parameters")]


def test_a_tensor_in_two_files(tmp_path):
    write_checkpoint(tmp_path, llama_config(LLAMA_1B), llama_tensors(LLAMA_1B), n_shards=2, index=False)
    write_safetensors(tmp_path / "stale.safetensors", {"model.norm.weight": ("BF16", [2048])})
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert fields(document) == [("(model)", "model.norm.weight")]
    assert document["total_parameters"] == formulas.total_parameters(LLAMA_1B)


# --- unreadable checkpoints: exit 2, one line naming the file ---------------------------------


@pytest.fixture
def small_checkpoint(tmp_path) -> Path:
    shape = LLAMA_1B.model_copy(
        update={
            "hidden_size": 64,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "intermediate_size": 128,
            "vocab_size": 100,
            "num_hidden_layers": 2,
        }
    )
    directory = tmp_path / "small"
    write_checkpoint(directory, llama_config(shape), llama_tensors(shape, dtype="F32"), n_shards=2)
    return directory


def shard(directory: Path) -> Path:
    return directory / "model-00001-of-00002.safetensors"


def replace_header(path: Path, raw: bytes, length: int | None = None) -> None:
    """Keep the data section, put ``raw`` (announced as ``length`` bytes) in front of it."""
    data = path.read_bytes()
    (old_length,) = struct.unpack("<Q", data[:8])
    path.write_bytes(struct.pack("<Q", len(raw) if length is None else length) + raw + data[8 + old_length :])


def edit_header(path: Path, edit) -> None:
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    document = json.loads(data[8 : 8 + length])
    edit(document)
    replace_header(path, json.dumps(document).encode())


CORRUPTIONS = {
    "shorter than the length prefix": (
        lambda path: path.write_bytes(b"\x10\x00\x00"),
        "not a safetensors file: 3 bytes, shorter than the 8-byte header length",
    ),
    "garbage length": (lambda path: path.write_bytes(b"\xff" * 8 + path.read_bytes()[8:]), "corrupt safetensors header: it announces"),
    "invalid JSON": (lambda path: replace_header(path, b'{"a": [1,'), "corrupt safetensors header: invalid JSON at header byte 9"),
    "not UTF-8": (lambda path: replace_header(path, b'{"\xff": 1}'), "corrupt safetensors header: not UTF-8 (header byte 2)"),
    "not an object": (lambda path: replace_header(path, b"[1, 2]"), "corrupt safetensors header: expected a JSON object of tensors"),
    "truncated": (lambda path: path.write_bytes(path.read_bytes()[:-100]), "truncated safetensors file: its tensors need"),
    "missing dtype": (
        lambda path: edit_header(path, lambda doc: doc["model.embed_tokens.weight"].pop("dtype")),
        "tensor 'model.embed_tokens.weight': no dtype",
    ),
    "unknown dtype": (lambda path: edit_header(path, lambda doc: doc["model.embed_tokens.weight"].update(dtype="F33")), "unknown dtype 'F33'"),
    "shape against offsets": (
        lambda path: edit_header(path, lambda doc: doc["model.embed_tokens.weight"].update(shape=[99, 64])),
        "data_offsets [0, 25600] hold 25600 bytes, expected 25344 (F32 x [99, 64])",
    ),
    "bad shape": (
        lambda path: edit_header(path, lambda doc: doc["model.embed_tokens.weight"].update(shape=[-1, 64])),
        "shape must be a list of non-negative integers",
    ),
    "gap between tensors": (
        lambda path: edit_header(path, lambda doc: doc["model.embed_tokens.weight"].update(data_offsets=[4, 25604])),
        "expected 0 (tensors must follow each other without gaps or overlaps)",
    ),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_a_corrupt_header_is_one_line_naming_the_file(small_checkpoint, corruption):
    corrupt, message = CORRUPTIONS[corruption]
    corrupt(shard(small_checkpoint))
    line = one_line_error(invoke("inspect", str(small_checkpoint)), shard(small_checkpoint))
    assert message in line
    assert invoke("verify", "--checkpoint", str(small_checkpoint)).exit_code == 2


def test_a_missing_shard(small_checkpoint):
    shard(small_checkpoint).unlink()
    line = one_line_error(invoke("inspect", str(small_checkpoint)), shard(small_checkpoint))
    assert "missing: model.safetensors.index.json maps" in line


@pytest.mark.parametrize(
    ("break_it", "where", "message"),
    [
        (lambda d: (d / "config.json").unlink(), "config.json", "no such file"),
        (lambda d: (d / "config.json").write_text("{,}"), "config.json:1:2", "invalid JSON"),
        (
            lambda d: (d / "config.json").write_text('{"hidden_size": 64}'),
            "config.json",
            "no 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size': a decoder config needs them",
        ),
        (lambda d: (d / "model.safetensors.index.json").write_text('{"weight_map": []}'), "model.safetensors.index.json", "weight_map"),
    ],
)
def test_an_unreadable_config_or_index(small_checkpoint, break_it, where, message):
    break_it(small_checkpoint)
    assert message in one_line_error(invoke("inspect", str(small_checkpoint)), small_checkpoint / where)


def test_not_a_checkpoint(tmp_path):
    assert "no such directory" in one_line_error(invoke("inspect", str(tmp_path / "nowhere")), tmp_path / "nowhere")
    (tmp_path / "config.json").write_text("{}")
    assert "no *.safetensors files" in one_line_error(invoke("inspect", str(tmp_path)), tmp_path)


def test_verify_takes_a_path_with_a_checkpoint_only_as_the_records_catalogue(small_checkpoint):
    """With --checkpoint, one PATH names the catalogue --record is read from (tests/checkpoints/test_inspect_record_data_dir.py); alone, it is refused."""
    assert invoke("verify", "data", "--checkpoint", str(small_checkpoint)).exit_code == 2
    assert invoke("verify", "data", "data", "--checkpoint", str(small_checkpoint), "--record", "meta-llama/Llama-3.2-1B@40").exit_code == 2
    assert invoke("verify", "--record", "meta-llama/Llama-3.2-1B@40").exit_code == 2


def test_as_a_process_no_traceback_and_no_torch(small_checkpoint):
    env = {"PYTHONPROFILEIMPORTTIME": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    completed = run_cli("inspect", str(small_checkpoint), "--format", "json", env=env)
    assert completed.returncode == 0, completed.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in completed.stderr.splitlines() if line.startswith("import time:")}
    assert "glu_catalogue.checkpoints.inspect" in imported
    heavy = {name for name in imported if name.split(".")[0] in ("torch", "transformers", "optipfair", "safetensors", "numpy")}
    assert not heavy
    shard(small_checkpoint).write_bytes(b"\x00")
    completed = run_cli("inspect", str(small_checkpoint))
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert completed.stderr.strip() == (f"error: {shard(small_checkpoint)}: not a safetensors file: 1 bytes, shorter than the 8-byte header length")


# --- helpers ------------------------------------------------------------------------------------


def test_layer_spans():
    assert layer_span([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8"
    assert widths_by_layer({0: 128, 1: 77, 2: 77, 3: 128}) == "layers 0, 3: 128; layers 1-2: 77"


# --- real checkpoints: transformers save_pretrained, optipfair prune -----------------------------

TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, vocab_size=100)


def tiny_model(kind: str = "llama", tie_word_embeddings: bool = True):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    if kind == "qwen2":
        return Qwen2ForCausalLM(Qwen2Config(**TINY, tie_word_embeddings=tie_word_embeddings))
    return LlamaForCausalLM(LlamaConfig(**TINY, tie_word_embeddings=tie_word_embeddings))


def numel(model) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def prune(model, pruning_pct: int, layer_indices: list[int] | None = None):
    import optipfair

    return optipfair.prune_model(
        model, pruning_type="MLP_GLU", neuron_selection_method="MAW", pruning_percentage=pruning_pct, layer_indices=layer_indices, show_progress=False
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, tuple[Path, int]]:
    """Checkpoints saved by transformers, by name: (directory, parameters of the saved model)."""
    root = tmp_path_factory.mktemp("saved")
    models = {
        "unpruned": (tiny_model(), {}),
        "uniform-40-sharded": (prune(tiny_model(), 40), {"max_shard_size": "20KB"}),
        "layers-1-2": (prune(tiny_model(), 40, [1, 2]), {}),
        "layers-1-2-sharded": (prune(tiny_model(), 40, [1, 2]), {"max_shard_size": "20KB"}),
        "untied": (prune(tiny_model(tie_word_embeddings=False), 30), {}),
        "qwen2-qkv-bias": (prune(tiny_model("qwen2"), 50), {"max_shard_size": "30KB"}),
    }
    result = {}
    for name, (model, options) in models.items():
        model.save_pretrained(root / name, **options)
        result[name] = (root / name, numel(model))
    return result


@pytest.mark.torch
@pytest.mark.parametrize("name", ["unpruned", "uniform-40-sharded", "untied", "qwen2-qkv-bias"])
def test_saved_checkpoints_count_as_numel_and_verify_clean(saved, name):
    directory, n_parameters = saved[name]
    code, document = inspect_json(directory)
    assert code == 0, document["problems"]
    assert document["total_parameters"] == n_parameters == document["closed_form_total_parameters"]
    assert document["uniform"] is True
    assert document["layer_intermediate_sizes"] == [document["config_intermediate_size"]] * 4
    assert invoke("verify", "--checkpoint", str(directory)).exit_code == 0


@pytest.mark.torch
def test_saved_facts_read_off_the_tensor_names(saved):
    assert inspect_json(saved["qwen2-qkv-bias"][0])[1]["architecture"]["qkv_bias"] is True
    assert inspect_json(saved["unpruned"][0])[1]["architecture"]["qkv_bias"] is False
    document = inspect_json(saved["uniform-40-sharded"][0])[1]
    assert document["n_files"] > 1
    assert document["layer_intermediate_sizes"] == [formulas.kept_neurons(128, 40)] * 4


@pytest.mark.torch
@pytest.mark.parametrize("name", ["layers-1-2", "layers-1-2-sharded"])
def test_layer_indices_pruning_makes_the_config_lie(saved, name):
    directory, n_parameters = saved[name]
    kept = formulas.kept_neurons(128, 40)
    assert load_json(directory / "config.json")["intermediate_size"] == kept  # what optipfair wrote
    code, document = inspect_json(directory)
    assert code == 1
    assert document["layer_intermediate_sizes"] == [128, kept, kept, 128]
    assert document["uniform"] is False and document["total_parameters"] == n_parameters
    assert fields(document) == [("layers 0, 3", "intermediate_size")]
    assert document["problems"][0]["found"] == str(kept)
    result = invoke("inspect", str(directory))
    assert "  layer 0: 128 (2.00x)" in result.stdout and f"  layers 1-2: {kept} (1.20x)" in result.stdout


@pytest.mark.torch
def test_a_tied_head_saved_anyway_counts_once(saved, tmp_path):
    directory, n_parameters = saved["unpruned"]
    tensors = read_tensors(directory / "model.safetensors")
    tensors["lm_head.weight"] = tensors["model.embed_tokens.weight"]
    write_checkpoint(tmp_path, load_json(directory / "config.json"), tensors)
    code, document = inspect_json(tmp_path)
    assert code == 0, document["problems"]
    assert document["total_parameters"] == n_parameters


@pytest.mark.torch
def test_a_hand_edited_saved_header(saved, tmp_path):
    directory, _ = saved["unpruned"]
    tensors = read_tensors(directory / "model.safetensors")
    tensors["model.layers.2.mlp.gate_proj.weight"] = ("F32", [100, 64])
    write_checkpoint(tmp_path, load_json(directory / "config.json"), tensors)
    code, document = inspect_json(tmp_path)
    assert code == 1
    assert ("layer 2", "mlp.up_proj.weight") in fields(document) and ("layer 2", "mlp.down_proj.weight") in fields(document)
    assert document["layer_intermediate_sizes"] == [128, 128, 100, 128]


@pytest.mark.torch
@pytest.mark.parametrize("tie_word_embeddings", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_the_test_writer_names_tensors_as_transformers_does(tie_word_embeddings, bias):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    shape = LLAMA_1B.model_copy(update={"tie_word_embeddings": tie_word_embeddings, "qkv_bias": bias, "o_proj_bias": bias, "mlp_bias": bias})
    config = {key: value for key, value in llama_config(shape).items() if key not in ("architectures", "model_type")}
    with torch.device("meta"):
        model = LlamaForCausalLM(LlamaConfig(**config))
    saved_names = {name: list(tensor.shape) for name, tensor in model.state_dict().items()}
    if tie_word_embeddings:
        del saved_names["lm_head.weight"]
    written = {name: dims for name, (_, dims) in llama_tensors(shape).items()}
    assert written == saved_names


def test_inspect_reads_an_exaone_checkpoint_under_the_names_transformers_saves(tmp_path):
    """transformers saves EXAONE under its own names (transformer.h.N.mlp.c_fc_0, c_fc_1, c_proj): inspect maps them as
    transformers' loader does; it said "not a GLU decoder checkpoint" of this GLU model."""
    pytest.importorskip("torch")
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model(
        "exaone",
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        eos_token_id=1,
        bos_token_id=0,
        pad_token_id=0,
    )
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(tmp_path)
    assert any(".mlp.c_fc_0." in name for name in read_tensors(tmp_path / "model.safetensors"))
    completed = run_here("inspect", str(tmp_path), "--format", "json")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    inspection = inspect_checkpoint(tmp_path)
    assert inspection.report.ok and inspection.layer_intermediate_sizes == [64, 64]
    assert inspection.total_parameters == sum(parameter.numel() for parameter in model.parameters())
    saved = json.loads((tmp_path / "config.json").read_text())
    saved["model_type"] = "llama"  # the names are EXAONE's, the config says otherwise: said, not guessed
    (tmp_path / "config.json").write_text(json.dumps(saved))
    completed = run_here("inspect", str(tmp_path))
    assert completed.returncode == 2 and len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "EXAONE's tensor names" in completed.stderr and "not a GLU decoder" not in completed.stderr
    with pytest.raises(ReadError, match="read by inspect only when config.json says"):
        inspect_checkpoint(tmp_path)

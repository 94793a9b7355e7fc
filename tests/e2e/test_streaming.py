"""The streaming build (one decoder layer at a time) gives what the in-memory build and optipfair give.

Tiny models of several families, saved by transformers: Llama (tied embeddings), Qwen2 (q/k/v
biases), Qwen3 and Gemma-3 (q/k norms; Gemma: four norms per layer), Phi-3 (fused gate_up,
which optipfair refuses) and a Llama with MLP and attention biases. Their weights take seven
values only (bf16), so importance scores tie often and ``topk`` must break ties as optipfair's.
Equal ``kept_indices_sha256`` means equal kept indices in every layer: the digest hashes each
layer's indices in turn, and every layer keeps the same number of neurons.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tiny_models import ENTRIES, save_checkpoint, write_registry

from glu_catalogue.cli.commands import cli

pytestmark = pytest.mark.torch

LEVELS = [0, 10, 20, 30, 40, 50, 60]
METHODS = ["MAW", "VOW", "PON", "L2"]
FAMILIES = ["tiny/llama", "tiny/qwen2", "tiny/qwen3", "tiny/gemma3", "tiny/phi3", "tiny/llama-bias"]
#: Provenance fields that describe the run (time, memory, path), not the result.
RUN_FIELDS = {"created_at", "wall_time_s", "peak_memory_bytes", "build_path", "note"}


@pytest.fixture(autouse=True)
def registry(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny models' registry; no configured or cached checkpoints to discover."""
    directory = tmp_path_factory.getbasetemp() / "registry"
    if not directory.exists():
        write_registry(directory)
    monkeypatch.setenv("CATALOGUE_REGISTRY_DIR", str(directory))
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.getbasetemp() / "hf-home"))
    monkeypatch.delenv("CATALOGUE_CHECKPOINTS", raising=False)
    return directory


@pytest.fixture(scope="module")
def tied_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One bf16 checkpoint with heavily tied weights per family, saved in several shards."""
    root = tmp_path_factory.mktemp("tied")
    return {
        model_id: save_checkpoint(model_id, root / model_id.replace("/", "__"), dtype_name="bfloat16", ties=True, max_shard_size="100KB")
        for model_id in FAMILIES
    }


def both_paths(model_id: str, weights, method: str, save_root: Path | None = None, levels=LEVELS):
    """(in-memory build, streaming build) of one model; the streaming one saves its checkpoints under ``save_root``."""
    from glu_catalogue.generate import model as generate
    from glu_catalogue.generate import streaming
    from glu_catalogue.store.registry import get_model

    entry = get_model(model_id)
    in_memory = generate.build_model(entry, levels, weights, generate.BuildSettings(method=method))
    streamed = streaming.build_streaming(entry, levels, weights, generate.BuildSettings(method=method, save_pruned=save_root))
    return in_memory, streamed


def result_of(record) -> dict:
    """A record without the fields that describe the run rather than its result."""
    dumped = record.model_dump()
    dumped["provenance"] = {key: value for key, value in dumped["provenance"].items() if key not in RUN_FIELDS}
    return dumped


def tensors_of(directory: Path) -> dict:
    """Every tensor of a checkpoint directory, read by the safetensors library."""
    from safetensors.torch import load_file

    tensors: dict = {}
    for path in sorted(directory.glob("*.safetensors")):
        tensors.update(load_file(path))
    return tensors


def assert_same_checkpoint(ours: Path, theirs: Path) -> None:
    """Same tensor names, dtypes and values; same config.json and generation_config.json."""
    import torch

    our_tensors, their_tensors = tensors_of(ours), tensors_of(theirs)
    assert sorted(our_tensors) == sorted(their_tensors)
    for name, tensor in their_tensors.items():
        assert our_tensors[name].dtype == tensor.dtype and torch.equal(our_tensors[name], tensor), name
    for name in ("config.json", "generation_config.json"):
        assert json.loads((ours / name).read_text()) == json.loads((theirs / name).read_text()), name


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model_id", FAMILIES)
def test_streaming_equals_the_in_memory_build_and_optipfair(model_id, method, tied_checkpoints, tmp_path):
    import optipfair
    import torch
    from transformers import AutoModelForCausalLM

    from glu_catalogue.generate.weights import WeightsSource

    checkpoint = tied_checkpoints[model_id]
    weights = WeightsSource(kind="checkpoint", location=str(checkpoint))
    in_memory, streamed = both_paths(model_id, weights, method, save_root=tmp_path / "streamed")
    assert [result_of(record) for record in streamed.records] == [result_of(record) for record in in_memory.records]
    assert {record.provenance.build_path for record in streamed.records} == {"streaming"}
    assert {record.provenance.build_path for record in in_memory.records} == {"in-memory"}
    assert streamed.build_path == "streaming"
    for level in (0, 30, 60):
        ours = tmp_path / "streamed" / model_id.replace("/", "__") / f"pruned-{level:02d}pct"
        if ENTRIES[model_id]["architecture_facts"]["fused_gate_up"]:
            continue  # optipfair refuses fused gate_up: test_pruning compares with an unfused twin
        fresh = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.bfloat16)
        pruned = optipfair.prune_model(fresh, pruning_type="MLP_GLU", neuron_selection_method=method, pruning_percentage=level, show_progress=False)
        pruned.save_pretrained(tmp_path / "optipfair" / str(level))
        assert_same_checkpoint(ours, tmp_path / "optipfair" / str(level))


@pytest.mark.parametrize("model_id", FAMILIES)
def test_streamed_checkpoints_equal_what_the_in_memory_build_saves(model_id, tied_checkpoints, tmp_path):
    """Phi-3 included: its fused gate_up is pruned with the same rows of both halves on both paths."""
    from glu_catalogue.generate import model as generate
    from glu_catalogue.generate import streaming
    from glu_catalogue.generate.weights import WeightsSource
    from glu_catalogue.store.registry import get_model

    entry, weights = get_model(model_id), WeightsSource(kind="checkpoint", location=str(tied_checkpoints[model_id]))
    generate.build_model(entry, [0, 40], weights, generate.BuildSettings(save_pruned=tmp_path / "in-memory"))
    streaming.build_streaming(entry, [0, 40], weights, generate.BuildSettings(save_pruned=tmp_path / "streamed"))
    for level in ("pruned-00pct", "pruned-40pct"):
        folder = Path(model_id.replace("/", "__")) / level
        assert_same_checkpoint(tmp_path / "streamed" / folder, tmp_path / "in-memory" / folder)


@pytest.mark.parametrize("model_id", ["tiny/gemma3", "tiny/llama-bias"])
def test_random_init_checkpoints_saved_by_both_paths_are_equal(model_id, tmp_path):
    """Random-init: the streaming path generates every tensor, the non-MLP ones too, as the in-memory model holds it."""
    from glu_catalogue.generate import model as generate
    from glu_catalogue.generate import streaming
    from glu_catalogue.generate.weights import WeightsSource
    from glu_catalogue.store.registry import get_model

    entry, weights = get_model(model_id), WeightsSource(kind="random-init", seed=1)
    generate.build_model(entry, [0, 50], weights, generate.BuildSettings(save_pruned=tmp_path / "in-memory"))
    streaming.build_streaming(entry, [0, 50], weights, generate.BuildSettings(save_pruned=tmp_path / "streamed"))
    for level in ("pruned-00pct", "pruned-50pct"):
        folder = Path(model_id.replace("/", "__")) / level
        assert_same_checkpoint(tmp_path / "streamed" / folder, tmp_path / "in-memory" / folder)


@pytest.mark.parametrize("method", ["MAW", "L2"])
@pytest.mark.parametrize("model_id", FAMILIES)
def test_random_weights_stream_as_the_in_memory_model_holds_them(model_id, method):
    """Random-init weights come from (seed, tensor name): both paths prune the same weights."""
    from glu_catalogue.generate.weights import WeightsSource

    in_memory, streamed = both_paths(model_id, WeightsSource(kind="random-init", seed=3), method)
    assert [result_of(record) for record in streamed.records] == [result_of(record) for record in in_memory.records]
    assert len({record.provenance.kept_indices_sha256 for record in streamed.records}) == len(LEVELS)


@pytest.mark.gpu
def test_streaming_on_the_gpu_equals_the_in_memory_build_there(tmp_path):
    from glu_catalogue.generate import model as generate
    from glu_catalogue.generate import streaming
    from glu_catalogue.generate.weights import WeightsSource
    from glu_catalogue.store.registry import get_model

    checkpoint = save_checkpoint("tiny/qwen3", tmp_path / "checkpoint")  # fp32 random weights: no tied scores
    entry, weights = get_model("tiny/qwen3"), WeightsSource(kind="checkpoint", location=str(checkpoint))
    for source in (weights, WeightsSource(kind="random-init", seed=0)):
        settings = generate.BuildSettings(device="cuda", dtype="fp32")
        in_memory = generate.build_model(entry, LEVELS, source, settings)
        streamed = streaming.build_streaming(entry, LEVELS, source, settings)
        assert [result_of(record) for record in streamed.records] == [result_of(record) for record in in_memory.records]
        assert streamed.records[0].provenance.device != "cpu"


def test_random_tensors_equal_the_random_models_parameters():
    import torch

    from glu_catalogue.generate.layer_weights import RandomTensors
    from glu_catalogue.generate.model import random_model
    from glu_catalogue.store.registry import get_model

    entry = get_model("tiny/gemma3")
    model = random_model(entry, torch.bfloat16, "cpu", seed=5)
    source = RandomTensors(entry, torch.bfloat16, "cpu", seed=5)
    parameters = dict(model.named_parameters())
    assert list(source.shapes) == list(parameters)
    assert source.n_parameters == sum(parameter.numel() for parameter in parameters.values())
    for name, parameter in parameters.items():
        assert torch.equal(source.read(name), parameter.data), name


# --- the command line -----------------------------------------------------------------------


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "glu_catalogue", *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_build_stream_saves_checkpoints_that_load_and_inspect_clean(tmp_path, tied_checkpoints):
    data, saved = tmp_path / "data", tmp_path / "pruned"
    checkpoint = tied_checkpoints["tiny/qwen2"]
    result = run_cli(
        "build",
        "--data",
        str(data),
        "--device",
        "cpu",
        "--models",
        "tiny/qwen2",
        "--weights",
        str(checkpoint),
        "--levels",
        "0,40",
        "--stream",
        "--save-pruned",
        str(saved),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tiny/qwen2: streaming (asked for (--stream)" in result.stderr
    assert "streaming" in result.stdout  # the summary's path column
    records = json.loads((data / "expansion_rates.json").read_text())["models"]
    assert {record["provenance"]["build_path"] for record in records} == {"streaming"}
    for record in records:
        level = record["pruning_pct"]
        directory = saved / "tiny__qwen2" / f"pruned-{level:02d}pct"
        inspected = run_cli("inspect", str(directory), "--record", f"tiny/qwen2@{level}", "--format", "json", env={"CATALOGUE_DATA_DIR": str(data)})
        assert inspected.returncode == 0, inspected.stdout + inspected.stderr
        report = json.loads(inspected.stdout)
        assert report["uniform"] and report["problems"] == [] and report["n_files"] == 3
        assert set(report["layer_intermediate_sizes"]) == {record["pruned_architecture"]["intermediate_size"]}
        assert report["total_parameters"] == record["pruned_architecture"]["total_parameters"]
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(saved / "tiny__qwen2" / "pruned-40pct")
    assert model.config.intermediate_size == records[1]["pruned_architecture"]["intermediate_size"]
    logits = model(torch.tensor([[1, 2, 3]])).logits
    assert logits.shape == (1, 3, 96) and torch.isfinite(logits.float()).all()


def test_a_model_larger_than_free_memory_is_streamed(tmp_path, monkeypatch):
    from glu_catalogue.generate import memory, streaming
    from glu_catalogue.store.registry import get_model

    whole = streaming.model_bytes(get_model("tiny/llama"), "bf16")
    monkeypatch.setattr(memory, "available_bytes", lambda device: whole)  # less than the model and its 10 % margin
    monkeypatch.setattr(streaming, "LAYER_COPIES", 1)  # a tiny model's layer is a large part of it
    result = CliRunner().invoke(cli, ["build", "--data", str(tmp_path / "data"), "--device", "cpu", "--models", "tiny/llama", "--levels", "0,50"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "tiny/llama: streaming (the whole model needs about " in result.stderr
    records = json.loads((tmp_path / "data" / "expansion_rates.json").read_text())["models"]
    assert {record["provenance"]["build_path"] for record in records} == {"streaming"}


def test_a_model_that_fits_is_built_in_memory_and_says_so(tmp_path):
    result = CliRunner().invoke(cli, ["build", "--data", str(tmp_path / "data"), "--device", "cpu", "--models", "tiny/llama", "--levels", "0"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "tiny/llama: in-memory (the whole model needs about " in result.stderr
    record = json.loads((tmp_path / "data" / "expansion_rates.json").read_text())["models"][0]
    assert record["provenance"]["build_path"] == "in-memory"


def test_a_hub_id_that_cannot_be_reached_fails_cleanly_when_streaming(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = CliRunner().invoke(
        cli,
        [
            "build",
            "--data",
            str(tmp_path / "data"),
            "--quiet",
            "--device",
            "cpu",
            "--models",
            "tiny/llama",
            "--weights",
            "tiny/llama=someorg/some-model",
            "--levels",
            "0",
            "--stream",
        ],
    )
    assert result.exit_code == 1
    shown = " ".join(result.stdout.replace("│", " ").split())
    assert "someorg/some-model: config.json is not in the local Hugging Face cache and the hub cannot be reached" in shown


def test_choose_build_path():
    from glu_catalogue.errors import ModelFailed
    from glu_catalogue.generate.memory import choose_build_path

    gib = 2**30
    assert choose_build_path(10 * gib, gib, 20 * gib, "cpu", False)[0] == "in-memory"
    assert choose_build_path(10 * gib, gib, 10 * gib, "cpu", False) == ("streaming", "the whole model needs about 11.0 GiB on cpu, 10.0 GiB available")
    assert choose_build_path(10 * gib, gib, 20 * gib, "cpu", True)[0] == "streaming"
    assert choose_build_path(10 * gib, gib, None, "cpu", False)[0] == "in-memory"
    with pytest.raises(ModelFailed, match="even streaming one layer at a time needs about 2.0 GiB on cuda, 1.0 GiB available"):
        choose_build_path(10 * gib, 2 * gib, gib, "cuda", False)


# --- broken checkpoints ---------------------------------------------------------------------


def break_missing(directory: Path) -> str:
    shard = sorted(directory.glob("*.safetensors"))[1]
    shard.unlink()
    return shard.name


def break_truncated(directory: Path) -> str:
    shard = sorted(directory.glob("*.safetensors"))[-1]
    shard.write_bytes(shard.read_bytes()[:-100])
    return shard.name


def break_mislabelled(directory: Path) -> str:
    index_path = directory / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    shards = sorted(set(index["weight_map"].values()))
    name = next(name for name, shard in index["weight_map"].items() if shard == shards[0])
    index["weight_map"][name] = shards[1]  # the index now sends this tensor to a shard that lacks it
    index_path.write_text(json.dumps(index))
    return "model.safetensors.index.json"


@pytest.mark.parametrize("stream", [True, False], ids=["streaming", "in-memory"])
@pytest.mark.parametrize("damage", [break_missing, break_truncated, break_mislabelled], ids=["missing", "truncated", "mislabelled"])
def test_a_broken_checkpoint_stops_that_model_and_writes_nothing_for_it(damage, stream, tmp_path):
    from glu_catalogue.pipeline.build import BuildRequest, run_build

    checkpoint = save_checkpoint("tiny/llama", tmp_path / "checkpoint", max_shard_size="100KB")
    data, saved = tmp_path / "data", tmp_path / "pruned"
    first = CliRunner().invoke(cli, ["build", "--data", str(data), "--quiet", "--device", "cpu", "--models", "tiny/llama,tiny/qwen2", "--levels", "0,10"])
    assert first.exit_code == 0
    before = json.loads((data / "expansion_rates.json").read_text())["models"]
    named = damage(checkpoint)
    options = ["--weights", f"tiny/llama={checkpoint}", "--save-pruned", str(saved), *(["--stream"] if stream else [])]
    result = CliRunner().invoke(
        cli, ["build", "--data", str(data), "--quiet", "--device", "cpu", "--models", "tiny/llama,tiny/qwen2", "--levels", "0,10", "--force", *options]
    )
    assert result.exit_code == 1 and "FAILED" in result.stdout, result.stdout
    after = json.loads((data / "expansion_rates.json").read_text())["models"]
    assert [record for record in after if record["base_model"] == "tiny/llama"] == [r for r in before if r["base_model"] == "tiny/llama"]
    assert not (saved / "tiny__llama").exists()
    assert (saved / "tiny__qwen2" / "pruned-10pct" / "config.json").is_file()  # the other model went on
    request = BuildRequest(model_ids=("tiny/llama",), levels=(0, 10), data_dir=data, device="cpu", weights=(str(checkpoint),), force=True, stream=stream)
    (failed,) = run_build(request).failed
    assert named in failed.error and "\n" not in failed.error and str(checkpoint) in failed.error, failed.error


# --- the writer -----------------------------------------------------------------------------


def test_the_shard_writer_writes_what_safetensors_reads(tmp_path):
    import torch
    from safetensors import safe_open

    from glu_catalogue.checkpoints.safetensors import read_header
    from glu_catalogue.generate.sharded_writer import SafetensorsWriter

    tensors = {"a.weight": torch.randn(3, 5).to(torch.bfloat16), "b.bias": torch.arange(7, dtype=torch.int64), "c": torch.ones(())}
    writer = SafetensorsWriter(tmp_path / "x.safetensors", [(name, t.dtype, tuple(t.shape)) for name, t in tensors.items()])
    for name, tensor in tensors.items():
        writer.write(name, tensor)
    writer.close()
    header = read_header(tmp_path / "x.safetensors")
    assert header.metadata == {"format": "pt"} and header.header_bytes % 8 == 0
    with safe_open(tmp_path / "x.safetensors", framework="pt") as handle:
        for name, tensor in tensors.items():
            assert torch.equal(handle.get_tensor(name), tensor), name
    wrong = SafetensorsWriter(tmp_path / "y.safetensors", [("a", torch.float32, (2,))])
    with pytest.raises(ValueError, match="the header announced"):
        wrong.write("a", torch.zeros(3))

"""`catalogue build` end to end on tiny models: the real checkpoint path, random weights, failures,
resumability, locking and atomic writes."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import run_cli
from tiny_builds import build, records
from tiny_models import save_checkpoint, write_registry

from glu_catalogue.cli.commands import cli

pytestmark = pytest.mark.torch

LEVELS = "0,10,20,30,40,50,60"


def test_build_from_a_local_checkpoint(registry, tmp_path):
    checkpoint = save_checkpoint("tiny/llama", tmp_path / "ckpt")
    data = tmp_path / "data"
    result = build(data, "--models", "tiny/llama", "--weights", f"tiny/llama={checkpoint}", "--levels", LEVELS)
    assert result.exit_code == 0, result.stdout + result.stderr
    built = records(data)
    assert [r["pruning_pct"] for r in built] == [0, 10, 20, 30, 40, 50, 60]
    provenance = built[3]["provenance"]
    assert provenance["method"] == "optipfair" and provenance["weights"] == "checkpoint"
    assert provenance["weights_source"] == str(checkpoint.resolve())
    assert provenance["optipfair_version"] == "0.4.2" and provenance["dtype"] == "bfloat16"
    assert len(provenance["kept_indices_sha256"]) == 64 and provenance["wall_time_s"] >= 0
    assert provenance["config_sha256"] == __import__("hashlib").sha256((checkpoint / "config.json").read_bytes()).hexdigest()
    assert [r["pruned_architecture"]["intermediate_size"] for r in built] == [256, 231, 205, 180, 154, 128, 103]
    assert "OK: no problems" in result.stdout


@pytest.mark.parametrize("method", ["MAW", "VOW", "PON", "L2"])
def test_saved_pruned_models_equal_optipfair_on_a_fresh_load(registry, tmp_path, method):
    import optipfair
    import torch
    from transformers import AutoModelForCausalLM

    checkpoint = save_checkpoint("tiny/llama", tmp_path / "ckpt", dtype_name="bfloat16")
    saved = tmp_path / "pruned"
    result = build(
        tmp_path / "data", "--models", "tiny/llama", "--weights", str(checkpoint), "--method", method, "--levels", "0,10,30,60", "--save-pruned", str(saved)
    )
    assert result.exit_code == 0, result.stdout
    for level in (0, 10, 30, 60):
        ours = AutoModelForCausalLM.from_pretrained(saved / "tiny__llama" / f"pruned-{level:02d}pct", dtype=torch.bfloat16)
        fresh = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.bfloat16)
        theirs = optipfair.prune_model(fresh, pruning_type="MLP_GLU", neuron_selection_method=method, pruning_percentage=level, show_progress=False)
        assert ours.config.intermediate_size == theirs.config.intermediate_size
        their_state = theirs.state_dict()
        for name, tensor in ours.state_dict().items():
            assert torch.equal(tensor, their_state[name]), (level, name)
        logits = ours(torch.tensor([[1, 2, 3, 4]])).logits  # the reloaded pruned model runs
        assert logits.shape == (1, 4, 128) and torch.isfinite(logits.float()).all()


def test_default_weights_are_random_and_say_so(registry, tmp_path):
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["build", "--data", str(data), "--models", "tiny/llama,tiny/qwen2,tiny/phi3", "--device", "cpu"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "tiny/llama: weights from random-init (seed 0)" in result.stderr
    built = records(data)
    assert {r["base_model"] for r in built} == {"tiny/llama", "tiny/qwen2", "tiny/phi3"}
    assert all(r["provenance"]["weights"] == "random-init" and r["provenance"]["seed"] == 0 for r in built)
    assert "kept neurons are not the real model's" in built[0]["provenance"]["note"]


def test_second_build_skips_and_leaves_files_byte_identical(registry, tmp_path):
    data = tmp_path / "data"
    assert build(data, "--models", "tiny/llama", "--levels", "0,20,40").exit_code == 0
    before = {name: (data / name).read_bytes() for name in ("expansion_rates.json", "expansion_rates_summary.csv")}
    again = build(data, "--models", "tiny/llama", "--levels", "0,20,40")
    assert again.exit_code == 0
    assert "0,20,40" in again.stdout and "files written: none (unchanged)" in again.stdout
    assert {name: (data / name).read_bytes() for name in before} == before
    forced = build(data, "--models", "tiny/llama", "--levels", "0,20,40", "--force")
    assert forced.exit_code == 0
    assert json.loads(before["expansion_rates.json"])["models"][1]["provenance"]["kept_indices_sha256"] == records(data)[1]["provenance"]["kept_indices_sha256"]


def test_random_weights_are_deterministic_per_seed(registry, tmp_path):
    digests = []
    for seed in ("0", "0", "1"):
        data = tmp_path / f"data-{len(digests)}"
        assert build(data, "--models", "tiny/llama", "--levels", "30", "--seed", seed).exit_code == 0
        digests.append(records(data)[0]["provenance"]["kept_indices_sha256"])
    assert digests[0] == digests[1] != digests[2]


def test_a_failing_model_is_reported_and_the_others_go_on(registry, tmp_path):
    data = tmp_path / "data"
    assert build(data, "--models", "tiny/llama", "--levels", "0,10").exit_code == 0
    kept_before = records(data)
    result = build(data, "--models", "tiny/llama,tiny/qwen2", "--levels", "0,10", "--force", "--weights", f"tiny/llama={tmp_path / 'missing'}")
    assert result.exit_code == 1
    assert "tiny/llama" in result.stdout and "FAILED" in result.stdout and "config.json" in result.stdout
    after = records(data)
    assert [r for r in after if r["base_model"] == "tiny/llama"] == kept_before  # nothing lost
    assert {r["pruning_pct"] for r in after if r["base_model"] == "tiny/qwen2"} == {0, 10}


def test_a_checkpoint_of_another_architecture_is_refused(registry, tmp_path):
    checkpoint = save_checkpoint("tiny/qwen2", tmp_path / "qwen-ckpt")
    result = build(tmp_path / "data", "--models", "tiny/llama", "--weights", f"tiny/llama={checkpoint}", "--levels", "0")
    assert result.exit_code == 1
    assert "is not tiny/llama's architecture" in result.stdout
    assert not (tmp_path / "data" / "expansion_rates.json").exists() or records(tmp_path / "data") == []


def test_hub_ids_fail_cleanly_offline(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = build(tmp_path / "data", "--models", "tiny/llama", "--weights", "tiny/llama=someorg/some-model", "--levels", "0")
    assert result.exit_code == 1
    assert "someorg/some-model: config.json is not in the local Hugging Face cache" in " ".join(result.stdout.split())


def test_a_second_build_on_the_same_directory_refuses(registry, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with open(data / ".catalogue-build.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write("pid 12345, started earlier\n")
        handle.flush()
        result = build(data, "--models", "tiny/llama", "--levels", "0")
    assert result.exit_code == 2
    assert "another catalogue build is writing here (pid 12345" in result.stderr
    assert not (data / "expansion_rates.json").exists()


def test_switching_method_needs_every_model_rebuilt(registry, tmp_path):
    data = tmp_path / "data"
    assert build(data, "--models", "tiny/llama,tiny/qwen2", "--levels", "0,10").exit_code == 0
    result = build(data, "--models", "tiny/llama", "--levels", "0,10", "--method", "VOW")
    assert result.exit_code == 2 and "pruned with MAW, not VOW" in result.stderr


def test_bad_options_exit_2(registry, tmp_path):
    assert "--levels: 'ten' is not an integer" in build(tmp_path / "d", "--levels", "ten").stderr
    unknown = build(tmp_path / "d", "--models", "tiny/lama")
    assert unknown.exit_code == 2 and "did you mean tiny/llama" in unknown.stderr
    both = build(tmp_path / "d", "--models", "tiny/llama", "--weights", "random", "--weights", "random")
    assert both.exit_code == 2 and "give one SOURCE for all models" in both.stderr


def test_closed_form_build_needs_no_torch_and_says_so(registry, tmp_path):
    data = tmp_path / "data"
    result = build(data, "--models", "tiny/llama-instruct", "--closed-form", "--levels", "0,50")
    assert result.exit_code == 0
    assert all(r["provenance"]["method"] == "closed-form" for r in records(data))


def test_an_unreadable_existing_catalogue_is_not_overwritten(registry, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "expansion_rates.json").write_text("{ broken")
    result = build(data, "--models", "tiny/llama", "--levels", "0")
    assert result.exit_code == 2 and "the catalogue will not overwrite it" in result.stderr
    assert (data / "expansion_rates.json").read_text() == "{ broken"


@pytest.mark.gpu
def test_build_on_the_gpu_counts_like_the_cpu(registry, tmp_path):
    checkpoint = save_checkpoint("tiny/llama", tmp_path / "ckpt")
    cpu, gpu = tmp_path / "cpu", tmp_path / "gpu"
    # fp32: random fp32 weights give no tied scores, so topk keeps the same neurons on both devices
    assert build(cpu, "--models", "tiny/llama", "--weights", str(checkpoint), "--levels", LEVELS, "--dtype", "fp32").exit_code == 0
    result = CliRunner().invoke(
        cli,
        [
            "build",
            "--data",
            str(gpu),
            "--quiet",
            "--device",
            "cuda",
            "--models",
            "tiny/llama",
            "--weights",
            str(checkpoint),
            "--levels",
            LEVELS,
            "--dtype",
            "fp32",
        ],
    )
    assert result.exit_code == 0, result.stdout
    for ours, theirs in zip(records(gpu), records(cpu)):
        assert ours["pruned_architecture"] == theirs["pruned_architecture"]
        assert ours["provenance"]["device"] != "cpu"
        assert ours["provenance"]["kept_indices_sha256"] == theirs["provenance"]["kept_indices_sha256"]


def test_inspect_agrees_with_what_save_pruned_wrote(registry, tmp_path, monkeypatch):
    """The generator's pruned checkpoints pass `catalogue inspect` and match their catalogue records."""
    data, saved = tmp_path / "data", tmp_path / "pruned"
    assert build(data, "--models", "tiny/qwen2", "--levels", "0,40", "--save-pruned", str(saved)).exit_code == 0
    monkeypatch.setenv("CATALOGUE_DATA_DIR", str(data))
    for level in (0, 40):
        checkpoint = saved / "tiny__qwen2" / f"pruned-{level:02d}pct"
        result = CliRunner().invoke(cli, ["inspect", str(checkpoint), "--record", f"tiny/qwen2@{level}", "--format", "json"])
        assert result.exit_code == 0, result.stdout
        report = json.loads(result.stdout)
        record = next(r for r in records(data) if r["pruning_pct"] == level)
        assert report["uniform"] and report["problems"] == []
        assert set(report["layer_intermediate_sizes"]) == {record["pruned_architecture"]["intermediate_size"]}
        assert report["total_parameters"] == record["pruned_architecture"]["total_parameters"]


# --- checkpoints that must not become records ----------------------------------------------------


def unfolded(table: str) -> str:
    """The text of a rich table with its borders and line folds taken out."""
    return " ".join(table.replace("│", " ").split())


def rename_tensors(checkpoint: Path, old: str, new: str) -> None:
    """Rename every tensor of the checkpoint's single safetensors file that contains ``old``."""
    from safetensors.torch import load_file, save_file

    path = checkpoint / "model.safetensors"
    tensors = load_file(path)
    save_file({name.replace(old, new): tensor for name, tensor in tensors.items()}, path, metadata={"format": "pt"})


def test_a_checkpoint_whose_tensors_do_not_fit_fails_with_their_counts(registry, tmp_path):
    """transformers would fill the unmatched tensors with random weights; the record would say checkpoint."""
    checkpoint = save_checkpoint("tiny/llama", tmp_path / "ckpt")
    rename_tensors(checkpoint, ".self_attn.", ".attention.")
    data = tmp_path / "data"
    result = build(data, "--models", "tiny/llama", "--weights", str(checkpoint), "--levels", "0,10")
    assert result.exit_code == 1
    shown = unfolded(result.stdout)
    assert "does not fit LlamaForCausalLM: tensors 8 missing (e.g. model.layers.0.self_attn.k_proj.weight" in shown
    assert "8 not in the model (e.g. model.layers.0.attention.k_proj.weight" in shown
    assert not data.exists()  # nothing was built, so nothing was written


def test_a_checkpoint_without_decoder_layers_fails_before_loading(registry, tmp_path):
    """Layers under another name: the header check stops the model before transformers loads anything."""
    checkpoint = save_checkpoint("tiny/llama", tmp_path / "ckpt")
    rename_tensors(checkpoint, "model.layers.", "model.blocks.")
    data = tmp_path / "data"
    result = build(data, "--models", "tiny/llama", "--weights", str(checkpoint), "--levels", "0,10")
    assert result.exit_code == 1
    assert "not a GLU decoder checkpoint: no tensor named like model.layers.0.mlp.gate_proj.weight" in unfolded(result.stdout)
    assert not data.exists()


def test_loading_asks_for_safetensors_only(registry, tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM

    from glu_catalogue.generate import model as generate
    from glu_catalogue.generate.weights import WeightsSource
    from glu_catalogue.store.registry import get_model

    calls = []
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", lambda *args, **kwargs: calls.append(kwargs) or (None, {}))
    generate.materialise(get_model("tiny/llama"), WeightsSource(kind="hub", location="org/name"), None, "cpu")
    assert calls[0]["use_safetensors"] is True and calls[0]["output_loading_info"] is True


class _Payload:
    """Unpickling this object creates a file: proof that a pickle checkpoint was loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_checkpoint_is_never_unpickled(registry, tmp_path):
    import torch

    checkpoint, marker = tmp_path / "pickled", tmp_path / "unpickled"
    save_checkpoint("tiny/llama", checkpoint)
    (checkpoint / "model.safetensors").unlink()
    torch.save({"model.embed_tokens.weight": _Payload(marker)}, checkpoint / "pytorch_model.bin")
    result = build(tmp_path / "data", "--models", "tiny/llama", "--weights", str(checkpoint), "--levels", "0")
    assert result.exit_code == 1 and "not a safetensors checkpoint" in unfolded(result.stdout)
    assert not marker.exists()


def test_an_index_naming_a_shard_outside_the_checkpoint_is_refused(registry, tmp_path):
    checkpoint = save_checkpoint("tiny/llama", tmp_path / "ckpt", max_shard_size="20KB")
    index_path = checkpoint / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    name, shard = next(iter(index["weight_map"].items()))
    (checkpoint / shard).rename(tmp_path / "outside.safetensors")
    index["weight_map"] = {key: ("../outside.safetensors" if value == shard else value) for key, value in index["weight_map"].items()}
    index_path.write_text(json.dumps(index))
    result = build(tmp_path / "data", "--models", "tiny/llama", "--weights", str(checkpoint), "--levels", "0")
    assert result.exit_code == 1
    assert "weight_map names '../outside.safetensors': expected a file name inside the checkpoint directory" in unfolded(result.stdout)


def test_a_model_id_that_is_not_a_directory_name_never_reaches_save_pruned(tmp_path):
    from glu_catalogue.errors import ModelFailed, RegistryError
    from glu_catalogue.generate.model import save_pruned
    from glu_catalogue.store.registry import load_registry

    registry = write_registry(tmp_path / "registry")
    document = json.loads((registry / "tiny__llama.json").read_text())
    (registry / "tiny__llama.json").write_text(json.dumps({**document, "model_id": ".."}))
    with pytest.raises(RegistryError, match=r"tiny__llama\.json: model_id: String should match pattern"):
        load_registry(registry)
    with pytest.raises(ModelFailed, match="does not make a directory name"):
        save_pruned(None, tmp_path / "pruned", "..", 0)
    assert not (tmp_path / "pruned").exists()


def test_pruning_100_percent_keeps_one_neuron(registry, tmp_path):
    data = tmp_path / "data"
    result = build(data, "--models", "tiny/llama", "--levels", "0,100")
    assert result.exit_code == 0, result.stdout
    full = records(data)[1]
    assert full["pruned_architecture"]["intermediate_size"] == 1 and full["pruned_architecture"]["expansion_ratio_exact"] == 1 / 64
    assert "OK: no problems" in result.stdout


def test_a_build_whose_only_model_failed_writes_no_catalogue(registry, tmp_path):
    data = tmp_path / "new-data"
    result = build(data, "--models", "tiny/llama", "--weights", str(tmp_path / "missing"), "--levels", "0")
    assert result.exit_code == 1
    assert f"no catalogue written to {data}: no model could be built" in result.stdout
    assert not data.exists()


# --- --quiet ---------------------------------------------------------------------------------------

#: What a tqdm bar writes: transformers' descriptions, the bar, the rate.
TQDM_MARKS = ("Loading weights", "Writing model shards", "%|", "it/s]", "s/it]")


def test_quiet_shows_no_progress_bars_not_even_transformers(registry, tmp_path):
    """A checkpoint on disk loads with from_pretrained ("Loading weights") and saves with save_pretrained
    ("Writing model shards"): under --quiet neither bar appears."""
    checkpoint = save_checkpoint("tiny/llama", tmp_path / "ckpt")
    result = run_cli(
        "build",
        "--data",
        str(tmp_path / "data"),
        "--quiet",
        "--device",
        "cpu",
        "--models",
        "tiny/llama",
        "--weights",
        str(checkpoint),
        "--levels",
        "0,20",
        "--save-pruned",
        str(tmp_path / "pruned"),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert records(tmp_path / "data")[0]["provenance"]["weights"] == "checkpoint"
    assert [mark for mark in TQDM_MARKS if mark in result.stderr + result.stdout] == [], result.stderr


def test_quiet_hides_the_libraries_bars_for_the_build_only(registry, tmp_path):
    from transformers.utils import logging

    before = logging.is_progress_bar_enabled()
    checkpoint = save_checkpoint("tiny/llama", tmp_path / "ckpt")
    assert build(tmp_path / "data", "--models", "tiny/llama", "--weights", str(checkpoint), "--levels", "0").exit_code == 0
    assert logging.is_progress_bar_enabled() == before

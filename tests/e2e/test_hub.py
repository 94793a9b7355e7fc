"""Hub ids as the user types them, against a fake Hub (tests/fake_hub.py) on the loopback interface.

Every command runs as a separate process with ``HF_ENDPOINT`` set to the fake Hub and
``HF_HOME`` to a scratch directory, so huggingface_hub's cache starts empty and nothing leaves the
machine. The server counts the bytes it sends: a multi-gigabyte-shaped checkpoint is inspected
from its headers with less than 1 MB read, and the command says how much it read.
"""

from __future__ import annotations

import json
import socket
import struct

import pytest
from conftest import REPO, run_cli
from fake_hub import ShapedFile
from hub_users import LLAMA_1B, one_error_line
from safetensors_files import llama_config, llama_tensors, write_checkpoint

from glu_catalogue.core import formulas


@pytest.fixture
def pruned_1b(hub, tmp_path) -> str:
    """Llama-3.2-1B pruned by 40 % (bf16, two shards of about 0.9 GB and an index), served shaped: headers real, data a length."""
    kept = formulas.kept_neurons(LLAMA_1B.intermediate_size, 40)
    shape = LLAMA_1B.model_copy(update={"intermediate_size": kept})
    directory = tmp_path / "llama-1b-40"
    write_checkpoint(directory, llama_config(shape), llama_tensors(shape), n_shards=2)
    hub.add_directory("someone/Llama-3.2-1B-pruned-40", directory, shaped=True)
    return "someone/Llama-3.2-1B-pruned-40"


def test_inspect_of_a_published_pruned_checkpoint_reads_headers_only(hub, env, pruned_1b):
    served = sum(
        content.size for content in hub.repositories[pruned_1b].commits[hub.repositories[pruned_1b].refs["main"]].values() if isinstance(content, ShapedFile)
    )
    assert served > 1.5e9  # what a download would cost
    result = run_cli("inspect", pruned_1b, env=env)
    assert result.returncode == 0, result.stderr
    assert hub.bytes_sent < 1_000_000
    commit = hub.repositories[pruned_1b].refs["main"]
    out = result.stdout
    assert f"hub           {pruned_1b} -> commit {commit}" in out
    assert f"({hub.bytes_sent:,} bytes: config.json, index, 2 headers; no weights)" in out
    assert "layers 0-15: 4916 (2.40x)" in out
    assert "matches       meta-llama/Llama-3.2-1B-Instruct@40, meta-llama/Llama-3.2-1B@40" in out or (
        "matches       meta-llama/Llama-3.2-1B@40, meta-llama/Llama-3.2-1B-Instruct@40" in out
    )
    assert not any(method == "GET" and path.endswith(".safetensors") and wanted is None for method, path, wanted in hub.requests)


def test_inspect_json_names_the_commit_the_bytes_and_the_records(hub, env, pruned_1b):
    result = run_cli("inspect", f"{pruned_1b}@main", "--format", "json", env=env)
    document = json.loads(result.stdout)
    assert document["hub"]["commit"] == hub.repositories[pruned_1b].refs["main"]
    assert document["hub"]["revision"] == "main"
    assert document["hub"]["bytes_read"] == hub.bytes_sent
    assert document["layer_intermediate_sizes"] == [4916] * 16
    assert set(document["matching_records"]) == {"meta-llama/Llama-3.2-1B@40", "meta-llama/Llama-3.2-1B-Instruct@40"}
    assert document["total_parameters"] == 913_770_496


def test_verify_checkpoint_of_a_hub_id_against_its_record(hub, env, pruned_1b):
    result = run_cli("verify", "--checkpoint", pruned_1b, "--record", "meta-llama/Llama-3.2-1B@40", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: no problems")
    wrong = run_cli("verify", "--checkpoint", pruned_1b, "--record", "meta-llama/Llama-3.2-1B@50", env=env)
    assert wrong.returncode == 1 and "intermediate_size" in wrong.stdout


def _tiny_checkpoint(tmp_path, name: str = "tiny", **sizes):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    values = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, vocab_size=128)
    values.update(sizes)
    directory = tmp_path / name
    LlamaForCausalLM(LlamaConfig(**values)).save_pretrained(directory)
    return directory


@pytest.mark.torch
def test_a_checkpoint_transformers_saved_inspects_from_the_hub_as_on_disk(hub, env, tmp_path):
    directory = _tiny_checkpoint(tmp_path)
    hub.add_directory("me/tiny", directory)
    local = json.loads(run_cli("inspect", str(directory), "--format", "json", env=env).stdout)
    remote = json.loads(run_cli("inspect", "me/tiny", "--format", "json", env=env).stdout)
    for key in ("ok", "architecture", "layer_intermediate_sizes", "total_parameters", "closed_form_total_parameters", "dtypes", "file_bytes", "problems"):
        assert remote[key] == local[key], key
    assert remote["ok"] and remote["checkpoint"].startswith("me/tiny@")


def _saved(kind: str, tmp_path):
    """A checkpoint transformers saved: dense in one file or in shards, pruned by 40 % in shards, or a mixture of experts."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen3MoeConfig

    torch.manual_seed(0)
    directory = tmp_path / kind
    if kind == "moe":
        config = Qwen3MoeConfig(
            hidden_size=64,
            intermediate_size=192,
            moe_intermediate_size=32,
            num_experts=4,
            num_experts_per_tok=2,
            num_hidden_layers=4,
            mlp_only_layers=[0, 2],
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=16,
            vocab_size=128,
        )
        AutoModelForCausalLM.from_config(config).save_pretrained(directory, max_shard_size="100KB")
        return directory
    model = LlamaForCausalLM(
        LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, vocab_size=128)
    )
    if kind == "pruned":
        from glu_catalogue.generate.pruning import LevelPruner

        pruner = LevelPruner(model, "MAW", [40])
        pruner.advance()
    model.save_pretrained(directory, max_shard_size="100KB" if kind != "single" else "1GB")
    return directory


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["single", "sharded", "pruned", "moe"])
def test_every_kind_of_saved_checkpoint_inspects_from_the_hub_as_on_disk(hub, env, tmp_path, kind):
    directory = _saved(kind, tmp_path)
    shards = sorted(path.name for path in directory.glob("*.safetensors"))
    assert (len(shards) > 1) == (kind != "single")
    hub.add_directory(f"me/{kind}", directory)
    local = json.loads(run_cli("inspect", str(directory), "--format", "json", env=env).stdout)
    hub.reset_counts()
    remote = json.loads(run_cli("inspect", f"me/{kind}", "--format", "json", env=env).stdout)
    assert remote["ok"] and local["ok"], remote["problems"]
    for key in set(local) - {"checkpoint", "hub", "notes"}:
        assert remote[key] == local[key], key
    asked = [path.rsplit("/", 1)[1] for method, path, wanted in hub.requests if path.endswith(".safetensors")]
    assert sorted(set(asked)) == shards
    assert all(wanted is not None for method, path, wanted in hub.requests if path.endswith(".safetensors"))
    if kind == "pruned":
        assert remote["layer_intermediate_sizes"] == [77] * 3
    if kind == "moe":
        assert remote["active_parameters"] < remote["total_parameters"] and remote["layer_intermediate_sizes"][0] == 192


@pytest.mark.torch
def test_plan_and_add_of_a_hub_id_read_config_and_headers_only(hub, env, tmp_path):
    directory = _tiny_checkpoint(tmp_path)
    commit = hub.add_directory("me/tiny", directory)
    plan = run_cli("plan", "--model", "me/tiny", "--pct", "50", "--format", "json", env=env)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)[0]["intermediate_size"] == 64
    assert f"note: me/tiny: config.json read from the hub at commit {commit} (no weights)" in plan.stderr.splitlines()
    hub.reset_counts()
    added = run_cli("add", "me/tiny@main", env=env)
    assert added.returncode == 0, added.stderr
    assert not any(path.endswith(".safetensors") and wanted is None and method == "GET" for method, path, wanted in hub.requests)
    entry = json.loads((tmp_path / "registry" / "me__tiny.json").read_text())
    assert entry["origin"]["kind"] == "hub" and entry["origin"]["revision"] == commit
    assert "safetensors headers" in added.stdout


def test_plan_of_a_hub_id_imports_no_torch(hub, env, pruned_1b):
    program = (
        "import sys\nfrom glu_catalogue.cli.commands import main\n"
        f"sys.argv = ['catalogue', 'plan', '--model', {pruned_1b!r}, '--ratio', '2.0']\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
        "print('LOADED', sorted(n for n in ('torch', 'transformers') if n in sys.modules), 'EXIT', code, file=sys.stderr)\n"
    )
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    assert "LOADED [] EXIT 0" in result.stderr, result.stderr


def test_offline_the_cache_answers_and_says_what_it_lacks(hub, env, pruned_1b):
    assert run_cli("plan", "--model", pruned_1b, "--pct", "10", env=env).returncode == 0  # config.json now cached
    offline = {**env, "HF_HUB_OFFLINE": "1"}
    hub.reset_counts()
    plan = run_cli("plan", "--model", pruned_1b, "--pct", "10", env=offline)
    assert plan.returncode == 0, plan.stderr
    assert hub.requests == []
    line = one_error_line(run_cli("inspect", pruned_1b, env=offline))
    assert "HF_HUB_OFFLINE is set" in line and "headers are read over the network" in line
    line = one_error_line(run_cli("inspect", "someone/never-downloaded", env=offline))
    assert "not in the local Hugging Face cache" in line


def test_offline_a_cached_snapshot_with_its_weights_is_inspected_from_disk(hub, env, tmp_path):
    pytest.importorskip("torch")
    directory = _tiny_checkpoint(tmp_path)
    hub.add_directory("me/tiny", directory)
    download = "import os\nfrom huggingface_hub import snapshot_download\nsnapshot_download('me/tiny', endpoint=os.environ['HF_ENDPOINT'])\n"
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", download], check=True, env=env, capture_output=True, timeout=120)
    result = run_cli("inspect", "me/tiny", "--format", "json", env={**env, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] and document["hub"]["offline"] == "HF_HUB_OFFLINE is set" and document["hub"]["bytes_read"] == 0


@pytest.fixture
def hostile_repos(hub, pruned_1b):
    """Repositories that fail in every way the issue names."""
    hub.add("gated/model", {"config.json": b"{}"}, gated=True)
    hub.add("torch/only-bin", {"config.json": json.dumps(llama_config(LLAMA_1B)).encode(), "pytorch_model.bin": b"\0" * 64})
    too_long = struct.pack("<Q", 30_000_000) + b"{" + b" " * 100
    hub.add("huge/header", {"config.json": json.dumps(llama_config(LLAMA_1B)).encode(), "model.safetensors": ShapedFile(too_long, 40_000_000)})
    hub.add("no/config", {"model.safetensors": b"\0" * 16})
    return hub


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("nobody/nothing", "nobody/nothing: no such directory, and no such repository on the hub"),
        ("gated/model", "a gated repository"),
        ("someone/Llama-3.2-1B-pruned-40@no-such-branch", "no such revision in this repository"),
        ("torch/only-bin", "not a safetensors repository: no *.safetensors and no model.safetensors.index.json (it holds pytorch_model.bin)"),
        ("huge/header", "safetensors header of 30000000 bytes, over the limit of 25000000: not read"),
        ("no/config", "the repository has no config.json"),
    ],
)
def test_each_failure_is_one_line_and_exit_2(hostile_repos, env, typed, reason):
    line = one_error_line(run_cli("inspect", typed, env=env))
    assert reason in line, line
    assert hostile_repos.bytes_sent < 200_000


@pytest.mark.parametrize("command", [("inspect",), ("verify", "--checkpoint"), ("plan", "--pct", "10", "--model"), ("add",)])
def test_a_hostile_config_is_named_as_the_hubs_file_and_an_oversized_one_is_never_downloaded(hub, env, command):
    weights = struct.pack("<Q", 2) + b"{}"
    hub.add("huge/config", {"config.json": ShapedFile(b"{", 200_000_000), "model.safetensors": weights})
    hub.add("html/config", {"config.json": b"<html>not json</html>", "model.safetensors": weights})
    for repo, reason in (("huge/config", "config.json: 200000000 bytes, more than the"), ("html/config", "config.json:1:1: invalid JSON")):
        line = one_error_line(run_cli(*command, repo, env=env))
        assert f"{repo}@" in line and reason in line, line
        assert "snapshots" not in line, line  # the cache's copy is not what the user typed
    assert hub.bytes_sent < 100_000  # the 200 MB config.json was refused from its size, not downloaded


def test_add_of_a_type_built_on_the_meta_device_keeps_the_http_clients_log_off_the_screen(hub, env):
    """transformers' import can leave the root logger at INFO; the headers' range requests must not log a line each."""
    config = {
        "model_type": "qwen3_moe",
        "architectures": ["Qwen3MoeForCausalLM"],
        "hidden_size": 64,
        "intermediate_size": 128,
        "moe_intermediate_size": 32,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "vocab_size": 100,
    }
    hub.add("moe/corrupt-weights", {"config.json": json.dumps(config).encode(), "model.safetensors": struct.pack("<Q", 4) + b"nope"})
    line = one_error_line(run_cli("add", "moe/corrupt-weights", env=env))
    assert "model.safetensors: corrupt safetensors header" in line, line


def test_a_hub_that_does_not_answer_is_one_line(env):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    dead = {**env, "HF_ENDPOINT": f"http://127.0.0.1:{port}"}
    for args in (("inspect", "me/tiny"), ("plan", "--model", "me/tiny", "--pct", "10"), ("verify", "--checkpoint", "me/tiny")):
        line = one_error_line(run_cli(*args, env=dead, timeout=60))
        assert "cannot be reached" in line and f"127.0.0.1:{port}" in line, line


@pytest.mark.torch
def test_build_discovers_weights_huggingface_hub_downloaded(hub, env, tmp_path, monkeypatch):
    """The weights a build finds without --weights: the cached snapshot of main, as huggingface_hub's own API lists it."""
    import subprocess
    import sys

    from glu_catalogue.generate.weights import discover

    directory = _tiny_checkpoint(tmp_path)
    commit = hub.add_directory("me/tiny", directory)
    download = "import os\nfrom huggingface_hub import snapshot_download\nsnapshot_download('me/tiny', endpoint=os.environ['HF_ENDPOINT'])\n"
    subprocess.run([sys.executable, "-c", download], check=True, env=env, capture_output=True, timeout=120)
    monkeypatch.setenv("HF_HOME", env["HF_HOME"])
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("CATALOGUE_CHECKPOINTS", raising=False)
    found = discover("me/tiny")
    assert (found.kind, found.chosen_by) == ("checkpoint", "Hugging Face cache (main)")
    assert found.location.endswith(f"snapshots/{commit}")
    assert discover("me/not-downloaded").kind == "random-init"


def test_the_python_api_inspects_a_hub_id(hub, env, pruned_1b):
    """``glu_catalogue.inspect_checkpoint`` in a notebook (a fresh process: huggingface_hub fixes its offline mode at import)."""
    import subprocess
    import sys

    program = (
        "import glu_catalogue\n"
        f"inspection = glu_catalogue.inspect_checkpoint({pruned_1b!r}, record='meta-llama/Llama-3.2-1B@40')\n"
        "print(inspection.ok, inspection.layer_intermediate_sizes[0], len(inspection.layers), inspection.checkpoint.directory)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    commit = hub.repositories[pruned_1b].refs["main"]
    assert result.stdout.split() == ["True", "4916", "16", f"{pruned_1b}@{commit[:12]}"]

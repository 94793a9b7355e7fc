"""The any-model path under hostile input, as a user meets it: the CLI as a subprocess with a timeout.

Each test reproduces one way a config, a path or an id used to hang a command, fill memory,
print a traceback, or leave the data inconsistent; each now gets one line naming the file and
place, exit 2, and nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

import pytest
from conftest import DATA, REPO, load_json, run_cli

pytestmark = pytest.mark.torch

TINY_LLAMA = {
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 128,
    "tie_word_embeddings": False,
    "max_position_embeddings": 128,
}

#: A hung command fails the test instead of the suite.
QUICK_S = 30


def write_config(path: Path, **changes) -> Path:
    """A tiny Llama config.json at ``path`` with ``changes`` (a value of None deletes the key)."""
    config = {**TINY_LLAMA, **changes}
    config = {key: value for key, value in config.items() if value is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config))
    return path


def one_error_line(result, *, code: int = 2) -> str:
    """The single ``error: ...`` line of a failed command (no traceback), after checking the exit code."""
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def isolated_registry(tmp_path: Path) -> dict[str, str]:
    """The environment of a command whose ``add`` writes a scratch registry (a copy of the real one)."""
    registry = tmp_path / "registry"
    shutil.copytree(DATA / "models", registry)
    return {**os.environ, "CATALOGUE_REGISTRY_DIR": str(registry)}


# 1. Sizes no real model has are refused before anything is built.


@pytest.mark.parametrize(
    "field, value, said",
    [
        ("num_hidden_layers", 100_000, "num_hidden_layers is 100000: more than 1,024"),
        ("num_hidden_layers", 2**62, "num_hidden_layers is 4611686018427387904: more than 1,024"),
        ("hidden_size", 2**50, "hidden_size is 1125899906842624: more than 65,536"),
        ("hidden_size", 2**70, "hidden_size is 1180591620717411303424: more than 65,536"),
        ("vocab_size", 10**12, "vocab_size is 1000000000000: more than 4,194,304"),
        ("num_attention_heads", 10**6, "num_attention_heads is 1000000: more than 1,024"),
        ("hidden_size", 0, "hidden_size is 0: expected at least 1"),
        ("num_hidden_layers", 0, "num_hidden_layers is 0: expected at least 1"),
        ("hidden_size", "2048", "hidden_size is '2048': expected a whole number (the hidden width), found text"),
        ("intermediate_size", 2048.5, "intermediate_size is 2048.5: expected a whole number"),
        ("num_key_value_heads", True, "num_key_value_heads is True: expected a whole number"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "add"])
def test_a_size_no_model_has_is_one_line_naming_file_and_field(tmp_path, command, field, value, said):
    config = write_config(tmp_path / "hostile" / "config.json", **{field: value})
    args = ("plan", "--model", str(config), "--ratio", "2.4") if command == "plan" else ("add", str(config), "--id", "me/hostile")
    started = time.monotonic()
    result = run_cli(*args, env=isolated_registry(tmp_path), timeout=QUICK_S)
    line = one_error_line(result)
    assert time.monotonic() - started < 5, "refused only after building"
    assert line.startswith(f"error: {config}: {said}"), line
    assert not (tmp_path / "registry" / "me__hostile.json").exists()


def test_too_many_expert_blocks_are_refused(tmp_path):
    config = tmp_path / "moe.json"
    config.write_text(json.dumps({**TINY_LLAMA, "model_type": "mixtral", "num_hidden_layers": 1000, "num_local_experts": 4000}))
    line = one_error_line(run_cli("plan", "--model", str(config), "--ratio", "2.4", timeout=QUICK_S))
    assert "layers times routed experts is 1000 x 4000 = 4,000,000" in line


def test_a_nested_text_config_is_checked_too(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "gemma3", "text_config": {**TINY_LLAMA, "num_hidden_layers": 10**9}}))
    assert "text_config.num_hidden_layers is 1000000000" in one_error_line(run_cli("plan", "--model", str(config), "--ratio", "2.4", timeout=QUICK_S))


# 2. --sources gets the checks every input gets.


@pytest.mark.parametrize("kind", ["fifo", "device", "directory", "not json"])
def test_add_sources_that_is_not_a_json_file_is_refused_at_once(tmp_path, kind):
    sources = tmp_path / "sources"
    if kind == "fifo":
        os.mkfifo(sources)
    elif kind == "device":
        sources = Path("/dev/zero")
    elif kind == "directory":
        sources.mkdir()
    else:
        sources.write_bytes(b"[{\x00")
    config = write_config(tmp_path / "ok" / "config.json")
    line = one_error_line(run_cli("add", str(config), "--id", "me/ok", "--sources", str(sources), env=isolated_registry(tmp_path), timeout=QUICK_S))
    assert "--sources" in line and str(sources) in line, line
    assert not (tmp_path / "registry" / "me__ok.json").exists()


# 3. A path too long for the file system.

LONG = "a" * 5000


@pytest.mark.parametrize(
    "args",
    [
        ("inspect", LONG),
        ("plan", "--model", LONG, "--ratio", "2.4"),
        ("verify", LONG),
        ("verify", "--checkpoint", LONG),
        ("add", LONG),
        ("plan", "--model", f"org/{LONG}", "--ratio", "2.4"),
        ("build", "--models", LONG, "--closed-form"),
    ],
    ids=["inspect", "plan", "verify", "verify-checkpoint", "add", "hub-id", "build"],
)
def test_a_path_too_long_is_one_line(tmp_path, args):
    line = one_error_line(run_cli(*args, "--data", str(tmp_path / "d")) if args[0] == "build" else run_cli(*args, timeout=QUICK_S))
    assert "too long" in line and "(500" in line and len(line) < 400, line


def test_inspect_record_with_a_path_too_long(tmp_path):
    checkpoint = tmp_path / "ckpt"
    write_config(checkpoint / "config.json")
    line = one_error_line(run_cli("inspect", str(checkpoint), "--record", f"{LONG}@40", timeout=QUICK_S))
    assert "file name too long" in line


# 4. Paths are paths; an unreachable hub is one line, quickly.


@pytest.mark.parametrize("text", ["./no-such-dir", "no-such-config.json", "/no/such/checkpoint", "~/no-such-model-dir"])
def test_a_missing_path_is_reported_as_a_path_at_once(text):
    started = time.monotonic()
    line = one_error_line(run_cli("plan", "--model", text, "--ratio", "2.4", timeout=QUICK_S))
    assert time.monotonic() - started < 5
    assert line == f"error: {text}: no such file or directory", line


def test_a_config_json_that_is_a_link_loop_is_a_path_error(tmp_path):
    checkpoint = tmp_path / "loop"
    checkpoint.mkdir()
    (checkpoint / "config.json").symlink_to(checkpoint / "other.json")
    (checkpoint / "other.json").symlink_to(checkpoint / "config.json")
    for text in (str(checkpoint), str(checkpoint / "config.json")):
        line = one_error_line(run_cli("plan", "--model", text, "--ratio", "2.4", timeout=QUICK_S))
        assert "symbolic link loop" in line and "hub" not in line, line


def test_an_unreachable_hub_is_one_line_quickly(tmp_path):
    with socket.socket() as closed:  # a port nobody listens on: connections are refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if key != "HF_HUB_OFFLINE"}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{port}", HF_HOME=str(tmp_path / "hf"))
    started = time.monotonic()
    line = one_error_line(run_cli("plan", "--model", "someorg/somemodel", "--ratio", "2.4", env=env, timeout=QUICK_S))
    assert time.monotonic() - started < 5
    assert "the hub cannot be reached (no connection to 127.0.0.1" in line, line


# 5. One checkpoint is one model, however its path is typed.


def test_one_checkpoint_typed_three_ways_is_one_model_with_readable_names(tmp_path):
    from transformers import AutoConfig, AutoModelForCausalLM

    values = dict(TINY_LLAMA)
    checkpoint = tmp_path / "models" / "llama"
    AutoModelForCausalLM.from_config(AutoConfig.for_model(values.pop("model_type"), **values)).save_pretrained(checkpoint)
    (tmp_path / "redteam").mkdir()
    (tmp_path / "redteam" / "models").symlink_to(tmp_path / "models")
    data = tmp_path / "data"
    spellings = ("models/llama", "redteam/models/llama", str(checkpoint))
    result = run_cli(
        "build", "--models", ",".join(spellings), "--levels", "0,20", "--data", str(data), "--save-pruned", str(tmp_path / "pruned"), "--quiet", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    records = load_json(data / "expansion_rates.json")["models"]
    assert [(record["base_model"], record["pruning_pct"]) for record in records] == [("local/llama", 0), ("local/llama", 20)]
    assert sorted(path.name for path in (tmp_path / "pruned").iterdir()) == ["local__llama"]
    assert {record["provenance"]["weights_source"] for record in records} == {str(checkpoint.resolve())}


def test_two_checkpoints_that_would_share_an_id_are_refused_naming_both(tmp_path):
    write_config(tmp_path / "a" / "llama" / "config.json")
    write_config(tmp_path / "b" / "llama" / "config.json", intermediate_size=128)
    line = one_error_line(run_cli("build", "--models", "a/llama,b/llama", "--closed-form", "--data", str(tmp_path / "d"), cwd=tmp_path))
    assert "a/llama and b/llama are different models that would both be local/llama" in line
    assert not (tmp_path / "d").exists()


# 8. Errors name the file and leak no internals.


def test_errors_name_the_file_and_which_of_several_models(tmp_path):
    good = write_config(tmp_path / "good.json")
    no_type = write_config(tmp_path / "no-type.json", model_type=None)
    line = one_error_line(run_cli("plan", "--model", str(good), "--model", str(no_type), "--ratio", "2.4", timeout=120))
    assert line.startswith(f"error: {no_type}: config.json has no model_type"), line
    for field, value in (("hidden_size", 0), ("hidden_size", 2**50), ("hidden_size", 2**70)):
        line = one_error_line(run_cli("plan", "--model", str(write_config(tmp_path / "x.json", **{field: value})), "--ratio", "2.4", timeout=QUICK_S))
        assert "pydantic" not in line and "http" not in line and "frame #" not in line and str(tmp_path / "x.json") in line


# 9 and 10. add leaves the data consistent, and refuses an id differing only in case.


@pytest.fixture
def checkout_copy(tmp_path) -> dict[str, str]:
    """An environment whose default data, registry and site are a scratch copy of the checkout's."""
    shutil.copytree(DATA, tmp_path / "data")
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    return {**os.environ, "CATALOGUE_DATA_DIR": str(tmp_path / "data"), "CATALOGUE_REGISTRY_DIR": str(tmp_path / "data" / "models")}


def test_after_add_verify_passes_and_the_planner_data_holds_the_model(tmp_path, checkout_copy):
    config = write_config(tmp_path / "new" / "config.json")
    added = run_cli("add", str(config), "--id", "me/tiny-llama", env=checkout_copy)
    assert added.returncode == 0, added.stdout + added.stderr
    assert '"me/tiny-llama"' in (tmp_path / "docs" / "javascripts" / "catalogue-data.js").read_text()
    verified = run_cli("verify", env=checkout_copy)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert (REPO / "docs" / "javascripts" / "catalogue-data.js").read_text().count("me/tiny-llama") == 0


def test_an_id_differing_only_in_case_is_refused(tmp_path):
    config = write_config(tmp_path / "new" / "config.json")
    env = isolated_registry(tmp_path)
    line = one_error_line(run_cli("add", str(config), "--id", "META-LLAMA/llama-3.2-1b", env=env, timeout=QUICK_S))
    assert "differs from the registry's meta-llama/Llama-3.2-1B only in case" in line
    assert not list((tmp_path / "registry").glob("META-LLAMA*"))


# Every size from the whole integer range: exit 0 or 2, one line, under 5 s and 1 GiB.

SIZE_KEYS = (
    "num_hidden_layers",
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "head_dim",
    "max_position_embeddings",
)


def peak_resident_bytes_since_reset() -> int | None:
    """The process's peak resident set since the last reset (Linux: VmHWM after ``clear_refs``), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def reset_peak_resident() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def test_sizes_from_the_whole_integer_range_never_hang_or_eat_memory(tmp_path_factory):
    from click.testing import CliRunner
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from glu_catalogue.cli.commands import cli

    whole_range = st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70), st.integers(min_value=0, max_value=2048), st.sampled_from([2**31, 2**32, 2**53, 2**63, 2**64])
    )
    changes = st.dictionaries(st.sampled_from(SIZE_KEYS), whole_range, min_size=1, max_size=3)
    counter = iter(range(10**6))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(changes=changes, command=st.sampled_from(["plan", "add"]))
    def check(changes, command):
        directory = tmp_path_factory.mktemp("sizes")
        config = write_config(directory / f"config-{next(counter)}.json", **changes)
        args = ["plan", "--model", str(config), "--ratio", "2.4"] if command == "plan" else ["add", str(config), "--id", f"me/size-{next(counter)}"]
        reset_peak_resident()
        started = time.monotonic()
        result = CliRunner().invoke(cli, args, env={"CATALOGUE_REGISTRY_DIR": str(registry)})
        seconds = time.monotonic() - started
        peak = peak_resident_bytes_since_reset()
        assert result.exit_code in (0, 2), (changes, result.output, result.exception)
        if result.exit_code == 2:
            assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: "), (changes, result.stderr)
        assert seconds < 5, (changes, seconds)
        assert peak is None or peak < 1 << 30, (changes, peak)

    registry = tmp_path_factory.mktemp("registry")
    shutil.copytree(DATA / "models", registry, dirs_exist_ok=True)
    CliRunner().invoke(cli, ["plan", "--model", str(write_config(registry.parent / "warm.json")), "--ratio", "2.4"])  # torch imported once
    check()

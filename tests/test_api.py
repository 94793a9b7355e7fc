"""The public API in ``glu_catalogue/__init__.py``: its docstring examples run, and importing it stays light."""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

from safetensors_files import llama_config, llama_tensors, write_checkpoint

import glu_catalogue
from glu_catalogue.core.architecture import Architecture

SMALL = Architecture(
    hidden_size=64,
    intermediate_size=256,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    vocab_size=128,
    tie_word_embeddings=True,
    qkv_bias=False,
    o_proj_bias=False,
    mlp_bias=False,
    qk_norm=False,
    norms_per_layer=2,
)


def test_every_public_function_has_an_example_that_runs(tmp_path):
    checkpoint_dir = tmp_path / "checkpoint"
    write_checkpoint(checkpoint_dir, llama_config(SMALL), llama_tensors(SMALL))
    for name in glu_catalogue.__all__[1:]:
        assert ">>> " in getattr(glu_catalogue, name).__doc__, f"{name} has no example"
    failures, tried = doctest.testmod(glu_catalogue, extraglobs={"checkpoint_dir": checkpoint_dir}, optionflags=doctest.ELLIPSIS)
    assert tried >= 2 * len(glu_catalogue.__all__[1:])
    assert failures == 0


def test_importing_the_package_imports_neither_torch_nor_pandas():
    code = "import sys, glu_catalogue; print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'pandas', 'transformers', 'pydantic'}))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_plan_needs_exactly_one_target():
    from glu_catalogue.errors import UsageError

    for arguments in ({}, {"ratio": "2.4", "pruning_pct": 40}):
        try:
            glu_catalogue.plan(["meta-llama/Llama-3.2-1B"], **arguments)
        except UsageError as error:
            assert "exactly one" in str(error)
        else:
            raise AssertionError(f"plan accepted {arguments}")


def test_plan_takes_what_the_command_takes_a_config_path(tmp_path):
    """``glu_catalogue.plan(["…/config.json"])`` answers as ``catalogue plan --model …/config.json`` does."""
    import json

    from conftest import run_here

    folder = tmp_path / "tiny-llama"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(llama_config(SMALL)))
    [row] = glu_catalogue.plan([str(folder / "config.json")], ratio="2.4")
    completed = run_here("plan", "--model", str(folder / "config.json"), "--ratio", "2.4", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    assert [row.as_dict()] == json.loads(completed.stdout)
    assert row.model_id == "local/tiny-llama" and row.status == "ok"


def test_the_readmes_python_session_runs_as_shown(tmp_path, monkeypatch):
    """The README's ``From Python`` block is a doctest: its outputs are what the functions return."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From Python", 1)[1]
    session = re.search(r"```pycon\n(.*?)```", section, re.S).group(1)
    write_checkpoint(tmp_path / "pruned", llama_config(SMALL), llama_tensors(SMALL))
    monkeypatch.chdir(tmp_path)  # the session's "pruned/" is a checkpoint saved there
    test = doctest.DocTestParser().get_doctest(session, {}, "README.md From Python", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert runner.summarize(verbose=False).attempted >= 7

"""Workspaces (store/workspace.py, store/paths.py): found like git finds a repository, the shipped layer read
beside a workspace's own, every write refused outside one, versions refused or read, never rewritten.

In-process tests change the working directory; two run the command line as a process. The wheel's tour
(installed package byte-identical, force-reinstall keeps the workspace) is scripts/wheel_tour.sh, run by .ci/run.
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO, run_cli

from glu_catalogue.errors import RegistryError, UsageError
from glu_catalogue.pipeline.init import create_workspace
from glu_catalogue.store import paths
from glu_catalogue.store.registry import clear_cache, load_registry
from glu_catalogue.store.workspace import SETTINGS_FILE, find_workspace, load_workspace

SHIPPED_MODEL = "meta-llama/Llama-3.2-1B"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A fresh workspace, the working directory below it, no override in the environment."""
    for name in ("CATALOGUE_DATA_DIR", "CATALOGUE_REGISTRY_DIR"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "mystudy"
    create_workspace(root, "My study")
    (root / "notes").mkdir()
    monkeypatch.chdir(root / "notes")
    return root


def test_init_writes_documented_settings_that_read_back(workspace):
    settings = load_workspace(workspace)
    assert (settings.title, settings.shipped_models, settings.shipped_outcomes, settings.format) == ("My study", "all", True, 1)
    text = (workspace / SETTINGS_FILE).read_text()
    assert 'written_by = "glu-catalogue ' in text and "# Which of the shipped registry models" in text
    assert (workspace / ".gitignore").read_text().endswith("site/\n")
    with pytest.raises(UsageError, match="a workspace already"):
        create_workspace(workspace)


def test_a_fresh_workspace_verifies_with_nothing_of_its_own(workspace):
    from glu_catalogue.pipeline.check import check

    report = check()
    assert report.ok and dict(report.checked) == {"schemas": 4}


def test_commands_find_the_workspace_from_below_and_write_there(workspace):
    assert find_workspace() == workspace.resolve()
    assert paths.default_data_dir() == workspace / "data"
    assert paths.write_data_dir() == workspace / "data"
    assert paths.write_registry_dir() == workspace / "data" / "models"
    assert paths.site_docs_dir(workspace / "data") is None  # catalogue site renders a workspace's pages
    assert paths.write_roots(workspace / "data") == (workspace / "data",)


def test_the_registry_is_the_shipped_layer_plus_the_workspaces_own(workspace):
    own = workspace / "data" / "models"
    own.mkdir(parents=True)
    entry = json.loads((paths.shipped_data_dir() / "models" / "meta-llama__Llama-3.2-1B.json").read_text())
    entry["model_id"] = "me/llama-copy"
    (own / "me__llama-copy.json").write_text(json.dumps(entry))
    registry = load_registry()
    assert {"me/llama-copy", SHIPPED_MODEL} <= set(registry) and len(registry) == len(load_registry(paths.shipped_data_dir() / "models")) + 1
    (workspace / SETTINGS_FILE).write_text((workspace / SETTINGS_FILE).read_text().replace('models = "all"', 'models = ["meta-llama/*"]'))
    assert {model.split("/")[0] for model in load_registry()} == {"me", "meta-llama"}
    entry["model_id"] = SHIPPED_MODEL
    (own / "again.json").write_text(json.dumps(entry))
    clear_cache()  # what catalogue add does after writing a registry file
    with pytest.raises(RegistryError, match="registered already"):
        load_registry()


def test_outside_a_workspace_reads_are_shipped_and_writes_refused(tmp_path, monkeypatch):
    for name in ("CATALOGUE_DATA_DIR", "CATALOGUE_REGISTRY_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.current_workspace() is None
    assert paths.default_data_dir() == paths.shipped_data_dir()
    for target in (paths.write_data_dir, paths.write_registry_dir):
        with pytest.raises(UsageError, match="catalogue init"):
            target()
    assert paths.write_data_dir(tmp_path / "mine") == tmp_path / "mine"  # --data names a target outright


@pytest.mark.parametrize(
    ("change", "message"),
    [("format = 1", "format = 2"), ('schema_version = "1.0"', 'schema_version = "2.0"'), ('models = "all"', "models = 3")],
    ids=["newer-format", "newer-schema", "bad-value"],
)
def test_a_newer_or_broken_workspace_is_refused_in_one_line_and_left_as_it_is(workspace, change, message):
    path = workspace / SETTINGS_FILE
    text = path.read_text().replace(*(change, message))
    path.write_text(text)
    with pytest.raises(UsageError) as raised:
        paths.current_workspace()
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)
    assert path.read_text() == text


def test_the_repository_is_a_workspace_whose_data_is_the_shipped_layer():
    settings = load_workspace(REPO)
    assert settings.data_dir.resolve() == paths.shipped_data_dir().resolve()
    assert settings.site_url == ""  # the published address is pyproject.toml's Documentation, its only home


def test_writing_commands_refuse_outside_a_workspace_in_one_line(tmp_path):
    for args in (("build", "--closed-form"), ("add", "config.json"), ("results", "add", "x.json")):
        completed = run_cli(*args, cwd=tmp_path)
        assert completed.returncode == 2, completed.stderr
        assert completed.stderr.count("\n") == 1 and "catalogue init" in completed.stderr and "--data" in completed.stderr
    assert not any(tmp_path.iterdir())


def test_a_workspace_builds_only_its_own_models_and_its_site_shows_them_beside_the_shipped(workspace, tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("matplotlib")
    config = json.loads((paths.shipped_data_dir() / "models" / "HuggingFaceTB__SmolLM2-135M.json").read_text())["config"]
    (workspace / "config.json").write_text(json.dumps({**config, "model_type": "llama", "architectures": ["LlamaForCausalLM"]}))
    for args in (("add", "config.json", "--id", "me/smol-copy", "--family", "Mine"), ("build", "--closed-form", "--quiet"), ("verify",), ("site",)):
        completed = run_cli(*args, cwd=workspace)
        assert completed.returncode == 0, f"{args}: {completed.stdout}{completed.stderr}"
    records = json.loads((workspace / "data" / "expansion_rates.json").read_text())["models"]
    assert {record["base_model"] for record in records} == {"me/smol-copy"}
    site = workspace / "site"
    assert (site / "models" / "me-smol-copy" / "index.html").is_file() and (site / "models" / "meta-llama-llama-3-2-1b" / "index.html").is_file()
    assert "<title>" in (site / "index.html").read_text() and "My study" in (site / "index.html").read_text()


def test_results_sources_lists_the_study_files_the_package_ships():
    from conftest import invoke

    result = invoke("results", "sources", "study/*.json")
    assert result.exit_code == 0, result.output
    listed = result.output.splitlines()
    assert listed == [str(path) for path in sorted((paths.shipped_data_dir() / "sources" / "study").glob("*.json"))]
    assert any(line.endswith("llama_1b_complete_results_latest.json") for line in listed)


def test_a_workspace_finds_the_shipped_records_it_includes(workspace):
    from glu_catalogue.checkpoints.inspect import find_record

    assert find_record(f"{SHIPPED_MODEL}@40").pruned_architecture.intermediate_size == 4916
    (workspace / SETTINGS_FILE).write_text((workspace / SETTINGS_FILE).read_text().replace('models = "all"', 'models = "none"'))
    with pytest.raises(LookupError):
        find_record(f"{SHIPPED_MODEL}@40")

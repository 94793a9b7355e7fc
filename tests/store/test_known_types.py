"""The shipped per-type facts on another transformers release, the user's cache of facts derived for it, and no torch.

Another release is made as a user would meet it: a ``transformers`` package directory (every file a link
to the installed one's, a type's modelling file changed where a test says so) and a ``dist-info`` of
another version, first on ``PYTHONPATH``. The command line runs as a separate process, its cache in a
temporary ``$CATALOGUE_CACHE_DIR``:

* the type's source unchanged: the shipped facts count, and neither torch nor transformers is imported;
* the type's source changed: the first call derives its facts on the meta device and keeps them in the
  cache; the second call counts from the cache without importing torch, with the same answer;
* a cache file that is not JSON, not the facts its name says, or facts with a key missing is ignored
  with one warning and derived again;
* without torch, a config that needs the meta device is one line naming the pip install, exit 2.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, REPO

from glu_catalogue.store import facts_cache
from glu_catalogue.store.installed_transformers import transformers_root
from glu_catalogue.store.known_types import counted_config, facts_of_entry, shipped_type_facts, type_facts

OTHER_RELEASE = "5.99.0"

#: Another release is made of the installed transformers' files.
needs_transformers = pytest.mark.skipif(transformers_root() is None, reason="needs transformers installed (the test extra)")

#: Runs the command line as ``python -m glu_catalogue`` does, then says which heavy modules it imported.
PROGRAM = (
    "import sys\n"
    "from glu_catalogue.cli.commands import main\n"
    "sys.argv = ['catalogue', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
    "loaded = sorted(name for name in ('torch', 'transformers', 'optipfair') if name in sys.modules)\n"
    "print('LOADED', loaded, 'EXIT', code, file=sys.stderr)\n"
)


def registry_config(file_name: str) -> dict:
    return json.loads((DATA / "models" / file_name).read_text())["config"]


def write_config(directory: Path, config: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    return path


def other_release(root: Path, changed: str | None = None, edit=lambda text: text + b"\n# a comment a new release added\n") -> Path:
    """A directory holding transformers as release ``OTHER_RELEASE``: links to the installed package's files, and
    ``changed`` (a path inside the package) a copy changed by ``edit`` (by default a comment appended, as a new
    release's edit that leaves the parameters as they were)."""
    installed = transformers_root()
    assert installed is not None, "the tests need transformers installed"
    site = root / "site"
    package = site / "transformers"
    parts = Path(changed).parts if changed else ()
    _link_tree(installed, package, parts)
    if changed:
        (package / changed).write_bytes(edit((installed / changed).read_bytes()))
    dist_info = site / f"transformers-{OTHER_RELEASE}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: transformers\nVersion: {OTHER_RELEASE}\n")
    return site


def _link_tree(source: Path, target: Path, keep_apart: tuple[str, ...]) -> None:
    """``target`` as links to ``source``'s entries, but a real directory along the path ``keep_apart`` (so one file
    there can differ)."""
    target.mkdir(parents=True)
    for entry in source.iterdir():
        if keep_apart and entry.name == keep_apart[0] and entry.name != "__pycache__":
            if len(keep_apart) > 1:
                _link_tree(entry, target / entry.name, keep_apart[1:])
            continue
        (target / entry.name).symlink_to(entry)


def run(args: list[str], site: Path | None, cache: Path, extra_path: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """The command line in its own process, ``site`` (another transformers) first on the import path."""
    path = [str(p) for p in (extra_path, site, REPO) if p is not None]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path),
        "PYTHONDONTWRITEBYTECODE": "1",  # nothing written into the installed transformers through the links
        facts_cache.CACHE_DIR_ENV: str(cache),
        **env,
    }
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], check=False, capture_output=True, text=True, env=environment, timeout=300)


def plan(config: Path) -> list[str]:
    return ["plan", "--model", str(config), "--ratio", "2.4", "--format", "json"]


@pytest.fixture(scope="module")
def llama_config(tmp_path_factory) -> Path:
    return write_config(tmp_path_factory.mktemp("llama") / "llama", registry_config("meta-llama__Llama-3.2-1B.json"))


@pytest.fixture(scope="module")
def expected_plan(llama_config, tmp_path_factory) -> str:
    """The plan of the Llama config with the installed transformers (the shipped facts)."""
    result = run(plan(llama_config), None, tmp_path_factory.mktemp("cache"))
    assert "EXIT 0" in result.stderr, result.stderr
    return result.stdout


@needs_transformers
def test_each_shipped_type_names_its_source_files_and_their_digest():
    root = transformers_root()
    for model_type, entry in shipped_type_facts()["types"].items():
        assert entry["source_files"] and all((root / name).is_file() for name in entry["source_files"]), model_type
        assert type_facts(model_type).origin == "shipped", f"{model_type}: the installed transformers' source differs from type_facts.json"


@needs_transformers
def test_the_shipped_facts_count_on_another_release_whose_source_is_the_same(tmp_path, llama_config, expected_plan):
    site = other_release(tmp_path)
    result = run(plan(llama_config), site, tmp_path / "cache")
    assert "LOADED [] EXIT 0" in result.stderr, result.stderr
    assert result.stderr.startswith("LOADED"), result.stderr  # no note: counted without the meta device
    assert result.stdout == expected_plan
    assert not (tmp_path / "cache").exists()


@pytest.mark.torch
def test_a_changed_source_is_derived_once_then_counted_from_the_cache_without_torch(tmp_path, llama_config, expected_plan):
    pytest.importorskip("torch")
    site = other_release(tmp_path, changed="models/llama/modeling_llama.py")
    cache = tmp_path / "cache"
    first = run(plan(llama_config), site, cache)
    assert "'torch', 'transformers'] EXIT 0" in first.stderr, first.stderr
    assert first.stdout == expected_plan
    kept = list(cache.glob(f"type-facts/transformers-{OTHER_RELEASE}/llama.*.json"))
    assert len(kept) == 1, list(cache.rglob("*"))
    document = json.loads(kept[0].read_text())
    assert document["entry"] == facts_of_entry(
        shipped_type_facts()["types"]["llama"]
    )  # a comment changes nothing: the facts derived again are the shipped ones
    second = run(plan(llama_config), site, cache)
    assert "LOADED [] EXIT 0" in second.stderr and second.stderr.startswith("LOADED"), second.stderr
    assert second.stdout == expected_plan


@needs_transformers
def test_a_type_mapped_to_another_class_gets_another_digest(tmp_path, monkeypatch):
    remapped = b'("internlm3", "InternLM3ForCausalLM")'
    site = other_release(tmp_path, "models/auto/modeling_auto.py", lambda text: text.replace(b'("internlm3", "LlamaForCausalLM")', remapped))
    assert remapped in (site / "transformers/models/auto/modeling_auto.py").read_bytes()
    monkeypatch.setattr("glu_catalogue.store.known_types.transformers_root", lambda: site / "transformers")
    monkeypatch.setenv(facts_cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    assert type_facts("internlm3").derivable  # its own files and llama's are the same, its causal-LM class is not
    assert type_facts("llama").origin == "shipped"  # the mapping's lines of other types are not llama's


@pytest.fixture
def changed_llama(tmp_path, monkeypatch):
    """In this process: transformers as another release whose llama source changed, the cache in ``tmp_path``."""
    if transformers_root() is None:
        pytest.skip("needs transformers installed (the test extra)")
    site = other_release(tmp_path, changed="models/llama/modeling_llama.py")
    monkeypatch.setattr("glu_catalogue.store.known_types.transformers_root", lambda: site / "transformers")
    monkeypatch.setattr("glu_catalogue.store.known_types.installed_transformers_version", lambda: OTHER_RELEASE)
    monkeypatch.setenv(facts_cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    facts = type_facts("llama")
    assert facts.derivable and facts.entry is None
    return facts


def _keep(facts, entry) -> Path:
    return facts_cache.write_cached(facts.installed, "llama", facts.digest, {"entry": entry})


CORRUPTIONS = {
    "not JSON": lambda path, entry: path.write_text('{"format": 1, "entry": {'),
    "another type's": lambda path, entry: path.write_text(path.read_text().replace('"model_type": "llama"', '"model_type": "qwen2"')),
    "a key missing": lambda path, entry: path.write_text(json.dumps({**json.loads(path.read_text()), "entry": {k: v for k, v in entry.items() if k != "tie"}})),
    "a list": lambda path, entry: path.write_text("[]"),
    "a rule of no known value": lambda path, entry: path.write_text(json.dumps({**json.loads(path.read_text()), "entry": {**entry, "tie": "sometimes"}})),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_corrupt_cache_file_is_ignored_with_one_warning(changed_llama, corruption, capsys):
    config = registry_config("meta-llama__Llama-3.2-1B.json")
    entry = facts_of_entry(shipped_type_facts()["types"]["llama"])
    path = _keep(changed_llama, entry)
    counted, _ = counted_config(config)
    assert counted is not None and counted.found_by == "the facts derived for its type on first use (cached, no torch)"
    assert str(path) in counted.notes[0] and f"transformers {OTHER_RELEASE}" in counted.notes[0]
    CORRUPTIONS[corruption](path, entry)
    for _ in range(2):
        counted, reason = counted_config(config)
        assert counted is None and "is not the one its shipped facts were derived with" in reason
    warning = capsys.readouterr().err
    assert warning.count("\n") == 1 and warning.startswith(f"warning: {path}: ") and "derived again" in warning, warning


@pytest.mark.torch
def test_a_corrupt_cache_file_is_derived_again(changed_llama, tmp_path, capsys):
    pytest.importorskip("torch")
    from glu_catalogue.pipeline.models import derive
    from glu_catalogue.store.sources import read_source

    config_path = write_config(tmp_path / "llama", registry_config("meta-llama__Llama-3.2-1B.json"))
    facts_cache.cache_path(OTHER_RELEASE, "llama", changed_llama.digest).parent.mkdir(parents=True)
    facts_cache.cache_path(OTHER_RELEASE, "llama", changed_llama.digest).write_text("not json")
    derived = derive(read_source(str(config_path)))
    assert derived.total_parameters == 1_235_814_400 and "cached, no torch" in derived.found_by
    assert "not JSON" in capsys.readouterr().err
    assert type_facts("llama").origin == "cached"


def test_an_unwritable_cache_costs_time_not_the_answer(changed_llama, tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(facts_cache.CACHE_DIR_ENV, str(tmp_path / "file"))
    assert facts_cache.write_cached(OTHER_RELEASE, "llama", changed_llama.digest, {"not_countable": "why"}) is None
    warning = capsys.readouterr().err
    assert warning.startswith("warning: the facts of llama are not kept for the next call: ") and warning.count("\n") == 1


def test_the_cache_directory_is_the_users_unless_the_environment_names_one(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.delenv(facts_cache.CACHE_DIR_ENV, raising=False)
    assert facts_cache.cache_dir() == Path(platformdirs.user_cache_dir("glu-catalogue", appauthor=False))
    monkeypatch.setenv(facts_cache.CACHE_DIR_ENV, str(tmp_path))
    assert facts_cache.cache_path("5.0.0/../x", "../llama", "ab" * 32).parent.parent.parent == tmp_path


#: A sitecustomize that makes torch unimportable, as in an install without the generate extra.
NO_TORCH = """
import sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoTorch())
"""


@pytest.mark.parametrize("command", ["plan", "add", "build --closed-form"])
def test_without_torch_a_type_that_needs_the_meta_device_is_one_line(tmp_path, command):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(NO_TORCH)
    config = write_config(tmp_path / "olmo", registry_config("allenai__OLMo-2-0425-1B.json") | {"model_type": "olmo"})
    args = {
        "plan": plan(config),
        "add": ["add", str(config), "--id", "me/olmo"],
        "build --closed-form": ["build", "--closed-form", "--models", str(config), "--levels", "0", "--data", str(tmp_path / "data")],
    }[command]
    shutil.copytree(DATA / "models", tmp_path / "models")
    before = sorted(path.name for path in (tmp_path / "models").iterdir())
    result = run(args, None, tmp_path / "cache", extra_path=shim, CATALOGUE_REGISTRY_DIR=str(tmp_path / "models"))
    error, _, tail = result.stderr.partition("LOADED")
    assert "EXIT 2" in tail and "Traceback" not in error, result.stderr
    assert error.count("\n") == 1 and error.startswith(f"error: {config}: counting it needs the meta device, and torch is not installed: "), error
    assert "pip install 'glu-catalogue[generate]'" in error and "model type olmo:" in error, error
    assert sorted(path.name for path in (tmp_path / "models").iterdir()) == before

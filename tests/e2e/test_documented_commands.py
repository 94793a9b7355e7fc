"""Every command the README or a page of the site shows works as written.

Commands are read from fenced ``bash``/``console`` blocks and from the "command" column of
tables. Cheap commands run for real, as a process, in a scratch directory holding the inputs
the text describes (``broken``, ``broken.json``, the ``pruned`` and ``uniform`` checkpoints, the
"Bring your own model" section's ``my-olmo2`` checkpoint, its pruned copy and ``config.json``),
with a scratch copy of the registry (``catalogue add`` writes there):
the exit code must be the one the shown output implies (``error:`` 2, ``FAILED`` 1, else 0) and
every shown ``OK:``/``FAILED:``/``error:`` line must be printed as shown. Costly ones are
checked by parsing (each command declares which, ``cli/registry.py``): click resolves a
``catalogue build`` command line and its models and levels; every ``pip install -e '.[X]'``
names extras that exist, and the extras installed earlier on the same page provide what the
commands after them import. A command of a kind this
module does not know fails the test, so a new one cannot slip by unchecked.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import DATA, REPO, made_once, run_cli
from packaging.requirements import Requirement

from glu_catalogue.cli.commands import cli
from glu_catalogue.cli.registry import REGISTRY
from glu_catalogue.pipeline.selection import parse_levels, parse_models

tomllib = pytest.importorskip("tomllib")

#: Marks a block run by the Slurm tests as written (tests/e2e/test_slurm.py), not here.
SLURM_MARKER = "<!-- run-by-slurm-tests"
#: Marks the README's tour from an installed wheel, run as written by scripts/wheel_tour.sh (.ci/run), not here.
TOUR_MARKER = "<!-- run-by-wheel-tour -->"
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
EXTRAS = {
    name: {Requirement(spec).name for spec in specs}
    for name, specs in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"].items()
}
#: Installing the project once (Quick start, Reproduce) makes `catalogue` available; extras add these packages.
NEEDS = {"build": {"torch", "transformers", "optipfair"}, "docs": {"matplotlib"}, "mkdocs": {"mkdocs", "mkdocs-material"}, "pytest": {"pytest"}}


@dataclass
class Shown:
    """One command as a document shows it, with the output shown under it and what the page installed before."""

    document: str
    line: int
    text: str
    output: list[str] = field(default_factory=list)
    installed: frozenset[str] = frozenset()

    @property
    def words(self) -> list[str]:
        words = shlex.split(self.text, comments=True)
        return words[1:] if words[:1] == ["time"] else words

    def __str__(self) -> str:
        return f"{self.document}:{self.line}: {shlex.join(shlex.split(self.text, comments=True))}"


def fenced_blocks(text: str):
    """(language, first line number, lines) of every fenced code block."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^```(\w*)\s*$", lines[index])
        if opening:
            end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            yield opening.group(1), index + 2, lines[index + 1 : end]
            index = end
        index += 1


def table_commands(text: str):
    """(line number, command) of each inline-code cell in a table column headed "command"."""
    column = None
    for number, line in enumerate(text.splitlines(), start=1):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            column = None
        elif "command" in cells:
            column = cells.index("command")
        elif column is not None and len(cells) > column:
            for code in re.findall(r"`([^`]+)`", cells[column]):
                yield number, code


def shown_commands(document: Path) -> list[Shown]:
    text = document.read_text()
    name = document.relative_to(REPO).as_posix()
    found: list[Shown] = []
    all_lines = text.splitlines()
    for language, first, lines in fenced_blocks(text):
        if first >= 3 and (all_lines[first - 3].strip().startswith(SLURM_MARKER) or all_lines[first - 3].strip() == TOUR_MARKER):
            continue  # a Slurm job script and its submission: tests/e2e/test_slurm.py runs them on a real cluster
        if language in ("bash", "sh"):
            for offset, line in enumerate(lines):
                for part in filter(None, (piece.strip() for piece in line.split("&&"))):
                    if shlex.split(part, comments=True):
                        found.append(Shown(name, first + offset, part))
        elif language == "console":
            for offset, line in enumerate(lines):
                if line.startswith("$ "):
                    found.append(Shown(name, first + offset, line[2:]))
                elif found and found[-1].line >= first:
                    found[-1].output.append(line)
    found += [Shown(name, number, code) for number, code in table_commands(text)]
    found.sort(key=lambda shown: shown.line)
    installed: set[str] = set()
    for shown in found:  # what a reader following the page from the top has installed at each command
        installed |= installs(shown.words)
        shown.installed = frozenset(installed)
    return found


def installs(words: list[str]) -> set[str]:
    """The packages a ``pip install`` puts in place (the project's extras expanded)."""
    if words[:2] != ["pip", "install"]:
        return set()
    packages = set()
    for word in words[2:]:
        extras = re.fullmatch(r"(?:\.|glu-catalogue)\[([\w,-]+)\]", word)
        if extras:
            packages |= {"glu-catalogue"} | set().union(*(EXTRAS[name] for name in extras.group(1).split(",")))
        elif not word.startswith("-"):
            packages.add(Requirement(word).name)
    return packages


ALL = [shown for document in DOCUMENTS for shown in shown_commands(document)]


def test_the_documents_show_commands():
    assert len(ALL) > 20 and {shown.document for shown in ALL} >= {"README.md", "docs/reproduce.md", "docs/verification.md"}


# --- what each kind of command needs ------------------------------------------------------------


def catalogue_args(words: list[str]) -> list[str] | None:
    """The arguments of a ``catalogue`` command (also ``python -m glu_catalogue``), else None."""
    if words[:1] == ["catalogue"]:
        return words[1:]
    if words[:3] == ["python", "-m", "glu_catalogue"]:
        return words[3:]
    return None


def needed(shown: Shown) -> set[str]:
    """The packages beyond the base install the command imports."""
    words = shown.words
    args = catalogue_args(words)
    if args is not None:
        if args[:1] == ["build"] and "--closed-form" not in args:
            return NEEDS["build"]
        return NEEDS["docs"] if args[:1] == ["docs"] and "--check" not in args else set()
    if words[:1] == ["mkdocs"]:
        return NEEDS["mkdocs"]
    if words[:3] == ["python", "-m", "pytest"]:
        return NEEDS["pytest"]
    if words[:2] == ["python", "-c"]:
        return {name for name in re.findall(r"import ([\w, ]+);", words[2])[0].replace(" ", "").split(",") if name not in sys.stdlib_module_names}
    return set()


@pytest.mark.parametrize("shown", ALL, ids=str)
def test_the_page_installed_what_the_command_needs(shown):
    missing = needed(shown) - shown.installed
    assert not missing, f"{shown}: needs {sorted(missing)}, which no `pip install` before it on the page provides"


@pytest.mark.parametrize("shown", [s for s in ALL if s.words[:2] == ["pip", "install"]], ids=str)
def test_pip_installs_name_extras_that_exist(shown):
    for word in shown.words[2:]:
        extras = re.fullmatch(r"(?:\.|glu-catalogue)\[([\w,-]+)\]", word)
        if extras:
            assert set(extras.group(1).split(",")) <= set(EXTRAS), f"{shown}: extras {extras.group(1)}; pyproject has {sorted(EXTRAS)}"


# --- running or parsing each command ------------------------------------------------------------

SETUP = {("python", "-m", "venv"), ("python3", "-m", "venv"), (".",), ("source",), ("pip", "install"), ("git", "clone"), ("cd",)}
PARSED_ONLY = {("mkdocs", "build"), ("mkdocs", "serve"), ("python", "-m", "pytest")}


def kind(shown: Shown) -> str:
    words = shown.words
    if any(tuple(words[: len(prefix)]) == prefix for prefix in SETUP | PARSED_ONLY):
        return "known"
    args = catalogue_args(words)
    if args is not None:
        return REGISTRY.example_kind(args)  # each command declares it (cli/registry.py): cheap ones run, costly ones are parsed
    if words[:1] in (["python"], ["bash"]) and words[1].startswith("benchmarks/"):
        return "benchmark"
    if words[:2] == ["python", "-c"]:
        return "python"
    return "unknown"


def expected_exit(output: list[str]) -> int:
    if any(line.startswith("error:") for line in output):
        return 2
    return 1 if any(line.startswith("FAILED") for line in output) else 0


def added_on_the_page(shown: Shown) -> bool:
    """Whether the page runs ``catalogue add ... --id X`` before ``shown`` and ``shown`` names X."""
    ids = {
        other.words[other.words.index("--id") + 1]
        for other in ALL
        if other.document == shown.document and other.line < shown.line and (catalogue_args(other.words) or [])[:1] == ["add"] and "--id" in other.words
    }
    return any(model_id in shown.text for model_id in ids)


@pytest.mark.parametrize("shown", [s for s in ALL if kind(s) == "parse"], ids=str)
def test_costly_commands_parse(shown, request, monkeypatch):
    if added_on_the_page(shown):  # resolve it in the registry the walk-through added it to
        monkeypatch.setenv("CATALOGUE_REGISTRY_DIR", str(request.getfixturevalue("my_olmo2") / "registry"))
    args = catalogue_args(shown.words)
    command = cli.get_command(None, args[0])
    assert command is not None, f"{shown}: no command {args[0]!r}"
    context = command.make_context(args[0], args[1:])
    if args[0] == "build":
        assert parse_models(context.params["models"]) and parse_levels(context.params["levels"])


def builds_showing_their_check(shown: Shown) -> bool:
    return (catalogue_args(shown.words) or [""])[0] == "build" and any(line.startswith("OK:") for line in shown.output)


@pytest.mark.parametrize("shown", [s for s in ALL if kind(s) == "parse" and builds_showing_their_check(s)], ids=str)
def test_a_shown_build_prints_the_check_its_records_get(shown, tmp_path, request):
    """The counts a shown build prints are those of the records it writes. Into the default data, that
    is what ``catalogue verify`` prints of it; the walk-through's build is run by a fixture and its data
    verified; into another ``--data DIR``, the default catalogue's records of its models and levels
    (the same build made them), written as a catalogue of their own, verified."""
    from glu_catalogue import load_catalogue
    from glu_catalogue.pipeline.publish import catalogue_texts

    args = catalogue_args(shown.words)
    context = cli.get_command(None, "build").make_context("build", args[1:])
    [shown_line] = [line for line in shown.output if line.startswith("OK:")]
    if context.params["data_dir"] is None:
        completed = run_cli("verify")
    elif tuple(args) == MY_OLMO2_BUILD:
        root = request.getfixturevalue("my_olmo2")
        completed = run_cli("verify", "my-data", cwd=root, env={**os.environ, "CATALOGUE_REGISTRY_DIR": str(root / "registry")})
    else:
        models, levels = parse_models(context.params["models"]), parse_levels(context.params["levels"])
        catalogue = load_catalogue()
        records = [record for record in catalogue.models if record.base_model in models and record.pruning_pct in levels]
        built = {record.base_model for record in records}
        assert built == set(models) and len(records) == len(models) * len(levels), f"{shown}: the default catalogue lacks records this build writes"
        for path, text in catalogue_texts(tmp_path, records, catalogue.metadata.optipfair_version, catalogue.metadata.pruning_method).items():
            path.write_text(text)
        completed = run_cli("verify", str(tmp_path))
    assert completed.stdout.strip() == shown_line, f"{shown}: the page shows\n{shown_line}\nits records verify as\n{completed.stdout}"


@pytest.mark.parametrize("shown", [s for s in ALL if kind(s) == "benchmark"], ids=str)
def test_benchmark_commands_name_a_script_and_its_options(shown):
    script = REPO / shown.words[1]
    assert script.is_file(), f"{shown}: no {script}"
    for option in (word for word in shown.words[2:] if word.startswith("--")):
        assert f'"{option}"' in script.read_text(), f"{shown}: {script.name} has no option {option}"


@pytest.mark.parametrize("shown", ALL, ids=str)
def test_every_command_is_of_a_kind_this_test_checks(shown):
    assert kind(shown) != "unknown", f"{shown}: teach tests/e2e/test_documented_commands.py how to check this command"


@pytest.mark.parametrize("shown", [s for s in ALL if kind(s) == "python"], ids=str)
def test_python_snippets_run_where_the_page_says(shown, tmp_path):
    """The Downloads page's check runs in the directory both downloads were saved to."""
    shutil.copy(DATA / "expansion_rates.json", tmp_path)
    shutil.copy(REPO / "schemas" / "expansion_rates.schema.json", tmp_path)
    completed = subprocess.run([sys.executable, *shown.words[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


# --- the inputs the README's examples name ------------------------------------------------------


def broken_data(target: Path) -> None:
    """A copy of data/ where one value is off by one in its last digit (1155.31 for 1155.30)."""
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns("models", ".*"))
    document = json.loads((target / "expansion_rates.json").read_text())
    record = next(r for r in document["models"] if r["base_model"] == "meta-llama/Llama-3.2-1B" and r["pruning_pct"] == 10)
    record["pruned_architecture"]["total_parameters_millions"] = 1155.31
    (target / "expansion_rates.json").write_text(json.dumps(document, indent=2) + "\n")


#: The sizes of the README's tiny models (its inspect examples' Llama and its walk-through's OLMo-2).
README_TINY_SIZES = dict(
    hidden_size=256,
    intermediate_size=1024,
    num_hidden_layers=8,
    num_attention_heads=8,
    num_key_value_heads=4,
    head_dim=32,
    vocab_size=1000,
    tie_word_embeddings=False,
)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> Path:
    """The README's tiny Llama (hidden 256, 8 layers), pruned by optipfair in layers 4-7 and in every layer, and the inspect page's tiny Qwen3-MoE."""
    pytest.importorskip("optipfair")
    import optipfair
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    root = tmp_path_factory.mktemp("readme-checkpoints")
    config = LlamaConfig(**README_TINY_SIZES)
    for name, layers in (("pruned", [4, 5, 6, 7]), ("uniform", None)):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(copy.deepcopy(config))  # optipfair rewrites the config it was given
        optipfair.prune_model(model, pruning_type="MLP_GLU", neuron_selection_method="MAW", pruning_percentage=40, layer_indices=layers, show_progress=False)
        model.save_pretrained(root / name, max_shard_size="2MB")
    shutil.copytree(root / "uniform", root / "broken")
    shard = root / "broken" / "model-00003-of-00015.safetensors"
    header_bytes = int.from_bytes(shard.read_bytes()[:8], "little")
    os.truncate(shard, 8 + header_bytes + 432)  # "the file holds 432 after its header"
    save_tiny_qwen3_moe(root / "moe")
    return root


def save_tiny_qwen3_moe(directory: Path) -> None:
    """The inspect page's mixture of experts: a tiny Qwen3-MoE, dense MLPs in layers 0 and 2, experts in 1 and 3."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen3MoeConfig

    config = Qwen3MoeConfig(
        hidden_size=64,
        intermediate_size=192,
        moe_intermediate_size=32,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        vocab_size=128,
        num_experts=4,
        num_experts_per_tok=2,
        mlp_only_layers=[0, 2],
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(directory)


#: The walk-through's build, which the ``my_olmo2`` fixture runs.
MY_OLMO2_BUILD = ("build", "--models", "me/my-olmo2", "--levels", "0,40", "--save-pruned", "./pruned", "--data", "./my-data")


@pytest.fixture(scope="session")
def my_olmo2(tmp_path_factory) -> Path:
    """The README's "Bring your own model" walk-through, run for real: a tiny OLMo-2 checkpoint saved
    by transformers (``my-olmo2``), added to a scratch registry and built at 0 and 40 % with
    ``--save-pruned ./pruned``, as the README's commands do."""
    pytest.importorskip("optipfair")
    return made_once(tmp_path_factory, "readme-my-olmo2", walk_through_my_olmo2)


def walk_through_my_olmo2(root: Path) -> None:
    """In ``root``: the tiny OLMo-2 checkpoint saved, added and built as the walk-through's commands do."""
    import torch
    from transformers import AutoModelForCausalLM, Olmo2Config

    config = Olmo2Config(**README_TINY_SIZES, eos_token_id=2, pad_token_id=1)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(root / "my-olmo2")
    env = registry_env(root)
    for command in (("add", "./my-olmo2", "--id", "me/my-olmo2", "--family", "OLMo-2"), MY_OLMO2_BUILD):
        completed = run_cli(*command, cwd=root, env=env, timeout=300)
        assert completed.returncode == 0, completed.stdout + completed.stderr


def registry_env(directory: Path) -> dict[str, str]:
    """The environment with ``CATALOGUE_REGISTRY_DIR`` pointing at a fresh copy of data/models/ in ``directory``."""
    shutil.copytree(DATA / "models", directory / "registry")
    return {**os.environ, "CATALOGUE_REGISTRY_DIR": str(directory / "registry")}


def olmo2_config(target: Path) -> None:
    """OLMo-2-0425-1B's config.json, as the registry holds it."""
    entry = json.loads((DATA / "models" / "allenai__OLMo-2-0425-1B.json").read_text())
    target.write_text(json.dumps(entry["config"], indent=2) + "\n")


INPUTS = {"broken.json": lambda target: target.write_text('{"metadata": {,\n'), "config.json": olmo2_config}
#: Inputs made by the ``my_olmo2`` fixture, by the first component of their path (``pruned`` alone is the inspect section's).
MY_OLMO2 = {"my-olmo2", "my-data", "pruned"}


def prepare_inputs(shown: Shown, directory: Path, request: pytest.FixtureRequest) -> None:
    """Make, in ``directory``, every relative path the command names (``./x`` as ``x``, ``x@40`` as ``x``)."""
    args = catalogue_args(shown.words)
    for word in args[1:]:
        if word.startswith(("-", "/")):
            continue
        path = word.removeprefix("./").split("@")[0]
        name = path.split("/")[0]
        if path.startswith("data/sources/") and not (directory / "data" / "sources").exists():
            shutil.copytree(DATA / "sources", directory / "data" / "sources")  # the study's files, as the checkout has them
            continue
        if not name or (directory / name).exists():
            continue
        if name in MY_OLMO2 and (name != "pruned" or "/" in path):
            shutil.copytree(request.getfixturevalue("my_olmo2") / name, directory / name)
        elif "/" in path:
            continue  # a registry id such as meta-llama/Llama-3.2-1B
        elif args[0] == "inspect":
            shutil.copytree(request.getfixturevalue("checkpoints") / name, directory / name)
        elif name == "broken":
            broken_data(directory / name)
        elif name in INPUTS:
            INPUTS[name](directory / name)


def expand(word: str, directory: Path) -> list[str]:
    """A word as the shell passes it: a pattern (``*.json``) as the sorted paths it matches in ``directory``."""
    if "*" not in word:
        return [word]
    return sorted(str(path.relative_to(directory)) for path in directory.glob(word)) or [word]


#: The hub id the pages inspect: served by a fake Hub (tests/fake_hub.py), since the tests reach no network.
HUB_EXAMPLE = "example-org/Llama-3.2-1B-pruned-40"


@pytest.fixture(scope="module")
def example_hub(tmp_path_factory):
    """A fake Hub serving ``HUB_EXAMPLE``: Llama-3.2-1B pruned by 40 % in two bf16 shards, headers real, data a length."""
    from fake_hub import FakeHub
    from safetensors_files import llama_config, llama_tensors, write_checkpoint

    from glu_catalogue.core import formulas
    from glu_catalogue.store.registry import get_model

    base = get_model("meta-llama/Llama-3.2-1B").architecture
    shape = base.model_copy(update={"intermediate_size": formulas.kept_neurons(base.intermediate_size, 40)})
    directory = tmp_path_factory.mktemp("hub-example")
    write_checkpoint(directory, llama_config(shape), llama_tensors(shape), n_shards=2)
    hub = FakeHub().start()
    hub.add_directory(HUB_EXAMPLE, directory, shaped=True)
    yield hub
    hub.stop()


@pytest.mark.parametrize("shown", [s for s in ALL if kind(s) == "run"], ids=str)
def test_cheap_commands_run_as_shown(shown, tmp_path, request):
    prepare_inputs(shown, tmp_path, request)
    args = [found for word in catalogue_args(shown.words) for found in expand(word, tmp_path)]
    env = registry_env(tmp_path)
    if any(word.startswith(HUB_EXAMPLE) for word in args):
        env.update(HF_ENDPOINT=request.getfixturevalue("example_hub").endpoint, HF_HOME=str(tmp_path / "hf-home"))
        env.pop("HF_HUB_OFFLINE", None)  # the suite runs offline; this hub is on the loopback interface
    completed = run_cli(*args, cwd=tmp_path, env=env, timeout=300)
    printed = (completed.stdout + completed.stderr).replace(f"{REPO}/", "")
    assert completed.returncode == expected_exit(shown.output), f"{shown}\n{printed}"
    for line in shown.output:
        if line.startswith(("OK:", "FAILED:", "error:")):
            assert line in printed.splitlines(), f"{shown}: the page shows\n{line}\nthe command printed\n{printed}"

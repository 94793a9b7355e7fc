"""The package's layout rules, as tests: no import cycles, torch only in generate/ and measure/, the verifier apart
from the site, and the README's tree naming every module."""

from __future__ import annotations

import ast
import fnmatch
import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from glu_catalogue.site.layout_page import BEGIN, END, LAYERS, TORCH_PARTS, layout_section

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "glu_catalogue"
HEAVY = ("torch", "transformers", "optipfair")
#: Modules every part may import: they import nothing of the package.
LEAVES = {"_version"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
SUBPACKAGES = sorted(path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file())


def imported_modules(name: str) -> set[str]:
    """The package's modules that module ``name`` imports, at any level (inside functions too), type-only imports excluded."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {candidate for candidate in candidates if candidate in MODULES and candidate != name}
    return found


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports (parsed when a test first asks, not at collection)."""
    return {name: imported_modules(name) for name in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def subpackage(name: str) -> str:
    """The part a module belongs to: its subpackage, or its own name for the top-level modules (``errors``, ``__main__``)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "(api)"


def ancestor(target: str, name: str) -> bool:
    """Importing a package's own ancestors is implicit in importing it, not a dependency."""
    return name.startswith(target + ".")


def test_no_import_cycle_between_modules():
    links = {name: {target for target in targets if not ancestor(target, name)} for name, targets in import_graph().items()}
    assert find_cycle(links) is None


def test_no_import_cycle_between_subpackages():
    graph: dict[str, set[str]] = {}
    for name, targets in import_graph().items():
        parts = {subpackage(target) for target in targets if not ancestor(target, name)}
        graph.setdefault(subpackage(name), set()).update(parts - {subpackage(name)})
    assert find_cycle(graph) is None, graph


@pytest.mark.parametrize(
    ("part", "may_import"),
    [(part, {part, "errors", *allowed}) for part, allowed in LAYERS.items() if allowed is not None],  # the rules the layout page shows
)
def test_each_part_imports_only_what_it_may(part, may_import):
    """The verifier never imports the site; the core imports nothing of the package but itself and errors."""
    for name, targets in import_graph().items():
        if subpackage(name) == part:
            assert {subpackage(target) for target in targets if not ancestor(target, name)} <= may_import | LEAVES, (name, targets)


#: The parts that may import torch at module level, and their modules that must not (the package and its stdlib modules).
TORCH_FREE = {part: (part, *(f".{module}" for module in modules)) for part, modules in TORCH_PARTS.items()}


@pytest.mark.parametrize("part", SUBPACKAGES)
def test_only_generate_and_measure_import_torch(part):
    """Importing every module of a part but generate/ and measure/ leaves torch, transformers and optipfair out of sys.modules.

    generate/ and measure/ may import them, but their packages and their stdlib modules must not.
    """
    names = [name for name in MODULES if subpackage(name) == part]
    if part in TORCH_FREE:
        names = [name for name in names if name.endswith(TORCH_FREE[part])]
    code = "import sys\n" + "".join(f"import {name}\n" for name in names) + f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip() == "[]", (part, completed.stdout)


def readme_tree() -> set[str]:
    """The module paths the Layout tree names (docs/reference/layout.md, between its generated part's markers)."""
    text = (REPO / "docs" / "reference" / "layout.md").read_text(encoding="utf-8")
    block = text.split(BEGIN)[1].split(END)[0].split("```text")[1]
    paths, stack = set(), []
    for line in block.splitlines():
        match = re.match(r"^((?:[│ ]   )*)(├── |└── )?(\S+)", line)
        if not match or not (match[2] or match[3].endswith("/") and not match[1]):
            continue  # a role wrapped onto the next line, or the fence
        depth = len(match[1]) // 4 + bool(match[2])
        name = match[3]
        stack[depth:] = [name.rstrip("/")]
        if name.endswith(".py"):
            paths.add("/".join(stack))
    return paths


def test_the_layout_page_shows_the_package_as_it_is():
    """Its rules and tree are what ``catalogue docs`` generates from the modules now (``catalogue docs --check`` says so too)."""
    text = (REPO / "docs" / "reference" / "layout.md").read_text(encoding="utf-8")
    assert layout_section() in text, "docs/reference/layout.md is stale: run `catalogue docs`"


def test_every_part_has_its_place_on_the_floors():
    assert set(SUBPACKAGES) == set(LAYERS), "a part missing from (or gone but still in) site/layout_page.py's LAYERS"


def test_readme_layout_tree_names_every_module():
    """Each module has its row, but a registry's plug-ins (``readers/*.py``: each outcome reader declares itself) share one."""
    modules = {path.relative_to(REPO).as_posix() for path in MODULES.values()}
    named = readme_tree()
    patterns = {path for path in named if "*" in path}
    plugins = {module for module in modules if any(fnmatch.fnmatch(module, pattern) for pattern in patterns)}
    subpackage_inits = {f"glu_catalogue/{part}/__init__.py" for part in SUBPACKAGES}
    assert modules - subpackage_inits - named - plugins == set(), "modules missing from the Layout tree (docs/reference/layout.md)"
    assert named - patterns - modules == set(), "the Layout tree (docs/reference/layout.md) names modules that do not exist"
    assert all(any(fnmatch.fnmatch(module, pattern) for module in modules) for pattern in patterns), "a wildcard row matches no module"


def test_no_module_below_the_public_api_imports_the_package_root():
    """The root (``glu_catalogue/__init__.py``) is the public API on top of everything: a part that imports a name
    from it (``from .. import __version__``) makes the lowest floors depend on the top one. Leaves such as
    ``_version`` are imported instead."""
    offenders = []
    for name, path in MODULES.items():
        if name in ("glu_catalogue", "glu_catalogue.__main__"):
            continue
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                anchor = package.split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([node.module] if node.module else [])) if node.level else node.module
                if base == "glu_catalogue" and any(f"glu_catalogue.{alias.name}" not in MODULES for alias in node.names):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, offenders


def test_each_command_has_a_module_of_its_own_and_none_is_long():
    """The command line as rooms: one module per command or group under cli/, none over 250 lines."""
    from glu_catalogue.cli.commands import cli

    modules = {command.callback.__module__ for command in cli.commands.values()}
    assert "glu_catalogue.cli.commands" not in modules, "a command is defined in the group's module"
    long = {path.name: n for path in sorted((PACKAGE / "cli").glob("*.py")) if (n := len(path.read_text().splitlines())) > 250}
    assert not long, long


TESTS = REPO / "tests"
#: The folder of the end-to-end tests: the command line as a process, the site in Chromium, Slurm.
END_TO_END = TESTS / "e2e"


def test_the_tests_mirror_the_package():
    """A unit test file sits where its module sits: ``tests/<part>/test_<module>[_<aspect>].py`` beside
    ``glu_catalogue/<part>/<module>.py``; whole-command tests are in ``tests/e2e/``; only tests of the package as
    a whole (its API, imports, this layout) stay at the top."""
    misplaced = []
    for path in sorted(TESTS.rglob("test_*.py")):
        relative = path.relative_to(TESTS)
        if relative.parts[0] == END_TO_END.name:
            continue
        package = PACKAGE.joinpath(*relative.parts[:-1])
        modules = {module.stem for module in package.glob("*.py") if module.stem != "__init__"} if package.is_dir() else set()
        if len(relative.parts) == 1:
            modules = {"api", "imports", "layout"}  # the package as a whole
        subject = path.stem.removeprefix("test_")
        if not any(subject == module or subject.startswith(f"{module}_") for module in modules):
            misplaced.append(str(relative))
    assert not misplaced, f"test files with no module of that name beside them in glu_catalogue/: {misplaced}"


def test_test_modules_import_helpers_not_each_other():
    """What two test folders share lives in a helper module at tests/ (fixtures through ``pytest_plugins``); a test
    module importing another test module works only while both sit in one folder."""
    offenders = [
        f"{path.relative_to(TESTS)}: {node.module}"
        for path in sorted(TESTS.rglob("test_*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("test_") and not (path.parent / f"{node.module}.py").is_file()
    ]
    assert not offenders, offenders


def test_test_file_names_are_unique_across_folders():
    """pytest imports a test file by its name alone (the default import mode), so two folders' ``test_registry.py``
    collide at collection: a second file on a name takes an aspect (``test_registry_declarations.py``)."""
    names: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        names.setdefault(path.name, []).append(str(path.relative_to(TESTS)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}

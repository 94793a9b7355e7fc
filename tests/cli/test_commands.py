"""The command registry (cli/registry.py) and the group assembled from it (cli/commands.py): a command declares
itself once, and the group, the site's Commands section and the documented-command kinds follow."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from glu_catalogue.cli.commands import cli
from glu_catalogue.cli.registry import REGISTRY, Registry, command_modules

REPO = Path(__file__).resolve().parents[2]
CLI_DIR = REPO / "glu_catalogue" / "cli"


def tiny_registry() -> tuple[Registry, click.Group]:
    """A registry of two commands and a group with a subcommand, and the group they assemble into."""
    registry = Registry()

    @registry.register(nav_order=20, examples="parse", run_with=("--check",))
    @click.command()
    @click.option("--check", is_flag=True)
    def late(check: bool) -> None:
        """The second page."""

    @registry.register(nav_order=10, examples="run")
    @click.group()
    def early() -> None:
        """The first page."""

    @registry.register(parent="early", examples="parse")
    @click.command()
    def sub() -> None:
        """On the first page."""

    return registry, click.Group("top")


def test_assembled_group_holds_each_command_and_subcommand():
    registry, group = tiny_registry()
    registry.assemble(group)
    assert sorted(group.commands) == ["early", "late"]
    assert sorted(group.commands["early"].commands) == ["sub"]


def test_entries_and_nav_follow_the_declared_order_subcommands_on_their_group_page():
    registry, _ = tiny_registry()
    assert [entry.path for entry in registry.entries()] == ["early", "late", "early sub"]
    assert registry.nav() == [{"catalogue early": "commands/early.md"}, {"catalogue late": "commands/late.md"}]
    assert registry.entries()[-1].page == "commands/early.md"


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (["early"], "run"),
        (["early", "sub"], "parse"),  # the subcommand's own declaration, not its group's
        (["late"], "parse"),
        (["late", "--check"], "run"),
        (["nonesuch", "x"], "parse"),  # parsed, so the test fails naming the unknown command
    ],
)
def test_example_kind_is_the_declared_one(args, kind):
    registry, _ = tiny_registry()
    assert registry.example_kind(args) == kind


def test_a_declaration_needs_a_page_place_or_a_parent_and_a_group_to_join():
    registry = Registry()
    with pytest.raises(ValueError, match="nav_order"):
        registry.register(examples="run")
    with pytest.raises(ValueError, match="nav_order"):
        registry.register(nav_order=1, parent="x", examples="run")
    registry.register(parent="plain", examples="run")(click.Command("sub"))
    registry.register(nav_order=1, examples="run")(click.Command("plain"))
    with pytest.raises(ValueError, match="no command group"):
        registry.assemble(click.Group("top"))


def test_the_catalogue_group_is_the_registry():
    """Every declared command is in the group where it declared itself, and nothing else is."""
    top = {entry.path for entry in REGISTRY.entries() if entry.parent is None}
    assert set(cli.commands) == top
    for entry in REGISTRY.entries():
        group = cli.commands[entry.parent] if entry.parent else cli
        assert group.commands[entry.command.name] is entry.command
    assert "results export" in {entry.path for entry in REGISTRY.entries()}
    assert {"add", "check", "export", "sources"} <= set(cli.commands["results"].commands)


def module_commands(path: Path) -> set[str]:
    """The functions of a cli module decorated as a top-level click command or group (``@click.command``/``@click.group``)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and any(re.match(r"click\.(command|group)\b", ast.unparse(d)) for d in node.decorator_list):
            found.add(node.name)
    return found


def test_every_click_command_of_cli_is_declared():
    """A command written under cli/ but never declared would be missing from the group, its page and the docs test."""
    declared = {(entry.command.callback.__module__, entry.command.callback.__name__) for entry in REGISTRY.entries()}
    declared.add(("glu_catalogue.cli.commands", "cli"))  # the group itself
    declared.add(("glu_catalogue.cli.sources", "sources"))  # joins `results` where cli/results.py imports it
    written = {(f"glu_catalogue.cli.{path.stem}", name) for path in sorted(CLI_DIR.glob("*.py")) for name in module_commands(path)}
    assert written - declared == set()


def test_discovery_imports_only_the_modules_that_declare():
    """Helpers (output, inspect_text, ...) stay out of start-up; each command module is found."""
    modules = set(command_modules())
    assert {"verify", "plan", "site", "results", "export"} <= modules
    assert not {"output", "inspect_text", "results_document", "measure_options", "commands", "registry"} & modules


def test_each_command_page_exists_and_renders_its_commands():
    """Every page the navigation names exists and its mkdocs-click directive renders the command declared for it."""
    for entry in REGISTRY.entries():
        page = REPO / "docs" / entry.page
        assert page.is_file(), f"`{entry.title}` has no page docs/{entry.page}"
        directive = f":module: {entry.command.callback.__module__}\n    :command: {entry.command.callback.__name__}\n    :prog_name: {entry.title}\n"
        assert directive in page.read_text(encoding="utf-8"), f"docs/{entry.page} lacks the mkdocs-click directive of `{entry.title}`"


def test_mkdocs_nav_leaves_the_commands_to_the_registry():
    """mkdocs.yml names only the Commands page; the hook adds each command's page in the declared order."""
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert "  - Commands: commands/index.md\n" in text
    assert not re.search(r"^\s+- catalogue \w+: commands/", text, re.M), "a command page listed by hand in mkdocs.yml"

"""Where a command declares itself, once: its group, its page's place in the site's navigation, how the docs' examples of it are tested.

A command module under ``cli/`` puts ``@register(...)`` above its click command; the group
(``cli/commands.py``), the site's Commands section (``mkdocs_hooks.py``) and the test of the commands
the documents show (``tests/test_documented_commands.py``) read the registry. Finding the
declarations imports only the modules that hold one (a module's text names ``@register(``), so
helper modules that import more (``inspect_text.py``) stay out of every command's start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import click

#: How a command the README or a page shows is tested: ``run`` for real (cheap, read-only), or ``parse``d by click (costly).
ExampleKind = Literal["run", "parse"]
#: The text that marks a module of ``cli/`` as one that declares commands.
DECLARATION = "@register("


@dataclass(frozen=True)
class Registration:
    """One command of ``catalogue`` as it declared itself."""

    command: click.Command
    #: Where its page stands among the site's command pages (smaller first); None for a subcommand, shown on its group's page.
    nav_order: int | None
    #: How the tests treat an example of it that a document shows.
    examples: ExampleKind
    #: Options that make an example of a ``parse`` command cheap enough to run (``catalogue docs --check``).
    run_with: tuple[str, ...] = ()
    #: The group it joins (``results`` for ``results export``); None: the ``catalogue`` group itself.
    parent: str | None = None

    @property
    def path(self) -> str:
        """Its words after ``catalogue``: ``verify``, ``results export``."""
        return f"{self.parent} {self.command.name}" if self.parent else str(self.command.name)

    @property
    def page(self) -> str:
        """Its page below docs/ (a subcommand's is its group's)."""
        return f"commands/{self.path.split()[0]}.md"

    @property
    def title(self) -> str:
        """Its page's title in the navigation: ``catalogue verify``."""
        return f"catalogue {self.path}"

    def example_kind(self, args: list[str]) -> ExampleKind:
        """How an example with these arguments is tested: ``run`` also where it carries one of ``run_with``."""
        return "run" if self.examples == "run" or any(option in args for option in self.run_with) else "parse"


class Registry:
    """The declared commands, by their path (``verify``, ``results export``)."""

    def __init__(self) -> None:
        self._entries: dict[str, Registration] = {}

    def register(
        self, *, nav_order: int | None = None, examples: ExampleKind, run_with: tuple[str, ...] = (), parent: str | None = None
    ) -> Callable[[click.Command], click.Command]:
        """Declare the click command below it; returns it unchanged. A top-level command needs a ``nav_order``."""
        if (nav_order is None) == (parent is None):
            raise ValueError("a command declares a nav_order, a subcommand a parent (its page is its group's)")

        def declare(command: click.Command) -> click.Command:
            entry = Registration(command, nav_order, examples, tuple(run_with), parent)
            known = self._entries.get(entry.path)
            if known is not None and known.command.callback.__module__ != command.callback.__module__:
                raise ValueError(f"`catalogue {entry.path}` is declared twice: {known.command.callback.__module__} and {command.callback.__module__}")
            self._entries[entry.path] = entry
            return command

        return declare

    def entries(self) -> list[Registration]:
        """Every declaration: the commands in their navigation order, each group's subcommands after them."""
        commands = sorted((entry for entry in self._entries.values() if entry.parent is None), key=lambda entry: (entry.nav_order, entry.path))
        return commands + sorted((entry for entry in self._entries.values() if entry.parent is not None), key=lambda entry: entry.path)

    def assemble(self, group: click.Group) -> None:
        """Add every command to ``group``, each subcommand to its own group."""
        entries = self.entries()
        for entry in entries:
            if entry.parent is None:
                group.add_command(entry.command)
        for entry in entries:
            if entry.parent is not None:
                parent = group.commands.get(entry.parent)
                if not isinstance(parent, click.Group):
                    raise ValueError(f"`catalogue {entry.path}` joins {entry.parent!r}, which is no command group")
                parent.add_command(entry.command)

    def nav(self) -> list[dict[str, str]]:
        """The site's command pages in order, as mkdocs navigation entries (``{"catalogue verify": "commands/verify.md"}``)."""
        return [{entry.title: entry.page} for entry in self.entries() if entry.parent is None]

    def example_kind(self, args: list[str]) -> ExampleKind:
        """How a documented ``catalogue ARGS`` is tested: by the deepest command it names; one no command declares is parsed
        (which fails, naming it)."""
        entry = self._entries.get(" ".join(args[:2])) or self._entries.get(args[0] if args else "")
        return entry.example_kind(args) if entry is not None else "parse"


#: The registry of ``catalogue``'s commands.
REGISTRY = Registry()
register = REGISTRY.register


def command_modules(directory: Path = Path(__file__).parent) -> list[str]:
    """The names of the modules of ``directory`` (``cli/``) that declare commands."""
    return sorted(path.stem for path in directory.glob("*.py") if path.stem != "registry" and DECLARATION in path.read_text(encoding="utf-8"))


def load_commands() -> Registry:
    """The registry, with every command module of ``cli/`` imported (so each has declared its commands)."""
    for name in command_modules():
        importlib.import_module(f"{__package__}.{name}")
    return REGISTRY

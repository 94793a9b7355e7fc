"""``catalogue init [DIR]``: make a directory a catalogue of one's own (a workspace)."""

from __future__ import annotations

from pathlib import Path

import click

from .registry import register


@register(nav_order=10, examples="parse")
@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--title", default=None, help="The site's title. Default: the directory's name.")
def init(directory: Path, title: str | None) -> None:
    """Start a workspace in DIRECTORY (default: here): a catalogue of your own.

    Writes catalogue.toml (its title, which shipped models and outcomes it includes, the site's
    address, the versions that wrote it). Every command run in DIRECTORY or below reads the
    shipped catalogue plus the workspace's files, and writes only there: `catalogue add` into
    data/models/, `build` into data/, `site` into site/. Exit 0: created; 2: DIRECTORY is a
    workspace already or cannot be one.

    \b
    Example:
      catalogue init mystudy && cd mystudy
      catalogue init . --title "Pruned OLMo-2 models"
    """
    from ..pipeline.init import create_workspace
    from ..store.paths import display_path

    workspace = create_workspace(directory, title)
    shipped = "all shipped models" if workspace.shipped_models == "all" else "shipped models: " + str(workspace.shipped_models)
    click.echo(f"workspace {workspace.title!r} in {display_path(workspace.root)} ({workspace.settings_path.name}: {shipped} and their outcomes)")
    click.echo("next: catalogue add CONFIG_OR_CHECKPOINT --id ORG/NAME, catalogue build, catalogue verify, catalogue site")

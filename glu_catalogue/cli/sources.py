"""``catalogue results sources``: where the study's result files the package ships are, for ``results check``."""

from __future__ import annotations

import click


@click.command("sources")
@click.argument("pattern", default="**/*")
def sources(pattern: str) -> None:
    """List the study's result files shipped with the package (the shipped outcomes were read from them), one path a line.

    PATTERN (a glob below the sources folder, default every file) picks some. The paths are
    where the package is installed: pass them to `catalogue results check`.

    \b
    Example:
      catalogue results sources 'study/llama_1b_*'
      catalogue results check $(catalogue results sources 'study/llama_1b_complete_results_latest.json')
    """
    from ..store.paths import shipped_data_dir

    root = shipped_data_dir() / "sources"
    for path in sorted(root.glob(pattern)):
        if path.is_file():
            click.echo(str(path))

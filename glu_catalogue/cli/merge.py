"""``catalogue merge DIR... --data OUT``: the shards of a build (``--shard``) joined into one catalogue."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from .output import directory_option, print_report
from .registry import register


@register(nav_order=150, examples="parse")
@click.command()
@click.argument("directories", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_dir",
    default=None,
    callback=lambda ctx, param, value: directory_option(value, "--data"),
    help="The catalogue to merge into (default: data/); its own records are kept.",
)
@click.option("--wait", is_flag=True, help="Wait for another build or results add writing the same data directory instead of refusing.")
def merge(directories: tuple[Path, ...], data_dir: Path | None, wait: bool) -> None:
    """Merge the data directories of shards into one catalogue: records, CSV, outcomes, measurement files (and site).

    The shards are those of `build`, `evaluate` or `bench --shard`. The files their outcomes were
    read from (under each shard's measurements/) are carried byte for byte, each checked against
    the sha256 its outcomes name. One atomic write, then the checks of `catalogue verify`. A
    record or outcome two directories hold with different values, or two different files under
    one name, is refused, naming both, and nothing is written; merging the same shards again
    changes nothing. Exit 0: merged and checked; 1: the checks found problems; 2: refused.

    \b
    Example:
      catalogue merge shards/0 shards/1 shards/2 --data merged
      catalogue merge evaluated/* --data data
    """
    from ..pipeline.merge import merge as merge_catalogues
    from ..store.paths import write_data_dir

    out = write_data_dir(data_dir)
    result = merge_catalogues(directories, out, wait=wait)
    written = ", ".join(str(path) for path in result.changed_files) or "none (unchanged)"
    click.echo(
        f"merged {len(directories)} directories into {out}: {result.records} records, {result.outcomes} outcomes, "
        f"{result.carried} measurement files; files written: {written}"
    )
    print_report(result.report)
    sys.exit(EXIT_OK if result.report.ok else EXIT_PROBLEMS)

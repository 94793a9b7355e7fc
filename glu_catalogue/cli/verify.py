"""``catalogue verify``: the catalogue's files (or a checkpoint) checked against everything they must satisfy."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from ..store.paths import CATALOGUE_FILE
from .inspect import run_inspection
from .output import CHECKPOINT_HELP, FORMAT_OPTION, RECORD_HELP, Failure, directory_option, echo_json, print_report
from .registry import register


@register(nav_order=40, examples="run")
@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--checkpoint", default=None, metavar="CHECKPOINT", help=CHECKPOINT_HELP)
@click.option("--record", default=None, metavar="MODEL@PCT", help=RECORD_HELP)
@click.option(
    "--data",
    "data_dir",
    default=None,
    metavar="DIR",
    callback=lambda ctx, param, value: directory_option(value, "--data"),
    help="A data directory to check (as a PATH), or with --checkpoint and --record the one whose catalogue holds the record (default: data/).",
)
@FORMAT_OPTION
def verify(paths: tuple[Path, ...], checkpoint: str | None, record: str | None, data_dir: Path | None, output: str) -> None:
    """Recompute every count and ratio in closed form and report every problem.

    PATHS are catalogue JSON files, or directories holding expansion_rates.json and
    expansion_rates_summary.csv (default: the repository's data/). Checks the schema of each
    record, duplicates, the header's counts, every integer against the closed form, every
    rounded value against the exact one, the CSV against the records, and that schemas/ is
    up to date. With --checkpoint DIR, checks that pruned checkpoint instead, from its
    safetensors headers (see `catalogue inspect`); --record compares it with a record of the
    catalogue in --data DIR (or in the one PATH given), default data/. Exit 0: no problems;
    1: problems; 2: unreadable input.

    \b
    Example:
      catalogue verify
      catalogue verify path/to/data --format json
      catalogue verify --checkpoint pruned/ --record meta-llama/Llama-3.2-1B@40
      catalogue verify --checkpoint pruned/me__x/pruned-40pct --record me/x@40 --data my-data
    """
    if paths and data_dir is not None:
        raise Failure("give the data directory once: as PATH or as --data DIR, not both")
    catalogue = data_dir / CATALOGUE_FILE if data_dir is not None else paths[0] if paths else None
    if checkpoint is not None:
        if len(paths) > 1:
            raise Failure("with --checkpoint, one PATH (or --data DIR) names the catalogue --record is read from: give one, not several")
        if catalogue is not None and record is None:
            raise Failure("with --checkpoint, a PATH or --data DIR names the catalogue --record is read from: give --record MODEL@PCT too")
        report = run_inspection(checkpoint, record, catalogue)[0].report
    elif record is not None:
        raise Failure("--record compares a checkpoint with the catalogue: give --checkpoint DIR too")
    else:
        from ..pipeline.check import check

        report = check(paths or ((data_dir,) if data_dir is not None else ()))
    if output == "json":
        echo_json(report.as_dict())
    else:
        print_report(report)
    sys.exit(EXIT_OK if report.ok else EXIT_PROBLEMS)

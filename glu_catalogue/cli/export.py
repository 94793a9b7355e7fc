"""``catalogue results export``: the stored scores in another format (Every Eval Ever, schema 0.3.0)."""

from __future__ import annotations

from pathlib import Path

import click

from .output import directory_option
from .registry import register
from .results import DATA


@register(parent="results", examples="run")
@click.command("export")
@click.option("--format", "export_format", type=click.Choice(["eee"]), required=True, help="eee: Every Eval Ever records (schema 0.3.0).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    callback=lambda ctx, param, value: directory_option(value, "--out"),
    help="The directory to write into (made if missing).",
)
@DATA
def export(export_format: str, out_dir: Path, data_dir: Path | None) -> None:
    """Write the stored scores as Every Eval Ever records: one per (record, source file), each validated first.

    Each record's model_info names the pruned model (MODEL@PCT, or the base model's hub id at 0 %)
    and carries the catalogue record: ratio and widths before and after, parameters, method,
    kept-neuron digest. `catalogue results check` reads such a file back to the same outcomes.

    \b
    Example:
      catalogue results export --format eee --out eee-records/
    """
    from ..pipeline.export import export_eee

    exported = export_eee(out_dir, data_dir)
    click.echo(f"{len(exported.files)} Every Eval Ever records ({exported.scores} scores) in {out_dir}, each valid against schema 0.3.0")
    click.echo(
        f"files written: {len(exported.changed)} (the others unchanged)" if exported.changed or not exported.files else "files written: none (unchanged)"
    )

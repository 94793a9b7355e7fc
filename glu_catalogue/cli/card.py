"""``catalogue card``: a pruned checkpoint's Hugging Face model card, with the record's stored scores."""

from __future__ import annotations

from pathlib import Path

import click

from .output import directory_option
from .registry import register
from .results import DATA


@register(nav_order=100, examples="parse")
@click.command("card")
@click.argument("record", metavar="MODEL@PCT")
@click.option(
    "--checkpoint",
    "checkpoint",
    required=True,
    callback=lambda ctx, param, value: directory_option(value, "--checkpoint"),
    help="The record's pruned checkpoint directory (build --save-pruned wrote it).",
)
@DATA
def card(record: str, checkpoint: Path, data_dir: Path | None) -> None:
    """(Re)write README.md and .eval_results/ of a pruned checkpoint: the record, its stored scores, how to reproduce it.

    The checkpoint is inspected against the record first (headers only). README.md's metadata names
    base_model and tags width-pruned and optipfair; the scores are in model-index and in
    .eval_results/<task>.yaml, so the Hub shows them once the folder is uploaded. No network.

    \b
    Example:
      catalogue card meta-llama/Llama-3.2-1B@40 --checkpoint pruned/meta-llama__Llama-3.2-1B/pruned-40pct
    """
    from ..pipeline.card import write_card

    written = write_card(record, checkpoint, data_dir)
    click.echo(f"{written.directory}: model card of {record} with {written.scores} stored scores")
    click.echo(f"files: {', '.join(written.files)}; written: {len(written.changed)} (the others unchanged)")

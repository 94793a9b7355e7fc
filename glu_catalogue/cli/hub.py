"""``catalogue hub``: the Hugging Face Hub's models, read from their headers (``hub scan``: a base model's derivatives)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.text import human_size
from ..errors import EXIT_OK
from .output import FORMAT_OPTION, directory_option, echo_json
from .registry import register
from .results import DATA


@register(nav_order=110, examples="parse")
@click.group()
def hub() -> None:
    """The Hugging Face Hub's models, read from config.json and safetensors headers (never the weights)."""


@hub.command("scan")
@click.option("--base-model", required=True, metavar="ORG/NAME", help="The model whose derivatives the Hub lists (base_model:ORG/NAME).")
@click.option("--jobs", default=4, show_default=True, help="Repositories read at once.")
@click.option(
    "--state",
    "state_file",
    default=None,
    callback=lambda ctx, param, value: directory_option(value, "--state"),
    help="The scan's state file, which a killed scan resumes from [default: hub-scan-ORG__NAME.jsonl here].",
)
@click.option("--add", is_flag=True, help="Add each readable repository the registry lacks to it (as `catalogue add` does).")
@DATA
@FORMAT_OPTION
def scan(base_model: str, jobs: int, state_file: Path | None, add: bool, data_dir: Path | None, output: str) -> None:
    """List the Hub's derivatives of a base model and say what each is: GLU widths per layer, uniform or not,
    expansion ratio, parameters, the catalogue records of its shape, or why it cannot be read.

    Resumable: a killed scan run again reads only what it had not finished (the state file). Each
    request has a deadline (CATALOGUE_HUB_DEADLINE_S); 429 answers are waited out as Retry-After asks.

    \b
    Example:
      catalogue hub scan --base-model meta-llama/Llama-3.2-1B
      catalogue hub scan --base-model meta-llama/Llama-3.2-1B --format json --add
    """
    from ..pipeline.hub_scan import scan_hub

    result = scan_hub(base_model, jobs=jobs, state_file=state_file, add=add, data_dir=data_dir)
    if output == "json":
        echo_json(
            {
                "base_model": result.base_model,
                "endpoint": result.endpoint,
                "listed": result.listed,
                "resumed": result.resumed,
                "bytes_read": result.bytes_read,
                "seconds": round(result.seconds, 3),
                "rate_limited": result.rate_limited,
                "state_file": str(result.state_file),
                "repositories": [scanned.as_dict() for scanned in result.repositories],
                **({"added": result.added, "not_added": result.not_added} if add else {}),
            }
        )
    else:
        _print_table(result, add)
    sys.exit(EXIT_OK)


def _print_table(result, add: bool) -> None:
    for scanned in result.repositories:
        if scanned.readable:
            widths = _runs(scanned.layer_widths)
            ratio = (
                f"{scanned.expansion_ratio:.2f}x"
                if scanned.expansion_ratio is not None
                else f"{scanned.expansion_ratio_min:.2f}x-{scanned.expansion_ratio_max:.2f}x"
            )
            matches = ", ".join(scanned.matching_records) or "no catalogue record of this shape"
            click.echo(f"{scanned.repo_id}  {scanned.kind}  {ratio}  {scanned.total_parameters:,} parameters  widths {widths}  -> {matches}")
        else:
            click.echo(f"{scanned.repo_id}  {scanned.kind}: {scanned.reason}")
    kinds: dict[str, int] = {}
    for scanned in result.repositories:
        kinds[scanned.kind] = kinds.get(scanned.kind, 0) + 1
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    click.echo(
        f"{result.listed} models derive from {result.base_model} ({counts}); {result.scanned_this_run} read now, {result.resumed} from {result.state_file}"
    )
    waited = f"; waited {result.rate_limited['seconds']:g} s on {result.rate_limited['count']:g} answers 429" if result.rate_limited.get("count") else ""
    click.echo(f"read {human_size(result.bytes_read)} ({result.bytes_read:,} bytes: listing, configs, headers; no weights) in {result.seconds:.1f} s{waited}")
    if add:
        click.echo(f"added to the registry: {', '.join(result.added) or 'none'}")
        for repo_id, reason in sorted(result.not_added.items()):
            click.echo(f"not added: {repo_id}: {reason}")


def _runs(widths: list) -> str:
    """Layer widths as runs: ``0-15: 4916`` (one width), ``0-7: 4916, 8-15: 8192``."""
    runs: list[list] = []
    for index, width in enumerate(widths):
        if runs and runs[-1][2] == width:
            runs[-1][1] = index
        else:
            runs.append([index, index, width])
    return ", ".join(f"{first}-{last}: {width}" if first != last else f"{first}: {width}" for first, last, width in runs)

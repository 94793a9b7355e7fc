"""``catalogue inspect``: a checkpoint's architecture and counts from its safetensors headers, against a record."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from ..store.paths import CATALOGUE_FILE
from .output import DATA_HELP, FORMAT_OPTION, Failure, directory_option, echo_json, print_report


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--record", default=None, metavar="MODEL@PCT",
    help="Also compare with this catalogue record (e.g. meta-llama/Llama-3.2-1B@40); MODEL may be a config.json, "
    "checkpoint or hub id outside the registry (its record is computed).",
)
@click.option("--data", "data_dir", default=None, metavar="DIR", callback=lambda ctx, param, value: directory_option(value, "--data"), help=DATA_HELP)
@FORMAT_OPTION
def inspect(directory: Path, record: str | None, data_dir: Path | None, output: str) -> None:
    """Inspect a (pruned) checkpoint from its safetensors headers, without loading weights or torch.

    DIRECTORY holds config.json and one or many *.safetensors files, with or without
    model.safetensors.index.json. Reports the config's architecture, each layer's MLP width
    as the weights hold it, the expansion ratio per layer, whether the pruning is uniform, and
    the total parameters counted from the tensor shapes (tied embeddings once). Checks the
    config against the weights, gate/up/down within each layer, and the total against the
    closed form. Exit 0: no problems; 1: problems; 2: unreadable checkpoint.

    \b
    Example:
      catalogue inspect pruned/
      catalogue inspect pruned/ --format json
      catalogue inspect pruned/me__x/pruned-40pct --record me/x@40 --data my-data
    """
    if data_dir is not None and record is None:
        raise Failure("--data names the catalogue --record is read from: give --record MODEL@PCT too")
    inspection = run_inspection(directory, record, data_dir / CATALOGUE_FILE if data_dir is not None else None)
    if output == "json":
        echo_json(inspection.as_dict())
    else:
        print_inspection(inspection)
        print_report(inspection.report)
    sys.exit(EXIT_OK if inspection.ok else EXIT_PROBLEMS)


def run_inspection(directory: Path, record: str | None, catalogue: Path | None = None):
    """``checkpoints.inspect_checkpoint`` of ``directory``, optionally against ``record`` (``MODEL@PCT``;
    MODEL a registry id or a model ``catalogue`` holds, read from that catalogue JSON or data directory
    (default data/), or a config.json, checkpoint or hub id whose record is computed)."""
    from ..checkpoints.inspect import inspect_checkpoint
    from ..pipeline.models import record_for_label

    expected = record_for_label(record, catalogue) if record is not None else None
    return inspect_checkpoint(directory, expected, catalogue)


def print_inspection(inspection) -> None:
    """The architecture, the MLP widths by runs of layers, and the totals, for people."""
    from ..core.formulas import expansion_ratio
    from ..core.text import human_size
    from ..core.text import ratio as ratio_text

    shape, checkpoint = inspection.shape, inspection.checkpoint
    n_files = len(checkpoint.headers)
    dtypes = ", ".join(inspection.dtypes)
    click.echo(
        f"checkpoint    {checkpoint.directory}  ({n_files} file{'s' if n_files != 1 else ''}, "
        f"{human_size(inspection.file_bytes, decimals=2)}, {len(checkpoint.tensors)} tensors, {dtypes})"
    )
    click.echo(f"architecture  {inspection.facts.transformers_class}: {shape.describe()}")
    config_ratio = expansion_ratio(shape.intermediate_size, shape.hidden_size)
    click.echo(f"config        intermediate_size {shape.intermediate_size} ({ratio_text(config_ratio)})")
    click.echo(f"MLP widths    from the weights, {'uniform' if inspection.uniform else 'NOT uniform'}:")
    for first, last, width in inspection.width_runs():
        where = f"layer {first}" if first == last else f"layers {first}-{last}"
        click.echo(f"  {where}: {width} ({ratio_text(expansion_ratio(width, inspection.weights_hidden_size))})")
    closed = inspection.closed_form_total_parameters
    compared = "not derivable" if closed is None else f"{closed:,}"
    click.echo(
        f"parameters    {inspection.total_parameters:,} counted from the tensor shapes "
        f"(closed form of the config with these widths: {compared})"
    )
    if inspection.record_label:
        click.echo(f"record        {inspection.record_label}")
    for note in inspection.notes:
        click.echo(f"note          {note}")

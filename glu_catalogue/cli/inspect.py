"""``catalogue inspect``: a checkpoint's architecture and counts from its safetensors headers, against a record."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from ..store.paths import CATALOGUE_FILE
from .output import DATA_HELP, FORMAT_OPTION, Failure, directory_option, echo_json, print_report
from .registry import register


@register(nav_order=70, examples="run")
@click.command()
@click.argument("checkpoint", metavar="CHECKPOINT")
@click.option(
    "--record",
    default=None,
    metavar="MODEL@PCT",
    help="Also compare with this catalogue record (e.g. meta-llama/Llama-3.2-1B@40); MODEL may be a config.json, "
    "checkpoint or hub id outside the registry (its record is computed).",
)
@click.option("--data", "data_dir", default=None, metavar="DIR", callback=lambda ctx, param, value: directory_option(value, "--data"), help=DATA_HELP)
@FORMAT_OPTION
def inspect(checkpoint: str, record: str | None, data_dir: Path | None, output: str) -> None:
    """Inspect a (pruned) checkpoint from its safetensors headers, without loading weights or torch.

    CHECKPOINT is a directory holding config.json and one or many *.safetensors files, with or
    without model.safetensors.index.json, or a hub id org/name[@revision]: then config.json, the
    index and each file's header are read over the network (range requests), never the weights,
    and the bytes read are reported; the local Hugging Face cache and HF_HUB_OFFLINE=1 work.
    Reports the config's architecture, each layer's MLP width as the weights hold it (a mixture
    of experts: each layer's experts and their width, total and active parameters), the
    expansion ratio per layer, whether the pruning is uniform, the total parameters counted from
    the tensor shapes (tied embeddings once), and the catalogue records whose architecture the
    checkpoint has. Checks the config against the weights, gate/up/down within each layer, and
    the total against the closed form. Exit 0: no problems; 1: problems; 2: unreadable
    checkpoint, or a hub id that is missing, gated, not safetensors or cannot be reached.

    \b
    Example:
      catalogue inspect pruned/
      catalogue inspect pruned/ --format json
      catalogue inspect me/llama-pruned@main --record meta-llama/Llama-3.2-1B@40
      catalogue inspect pruned/me__x/pruned-40pct --record me/x@40 --data my-data
    """
    if data_dir is not None and record is None:
        raise Failure("--data names the catalogue --record is read from: give --record MODEL@PCT too")
    inspection, repository = run_inspection(checkpoint, record, data_dir / CATALOGUE_FILE if data_dir is not None else None)
    matches = matching_labels(inspection, data_dir)
    if output == "json":
        document = inspection.as_dict()
        document["matching_records"] = matches
        if repository is not None:
            document["hub"] = repository.as_dict()
        echo_json(document)
    else:
        if repository is not None:
            print_hub(repository, len(inspection.checkpoint.headers))
        print_inspection(inspection)
        print_matches(matches)
        print_report(inspection.report)
    sys.exit(EXIT_OK if inspection.ok else EXIT_PROBLEMS)


def run_inspection(checkpoint: str | Path, record: str | None, catalogue: Path | None = None):
    """``checkpoints.inspect_checkpoint`` of ``checkpoint`` (a directory, or a hub id read from its headers), and the
    hub repository it was read from (None for a directory); optionally against ``record`` (``MODEL@PCT``;
    MODEL a registry id or a model ``catalogue`` holds, read from that catalogue JSON or data directory
    (default data/), or a config.json, checkpoint or hub id whose record is computed)."""
    from ..checkpoints.hub_checkpoint import open_checkpoint
    from ..checkpoints.inspect import inspect_checkpoint
    from ..pipeline.models import record_for_label

    expected = record_for_label(record, catalogue) if record is not None else None
    opened, repository = open_checkpoint(checkpoint)
    return inspect_checkpoint(opened, expected, catalogue), repository


def matching_labels(inspection, data_dir: Path | None) -> list[str] | None:
    """The catalogue records (of ``data_dir``, default data/) whose pruned architecture and total the checkpoint has;
    None for a checkpoint no record could be shaped like (layers of different widths, a mixture of experts)."""
    from ..checkpoints.matching import comparable, matching_records

    if not comparable(inspection):
        return None
    return [f"{record.base_model}@{record.pruning_pct}" for record in matching_records(inspection, data_dir)]


def print_hub(repository, n_files: int) -> None:
    """Where a hub checkpoint was read, at which commit, and how many bytes that took."""
    from ..core.text import human_size

    asked = f"@{repository.requested_revision}" if repository.requested_revision else ""
    where = f"the local cache ({repository.offline_reason})" if repository.offline_reason else repository.endpoint
    click.echo(
        f"hub           {repository.repo_id}{asked} -> commit {repository.commit}, from {where}: read "
        f"{human_size(repository.bytes_read, decimals=1)} ({repository.bytes_read:,} bytes: config.json, index, "
        f"{n_files} header{'s' if n_files != 1 else ''}; no weights)"
    )


def print_matches(labels: list[str] | None) -> None:
    """The catalogue records the checkpoint's architecture equals, or that none does (nothing where none could)."""
    if labels is None:
        return
    if labels:
        click.echo(f"matches       {', '.join(labels)} (architecture and parameter count equal; the weights are not compared)")
    else:
        click.echo("matches       no catalogue record has this architecture and parameter count")


def print_inspection(inspection) -> None:
    """The architecture, the MLP widths by runs of layers (a mixture of experts: each layer's experts), and the totals, for people."""
    from ..core.formulas import expansion_ratio
    from ..core.text import human_size
    from ..core.text import ratio as ratio_text
    from .inspect_text import expert_lines

    architecture, checkpoint = inspection.architecture, inspection.checkpoint
    n_files = len(checkpoint.headers)
    dtypes = ", ".join(inspection.dtypes)
    click.echo(
        f"checkpoint    {checkpoint.directory}  ({n_files} file{'s' if n_files != 1 else ''}, "
        f"{human_size(inspection.file_bytes, decimals=2)}, {len(checkpoint.tensors)} tensors, {dtypes})"
    )
    click.echo(f"architecture  {inspection.facts.transformers_class}: {architecture.describe()}")
    config_ratio = expansion_ratio(architecture.intermediate_size, architecture.hidden_size)
    click.echo(f"config        intermediate_size {architecture.intermediate_size} ({ratio_text(config_ratio)})")
    if inspection.moe:
        for line in expert_lines(inspection):
            click.echo(line)
    else:
        click.echo(f"MLP widths    from the weights, {'uniform' if inspection.uniform else 'NOT uniform'}:")
        for first, last, width in inspection.width_runs():
            where = f"layer {first}" if first == last else f"layers {first}-{last}"
            click.echo(f"  {where}: {width} ({ratio_text(expansion_ratio(width, inspection.weights_hidden_size))})")
    closed = inspection.closed_form_total_parameters
    compared = "not derivable" if closed is None else f"{closed:,}"
    click.echo(f"parameters    {inspection.total_parameters:,} counted from the tensor shapes (closed form of the config with these widths: {compared})")
    if inspection.record_label:
        click.echo(f"record        {inspection.record_label}")
    for note in inspection.notes:
        click.echo(f"note          {note}")

"""The ``catalogue`` command line: each command parses, calls one library function, formats, exits.

Exit codes (every command): 0 = done, nothing wrong; 1 = problems found (or a model failed);
2 = input cannot be read or the command line is wrong (one line on stderr, no traceback).
Heavy imports (pandas, pandera, torch) happen inside the commands that need them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE = 0, 1, 2

FORMAT_OPTION = click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table (for people) or json (for programs).",
)


class Failure(click.ClickException):
    """A one-line error on stderr (``error: ...``) with the documented exit code."""

    def __init__(self, message: str, code: int = EXIT_UNREADABLE):
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:  # noqa: D102 - click's hook
        click.echo(f"error: {self.format_message()}", err=True)


def console():
    """A rich console, wide enough for tables in CI logs where there is no terminal to measure."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200, highlight=False, soft_wrap=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="catalogue")
def cli() -> None:
    """Produce, verify and publish the architecture data of width-pruned GLU language models.

    The expansion ratio is intermediate_size / hidden_size as a factor (Llama-3.2-1B: 4.0x).
    Exit codes: 0 = nothing wrong, 1 = problems found, 2 = unreadable input or bad usage.
    """


CHECKPOINT_HELP = "A checkpoint directory (config.json + *.safetensors) to check instead of catalogue files."
RECORD_HELP = "With a checkpoint: also compare it with this catalogue record, MODEL@PCT (e.g. meta-llama/Llama-3.2-1B@40)."


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None, help=CHECKPOINT_HELP)
@click.option("--record", default=None, metavar="MODEL@PCT", help=RECORD_HELP)
@FORMAT_OPTION
def verify(paths: tuple[Path, ...], checkpoint: Path | None, record: str | None, output: str) -> None:
    """Recompute every count and ratio in closed form and report every problem.

    PATHS are catalogue JSON files, or directories holding expansion_rates.json and
    expansion_rates_summary.csv (default: the repository's data/). Checks the schema of each
    record, duplicates, the header's counts, every integer against the closed form, every
    rounded value against the exact one, the CSV against the records, and that schemas/ is
    up to date. With --checkpoint DIR, checks that pruned checkpoint instead, from its
    safetensors headers (see `catalogue inspect`). Exit 0: no problems; 1: problems;
    2: unreadable input.

    \b
    Example:
      catalogue verify
      catalogue verify path/to/data --format json
      catalogue verify --checkpoint pruned/ --record meta-llama/Llama-3.2-1B@40
    """
    if checkpoint is not None:
        if paths:
            raise Failure("give either PATHS or --checkpoint, not both")
        report = run_inspection(checkpoint, record).report
    elif record is not None:
        raise Failure("--record compares a checkpoint with the catalogue: give --checkpoint DIR too")
    else:
        from .registry import RegistryError
        from .store import ReadError
        from .verify import verify as run_verify

        try:
            report = run_verify(paths)
        except (ReadError, RegistryError) as error:
            raise Failure(str(error)) from None
    if output == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        print_report(report)
    sys.exit(EXIT_OK if report.ok else EXIT_PROBLEMS)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--record", default=None, metavar="MODEL@PCT", help="Also compare with this catalogue record (e.g. meta-llama/Llama-3.2-1B@40).")
@FORMAT_OPTION
def inspect(directory: Path, record: str | None, output: str) -> None:
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
    """
    inspection = run_inspection(directory, record)
    if output == "json":
        click.echo(json.dumps(inspection.as_dict(), indent=2))
    else:
        print_inspection(inspection)
        print_report(inspection.report)
    sys.exit(EXIT_OK if inspection.ok else EXIT_PROBLEMS)


def run_inspection(directory: Path, record: str | None):
    """``checkpoints.inspect_checkpoint``, its errors turned into one-line failures (exit 2)."""
    from .checkpoints import RecordNotFound, inspect_checkpoint
    from .store import ReadError

    try:
        return inspect_checkpoint(directory, record)
    except (ReadError, RecordNotFound) as error:
        raise Failure(str(error)) from None


def print_inspection(inspection) -> None:
    """The architecture, the MLP widths by runs of layers, and the totals, for people."""
    shape, checkpoint = inspection.shape, inspection.checkpoint
    n_files = len(checkpoint.headers)
    dtypes = ", ".join(inspection.dtypes)
    click.echo(
        f"checkpoint    {checkpoint.directory}  ({n_files} file{'s' if n_files != 1 else ''}, "
        f"{human_bytes(inspection.file_bytes)}, {len(checkpoint.tensors)} tensors, {dtypes})"
    )
    extras = [name for name in ("qkv_bias", "o_proj_bias", "mlp_bias", "qk_norm", "fused_qkv", "fused_gate_up") if getattr(shape, name)]
    click.echo(
        f"architecture  {inspection.facts.transformers_class}: hidden {shape.hidden_size}, {shape.num_hidden_layers} layers, "
        f"{shape.num_attention_heads} heads / {shape.num_key_value_heads} kv heads x {shape.head_dim}, vocab {shape.vocab_size}, "
        f"{'tied' if shape.tie_word_embeddings else 'untied'} embeddings, {shape.norms_per_layer} norms per layer"
        + (f", {', '.join(extras)}" if extras else "")
    )
    config_ratio = shape.intermediate_size / shape.hidden_size
    click.echo(f"config        intermediate_size {shape.intermediate_size} ({config_ratio:.2f}x)")
    click.echo(f"MLP widths    from the weights, {'uniform' if inspection.uniform else 'NOT uniform'}:")
    for first, last, width in inspection.width_runs():
        where = f"layer {first}" if first == last else f"layers {first}-{last}"
        click.echo(f"  {where}: {width} ({width / inspection.weights_hidden_size:.2f}x)")
    click.echo(
        f"parameters    {inspection.total_parameters:,} counted from the tensor shapes "
        f"(closed form of the config with these widths: {inspection.closed_form_total_parameters:,})"
    )
    if inspection.record_label:
        click.echo(f"record        {inspection.record_label}")


def human_bytes(n_bytes: int) -> str:
    """``6425499648`` -> ``6.43 GB`` (decimal units)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= size:
            return f"{n_bytes / size:.2f} {unit}"
    return f"{n_bytes} B"


def print_report(report) -> None:
    """The problem table and a one-line summary."""
    checked = report.checked
    scope = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in checked.items())
    if report.ok:
        click.echo(f"OK: no problems ({scope} checked)")
        return
    from rich.table import Table

    out = console()
    table = Table(header_style="bold")
    for column in ("file", "record", "field", "expected", "found", "message"):
        table.add_column(column, overflow="fold")
    for problem in report.problems:
        table.add_row(problem.file, problem.record, problem.field, problem.expected, problem.found, problem.message)
    out.print(table)
    count = len(report.problems)
    out.print(f"FAILED: {count} problem{'s' if count != 1 else ''} ({scope} checked)")


@cli.command()
@click.option("--check", is_flag=True, help="Only report stale files; exit 1 if any.")
def schemas(check: bool) -> None:
    """Regenerate schemas/ (JSON Schema of the catalogue, Table Schema of the CSV) from the code.

    \b
    Example:
      catalogue schemas --check
    """
    from .paths import schemas_dir
    from .schemas import rendered_schemas, stale_schemas
    from .store import write_files

    directory = schemas_dir()
    if check:
        stale, _ = stale_schemas(directory)
        for name, reason in stale:
            click.echo(f"{directory / name}: {reason}")
        sys.exit(EXIT_PROBLEMS if stale else EXIT_OK)
    rendered = rendered_schemas()
    changed = write_files({directory / name: text for name, text in rendered.items()})
    click.echo(f"{len(changed)} of {len(rendered)} schema files rewritten in {directory}")


@cli.command()
@click.option("--models", "models", default=None, help="Registry ids, comma-separated. Default: the study's four Llama-3.2 models.")
@click.option("--levels", default="0,10,20,30,40,50,60", show_default=True, help="Pruning percentages, comma-separated.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False), default=None, help="Write here instead of data/.")
@click.option("--closed-form", is_flag=True, help="Compute the records by formula (no torch); provenance says closed-form.")
def build(models: str | None, levels: str, data_dir: Path | None, closed_form: bool) -> None:
    """Regenerate the catalogue in data/ (JSON, CSV, schemas), then verify it.

    \b
    Example:
      catalogue build --closed-form --models meta-llama/Llama-3.2-1B --levels 0,40
    """
    from .build import STUDY_MODELS, BuildError, build_closed_form, parse_levels
    from .paths import default_data_dir
    from .registry import RegistryError, UnknownModelError
    from .verify import verify as run_verify

    if not closed_form:
        raise Failure("only --closed-form is available in this version", EXIT_UNREADABLE)
    target = data_dir or default_data_dir()
    try:
        model_ids = tuple(part.strip() for part in models.split(",") if part.strip()) if models else STUDY_MODELS
        result = build_closed_form(model_ids, parse_levels(levels), target)
        report = run_verify([target])
    except (BuildError, RegistryError, UnknownModelError) as error:
        raise Failure(str(error)) from None
    click.echo(f"{len(result.records)} closed-form records written to {target} ({len(result.changed_files)} files changed)")
    print_report(report)
    sys.exit(EXIT_OK if report.ok else EXIT_PROBLEMS)


def main() -> None:
    """Console-script entry point."""
    # pandera imports hypothesis (0.4 s) for data synthesis whenever it is installed; no
    # command needs that, and `catalogue verify` has a start-up budget. A None entry makes the
    # import fail, which pandera handles.
    sys.modules.setdefault("hypothesis", None)
    cli(prog_name="catalogue")

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
from click.exceptions import NoArgsIsHelpError

from ..errors import EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE, CatalogueError
from .output import FORMAT_OPTION, MAX_TABLE_PROBLEMS, console, directory_option, echo_json, one_line, plain, print_report
from ..store.paths import CATALOGUE_FILE

class Failure(click.ClickException):
    """A one-line error on stderr (``error: ...``) with the documented exit code."""

    def __init__(self, message: str, code: int = EXIT_UNUSABLE):
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:  # noqa: D102 - click's hook
        click.echo(f"error: {self.format_message()}", err=True)


class CatalogueGroup(click.Group):
    """The command group; the one place where errors become one line on stderr and an exit code.

    The catalogue's own errors keep their exit code; click's usage errors (an unknown option, a
    bad value, a missing argument) become ``error: ...`` and exit 2, without click's usage lines.
    """

    def make_context(self, info_name, args, parent=None, **extra):  # noqa: D102 - click's hook
        try:
            return super().make_context(info_name, args, parent, **extra)
        except NoArgsIsHelpError:
            raise  # `catalogue` alone prints the help
        except click.UsageError as error:
            raise usage_failure(error) from None

    def invoke(self, ctx: click.Context):  # noqa: D102 - click's hook
        try:
            return super().invoke(ctx)
        except CatalogueError as error:
            raise Failure(one_line(str(error)), error.exit_code) from None
        except click.UsageError as error:
            raise usage_failure(error) from None


def usage_failure(error: click.UsageError) -> Failure:
    """click's usage error as one line naming the command, exit 2."""
    command = error.ctx.command_path if error.ctx is not None else "catalogue"
    return Failure(f"{one_line(error.format_message())} (`{command} --help` shows the usage)", EXIT_UNUSABLE)


@click.group(cls=CatalogueGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="glu-catalogue")
def cli() -> None:
    """Produce, verify and publish the architecture data of width-pruned GLU language models.

    The expansion ratio is intermediate_size / hidden_size as a factor (Llama-3.2-1B: 4.0x).
    Exit codes: 0 = nothing wrong, 1 = problems found, 2 = unreadable input or bad usage.
    """


CHECKPOINT_HELP = "A checkpoint directory (config.json + *.safetensors) to check instead of catalogue files."
RECORD_HELP = (
    "With a checkpoint: also compare it with this catalogue record, MODEL@PCT (e.g. meta-llama/Llama-3.2-1B@40); "
    "MODEL may be a config.json, checkpoint or hub id outside the registry (its record is computed)."
)
DATA_HELP = (
    "The data directory whose catalogue --record's record is read from, as `catalogue build --data DIR` wrote it "
    "(default: data/)."
)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None, help=CHECKPOINT_HELP)
@click.option("--record", default=None, metavar="MODEL@PCT", help=RECORD_HELP)
@click.option(
    "--data", "data_dir", default=None, metavar="DIR", callback=lambda ctx, param, value: directory_option(value, "--data"),
    help="A data directory to check (as a PATH), or with --checkpoint and --record the one whose catalogue holds the record "
    "(default: data/).",
)
@FORMAT_OPTION
def verify(paths: tuple[Path, ...], checkpoint: Path | None, record: str | None, data_dir: Path | None, output: str) -> None:
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
        report = run_inspection(checkpoint, record, catalogue).report
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


@cli.command()
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


@cli.command()
@click.option("--check", is_flag=True, help="Only report stale files; exit 1 if any.")
def schemas(check: bool) -> None:
    """Regenerate schemas/ (JSON Schema of the catalogue, Table Schema of the CSV) from the code.

    \b
    Example:
      catalogue schemas --check
    """
    from ..store.paths import schemas_dir
    from ..store.schemas import rendered_schemas, stale_schemas
    from ..store.writing import recover, write_files

    directory = schemas_dir()
    recover(directory)
    if check:
        stale, _ = stale_schemas(directory)
        for name, reason in stale:
            click.echo(f"{directory / name}: {reason}")
        sys.exit(EXIT_PROBLEMS if stale else EXIT_OK)
    rendered = rendered_schemas()
    changed = write_files({directory / name: text for name, text in rendered.items()}, journal_dir=directory)
    click.echo(f"{len(changed)} of {len(rendered)} schema files rewritten in {directory}")


@cli.command()
@click.option("--check", is_flag=True, help="Only report stale pages and charts; exit 1 if any.")
def docs(check: bool) -> None:
    """Regenerate the site's pages and charts in docs/ from data/ and schemas/.

    Writes one page per model family, the cross-model equivalence table, the key observations,
    the charts (light and dark), the schema reference, the verification status, downloads and
    reproduce pages; deletes generated pages the data no longer has. `catalogue build` does
    the same; `catalogue verify` fails while they are stale. Hand-written files are not touched.

    \b
    Example:
      catalogue docs && mkdocs build --strict
      catalogue docs --check
    """
    from ..pipeline.check import docs_report
    from ..pipeline.publish import write_docs
    from ..store.paths import default_data_dir, site_docs_dir
    from ..store.registry import load_registry

    data_dir = default_data_dir()
    docs_dir = site_docs_dir(data_dir)
    if docs_dir is None:
        raise Failure(f"no docs/ beside {data_dir}: the site is generated in a source checkout")
    try:
        registry = load_registry()
        if check:
            report = docs_report(data_dir, docs_dir, registry)
            for problem in report.problems:
                click.echo(f"{problem.file}: {problem.field}: {problem.message}")
            sys.exit(EXIT_OK if report.ok else EXIT_PROBLEMS)
        changed, deleted = write_docs(data_dir, docs_dir, registry)
    except OSError as error:
        raise Failure(f"{error.filename}: {error.strerror}") from None
    except ImportError as error:
        raise Failure(f"drawing the charts needs matplotlib ({error}): pip install -e '.[docs]'") from None
    click.echo(f"{len(changed)} files rewritten, {len(deleted)} deleted in {docs_dir}")


@cli.command()
@click.option(
    "--models", "models", default=None, metavar="MODEL[,MODEL...]",
    help="Registry ids (see `catalogue models`), config.json paths, checkpoint directories or hub ids (org/name[@revision]), "
    "comma-separated. Default: every registry model.",
)
@click.option("--levels", default="0,10,20,30,40,50,60", show_default=True, help="Pruning percentages, comma-separated.")
@click.option("--method", type=click.Choice(["MAW", "VOW", "PON", "L2"]), default="MAW", show_default=True, help="optipfair's neuron selection method.")
@click.option("--device", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True, help="auto = cuda when torch sees a GPU.")
@click.option("--dtype", type=click.Choice(["bf16", "fp16", "fp32"]), default="bf16", show_default=True, help="Weight dtype of the loaded models.")
@click.option("--data", "data_dir", default=None, callback=lambda ctx, param, value: directory_option(value, "--data"), help="Write here instead of data/.")
@click.option(
    "--weights", multiple=True, metavar="[MODEL_ID=]SOURCE",
    help="Where weights come from: a checkpoint directory, a hub id (org/name[@revision]) or 'random'. "
    "MODEL_ID=SOURCE for one model; repeatable. Default: a configured ($CATALOGUE_CHECKPOINTS) or cached "
    "checkpoint, else random weights of the exact architecture.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of random-init weights.")
@click.option("--save-pruned", default=None, callback=lambda ctx, param, value: directory_option(value, "--save-pruned"),
              help="save_pretrained every pruned model under DIR.")
@click.option(
    "--stream", is_flag=True,
    help="Prune one decoder layer at a time (memory: about one layer's MLP) even where the whole model fits. "
    "Models that do not fit the device's free memory are streamed anyway.",
)
@click.option("--force", is_flag=True, help="Rebuild records even where their inputs did not change.")
@click.option("--closed-form", is_flag=True, help="Compute the records by formula only (no torch); provenance says closed-form.")
@click.option("--wait", is_flag=True, help="Wait for another build on the same data directory instead of refusing.")
@click.option("--quiet", is_flag=True, help="No progress bars; only the summary and problems.")
def build(
    models: str | None, levels: str, method: str, device: str, dtype: str, data_dir: Path | None, weights: tuple[str, ...],
    seed: int, save_pruned: Path | None, stream: bool, force: bool, closed_form: bool, wait: bool, quiet: bool,
) -> None:
    """Regenerate the catalogue: materialise, prune with optipfair, count, write data/, verify.

    Each model is loaded once and every level is derived from that load; a model larger than the
    device's free memory (or any model, with --stream) is streamed instead: one decoder layer at
    a time, every level derived from one read of it. Each pruned model's parameters are counted
    and must equal the closed form. Only records whose inputs changed are
    rebuilt (--force rebuilds all). Writes the JSON, the CSV and schemas/ atomically, then runs
    the checks of `catalogue verify`. Exit 0: all built and checked; 1: a model failed or the
    checks found problems; 2: the build could not start.

    \b
    Examples:
      catalogue build
      catalogue build --force --models meta-llama/Llama-3.2-1B,meta-llama/Llama-3.2-3B
      catalogue build --models meta-llama/Llama-3.2-1B --weights ./Llama-3.2-1B --levels 0,40
      catalogue build --models meta-llama/Llama-3.2-1B --stream --save-pruned ./pruned
    """
    from ..pipeline.build import BuildRequest, parse_levels, parse_models, run_build
    from ..store.paths import default_data_dir

    request = BuildRequest(
        model_ids=parse_models(models), levels=parse_levels(levels), data_dir=data_dir or default_data_dir(),
        method=method, device=device, dtype=dtype, weights=weights, seed=seed, save_pruned=save_pruned,
        stream=stream, force=force, closed_form=closed_form, wait=wait, quiet=quiet,
    )
    with BuildProgress(quiet) as progress:
        result = run_build(request, progress)
    print_build_summary(result, request)
    if result.report is None:
        click.echo(f"no catalogue written to {request.data_dir}: no model could be built")
    else:
        print_report(result.report)
    sys.exit(EXIT_PROBLEMS if result.failed or result.report is None or not result.report.ok else EXIT_OK)


class BuildProgress:
    """Rich progress bars for models and levels (on stderr), and a line per model saying where its weights come from."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self._progress = None

    def __enter__(self) -> BuildProgress:
        if not self.quiet:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=False,
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc_info)

    def plan(self, work: list[tuple[str, int]]) -> None:
        if self._progress is None:
            return
        todo = [model for model, levels in work if levels]
        if not todo:
            self._progress.console.print("nothing to rebuild: every record is current (--force rebuilds)")
            return
        self._models = self._progress.add_task("models", total=len(todo))
        self._levels = self._progress.add_task("levels", total=sum(levels for _, levels in work))

    def model_started(self, model_id: str, weights: str) -> None:
        if self._progress is not None:
            self._progress.console.print(f"{model_id}: weights from {weights}", markup=False)
            self._progress.update(self._levels, description=model_id.split("/")[-1])

    def path_chosen(self, model_id: str, path: str, reason: str) -> None:
        if self._progress is not None:
            self._progress.console.print(f"{model_id}: {path} ({reason})")

    def layer_done(self, model_id: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._levels, description=f"{model_id.split('/')[-1]} layer {done}/{total}")

    def level_done(self, model_id: str, level: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._levels)

    def model_done(self, outcome) -> None:
        if self._progress is None:
            return
        if outcome.error:
            self._progress.console.print(f"{outcome.model_id}: FAILED: {outcome.error}", style="red", markup=False)
        if outcome.built or outcome.error:
            self._progress.advance(self._models)


def print_build_summary(result, request) -> None:
    """One table: model, levels built/skipped, time, peak memory, weights; and the files written."""
    from rich.table import Table

    out = console()
    for leftover in result.leftovers:
        out.print(f"--save-pruned: {leftover.path}: {leftover.action}", markup=False)
    table = Table(title="catalogue build", header_style="bold")
    for column in ("model", "built", "skipped", "seconds", "peak memory", "path", "weights", "result"):
        table.add_column(column, overflow="fold")
    for outcome in result.outcomes:
        peak = "" if outcome.peak_memory_bytes is None else f"{outcome.peak_memory_bytes / 2**30:.2f} GiB"
        table.add_row(*plain(
            outcome.model_id, ",".join(map(str, outcome.built)) or "-", ",".join(map(str, outcome.skipped)) or "-",
            f"{outcome.seconds:.1f}" if outcome.built else "", peak, outcome.build_path or "", outcome.weights,
            f"FAILED: {outcome.error}" if outcome.error else f"not prunable by optipfair: {outcome.not_prunable}" if outcome.not_prunable else "ok",
        ))
    out.print(table)
    written = ", ".join(str(path) for path in result.changed_files) or "none (unchanged)"
    out.print(f"files written: {written}", markup=False)



@cli.command()
@click.argument("source")
@click.option("--id", "model_id", default=None, metavar="ORG/NAME", help="The registry id. Default: the hub id, or the id the config names.")
@click.option("--family", default=None, help="Model family (the site's page). Default: inferred from the id (Qwen3-4B -> Qwen3).")
@click.option("--size-label", default=None, help="Short size label (the CSV's 'Model Family'). Default: the id's size, e.g. 4B.")
@click.option(
    "--sources", "sources_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="JSON file with the sources to cite: a list of {repo, path, commit, provides}, or {sources, notes}.",
)
@click.option("--grade", type=click.Choice(["official", "copy", "derived", "partial"]), default=None, help="How directly the config was read from its sources.")
def add(source: str, model_id: str | None, family: str | None, size_label: str | None, sources_file: Path | None, grade: str | None) -> None:
    """Add a model to the registry (data/models/) from a config.json, a checkpoint directory or a hub id.

    The model's transformers class is built on the meta device (no weights, no memory) and its
    architecture read off its parameters: MLP width, biases, norms, fused projections, tied
    head, the exact total, and for a mixture of experts the experts and active parameters. A
    checkpoint's safetensors headers must agree. SOURCE may also be a model description
    {model_id, config, sources, notes}. Exit 0: added; 2: the source cannot be read, is not a
    GLU model, or the id is taken (nothing written).

    \b
    Example:
      catalogue add ./my-olmo2-checkpoint --id me/olmo2-ft
      catalogue add allenai/OLMo-2-0425-1B
      catalogue add config.json --id org/name --family OLMo-2 --sources sources.json --grade copy
    """
    from ..pipeline.add import add_model
    from ..store.paths import display_path

    added = add_model(source, model_id=model_id, family=family, size_label=size_label, sources_file=sources_file, grade=grade)
    entry, derived = added.entry, added.derived
    click.echo(f"added {entry.model_id} ({entry.family}, {entry.size_label}) -> {display_path(added.path)}")
    click.echo(f"architecture  {derived.transformers_class}: {entry.architecture.describe()}")
    click.echo(f"parameters    {describe_counts(entry)}")
    if derived.closed_form_parameters is not None:
        click.echo(f"closed form   {derived.closed_form_parameters:,} (equal)")
    if added.header_parameters is not None:
        click.echo(f"checkpoint    {added.header_parameters:,} counted from the safetensors headers (equal)")
    click.echo(f"pruning       {pruning_summary(entry)}")
    click.echo(f"facts from    transformers {derived.transformers_version}, meta device")
    for note in added.notes:
        click.echo(f"note          {note}")


def pruning_summary(entry) -> str:
    """How ``catalogue build`` prunes the model, or why it cannot."""
    if entry.not_prunable:
        return f"not prunable by optipfair: {entry.not_prunable}"
    if entry.architecture.fused_gate_up:
        return "by the catalogue with optipfair's ranking (a fused gate_up_proj, which optipfair refuses)"
    return "by optipfair (MLP_GLU)"


def describe_counts(entry) -> str:
    """``1,484,916,736 total; MLPs 4.00x`` or, for a mixture of experts, total, active and the experts' ratio."""
    from ..core import formulas

    shape, experts = entry.architecture, entry.experts
    text = f"{formulas.total_parameters(shape):,} total"
    if formulas.mlp_layers(shape):
        text += f"; dense MLPs {formulas.expansion_ratio(shape.intermediate_size, shape.hidden_size):.2f}x in {formulas.mlp_layers(shape)} layers"
    if experts is not None:
        ratio = formulas.expansion_ratio(experts.moe_intermediate_size, shape.hidden_size)
        text += (
            f"; {formulas.active_parameters(shape, experts):,} active per token; experts {experts.num_experts} x "
            f"{experts.moe_intermediate_size} ({ratio:.2f}x), {experts.num_experts_per_tok} per token, in {experts.num_moe_layers} layers"
        )
    return text


@cli.command()
@FORMAT_OPTION
def models(output: str) -> None:
    """List the registry's models: sizes, baseline expansion ratio, parameters, MLP share.

    One row per model in data/models/ (Instruct variants that share a base's architecture
    included). Counts come from the closed form, which equals transformers' own count.

    \b
    Example:
      catalogue models
      catalogue models --format json
    """
    from ..planning.overview import summarize
    from ..store.registry import load_registry

    rows = [summarize(entry) for entry in load_registry().values()]
    if output == "json":
        echo_json([row.as_dict() for row in rows])
        return
    from rich.table import Table

    from ..core.text import count_millions, number

    table = Table(header_style="bold")
    for column in ("model", "family", "size", "hidden", "intermediate", "layers", "ratio (x)", "params (M)", "MLP share (%)", "active (M)"):
        table.add_column(column, justify="left" if column in ("model", "family", "size") else "right")
    notes = []
    for row in rows:
        model = row.model_id
        if row.num_experts is not None or row.not_prunable:
            notes.append(row)
            model += f" [{len(notes)}]"
        table.add_row(*plain(
            model,
            row.family,
            row.size_label,
            str(row.hidden_size),
            "-" if row.intermediate_size is None else str(row.intermediate_size),
            str(row.num_hidden_layers),
            "-" if row.expansion_ratio is None else number(row.expansion_ratio),
            count_millions(row.total_parameters),
            "-" if row.intermediate_size is None else number(row.mlp_share_pct),
            "-" if row.active_parameters is None else count_millions(row.active_parameters),
        ))
    out = console()
    out.print(table)
    for number_, row in enumerate(notes, start=1):
        out.print(f"[{number_}] {row.model_id}: {model_note(row)}", markup=False)
    out.print(
        f"{len(rows)} models; ratio = intermediate / hidden; MLP share = dense MLP parameters / all parameters; "
        "active = parameters a token passes through (mixtures of experts)"
    )


def model_note(row) -> str:
    """What a ``catalogue models`` footnote says: the experts and dense layers, or why it is not prunable."""
    if row.num_experts is None:
        return f"not prunable by optipfair: {row.not_prunable}"
    dense = f"{row.num_mlp_layers} dense MLP layers" if row.num_mlp_layers else "no dense MLP layers"
    return (
        f"mixture of experts: {row.num_experts} experts x {row.moe_intermediate_size} ({row.experts_expansion_ratio:.2f}x), "
        f"{row.num_experts_per_tok} per token; {dense}; not prunable by optipfair (it prunes dense GLU MLPs, not experts)"
    )


@cli.command()
@click.option("--ratio", "ratio", metavar="FACTOR", default=None, help="Target expansion ratio as a factor, e.g. 2.4 (optipfair's expansion_rate=240).")
@click.option("--pct", "pruning_pct", metavar="PERCENT", default=None, callback=lambda ctx, param, value: percentage(value),
              help="Pruning percentage 0-100 (optipfair's pruning_percentage).")
@click.option(
    "--model", "model_ids", multiple=True, metavar="MODEL",
    help="Registry id, config.json, checkpoint directory or hub id (org/name[@revision]); repeat for several. Default: every registry model.",
)
@click.option("--divisor", type=click.Choice(["32", "64", "128", "256"]), default=None, help="optipfair's expansion_divisor: round the kept width down to a multiple of it.")
@FORMAT_OPTION
def plan(ratio: str | None, pruning_pct: float | None, model_ids: tuple[str, ...], divisor: str | None, output: str) -> None:
    """Plan a pruning: what optipfair 0.4.2 keeps for a target ratio or percentage, and what it costs.

    With --ratio R, each model gets the pruning percentage optipfair derives from
    expansion_rate=R*100 (pass pruning_percentage=None with it), the MLP width it keeps, the
    ratio reached, the parameter count and the reduction; --pct P does the same for
    pruning_percentage=P. Nothing is pruned: the closed form predicts optipfair exactly. A model
    outside the registry (a config.json, checkpoint or hub id) is built on the meta device to
    read its architecture. A model the target does not fit (ratio already at or below it,
    arguments optipfair refuses, a mixture of experts) gets a note instead of numbers; exit 0
    all the same.

    \b
    Example:
      catalogue plan --ratio 2.4 --model meta-llama/Llama-3.2-1B --model meta-llama/Llama-3.2-3B
      catalogue plan --ratio 2.4 --model ./config.json
      catalogue plan --pct 40 --divisor 256
      catalogue plan --ratio 3 --format json
    """
    from ..core.formulas import expansion_rate_pct_for_ratio
    from ..pipeline.models import resolve_model
    from ..planning.planner import plan as make_plan
    from ..store.registry import load_registry

    if (ratio is None) == (pruning_pct is None):
        raise click.UsageError("give exactly one of --ratio or --pct")
    if ratio is not None:
        try:
            rate_pct = expansion_rate_pct_for_ratio(ratio)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--ratio") from None
        if rate_pct <= 0:
            raise click.BadParameter(f"{ratio} is not a positive factor (e.g. 2.4)", param_hint="--ratio")
    entries = [resolve_model(model_id) for model_id in dict.fromkeys(model_ids)] or list(load_registry().values())
    rows = make_plan(entries, ratio=ratio, pruning_pct=pruning_pct, divisor=int(divisor) if divisor else None)
    if output == "json":
        echo_json([row.as_dict() for row in rows])
        return
    print_plan(rows, f"target {ratio}x (expansion_rate={rate_pct:g})" if ratio is not None else f"pruning {pruning_pct:g} %", divisor)


def percentage(text: str | None) -> float | None:
    """``--pct``'s text as a float in 0-100; anything else is a usage error in plain words."""
    from ..core.formulas import pruning_pct_from_text

    if text is None:
        return None
    try:
        return pruning_pct_from_text(text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--pct") from None


def print_plan(rows, target: str, divisor: str | None) -> None:
    """The plan as a table, one row per model; a row's note is printed under the table."""
    from rich.table import Table

    from ..core.text import count_millions, number

    def cell(value, text) -> str:
        return "-" if value is None else text(value)

    title = f"optipfair MLP_GLU, {target}" + (f", expansion_divisor={divisor}" if divisor else "")
    table = Table(title=title, header_style="bold")
    columns = ("model", "H", "I", "ratio (x)", "pruning (%)", "kept I", "ratio reached (x)",
               "params after (M)", "saved (M)", "reduction (%)", "status")
    for column in columns:
        table.add_column(column, justify="left" if column in ("model", "status") else "right")
    notes = []
    for row in rows:
        status = row.status
        if row.note:
            notes.append(row)
            status += f" [{len(notes)}]"
        table.add_row(*plain(
            row.model_id,
            str(row.hidden_size),
            str(row.original_intermediate_size),
            number(row.original_expansion_ratio),
            cell(row.pruning_pct, number),
            cell(row.intermediate_size, str),
            cell(row.expansion_ratio, lambda value: number(value, decimals=4)),
            cell(row.total_parameters, count_millions),
            cell(row.parameters_saved, count_millions),
            cell(row.parameter_reduction_pct, number),
            status,
        ))
    out = console()
    out.print(table)
    for number_, row in enumerate(notes, start=1):
        out.print(f"[{number_}] {row.model_id}: {row.note}", markup=False)


def main() -> None:
    """Console-script entry point."""
    # pandera imports hypothesis (0.4 s) for data synthesis whenever it is installed; no
    # command needs that, and `catalogue verify` has a start-up budget. A None entry makes the
    # import fail, which pandera handles.
    sys.modules.setdefault("hypothesis", None)
    cli(prog_name="catalogue")


def _register_groups() -> None:
    """The command groups that live in their own modules."""
    from .results import results

    cli.add_command(results)


_register_groups()

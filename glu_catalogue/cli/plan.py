"""``catalogue models`` and ``catalogue plan``: the registry's models, and what a pruning target keeps of each."""

from __future__ import annotations

import click

from .output import FORMAT_OPTION, console, echo_json, plain
from .registry import register


@register(nav_order=60, examples="run")
@click.command()
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
        table.add_row(
            *plain(
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
            )
        )
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


@register(nav_order=50, examples="run")
@click.command()
@click.option("--ratio", "ratio", metavar="FACTOR", default=None, help="Target expansion ratio as a factor, e.g. 2.4 (optipfair's expansion_rate=240).")
@click.option(
    "--pct",
    "pruning_pct",
    metavar="PERCENT",
    default=None,
    callback=lambda ctx, param, value: percentage(value),
    help="Pruning percentage 0-100 (optipfair's pruning_percentage).",
)
@click.option(
    "--model",
    "model_ids",
    multiple=True,
    metavar="MODEL",
    help="Registry id, config.json, checkpoint directory or hub id (org/name[@revision]); repeat for several. Default: every registry model.",
)
@click.option(
    "--divisor",
    type=click.Choice(["32", "64", "128", "256"]),
    default=None,
    help="optipfair's expansion_divisor: round the kept width down to a multiple of it.",
)
@FORMAT_OPTION
def plan(ratio: str | None, pruning_pct: float | None, model_ids: tuple[str, ...], divisor: str | None, output: str) -> None:
    """Plan a pruning: what optipfair 0.4.2 keeps for a target ratio or percentage, and what it costs.

    With --ratio R, each model gets the pruning percentage optipfair derives from
    expansion_rate=R*100 (pass pruning_percentage=None with it), the MLP width it keeps, the
    ratio reached, the parameter count and the reduction; --pct P does the same for
    pruning_percentage=P. Nothing is pruned: the closed form predicts optipfair exactly. A model
    outside the registry (a config.json, checkpoint or hub id; a hub id's config.json only is
    read) is counted from the facts shipped for its model type, without torch, or else built on
    the meta device to read its architecture, saying why on stderr. A model the target does not fit (ratio already at or below it,
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
    say_how_counted(entries, load_registry())
    rows = make_plan(entries, ratio=ratio, pruning_pct=pruning_pct, divisor=int(divisor) if divisor else None)
    if output == "json":
        echo_json([row.as_dict() for row in rows])
        return
    print_plan(rows, f"target {ratio}x (expansion_rate={rate_pct:g})" if ratio is not None else f"pruning {pruning_pct:g} %", divisor)


def say_how_counted(entries, registry) -> None:
    """For each model outside the registry: the hub commit its config.json was read at, and, where the shipped facts could
    not count it, why it was built on the meta device (stderr)."""
    from ..store.known_types import counted_config

    for entry in entries:
        if entry.model_id in registry:
            continue
        if entry.origin is not None and entry.origin.kind == "hub" and entry.origin.revision:
            click.echo(f"note: {entry.model_id}: config.json read from the hub at commit {entry.origin.revision} (no weights)", err=True)
        counted, why = counted_config(entry.config)
        if counted is None:
            click.echo(f"note: {entry.model_id}: counted on the meta device: {why}", err=True)


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
    columns = ("model", "H", "I", "ratio (x)", "pruning (%)", "kept I", "ratio reached (x)", "params after (M)", "saved (M)", "reduction (%)", "status")
    for column in columns:
        table.add_column(column, justify="left" if column in ("model", "status") else "right")
    notes = []
    for row in rows:
        status = row.status
        if row.note:
            notes.append(row)
            status += f" [{len(notes)}]"
        table.add_row(
            *plain(
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
            )
        )
    out = console()
    out.print(table)
    for number_, row in enumerate(notes, start=1):
        out.print(f"[{number_}] {row.model_id}: {row.note}", markup=False)

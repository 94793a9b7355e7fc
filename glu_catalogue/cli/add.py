"""``catalogue add``: a model from any source into the registry, with what its counts were checked against."""

from __future__ import annotations

from pathlib import Path

import click

from .output import directory_option
from .registry import register


@register(nav_order=80, examples="run")
@click.command()
@click.argument("source")
@click.option("--id", "model_id", default=None, metavar="ORG/NAME", help="The registry id. Default: the hub id, or the id the config names.")
@click.option("--family", default=None, help="Model family (the site's page). Default: inferred from the id (Qwen3-4B -> Qwen3).")
@click.option("--size-label", default=None, help="Short size label (the CSV's 'Model Family'). Default: the id's size, e.g. 4B.")
@click.option(
    "--sources",
    "sources_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="JSON file with the sources to cite: a list of {repo, path, commit, provides}, or {sources, notes}.",
)
@click.option("--grade", type=click.Choice(["official", "copy", "derived", "partial"]), default=None, help="How directly the config was read from its sources.")
@click.option(
    "--data",
    "data_dir",
    default=None,
    callback=lambda ctx, param, value: directory_option(value, "--data"),
    help="Add to DIR/models/ instead of the workspace's data/models/.",
)
def add(
    source: str, model_id: str | None, family: str | None, size_label: str | None, sources_file: Path | None, grade: str | None, data_dir: Path | None
) -> None:
    """Add a model to the workspace's registry (data/models/) from a config.json, a checkpoint directory or a hub id.

    A config of a type whose facts the catalogue ships (Llama, Qwen2/3, Gemma, Mistral, Phi-3,
    OLMo-2, ...) is counted from them without torch; any other is built on the meta device (no
    weights, no memory), saying why, and its architecture read off its parameters: MLP width, biases, norms, fused projections, tied
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
    from ..store.paths import display_path, write_registry_dir

    added = add_model(
        source,
        model_id=model_id,
        family=family,
        size_label=size_label,
        sources_file=sources_file,
        grade=grade,
        registry_dir=write_registry_dir(data_dir) if data_dir is not None else None,
    )
    entry, derived = added.entry, added.derived
    click.echo(f"added {entry.model_id} ({entry.family}, {entry.size_label}) -> {display_path(added.path)}")
    click.echo(f"architecture  {derived.transformers_class}: {entry.architecture.describe()}")
    click.echo(f"parameters    {describe_counts(entry)}")
    if derived.closed_form_parameters is not None:
        click.echo(f"closed form   {derived.closed_form_parameters:,} (equal)")
    if added.header_parameters is not None:
        click.echo(f"checkpoint    {added.header_parameters:,} counted from the safetensors headers (equal)")
    click.echo(f"pruning       {pruning_summary(entry)}")
    click.echo(f"facts from    transformers {derived.transformers_version}, {derived.found_by}")
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

    architecture, experts = entry.architecture, entry.experts
    text = f"{formulas.total_parameters(architecture):,} total"
    if formulas.mlp_layers(architecture):
        text += (
            f"; dense MLPs {formulas.expansion_ratio(architecture.intermediate_size, architecture.hidden_size):.2f}x in "
            f"{formulas.mlp_layers(architecture)} layers"
        )
    if experts is not None:
        ratio = formulas.expansion_ratio(experts.moe_intermediate_size, architecture.hidden_size)
        text += (
            f"; {formulas.active_parameters(architecture, experts):,} active per token; experts {experts.num_experts} x "
            f"{experts.moe_intermediate_size} ({ratio:.2f}x), {experts.num_experts_per_tok} per token, in {experts.num_moe_layers} layers"
        )
    return text

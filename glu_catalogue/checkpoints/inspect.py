"""Pruned checkpoints on disk, inspected from their safetensors headers: no torch, no weights read.

A checkpoint directory holds ``config.json`` and one or many ``*.safetensors`` files, with or
without ``model.safetensors.index.json`` (``weight_map``: tensor name -> shard file).
``inspect_checkpoint`` reads the config and every header (``checkpoints.safetensors``, via ``checkpoints.reading``), and reports:

* the architecture of the config (``registry.architecture_from_config``), with the facts a config does
  not state read off the tensor names: q/k/v biases (``q_proj.bias``), q/k norms
  (``q_norm.weight``), norms per layer (``*norm.weight`` outside attention), fused projections
  (``qkv_proj``, ``gate_up_proj``);
* each layer's MLP width as the weights hold it: gate rows (fused ``gate_up_proj``: rows / 2);
* for a mixture of experts (``checkpoints.experts``), each MoE layer's routed experts (how many,
  how wide), its shared experts and router, and the active parameters per token;
* the total parameter count from the tensor shapes, as ``sum(p.numel() for p in
  model.parameters())`` counts it: a tied LM head once, buffers (``inv_freq``) not at all;
* every problem ``checkpoints.checks`` finds: config against weights, gate/up/down within each
  layer, the total against the closed form, the index against the shards, and optionally the
  catalogue record the checkpoint claims to be.

Its cost is one header read per file, whatever the size of the weights. Unreadable input
raises ``ReadError`` (one line naming the file); an unknown ``--record`` raises
``RecordNotFound``.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from pydantic import ValidationError

from ..core.problems import show
from ..core.records import ExpansionRecord, successful_by_key
from ..core.text import record_label_parts
from ..errors import RecordNotFound
from ..store.paths import CATALOGUE_FILE, current_workspace, default_data_dir, display_path, is_layered, shipped_data_dir
from ..store.reading import ReadError, load_catalogue, path_exists
from ..store.writing import recover_data_dir
from . import checks
from .experts import LayerExperts, buffer_suffixes, experts_per_token, read_experts
from .inspection import Inspection, closed_form_total
from .reading import (
    Checkpoint,
    LayerMlp,
    architecture_of,
    count_parameters,
    decoder_config,
    decoder_of,
    layer_mlp,
    read_checkpoint,
    unknown_tensors,
    weights_hidden_size,
)

#: What problems name as the file of a record computed for a model outside the catalogue.
COMPUTED_RECORD = "(record computed by the closed form)"


def inspect_checkpoint(directory: Path | Checkpoint, record: str | ExpansionRecord | None = None, catalogue_path: Path | None = None) -> Inspection:
    """Inspect the checkpoint in ``directory`` (or one already read: ``hub_checkpoint``) from its headers and report every problem.

    ``record`` (``MODEL@PCT``, e.g. ``meta-llama/Llama-3.2-1B@40``) also compares the checkpoint
    with that record of the catalogue (``catalogue_path``: a catalogue JSON or a data directory,
    default the data directory's ``expansion_rates.json``), or with a record given as such (one
    computed for a model outside the registry). Raises ``ReadError`` for an unreadable checkpoint
    and ``RecordNotFound`` for a record the catalogue does not hold.
    """
    record_file = display_path(catalogue_file(catalogue_path))
    if isinstance(record, ExpansionRecord):  # computed, not read from a catalogue file
        expected_record, record, record_file = record, f"{record.base_model}@{record.pruning_pct}", COMPUTED_RECORD
    else:
        expected_record = find_record(record, catalogue_path) if record is not None else None
    checkpoint = directory if isinstance(directory, Checkpoint) else read_checkpoint(directory)  # a hub checkpoint comes read
    decoder = decoder_of(checkpoint)
    buffers = buffer_suffixes(checkpoint.config.get("model_type"))
    expert_layers = read_experts(decoder.layers, decoder.mlp_block, weights_hidden_size(decoder, checkpoint.config), buffers)
    layers = [layer_mlp(index, tensors, decoder.mlp_block, index in expert_layers) for index, tensors in decoder.layers.items()]
    architecture, facts = architecture_of(checkpoint, decoder, moe_width(layers, expert_layers))
    widths = [layer.intermediate_size for layer in layers]
    unknown = unknown_tensors(checkpoint, decoder)
    standard = not unknown and not expert_layers and decoder.final_norm is not None
    inspection = Inspection(
        checkpoint=checkpoint,
        decoder=decoder,
        architecture=architecture,
        facts=facts,
        layers=layers,
        total_parameters=count_parameters(checkpoint, decoder, architecture.tie_word_embeddings, buffers if expert_layers else ()),
        closed_form_total_parameters=closed_form_total(architecture, widths, standard),
        record_label=record,
        unknown_tensors=unknown,
        expert_layers=expert_layers,
        experts_per_token=experts_per_token(decoder_config(checkpoint.config)) if expert_layers else None,
    )
    checks.check_all(inspection, inspection.report)
    if expected_record is not None:
        checks.check_record(inspection, expected_record, record_file, inspection.report)
    return inspection


def moe_width(layers: list[LayerMlp], expert_layers: dict[int, LayerExperts]) -> int | None:
    """A mixture of experts' MLP width from its weights: the first dense layer's, else the first MoE layer's experts'; None for a dense model."""
    if not expert_layers:
        return None
    dense = [layer.intermediate_size for layer in layers if layer.dense and layer.intermediate_size]
    return dense[0] if dense else next(iter(expert_layers.values())).expert_intermediate_size or None


def parse_record_label(label: str) -> tuple[str, int]:
    """``meta-llama/Llama-3.2-1B@40`` -> (model id, pruning_pct); ``RecordNotFound`` if malformed."""
    parts = record_label_parts(label)
    if parts is None:
        raise RecordNotFound(f"record {show(label)!r}: expected MODEL@PCT with a whole percentage, e.g. meta-llama/Llama-3.2-1B@40")
    return parts


def catalogue_file(path: Path | None = None) -> Path:
    """The catalogue JSON ``path`` names: the file itself, a data directory's ``expansion_rates.json``,
    or (None) the default data directory's."""
    if path is None:
        return default_data_dir() / CATALOGUE_FILE
    path = Path(path)
    return path / CATALOGUE_FILE if path.is_dir() else path


def successful_records(catalogue_path: Path | None = None) -> tuple[Path, dict[tuple[str, int], ExpansionRecord]]:
    """The catalogue file ``catalogue_path`` names (see ``catalogue_file``) and its successful records by (model, pct).

    In a workspace of one's own (no path given), the shipped records of the models it includes come
    first and its own (where it has any) over them: the one catalogue the workspace's commands see.
    """
    path = catalogue_file(catalogue_path)
    if catalogue_path is None and is_layered(path.parent):
        workspace = current_workspace()
        _, shipped = successful_records(shipped_data_dir()) if workspace.shipped_models != "none" else (None, {})
        records = {key: record for key, record in shipped.items() if workspace.includes(key[0])}
        if path_exists(path):
            records.update(successful_records(path)[1])
        return path, records
    recover_data_dir(path.parent)
    try:
        catalogue = load_catalogue(path)
    except ValidationError as error:
        raise ReadError(path, f"not a valid catalogue ({error.error_count()} schema errors): run `catalogue verify {path}`") from None
    return path, successful_by_key(catalogue.models)


def catalogues_model(model_id: str, catalogue_path: Path | None = None) -> bool:
    """True when the catalogue (see ``catalogue_file``) holds a successful record of ``model_id`` at any level."""
    return any(model == model_id for model, _ in successful_records(catalogue_path)[1])


def find_record(label: str, catalogue_path: Path | None = None) -> ExpansionRecord:
    """The successful catalogue record ``label`` (``MODEL@PCT``) names; close labels are suggested.

    ``catalogue_path`` is a catalogue JSON or a data directory (default: the data directory's).
    """
    model_id, pruning_pct = parse_record_label(label)
    path, records = successful_records(catalogue_path)
    found = records.get((model_id, pruning_pct))
    if found is not None:
        return found
    labels = [f"{model}@{pct}" for model, pct in records]
    levels = sorted(pct for model, pct in records if model == model_id)
    if levels:
        hint = f"{model_id} is catalogued at {', '.join(str(level) for level in levels)} %"
    else:
        close = difflib.get_close_matches(f"{model_id}@{pruning_pct}", labels, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else catalogued_models_hint(model_id, records)
    raise RecordNotFound(f"no successful record {model_id}@{pruning_pct} in {display_path(path)}; {hint}")


def catalogued_models_hint(model_id: str, records: dict[tuple[str, int], ExpansionRecord]) -> str:
    """What the catalogue holds instead of ``model_id``, and how to name the catalogue a build wrote elsewhere."""
    models = sorted({model for model, _ in records})
    shown = ", ".join(models[:3]) + (f" and {len(models) - 3} more" if len(models) > 3 else "")
    held = f"it catalogues {len(models)} model{'s' if len(models) != 1 else ''} ({shown})" if models else "it holds no successful record"
    return f"{held}, not {model_id}; records built by `catalogue build --data DIR` are in DIR: name it with --data DIR"

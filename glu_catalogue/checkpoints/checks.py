"""The checks ``inspect_checkpoint`` runs on a checkpoint's config and tensor shapes.

Each check adds problems to a ``Report``; none reads weights, prints or exits. The weights are
taken as the truth about the model: where the config disagrees with them, the problem's
``expected`` is what the weights hold and ``found`` what the config says. A disagreement shared
by many layers is one problem naming all of them (``record``: ``layers 0-27``). A mixture of
experts has its experts checked (``check_experts``) and its dense layers as any MLP.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..core.architecture import ARCHITECTURE_FIELDS
from ..core.layout import is_layer_norm
from ..core.problems import show
from ..core.records import ExpansionRecord
from .experts import EXPERT_COUNT_KEYS, EXPERT_WIDTH_KEYS, ExpertGroup, stated_size
from .reading import decoder_config

if TYPE_CHECKING:
    from ..core.problems import Report
    from .inspection import Inspection

MODEL = "(model)"
INDEX = "(index)"


def layer_span(indices: Iterable[int]) -> str:
    """Layer indices with runs collapsed: ``[0, 1, 2, 5]`` -> ``0-2, 5``."""
    runs: list[list[int]] = []
    for index in sorted(indices):
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


def layers_label(indices: Iterable[int]) -> str:
    """``layer 3`` or ``layers 0-2, 5``."""
    indices = list(indices)
    return f"layer {indices[0]}" if len(indices) == 1 else f"layers {layer_span(indices)}"


def widths_by_layer(widths: dict[int, int]) -> str:
    """``layers 0, 3: 128; layers 1-2: 77``: layers grouped by MLP width, widest first."""
    groups: dict[int, list[int]] = defaultdict(list)
    for index, width in widths.items():
        groups[width].append(index)
    return "; ".join(f"{layers_label(groups[width])}: {width}" for width in sorted(groups, reverse=True))


class _Grouped:
    """Problems collected per layer, then reported once per distinct (file, field, expected, found, message)."""

    def __init__(self) -> None:
        self.layers: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(list)

    def add(self, index: int, file: Any, field_name: str, expected: Any, found: Any, message: str) -> None:
        self.layers[(str(file), field_name, show(expected), show(found), message)].append(index)

    def report_to(self, report: Report) -> None:
        for (file, field_name, expected, found, message), indices in self.layers.items():
            report.add(file, layers_label(indices), field_name, expected, found, message, kind="checkpoint")


def check_all(inspection: Inspection, report: Report) -> None:
    """Every check of a checkpoint against itself and its config (not against a record)."""
    checkpoint = inspection.checkpoint
    report.checked["files"] += len(checkpoint.headers)
    report.checked["tensors"] += len(checkpoint.tensors)
    report.checked["layers"] += len(inspection.layers)
    check_files(inspection, report)
    check_mlp_shapes(inspection, report)
    if inspection.moe:
        check_experts(inspection, report)
        check_expert_config(inspection, report)
        check_layer_count(inspection, report)
        inspection.notes.extend(moe_notes(inspection))
        return
    if not inspection.standard_layout:
        inspection.notes.append(unknown_layout_note(inspection))
        widths = set(inspection.layer_intermediate_sizes)
        if widths != {inspection.config_intermediate_size}:
            inspection.notes.append(
                f"config.json's intermediate_size is {inspection.config_intermediate_size}, the MLPs hold "
                f"{', '.join(map(str, sorted(widths)))}: what the config's number means is this architecture's own"
            )
        return
    check_intermediate_size(inspection, report)
    check_layer_count(inspection, report)
    check_layer_tensors(inspection, report)
    check_embeddings(inspection, report)
    check_config_flags(inspection, report)
    check_total(inspection, report)


def unknown_layout_note(inspection: Inspection) -> str:
    """Why only the files and the MLPs were checked: the parts of this layout the closed form does not know."""
    unknown = inspection.unknown_tensors
    if unknown:
        shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
        what = f"tensors the closed form does not count ({shown})"
    else:
        what = f"no {inspection.decoder.prefix}norm.weight (a final norm without weights)"
    return (
        f"this architecture has {what}: the files and the MLPs were checked; its attention, norms and total "
        "cannot be derived from config.json without torch (`catalogue add` the config counts it on the meta device)"
    )


def moe_notes(inspection: Inspection) -> list[str]:
    """What was checked in a mixture of experts, and why its active parameters are unknown (where they are)."""
    notes = [
        "a mixture of experts: the files, the dense MLPs, the experts and the layer count were checked; its attention, "
        "norms and total cannot be derived from config.json without torch (the total is counted from the tensor shapes; "
        "`catalogue add` the config counts it on the meta device)"
    ]
    widths = set(inspection.dense_widths.values())
    if widths and widths != {inspection.config_intermediate_size}:
        notes.append(
            f"config.json's intermediate_size is {inspection.config_intermediate_size}, the dense MLPs hold "
            f"{', '.join(map(str, sorted(widths)))}: what the config's number means is this architecture's own"
        )
    if inspection.active_unknown_reason is not None:
        notes.append(inspection.active_unknown_reason)
    return notes


# --- the files --------------------------------------------------------------------------------


def check_files(inspection: Inspection, report: Report) -> None:
    """No tensor in two files; with an index, it and the shards agree tensor for tensor."""
    checkpoint = inspection.checkpoint
    holders: dict[str, list[str]] = defaultdict(list)
    for header in checkpoint.headers:
        for name in header.tensors:
            holders[name].append(header.path.name)
    for name, files in holders.items():
        if len(files) > 1:
            report.add(
                checkpoint.directory / files[1],
                MODEL,
                name,
                f"in one file ({files[0]})",
                f"in {', '.join(files)}",
                "a tensor is saved twice: which copy a loader takes is undefined; remove the stale file",
                kind="checkpoint",
            )
    if checkpoint.weight_map is None:
        return
    index = checkpoint.index_path
    for name, shard in checkpoint.weight_map.items():
        if shard not in holders.get(name, ()):
            found = f"in {', '.join(holders[name])}" if name in holders else "in no shard"
            report.add(
                index,
                INDEX,
                name,
                f"in {shard}",
                found,
                f"the index maps this tensor to {shard}, which lacks it: loading fails; re-save the checkpoint",
                kind="checkpoint",
            )
    for name, files in holders.items():
        if name not in checkpoint.weight_map:
            report.add(
                index,
                INDEX,
                name,
                "listed in weight_map",
                f"only in {files[0]}",
                "from_pretrained loads the tensors the index lists and would leave this one out; re-save the checkpoint",
                kind="checkpoint",
            )
    written = checkpoint.index_metadata.get("total_parameters")
    if isinstance(written, int) and written != inspection.total_parameters:
        report.add(
            index,
            INDEX,
            "metadata.total_parameters",
            inspection.total_parameters,
            written,
            "the index's parameter count differs from the shards' tensors: the index belongs to another save",
            kind="checkpoint",
        )


# --- config against weights -------------------------------------------------------------------


def check_layer_count(inspection: Inspection, report: Report) -> None:
    """The layers are numbered 0..L-1 and L is the config's ``num_hidden_layers``."""
    indices = list(inspection.decoder.layers)
    config_file = inspection.checkpoint.config_path
    if indices != list(range(len(indices))):
        report.add(
            inspection.checkpoint.directory,
            MODEL,
            "layers",
            f"0-{len(indices) - 1}",
            layer_span(indices),
            "the decoder layers are not numbered 0 to L-1 without gaps: a layer's tensors are missing",
            kind="checkpoint",
        )
    if len(indices) != inspection.architecture.num_hidden_layers:
        report.add(
            config_file,
            MODEL,
            "num_hidden_layers",
            len(indices),
            inspection.architecture.num_hidden_layers,
            f"the weights hold {len(indices)} decoder layers; set num_hidden_layers to match",
            kind="checkpoint",
        )


def check_mlp_shapes(inspection: Inspection, report: Report) -> None:
    """Within each layer, gate and up rows and down columns agree; their H is the config's."""
    hidden_size = inspection.architecture.hidden_size
    decoder = inspection.decoder
    grouped = _Grouped()
    for layer in inspection.layers:
        tensors = decoder.layers[layer.index]
        for name in layer.bad_ranks:
            grouped.add(
                layer.index,
                tensors[name].file,
                name,
                "2 dimensions" if name.endswith("weight") else "1 dimension",
                list(tensors[name].shape),
                "the tensor has the wrong number of dimensions: the file is damaged",
            )
        for name in layer.missing:
            grouped.add(
                layer.index,
                inspection.checkpoint.directory,
                name,
                "present",
                "absent",
                "a GLU MLP needs gate, up and down projections; the checkpoint is incomplete",
            )
        reference = next(iter(layer.widths), None)
        for name, width in layer.widths.items():
            if width != layer.widths[reference]:
                grouped.add(
                    layer.index,
                    tensors[name].file,
                    name,
                    layer.widths[reference],
                    width,
                    f"{name} implies an MLP width of {width:g} but {reference} of {layer.widths[reference]:g}: gate and up "
                    "rows and down columns must agree; the file was edited or damaged, re-save the pruned model",
                )
        for name, size in layer.hidden_sizes.items():
            if size != hidden_size:
                grouped.add(
                    layer.index, tensors[name].file, name, hidden_size, size, f"the MLP's hidden side must be config.json's hidden_size ({hidden_size})"
                )
    grouped.report_to(report)


def check_experts(inspection: Inspection, report: Report) -> None:
    """Within each MoE layer, the routed and the shared experts' tensors agree on width, H and number of experts."""
    grouped = _Grouped()
    for index, experts in inspection.expert_layers.items():
        tensors = inspection.decoder.layers[index]
        for group, what in ((experts.routed, "routed experts"), (experts.shared, "shared experts")):
            if group is not None:
                check_expert_group(index, group, what, tensors, inspection, grouped)
    grouped.report_to(report)


def check_expert_group(index: int, group: ExpertGroup, what: str, tensors: dict, inspection: Inspection, grouped: _Grouped) -> None:
    """One layer's routed (or shared) experts: tensor ranks, the projections a GLU needs, one width, one H, one E."""
    hidden_size = inspection.architecture.hidden_size
    directory = inspection.checkpoint.directory
    for name, rank in group.bad_ranks.items():
        grouped.add(
            index,
            tensors[name].file,
            name,
            f"{rank} dimensions",
            list(tensors[name].shape),
            f"a tensor of the {what} has the wrong number of dimensions: the file is damaged",
        )
    for name in group.missing:
        grouped.add(
            index, directory, name, "present", "absent", f"the {what} need gate, up and down projections for every expert; the checkpoint is incomplete"
        )
    reference = next(iter(group.widths), None)
    for name, width in group.widths.items():
        if width != group.widths[reference]:
            grouped.add(
                index,
                tensors[name].file,
                name,
                group.widths[reference],
                width,
                f"{name} implies an expert width of {width:g} but {reference} of {group.widths[reference]:g}: the "
                f"{what}' gate, up and down must agree; the file was edited or damaged, re-save the model",
            )
    for name, size in group.hidden_sizes.items():
        if size != hidden_size:
            grouped.add(index, tensors[name].file, name, hidden_size, size, f"the {what}' hidden side must be config.json's hidden_size ({hidden_size})")
    for name, count in group.counts.items():
        if count != group.n_experts:
            grouped.add(
                index,
                tensors[name].file,
                name,
                group.n_experts,
                count,
                f"the {what}' tensors disagree on how many experts the layer has: the file was edited or damaged",
            )


def check_expert_config(inspection: Inspection, report: Report) -> None:
    """config.json's number of routed experts and expert width, where it states them, are the weights'."""
    config = decoder_config(inspection.checkpoint.config)
    config_file = inspection.checkpoint.config_path
    grouped = _Grouped()
    count, width = stated_size(config, EXPERT_COUNT_KEYS), stated_size(config, EXPERT_WIDTH_KEYS)
    for index, experts in inspection.expert_layers.items():
        if count is not None and count[1] != experts.num_experts:
            grouped.add(
                index,
                config_file,
                count[0],
                experts.num_experts,
                count[1],
                f"the layer's weights hold {experts.num_experts} routed experts: from_pretrained refuses them "
                f"(size mismatch); set {count[0]} to {experts.num_experts}",
            )
        if width is not None and experts.expert_intermediate_size and width[1] != experts.expert_intermediate_size:
            grouped.add(
                index,
                config_file,
                width[0],
                experts.expert_intermediate_size,
                width[1],
                f"the layer's routed experts are {experts.expert_intermediate_size} wide: from_pretrained refuses "
                f"them (size mismatch); set {width[0]} to {experts.expert_intermediate_size}",
            )
    grouped.report_to(report)


def check_intermediate_size(inspection: Inspection, report: Report) -> None:
    """config.json's ``intermediate_size`` is every layer's MLP width (it cannot be, when they differ)."""
    config_width = inspection.config_intermediate_size
    widths = {layer.index: layer.intermediate_size for layer in inspection.layers}
    others = [index for index, width in widths.items() if width != config_width]
    if not others:
        return
    config_file = inspection.checkpoint.config_path
    if inspection.uniform:
        width = widths[others[0]]
        report.add(
            config_file,
            layers_label(others),
            "intermediate_size",
            width,
            config_width,
            f"every layer's MLP holds {width} neurons (gate/up rows, down columns) but config.json says "
            f"{config_width}: from_pretrained refuses these weights (size mismatch); set intermediate_size to {width}",
            kind="checkpoint",
        )
        return
    matching = [index for index, width in widths.items() if width == config_width]
    matches = f"only {layers_label(matching)}" if matching else "no layer"
    report.add(
        config_file,
        layers_label(others),
        "intermediate_size",
        f"per layer: {widths_by_layer(widths)}",
        config_width,
        f"the layers' MLP widths differ, so no single intermediate_size describes them; config.json's {config_width} "
        f"fits {matches}. optipfair's layer_indices prunes some layers and writes the last pruned width to the config; "
        "from_pretrained then refuses the other layers (size mismatch). Prune every layer alike, or build the model "
        "with per-layer widths before loading the weights",
        kind="checkpoint",
    )


def _attention_shapes(architecture) -> dict[str, tuple[tuple[int, ...], str]]:
    """Shape of each attention tensor in config terms, with the config fields that make it."""
    q_rows = architecture.num_attention_heads * architecture.head_dim
    kv_rows = architecture.num_key_value_heads * architecture.head_dim
    heads = f"num_attention_heads {architecture.num_attention_heads} x head_dim {architecture.head_dim}"
    kv_heads = f"num_key_value_heads {architecture.num_key_value_heads} x head_dim {architecture.head_dim}"
    hidden = f"hidden_size {architecture.hidden_size}"
    return {
        "self_attn.q_proj.weight": ((q_rows, architecture.hidden_size), f"{heads} rows by {hidden}"),
        "self_attn.k_proj.weight": ((kv_rows, architecture.hidden_size), f"{kv_heads} rows by {hidden}"),
        "self_attn.v_proj.weight": ((kv_rows, architecture.hidden_size), f"{kv_heads} rows by {hidden}"),
        "self_attn.o_proj.weight": (
            (architecture.hidden_size, architecture.hidden_size),
            f"{hidden} rows by {hidden} (this type's output projection takes H inputs)",
        )
        if architecture.o_proj_hidden_input
        else ((architecture.hidden_size, q_rows), f"{hidden} rows by {heads}"),
        "self_attn.qkv_proj.weight": ((q_rows + 2 * kv_rows, architecture.hidden_size), f"({heads}) + 2 x ({kv_heads}) rows by {hidden}"),
        "self_attn.q_proj.bias": ((q_rows,), heads),
        "self_attn.k_proj.bias": ((kv_rows,), kv_heads),
        "self_attn.v_proj.bias": ((kv_rows,), kv_heads),
        "self_attn.o_proj.bias": ((architecture.hidden_size,), hidden),
        "self_attn.qkv_proj.bias": ((q_rows + 2 * kv_rows,), f"({heads}) + 2 x ({kv_heads})"),
        "self_attn.q_norm.weight": ((q_rows,), heads) if architecture.qk_norm_all_heads else ((architecture.head_dim,), f"head_dim {architecture.head_dim}"),
        "self_attn.k_norm.weight": ((kv_rows,), kv_heads)
        if architecture.qk_norm_all_heads
        else ((architecture.head_dim,), f"head_dim {architecture.head_dim}"),
    }


def check_layer_tensors(inspection: Inspection, report: Report) -> None:
    """Attention and norm shapes follow the config (heads, head_dim, H); every layer has layer 0's tensors."""
    architecture = inspection.architecture
    expected_shapes = _attention_shapes(architecture)
    layers = inspection.decoder.layers
    first_index = next(iter(layers))
    first_names = set(layers[first_index])
    grouped = _Grouped()
    for index, tensors in layers.items():
        for name, entry in tensors.items():
            if name in expected_shapes:
                expected, made_of = expected_shapes[name]
            elif is_layer_norm(name):
                expected, made_of = (architecture.hidden_size,), f"hidden_size {architecture.hidden_size}"
            else:
                continue
            if entry.shape != expected:
                grouped.add(
                    index,
                    entry.file,
                    name,
                    list(expected),
                    list(entry.shape),
                    f"config.json makes this tensor {made_of}: config and weights disagree on the heads, head_dim or hidden_size",
                )
        for name in sorted(first_names - set(tensors)):
            grouped.add(
                index,
                inspection.checkpoint.directory,
                name,
                "present",
                "absent",
                f"layer {first_index} has this tensor and this layer lacks it: the checkpoint is incomplete",
            )
        for name in sorted(set(tensors) - first_names):
            grouped.add(
                index, tensors[name].file, name, "absent", "present", f"layer {first_index} lacks this tensor: layers of one model must hold the same tensors"
            )
    grouped.report_to(report)


def check_embeddings(inspection: Inspection, report: Report) -> None:
    """The embedding is vocab_size x hidden_size, the final norm H, the LM head as tie_word_embeddings says."""
    architecture, decoder, checkpoint = inspection.architecture, inspection.decoder, inspection.checkpoint
    config_file = checkpoint.config_path
    embedding = decoder.embedding
    if embedding is None:
        report.add(
            checkpoint.directory,
            MODEL,
            f"{decoder.prefix}embed_tokens.weight",
            "present",
            "absent",
            "the checkpoint holds no token embedding: it is incomplete",
            kind="checkpoint",
        )
    elif len(embedding.shape) != 2:
        report.add(embedding.file, MODEL, embedding.name, "2 dimensions", list(embedding.shape), "the file is damaged", kind="checkpoint")
    else:
        rows, columns = embedding.shape
        if rows != architecture.vocab_size:
            report.add(
                config_file,
                MODEL,
                "vocab_size",
                rows,
                architecture.vocab_size,
                f"{embedding.name} has {rows} rows: set vocab_size to {rows}",
                kind="checkpoint",
            )
        if columns != architecture.hidden_size:
            report.add(
                config_file,
                MODEL,
                "hidden_size",
                columns,
                architecture.hidden_size,
                f"{embedding.name} has {columns} columns: set hidden_size to {columns}",
                kind="checkpoint",
            )
    norm = decoder.final_norm
    if norm is None:
        report.add(
            checkpoint.directory,
            MODEL,
            f"{decoder.prefix}norm.weight",
            "present",
            "absent",
            "the checkpoint holds no final norm: it is incomplete",
            kind="checkpoint",
        )
    elif norm.shape != (architecture.hidden_size,):
        report.add(norm.file, MODEL, norm.name, [architecture.hidden_size], list(norm.shape), "the final norm must be hidden_size wide", kind="checkpoint")
    head = decoder.lm_head
    if head is None and not architecture.tie_word_embeddings:
        report.add(
            config_file,
            MODEL,
            "tie_word_embeddings",
            True,
            False,
            "config.json gives the LM head its own weights but the checkpoint holds no lm_head.weight: transformers "
            "would initialise it at random; set tie_word_embeddings to true if the head shares the embedding",
            kind="checkpoint",
        )
    elif head is not None and head.shape != (architecture.vocab_size, architecture.hidden_size):
        report.add(
            head.file,
            MODEL,
            head.name,
            [architecture.vocab_size, architecture.hidden_size],
            list(head.shape),
            "the LM head must be vocab_size x hidden_size",
            kind="checkpoint",
        )


def check_config_flags(inspection: Inspection, report: Report) -> None:
    """``attention_bias`` and ``mlp_bias``, where the config states them, match the biases saved."""
    config, facts = inspection.checkpoint.config, inspection.facts
    for key, saved, tensors in (("attention_bias", facts.qkv_bias, "q/k/v projection biases"), ("mlp_bias", facts.mlp_bias, "MLP biases")):
        stated = config.get(key)
        if isinstance(stated, bool) and stated != saved:
            report.add(
                inspection.checkpoint.config_path,
                MODEL,
                key,
                saved,
                stated,
                f"the weights {'hold' if saved else 'hold no'} {tensors}; set {key} to {'true' if saved else 'false'}",
                kind="checkpoint",
            )


def check_total(inspection: Inspection, report: Report) -> None:
    """The tensors' parameter count equals the closed form of the config with the weights' MLP widths."""
    counted, closed = inspection.total_parameters, inspection.closed_form_total_parameters
    if counted == closed:
        return
    if len(inspection.layers) == inspection.architecture.num_hidden_layers:
        basis = "the closed form of config.json's architecture with each layer's MLP width from the weights"
    else:
        basis = "the closed form of config.json's architecture (its layer count differs from the weights')"
    report.add(
        inspection.checkpoint.config_path,
        MODEL,
        "total_parameters",
        closed,
        counted,
        f"the tensors hold {counted} parameters, {basis} gives {closed} ({counted - closed:+d}): a tensor is "
        "missing, extra or shaped unlike the config (see the other problems)",
        kind="checkpoint",
    )


# --- against the catalogue --------------------------------------------------------------------


def check_record(inspection: Inspection, record: ExpansionRecord, file: str, report: Report) -> None:
    """The checkpoint is the catalogue's ``record``: its pruned architecture, width and total."""
    report.checked["records"] += 1
    block = record.pruned_architecture
    label = record.label
    widths = inspection.dense_widths
    if any(width != block.intermediate_size for width in widths.values()):
        report.add(
            file,
            label,
            "pruned_architecture.intermediate_size",
            block.intermediate_size,
            widths_by_layer(widths),
            f"the record prunes every MLP to {block.intermediate_size} neurons; the checkpoint's layers hold other widths",
            kind="checkpoint-record",
        )
    if block.total_parameters != inspection.total_parameters:
        report.add(
            file,
            label,
            "pruned_architecture.total_parameters",
            block.total_parameters,
            inspection.total_parameters,
            f"the checkpoint's tensors hold {inspection.total_parameters} parameters, the record "
            f"{block.total_parameters} ({inspection.total_parameters - block.total_parameters:+d}): it is another model "
            "or another pruning level",
            kind="checkpoint-record",
        )
    for name in ARCHITECTURE_FIELDS:
        value = getattr(block, name)
        if name in ("intermediate_size", "num_mlp_layers") or value is None:
            continue
        found = inspection.non_mlp_parameters if name == "non_mlp_parameters" else getattr(inspection.architecture, name)
        if found != value:
            report.add(
                file,
                label,
                f"pruned_architecture.{name}",
                value,
                found,
                "the checkpoint's architecture differs from the record's: it is another model",
                kind="checkpoint-record",
            )

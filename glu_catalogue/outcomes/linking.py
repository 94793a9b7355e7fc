"""Joining each model of an outcome file to exactly one catalogue record, or saying why it cannot be.

In this order, and never by a guess:

1. ``--record MODEL@PCT`` given: that record (the file must measure one model); else the record a
   file of ``catalogue evaluate`` or ``bench`` names, with the digest of the neurons its model kept
   (``checks`` compares it with the record's);
2. a checkpoint directory the file names (lm-eval's ``pretrained=``): its safetensors headers are
   inspected and the records of the same architecture (hidden size, layers, MLP width, total) are
   found: exactly one links; several (a base model and its Instruct sibling share every count)
   refuse the link, naming them;
3. a hub id the file names: a registry id links at the file's pruning % (0 when it states none);
   any other is read from the hub as a checkpoint (config.json and safetensors headers, never the
   weights) and linked as a checkpoint directory is; one that cannot be read is refused, with a
   pointer at ``catalogue add``;
4. the study's model family (``experiment_metadata.model_family``, or the model's name before
   ``-pruned-``) and pruning %: the one registry id whose name is the family.

A parameter count alone never links; it is checked against the record afterwards (``checks``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..core.problems import show
from ..core.records import ExpansionRecord
from ..core.text import whole_number
from ..errors import InputError, ReadError
from ..store.local_paths import path_kind
from .reading import Claim, ModelGroup

#: The study's names of pruned models: ``Llama-3.2-1B-pruned-10%`` (and ``-10pct``).
PRUNED_NAME = re.compile(r"^(?P<family>.+?)-pruned-(?P<pct>\d+)(?:%|pct)?(?:-run\d+)?$")


class LinkError(InputError):
    """An outcome file whose models cannot all be joined to a record; nothing is written."""


@dataclass(frozen=True)
class Link:
    """A model group joined to its record, and how (``by``: what in the file decided it)."""

    group: ModelGroup
    record: ExpansionRecord
    by: str

    @property
    def label(self) -> str:
        """``MODEL@PCT`` of the record."""
        return f"{self.record.base_model}@{self.record.pruning_pct}"


Records = Mapping[tuple[str, int], ExpansionRecord]


def link_groups(path: Path, groups: list[ModelGroup], records: Records, registry_ids: set[str], record_label: str | None = None) -> list[Link]:
    """Every group of a file joined to one record; ``LinkError`` (one line) naming the first that cannot be."""
    if record_label is not None:
        if len(groups) != 1:
            raise LinkError(f"{path}: the file measures {len(groups)} models; --record names one record (give it for a file of one model)")
        return [Link(groups[0], _record(path, record_label, records), f"--record {record_label}")]
    return [_link(path, group, records, registry_ids) for group in groups]


def _link(path: Path, group: ModelGroup, records: Records, registry_ids: set[str]) -> Link:
    claim = group.claim
    where = f"{path} ({claim.where})"
    if claim.record is not None:
        return Link(group, _record(where, claim.record, records), "the record and kept-neuron digest the catalogue wrote in it")
    local = _local_directory(claim.repository)
    if local is not None:
        return Link(group, _by_checkpoint(where, local, records), f"the checkpoint {claim.repository}, by its safetensors headers")
    family, pct, by = _family_and_pct(claim)
    if claim.repository and family is None:
        repository = claim.repository.partition("@")[0]
        if repository not in registry_ids:
            checkpoint = _hub_checkpoint(where, claim.repository, repository)
            return Link(group, _by_checkpoint(where, checkpoint, records), f"the hub checkpoint {claim.repository}, by its safetensors headers")
        return Link(group, _record(where, f"{repository}@{claim.pruning_pct or 0}", records), f"the hub id {repository}")
    if family is None:
        raise LinkError(f"{where}: the file does not name its model (no checkpoint, hub id or family): give --record MODEL@PCT")
    matches = sorted(model_id for model_id in registry_ids if model_id.split("/")[-1] == family)
    if len(matches) != 1:
        hint = f"registry ids named {family}: {', '.join(matches)}" if matches else f"no registry id is named {family} (`catalogue add` it)"
        raise LinkError(f"{where}: the family {family!r} names {len(matches)} registry models ({hint}); give --record MODEL@PCT")
    if pct is None:
        raise LinkError(f"{where}: the file does not say the pruning % of {family}: give --record MODEL@PCT")
    return Link(group, _record(where, f"{matches[0]}@{pct}", records), by)


def _family_and_pct(claim: Claim) -> tuple[str | None, int | None, str]:
    """The study's family and pruning % of a group: stated, else read from its name; with what decided them."""
    name = claim.name or ""
    named = PRUNED_NAME.match(name)
    family = claim.family or (named["family"] if named else (name or None))
    pct = claim.pruning_pct if claim.pruning_pct is not None else (whole_number(named["pct"]) if named else (0 if name else None))
    return family, pct, f"the study's family {family} and each model's pruning %"


def _local_directory(repository: str | None) -> Path | None:
    if not repository:
        return None
    try:
        return Path(repository).expanduser() if path_kind(repository) == "directory" else None
    except InputError:
        return None


def _hub_checkpoint(where: str, typed: str, repository: str):
    """The hub checkpoint a file names (not a registry model), read from its config and headers; ``LinkError`` if it cannot be."""
    from ..checkpoints.hub_checkpoint import read_hub_checkpoint
    from ..store.sources import hub_id_match

    match = hub_id_match(typed)
    if match is None:
        raise LinkError(f"{where}: names {typed}, neither a registry id, a checkpoint directory nor a hub id: give --record MODEL@PCT")
    try:
        return read_hub_checkpoint(match["repo"], match["revision"])[0]
    except InputError as error:
        raise LinkError(
            f"{where}: names {repository}, which the registry does not hold, and its safetensors headers cannot be read "
            f"({str(error).partition(': ')[2] or error}): `catalogue add {repository}` adds it, then `catalogue build --models {repository}`; "
            "or give --record MODEL@PCT"
        ) from None


def _by_checkpoint(where: str, directory, records: Records) -> ExpansionRecord:
    """The one record whose pruned architecture the checkpoint's headers show (a directory, or a hub checkpoint read)."""
    from ..checkpoints.inspect import inspect_checkpoint

    try:
        inspection = inspect_checkpoint(directory)
    except ReadError as error:
        raise LinkError(f"{where}: the checkpoint it names cannot be inspected: {error}") from None
    widths = set(inspection.layer_intermediate_sizes)
    if len(widths) != 1:
        raise LinkError(f"{where}: the checkpoint's layers have MLP widths {sorted(widths)}: not a uniformly pruned catalogue model")
    shape = (inspection.weights_hidden_size, widths.pop(), len(inspection.layers), inspection.total_parameters)
    candidates = sorted(
        (record for record in records.values() if record.pruned_architecture is not None and _shape(record) == shape),
        key=lambda record: (record.base_model, record.pruning_pct),
    )
    labels = ", ".join(f"{record.base_model}@{record.pruning_pct}" for record in candidates)
    if len(candidates) > 1:
        raise LinkError(
            f"{where}: the checkpoint has the architecture and parameter count of {len(candidates)} records ({labels}): "
            "a count cannot tell them apart (a base model and its Instruct sibling): give --record MODEL@PCT"
        )
    if not candidates:
        raise LinkError(
            f"{where}: no catalogue record has this checkpoint's architecture (H {shape[0]}, I {shape[1]}, {shape[2]} layers, "
            f"{shape[3]:,} parameters): build its model into the catalogue, or give --record MODEL@PCT"
        )
    return candidates[0]


def _shape(record: ExpansionRecord) -> tuple[int, int, int, int]:
    block = record.pruned_architecture
    return (block.hidden_size, block.intermediate_size, block.num_hidden_layers, block.total_parameters)


def _record(where: object, label: str, records: Records) -> ExpansionRecord:
    model, _, pct_text = label.rpartition("@")
    pct_number = whole_number(pct_text.removesuffix("%"), signed=True)
    if not model or pct_number is None:
        raise LinkError(f"{where}: {show(label)!r} is not MODEL@PCT with a whole percentage (e.g. meta-llama/Llama-3.2-1B@40)")
    record = records.get((model, pct_number))
    if record is None:
        known = sorted(p for (m, p) in records if m == model)
        hint = f"it has {model} at {', '.join(map(str, known))} %" if known else f"it has no record of {model}"
        raise LinkError(f"{where}: the catalogue has no record {label} ({hint})")
    return record

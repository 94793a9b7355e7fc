"""Joining each model of an outcome file to exactly one catalogue record, or saying why it cannot be.

In this order, and never by a guess:

1. ``--record MODEL@PCT`` given: that record (the file must measure one model), for files that name
   no usable model (an in-memory model, a local path that is gone); a model the file does name that
   is not the record's (another hub id, a checkpoint of another shape) is said in the link and
   reported by ``checks`` (``outcome-model``); else the record a file of ``catalogue evaluate`` or
   ``bench`` names, with the digest of the neurons its model kept (``checks`` compares it with the
   record's);
2. a checkpoint directory the file names (lm-eval's ``pretrained=``): its safetensors headers are
   inspected and the records of the same architecture (hidden size, layers, MLP width, total) are
   found: exactly one links; several (a base model and its Instruct sibling share every count)
   refuse the link, naming them;
3. a hub id the file names: a registry id links at the file's pruning % (0 when it states none);
   any other is read from the hub as a checkpoint (config.json and safetensors headers, never the
   weights) at the revision the file names (``org/name@rev``, lm-eval's ``revision=``) and linked as
   a checkpoint directory is; one that cannot be read is refused, naming the revision, with a
   pointer at ``catalogue add``;
4. the study's model family (``experiment_metadata.model_family``, or the model's name before
   ``-pruned-``) and pruning %: the one registry id whose name is the family; a name whose family
   names no registry id (the study's CSV writes ``Llama-3.2-1B-I-pruned-10%``) links when another
   file of the same command gives that very name with its family stated (the study's JSON of the
   same models: ``experiment_metadata.model_family``), never by resemblance.

A parameter count alone never links; it is checked against the record afterwards (``checks``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
    #: With --record: why the model the file names is not the record's (None: it is, or the file names none usable).
    other_model: str | None = None

    @property
    def label(self) -> str:
        """``MODEL@PCT`` of the record."""
        return f"{self.record.base_model}@{self.record.pruning_pct}"


Records = Mapping[tuple[str, int], ExpansionRecord]


def link_groups(
    path: Path, groups: list[ModelGroup], records: Records, registry_ids: set[str], record_label: str | None = None, named: Mapping[str, str] | None = None
) -> list[Link]:
    """Every group of a file joined to one record; ``LinkError`` (one line) naming the first that cannot be.

    With ``record_label`` (``--record``) the file's one group is joined to that record, and a model the file names
    that is not the record's model is said in the link (``other_model``), for the checks to report. ``named``: model
    names that other files of the same command state with their family (name -> registry id).
    """
    if record_label is not None:
        if len(groups) != 1:
            raise LinkError(f"{path}: the file measures {len(groups)} models; --record names one record (give it for a file of one model)")
        record = _record(path, record_label, records)
        other = named_other_model(f"{path} ({groups[0].claim.where})", groups[0].claim, record, registry_ids)
        return [Link(groups[0], record, f"--record {record_label}", other)]
    return [_link(path, group, records, registry_ids, named or {}) for group in groups]


def named_other_model(where: str, claim: Claim, record: ExpansionRecord, registry_ids: set[str]) -> str | None:
    """Why the model a file names (a checkpoint, a hub id) is not ``record``'s model; None when it is, or names nothing usable.

    A checkpoint directory is the record's when its safetensors headers show the record's architecture (a base model
    and its Instruct sibling share it: --record tells them apart). A hub id is the record's when it is the record's
    model; another registry id never is; any other is read from the hub, and only a pruned checkpoint (the record's
    pruning % above 0) with the record's pruned architecture is taken for it: an unpruned checkpoint of another name
    is another model (a fine-tune or a distillation shares every count). Text that names neither (an in-memory
    model, a local path that is gone) leaves the link to ``--record``.
    """
    named = claim.repository
    label = f"{record.base_model}@{record.pruning_pct}"
    if not named:
        return None
    local = _local_directory(named)
    if local is not None:
        return _not_shaped_like(where, local, record, f"the checkpoint {named}")
    match = _hub_id(named)
    if match is None:
        return None
    repository, revision = match["repo"], match["revision"] or claim.revision
    if repository == record.base_model:
        return None
    if repository in registry_ids or record.pruning_pct == 0:
        what = "another registry model" if repository in registry_ids else "another model (a fine-tune or distillation has the same counts)"
        return f"the file names {repository}, {what}, not {record.base_model}: its values are not {label}'s"
    try:
        checkpoint = _read_hub(repository, revision)
    except InputError as error:
        return (
            f"the file names {repository}, not {record.base_model}, and its safetensors headers cannot be read "
            f"({str(error).partition(': ')[2] or error}): it cannot be told to be a pruned checkpoint of {label}"
        )
    return _not_shaped_like(where, checkpoint, record, f"the hub checkpoint {repository}")


def _not_shaped_like(where: str, checkpoint, record: ExpansionRecord, what: str) -> str | None:
    """Why ``checkpoint`` is not ``record``'s model by its headers; None when the record has its architecture."""
    try:
        candidates, shape = _shaped_like(where, checkpoint, {(record.base_model, record.pruning_pct): record})
    except LinkError as error:
        return f"{what} is not {record.base_model}@{record.pruning_pct}'s model: {str(error).partition(': ')[2]}"
    if candidates:
        return None
    return (
        f"{what} has the architecture H {shape[0]}, I {shape[1]}, {shape[2]} layers, {shape[3]:,} parameters, "
        f"not that of {record.base_model}@{record.pruning_pct}: its values are not that record's"
    )


def family_names(links: list[Link]) -> dict[str, str]:
    """The model names of links whose file states the family (the study's JSON), each with its registry id."""
    return {link.group.claim.name: link.record.base_model for link in links if link.group.claim.family and link.group.claim.name}


def _link(path: Path, group: ModelGroup, records: Records, registry_ids: set[str], named: Mapping[str, str]) -> Link:
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
            checkpoint, revision = _hub_checkpoint(where, claim)
            at = f" at revision {revision}" if revision else ""
            return Link(group, _by_checkpoint(where, checkpoint, records), f"the hub checkpoint {repository}{at}, by its safetensors headers")
        return Link(group, _record(where, f"{repository}@{claim.pruning_pct or 0}", records), f"the hub id {repository}")
    if family is None:
        raise LinkError(f"{where}: the file does not name its model (no checkpoint, hub id or family): give --record MODEL@PCT")
    matches = sorted(model_id for model_id in registry_ids if model_id.split("/")[-1] == family)
    if not matches and claim.name in named and pct is not None:
        by = f"the name {claim.name}, which another file of this command gives with its family"
        return Link(group, _record(where, f"{named[claim.name]}@{pct}", records), by)
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


def _hub_id(text: str):
    from ..store.sources import hub_id_match

    return hub_id_match(text)


def _read_hub(repository: str, revision: str | None):
    """The checkpoint of ``repository`` at ``revision`` read from the hub (config and headers); ``InputError`` if it cannot be."""
    from ..checkpoints.hub_checkpoint import read_hub_checkpoint

    return read_hub_checkpoint(repository, revision)[0]


def _hub_checkpoint(where: str, claim: Claim):
    """The hub checkpoint a file names (not a registry model) at the revision it names (``org/name@rev``, lm-eval's
    ``revision=``), read from its config and headers, and that revision; ``LinkError`` if it cannot be read."""
    match = _hub_id(claim.repository)
    if match is None:
        raise LinkError(f"{where}: names {claim.repository}, neither a registry id, a checkpoint directory nor a hub id: give --record MODEL@PCT")
    repository, revision = match["repo"], match["revision"] or claim.revision
    try:
        return _read_hub(repository, revision), revision
    except InputError as error:
        at = f" at revision {revision}" if revision else ""
        raise LinkError(
            f"{where}: names {repository}{at}, which the registry does not hold, and its safetensors headers cannot be read "
            f"({str(error).partition(': ')[2] or error}): `catalogue add {repository}` adds it, then `catalogue build --models {repository}`; "
            "or give --record MODEL@PCT"
        ) from None


def _by_checkpoint(where: str, directory, records: Records) -> ExpansionRecord:
    """The one record whose pruned architecture the checkpoint's headers show (a directory, or a hub checkpoint read)."""
    candidates, shape = _shaped_like(where, directory, records)
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


def _shaped_like(where: str, directory, records: Records) -> tuple[list[ExpansionRecord], tuple[int, int, int, int]]:
    """The records whose pruned architecture and count the checkpoint's headers show, and that shape (H, I, layers, total)."""
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
    return candidates, shape


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

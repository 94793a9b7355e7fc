"""Any model as input: a registry id, or a config.json, checkpoint directory or hub id outside the registry.

``resolve_model(text)`` is what every command that takes a model calls: a registry id gives its
entry; anything else is read (``store.sources``), counted from the facts shipped for its model type
(``store.known_types``, no torch) or else built on the meta device and its facts read
(``generate.facts``, imported only then), and made into a ``ModelEntry`` like the registry's
(not written anywhere: ``catalogue add`` writes one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.architecture import CONFIG_FIELDS
from ..core.derive import closed_form_provenance, closed_form_record
from ..core.formulas import display, millions
from ..core.records import ExpansionRecord
from ..errors import ArchitectureError, ExtraNeeded, PruningError, RecordNotFound, SourceError, UnknownModelError, UsageError
from ..store.known_types import counted_config, type_facts
from ..store.local_paths import names_local_path
from ..store.paths import registry_layers
from ..store.registry import ModelEntry, Origin, get_model, load_registry, suggest
from ..store.sources import ModelSource, looks_like_source, read_source

if TYPE_CHECKING:
    from ..core.model_facts import DerivedFacts

#: The top-level modules of the ``generate`` extra: one of them missing means the extra is not installed.
GENERATE_EXTRA_MODULES = frozenset({"torch", "transformers", "optipfair", "accelerate"})

#: A size token of a model name: ``7B``, ``0.5B``, ``1_6b`` (1.6B), ``135M``, ``8x7B``.
SIZE_TOKEN = re.compile(r"^\d+(?:[._]\d+)?[bBmM]$|^\d+x\d+(?:\.\d+)?[bB]$")

#: Name parts that say what was done to a model, not which family it is.
VARIANT_WORDS = frozenset({"instruct", "base", "chat", "hf", "it", "pt", "preview"})


def resolve_model(text: str, registry_dir: Path | None = None) -> ModelEntry:
    """The registry entry ``text`` names, else the entry of the config, checkpoint or hub id it names.

    An id neither in the registry nor a path nor a hub id raises ``UnknownModelError`` with
    the closest registry ids; a source that cannot be read or built raises ``SourceError`` or
    ``ArchitectureError`` (one line, exit 2).
    """
    registry = load_registry(registry_dir)
    if text in registry:
        return registry[text]
    if _registry_like(text, registry):
        return get_model(text, registry_dir)  # raises UnknownModelError with suggestions
    try:
        return _source_entry(text, registry_dir)
    except SourceError as error:
        if is_local_path(text):
            raise
        raise UnknownModelError(text, suggest(text, registry), hub_reason=_hub_reason(str(error))) from None


def _hub_reason(message: str) -> str:
    """A hub source's error as the tail of an unknown-id message: without its leading repository (the id is named
    already), but whole where it names a file in the repository (``org/name@commit/config.json: ...``)."""
    where, _, why = message.partition(": ")
    return message if "/" in where.partition("@")[2] else why


@lru_cache(maxsize=32)
def _source_entry(text: str, registry_dir: Path | None) -> ModelEntry:
    """The entry of a source outside the registry; cached, as a build resolves its models twice."""
    source = read_source(text)
    return entry_from_source(source, model_id=source.model_id or local_model_id(source), registry_dir=registry_dir)


def local_model_id(source: ModelSource) -> str:
    """The id of a local config or checkpoint that names none: ``local/<its directory's name>``.

    However the path was typed (``models/llama``, ``../models/llama``, absolute), the same
    directory gives the same id; the record's origin holds the resolved path.
    """
    path = Path(source.location).expanduser()
    try:
        path = path.resolve()
    except (OSError, RuntimeError):
        pass
    if source.kind == "config" and path.name.lower() != "config.json":
        name = path.stem
    else:
        name = path.name if source.kind == "checkpoint" else path.parent.name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")[:96] or "model"
    return f"local/{name}"


def unique_entries(texts: Sequence[str], entries: Sequence[ModelEntry]) -> list[ModelEntry]:
    """``entries`` with one entry per model: the same source typed twice (or two ways) counts once.

    Two different sources that would get the same id are refused (``UsageError``), naming both.
    """
    chosen: dict[str, tuple[str, ModelEntry]] = {}
    for text, entry in zip(texts, entries):
        if entry.model_id in chosen:
            first_text, first = chosen[entry.model_id]
            if _identity(first) != _identity(entry):
                raise UsageError(
                    f"{first_text} and {text} are different models that would both be {entry.model_id}: "
                    "give each its own id with `catalogue add PATH --id ORG/NAME`, then build them by id"
                )
            continue
        chosen[entry.model_id] = (text, entry)
    return [entry for _, entry in chosen.values()]


def _identity(entry: ModelEntry) -> tuple:
    origin = entry.origin
    return (origin.kind, origin.location, origin.revision, origin.config_sha256) if origin is not None else (entry.model_id,)


def derive(source: ModelSource) -> DerivedFacts:
    """The facts of ``source``'s config: from the facts shipped (or cached) for its model type where they count it
    exactly (no torch), else read off its transformers class on the meta device, saying why.

    A type whose modelling source in the installed transformers differs from the shipped facts' gets its facts
    derived once on the meta device and cached, so the next config of that type needs no torch. Without torch,
    a config that needs the meta device is ``ExtraNeeded`` (one line naming the pip install).
    """
    counted, reason = counted_config(source.config)
    if counted is not None:
        return counted
    try:
        from ..generate.facts import derive_facts
        from ..generate.type_facts import cache_type_facts
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in GENERATE_EXTRA_MODULES:
            raise
        raise ExtraNeeded(
            f"{source.label}: counting it needs the meta device, and {error.name} is not installed: "
            f"pip install 'glu-catalogue[generate]' (why the meta device: {reason})"
        ) from None
    if type_facts(source.config.get("model_type")).derivable:
        cache_type_facts(source.config["model_type"])
        counted, reason = counted_config(source.config)
        if counted is not None:
            return replace(counted, notes=(*counted.notes, "its type's facts were derived on the meta device by this call, once"))
    try:
        derived = derive_facts(source.config)
    except ArchitectureError as error:  # transformers' reason, with the file or id it is about
        raise type(error)(f"{source.label}: {error}") from None
    return replace(derived, notes=(*derived.notes, f"counted on the meta device: {reason}"))


def entry_from_source(
    source: ModelSource,
    model_id: str,
    family: str | None = None,
    size_label: str | None = None,
    derived: DerivedFacts | None = None,
    registry_dir: Path | None = None,
) -> ModelEntry:
    """A ``ModelEntry`` for ``source``: its config, the facts derived from it, labels inferred unless given."""
    derived = derived or derive(source)
    return ModelEntry.model_validate(
        {
            "model_id": model_id,
            "family": family or infer_family(model_id, registered(registry_dir)),
            "size_label": size_label or infer_size_label(model_id, derived.total_parameters),
            "config": source.config,
            "architecture_facts": registry_facts(derived, source.config),
            "sources": [],
            "origin": origin_of(source).model_dump(exclude_none=True),
        }
    )


def registered(registry_dir: Path | None = None) -> dict[str, ModelEntry]:
    """The registry's entries (of ``registry_dir``, else the registry as commands read it); none for a registry
    directory that holds no file yet."""
    if registry_dir is None:
        if not any(any(directory.glob("*.json")) for directory, _ in registry_layers()):
            return {}
        return load_registry()
    directory = Path(registry_dir)
    return load_registry(directory) if any(directory.glob("*.json")) else {}


def origin_of(source: ModelSource) -> Origin:
    """Where ``source`` was read: kind, path or hub id, the commit, and the config file's sha256."""
    location = source.location
    if source.kind != "hub":  # the directory or file itself, however the path was typed
        try:
            location = str(Path(location).expanduser().resolve())
        except (OSError, RuntimeError):
            pass
    return Origin(kind=source.kind, location=location, revision=source.revision, config_sha256=source.config_sha256)


def registry_facts(derived: DerivedFacts, config: dict[str, Any]) -> dict[str, Any]:
    """The ``architecture_facts`` of a registry entry: the derived facts, the config fields only
    where config.json does not state them as the architecture reads them."""
    facts = derived.facts_document()
    stated = config_reading(config)
    for name in CONFIG_FIELDS:
        if stated.get(name) == facts[name]:
            del facts[name]
    return {key: value for key, value in facts.items() if value is not None}


def config_reading(config: dict[str, Any]) -> dict[str, Any]:
    """What ``Architecture.from_config`` reads from config.json alone, field by field (None: absent)."""
    values = {name: config.get(name) for name in CONFIG_FIELDS}
    values["num_key_value_heads"] = config.get("num_key_value_heads") or config.get("num_attention_heads")
    values["tie_word_embeddings"] = config.get("tie_word_embeddings", True)
    return values


def infer_family(model_id: str, registry: dict[str, ModelEntry]) -> str:
    """The family in a model's name: the words before its size (``Qwen3-4B`` -> ``Qwen3``).

    Dates and variant words are dropped; a family the registry already has is spelled as there.
    """
    words = model_id.split("/")[-1].split("-")
    family: list[str] = []
    for word in words:
        if SIZE_TOKEN.match(word) or word.lower() in VARIANT_WORDS:
            break
        family.append(word)
    while len(family) > 1 and family[-1].isdigit() and len(family[-1]) >= 2:
        family.pop()  # a date or version number: 0425, 2024, 12
    name = "-".join(family) or model_id.split("/")[-1]
    known = {entry.family.lower(): entry.family for entry in registry.values()}
    return known.get(name.lower(), name)


def infer_size_label(model_id: str, total_parameters: int) -> str:
    """The last size token of the name (``7B``, ``8x7B``), else the total in B or M (``8.0B``)."""
    words = [word for word in model_id.split("/")[-1].split("-") if SIZE_TOKEN.match(word)]
    if words:
        size = words[-1].replace("_", ".")
        return size[:-1] + size[-1].upper()
    if total_parameters >= 1e9:
        return f"{display(total_parameters / 1e9, 1)}B"
    return f"{round(millions(total_parameters))}M"


def computed_record(model: str, pruning_pct: int) -> ExpansionRecord:
    """The record optipfair's rule gives ``model`` at ``pruning_pct``, by formula (a model outside the catalogue)."""
    entry = resolve_model(model)
    if entry.not_prunable:
        raise RecordNotFound(f"{model} is not prunable by optipfair ({entry.not_prunable}): no record at {pruning_pct} %")
    try:
        return closed_form_record(entry.model_id, entry.architecture, pruning_pct, closed_form_provenance())
    except PruningError as error:
        raise RecordNotFound(f"{model}@{pruning_pct}: optipfair would refuse this level ({error})") from None


def record_for_label(label: str, catalogue_path: Path | None = None) -> str | ExpansionRecord:
    """``MODEL@PCT`` as ``inspect`` takes it: the label itself for a registry model or a model the catalogue
    (``catalogue_path``: a catalogue JSON or data directory, default data/) holds, whose record is read there;
    the computed record for a config.json, checkpoint or hub id outside both."""
    from ..checkpoints.inspect import catalogues_model, parse_record_label

    model, pruning_pct = parse_record_label(label)
    if _registry_like(model, load_registry()) or catalogues_model(model, catalogue_path):
        return label
    return computed_record(model, pruning_pct)


def is_local_path(text: str) -> bool:
    """True when ``text`` names something on disk, or is written as a path: its errors are about that path."""
    return names_local_path(text)


def _registry_like(text: str, registry: dict[str, ModelEntry]) -> bool:
    """True for a registry id, one differing only in case (a typo to suggest for), or anything but a source."""
    return text.lower() in {model_id.lower() for model_id in registry} or not looks_like_source(text)

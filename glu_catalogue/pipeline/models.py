"""Any model as input: a registry id, or a config.json, checkpoint directory or hub id outside the registry.

``resolve_model(text)`` is what every command that takes a model calls: a registry id gives its
entry; anything else is read (``store.sources``), built on the meta device and its facts read
(``generate.facts``, imported only then), and made into a ``ModelEntry`` like the registry's
(not written anywhere: ``catalogue add`` writes one). torch is imported only for a source
outside the registry.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.architecture import CONFIG_FIELDS
from ..core.derive import closed_form_provenance, closed_form_record
from ..core.formulas import display
from ..core.records import ExpansionRecord
from ..errors import PruningError, RecordNotFound, SourceError, UnknownModelError
from ..store.paths import registry_dir as default_registry_dir
from ..store.registry import ModelEntry, Origin, get_model, load_registry, suggest
from ..store.sources import ModelSource, looks_like_source, read_source

if TYPE_CHECKING:
    from ..generate.facts import DerivedFacts

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
        if Path(text).expanduser().exists():
            raise
        raise UnknownModelError(text, suggest(text, registry), hub_reason=str(error).partition(": ")[2]) from None


@lru_cache(maxsize=32)
def _source_entry(text: str, registry_dir: Path | None) -> ModelEntry:
    """The entry of a source outside the registry; cached, as a build resolves its models twice."""
    source = read_source(text)
    return entry_from_source(source, model_id=source.model_id or text, registry_dir=registry_dir)


def derive(source: ModelSource) -> DerivedFacts:
    """The facts of ``source``'s config, read off its transformers class on the meta device."""
    from ..generate.facts import derive_facts

    return derive_facts(source.config)


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
    """The registry's entries; none for a registry directory that holds no file yet."""
    directory = Path(registry_dir or default_registry_dir())
    return load_registry(directory) if any(directory.glob("*.json")) else {}


def origin_of(source: ModelSource) -> Origin:
    """Where ``source`` was read: kind, path or hub id, the commit, and the config file's sha256."""
    return Origin(kind=source.kind, location=source.location, revision=source.revision, config_sha256=source.config_sha256)


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
    return f"{round(total_parameters / 1e6)}M"


def computed_record(model: str, pruning_pct: int) -> ExpansionRecord:
    """The record optipfair's rule gives ``model`` at ``pruning_pct``, by formula (a model outside the catalogue)."""
    entry = resolve_model(model)
    if entry.not_prunable:
        raise RecordNotFound(f"{model} is not prunable by optipfair ({entry.not_prunable}): no record at {pruning_pct} %")
    try:
        return closed_form_record(entry.model_id, entry.architecture, pruning_pct, closed_form_provenance())
    except PruningError as error:
        raise RecordNotFound(f"{model}@{pruning_pct}: optipfair would refuse this level ({error})") from None


def record_for_label(label: str) -> str | ExpansionRecord:
    """``MODEL@PCT`` as ``inspect`` takes it: the label itself for a registry model (its catalogue record),
    the computed record for a config.json, checkpoint or hub id outside the registry."""
    from ..checkpoints.inspect import parse_record_label

    model, pruning_pct = parse_record_label(label)
    if _registry_like(model, load_registry()):
        return label
    return computed_record(model, pruning_pct)


def _registry_like(text: str, registry: dict[str, ModelEntry]) -> bool:
    """True for a registry id, one differing only in case (a typo to suggest for), or anything but a source."""
    return text.lower() in {model_id.lower() for model_id in registry} or not looks_like_source(text)

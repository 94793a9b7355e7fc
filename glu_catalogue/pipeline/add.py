"""``catalogue add``: write a registry entry for a model from its config.json, checkpoint or hub id.

The entry holds the config, where it came from (``origin``: path or hub id and commit, the
sha256 of the config file read), family and size label (inferred from the id unless given),
the sources it cites, and the architecture facts read off its transformers class on the meta
device. When the source is a checkpoint with safetensors, its headers are a second, independent
reading: their parameter count and the facts their tensor names show must agree with the
derived ones. Nothing is written unless everything checks out; the file is written atomically
and an id the registry holds already is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..checkpoints.experts import buffer_suffixes
from ..checkpoints.reading import BUFFER_SUFFIXES, Checkpoint, decoder_of, facts_from_tensors, read_checkpoint
from ..errors import ArchitectureError, RegistryError, SourceError, UsageError
from ..store import registry as registry_store
from ..store.paths import MODELS_DIR, default_data_dir, display_path, write_registry_dir, write_roots
from ..store.reading import ReadError, read_json
from ..store.registry import ModelEntry, RegistryEntry, Source
from ..store.sources import MODEL_ID, ModelSource, read_source
from ..store.writing import write_files
from .models import derive, entry_from_source, registered
from .publish import site_for_registry

#: Facts a checkpoint's tensor names show, compared with the derived ones.
HEADER_FACTS = ("qkv_bias", "o_proj_bias", "mlp_bias", "qk_norm", "fused_qkv", "fused_gate_up", "norms_per_layer")

#: The order of a registry file's keys.
ENTRY_KEYS = ("model_id", "family", "size_label", "config", "architecture_facts", "sources", "source_grade", "origin", "note")


@dataclass
class Added:
    """What ``add_model`` wrote: the file, the entry, the derived facts, and what the headers confirmed."""

    path: Path
    entry: ModelEntry
    derived: Any
    header_parameters: int | None = None
    notes: list[str] = field(default_factory=list)


def add_model(
    text: str,
    *,
    model_id: str | None = None,
    family: str | None = None,
    size_label: str | None = None,
    sources_file: Path | None = None,
    grade: str | None = None,
    registry_dir: Path | None = None,
) -> Added:
    """Read ``text`` (a config.json, checkpoint directory or hub id), derive its facts, write its entry.

    Raises ``UsageError`` without a usable id, ``RegistryError`` for an id already registered,
    ``SourceError``/``ArchitectureError`` for a source that cannot be read or described.
    """
    directory = Path(registry_dir or write_registry_dir())
    lookup = directory if registry_dir is not None else None  # the registry as commands read it (a workspace's: shipped + own)
    if text in registered(lookup):
        raise RegistryError(f"{text} is already in the registry: `catalogue models` lists it")
    source = read_source(text)
    model_id = _model_id(model_id, source, text)
    target = directory / f"{model_id.replace('/', '__')}.json"
    _refuse_existing(model_id, target, lookup)
    sources, note = _citations(source, sources_file)
    derived = derive(source)
    added = Added(path=target, entry=None, derived=derived)  # type: ignore[arg-type]
    if source.weights_dir is not None:
        added.header_parameters = _check_headers(source.weights_dir, derived, added.notes)
    elif source.hub is not None and _holds_safetensors(source.hub.files):
        added.header_parameters = _check_headers(_hub_checkpoint(source), derived, added.notes)
        added.notes.append(f"safetensors headers read from the hub: {source.hub.bytes_read:,} bytes in all, no weights")
    entry = entry_from_source(source, model_id, family, size_label, derived, registry_dir=lookup)
    document = _document(entry, sources, note, grade)
    try:
        added.entry = RegistryEntry.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UsageError(f"{sources_file or text}: {where}: {first['msg']}") from None
    texts, obsolete = _site_texts(directory, lookup, added.entry)
    texts[target] = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        write_files(texts, delete=obsolete, roots=_roots(directory, texts))
    except OSError as error:
        raise RegistryError(f"{display_path(target)}: cannot write: {error.strerror or error}; nothing written") from None
    registry_store.clear_cache()
    added.notes += list(derived.notes)
    return added


def _site_texts(directory: Path, lookup: Path | None, entry: RegistryEntry) -> tuple[dict[Path, str], list[Path]]:
    """The site's generated files with ``entry`` registered: only for the registry beside the data the site shows
    (``data/models``), not one named by ``$CATALOGUE_REGISTRY_DIR`` elsewhere."""
    try:
        if directory.resolve() != (default_data_dir() / MODELS_DIR).resolve():
            return {}, []
    except (OSError, RuntimeError):
        return {}, []
    registry = {**registered(lookup), entry.model_id: entry}
    return site_for_registry(dict(sorted(registry.items())))


def _roots(directory: Path, texts: dict[Path, str]) -> tuple[Path, ...]:
    """Where this write may reach: the registry, and the site's directory when its files are written."""
    return (directory, *write_roots(default_data_dir())) if len(texts) > 1 else (directory,)


def _model_id(given: str | None, source: ModelSource, text: str) -> str:
    model_id = given or source.model_id
    if model_id is None:
        raise UsageError(f"{text} names no model id (no _name_or_path in its config): give one with --id ORG/NAME")
    if not MODEL_ID.match(model_id):
        raise UsageError(f"--id {model_id!r}: expected ORG/NAME (letters, digits, '.', '_', '-')")
    return model_id


def _refuse_existing(model_id: str, target: Path, directory: Path | None) -> None:
    same_but_case = [known for known in registered(directory) if known.lower() == model_id.lower() and known != model_id]
    if same_but_case:
        raise RegistryError(
            f"{model_id} differs from the registry's {same_but_case[0]} only in case: ids must differ in more "
            "(their files would collide on a case-insensitive file system); use that id, or another --id"
        )
    if model_id in registered(directory) or target.exists():
        raise RegistryError(f"{model_id} is already in the registry ({display_path(target)}): delete that file first to add it again")


def _citations(source: ModelSource, sources_file: Path | None) -> tuple[list[dict[str, Any]], str | None]:
    """The sources an entry cites and its note: from ``--sources FILE``, else from a model description."""
    if sources_file is None:
        described = source.description
    else:
        described = _read_sources_file(Path(sources_file))
    sources = described.get("sources", [])
    if not isinstance(sources, list):
        raise UsageError(f"{sources_file or source.location}: 'sources' must be a list of {{repo, path, commit, provides}} objects")
    cleaned = [_source(item, sources_file or source.location) for item in sources]
    notes = described.get("notes")
    return cleaned, notes if isinstance(notes, str) and notes else None


def _read_sources_file(path: Path) -> dict[str, Any]:
    """The ``--sources`` file: read with every input's checks (a regular file, capped in size, strict JSON)."""
    try:
        document = read_json(path)
    except ReadError as error:
        raise UsageError(f"--sources {error}") from None
    if isinstance(document, list):
        return {"sources": document}
    if not isinstance(document, dict):
        raise UsageError(f"--sources {path}: expected a list of sources or an object with 'sources'")
    return document


def _source(item: Any, where: Any) -> dict[str, Any]:
    """One cited source, validated; an empty ``commit`` is dropped."""
    if not isinstance(item, dict):
        raise UsageError(f"{where}: each source is an object with repo, path and provides")
    cleaned = {key: value for key, value in item.items() if value not in ("", None)}
    try:
        return Source.model_validate(cleaned).model_dump(exclude_none=True)
    except ValidationError as error:
        first = error.errors()[0]
        raise UsageError(f"{where}: source {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


def _document(entry: ModelEntry, sources: list[dict[str, Any]], note: str | None, grade: str | None) -> dict[str, Any]:
    values = entry.model_dump(exclude_none=True, exclude_defaults=False)
    values["architecture_facts"] = entry.architecture_facts.model_dump(exclude_none=True)
    values.update(sources=sources, note=note, source_grade=grade)
    values.pop("fields_not_in_config_json", None)
    return {key: values[key] for key in ENTRY_KEYS if values.get(key) is not None}


def _holds_safetensors(files: tuple[str, ...]) -> bool:
    """True when a hub repository's file list has safetensors weights (or their index)."""
    return any(name.endswith((".safetensors", ".safetensors.index.json")) for name in files)


def _hub_checkpoint(source: ModelSource) -> Checkpoint:
    """The hub checkpoint ``source`` names, read from its config, index and headers (``SourceError`` if unreadable)."""
    from ..checkpoints.hub_checkpoint import read_hub_checkpoint

    try:
        return read_hub_checkpoint(source.location, repository=source.hub)[0]
    except ReadError as error:
        raise SourceError(str(error)) from None


def _check_headers(directory: Path | Checkpoint, derived: Any, notes: list[str]) -> int:
    """The checkpoint's parameter count from its headers (of a directory, or a checkpoint already read),
    which must equal the derived total, and its facts."""
    try:
        checkpoint = directory if isinstance(directory, Checkpoint) else read_checkpoint(directory)
    except ReadError as error:
        raise SourceError(str(error)) from None
    directory = checkpoint.directory
    tied = derived.architecture.tie_word_embeddings
    buffers = BUFFER_SUFFIXES + buffer_suffixes(checkpoint.config.get("model_type"))  # a router's saved score corrections
    counted = sum(
        entry.n_elements for name, entry in checkpoint.tensors.items() if not name.endswith(buffers) and not (tied and name.endswith("lm_head.weight"))
    )
    if counted != derived.total_parameters:
        raise ArchitectureError(
            f"{directory}: the safetensors hold {counted:,} parameters, the model config.json describes "
            f"{derived.total_parameters:,} ({counted - derived.total_parameters:+,}): not this config's weights; nothing written"
        )
    try:
        decoder = decoder_of(checkpoint)
    except ReadError:
        notes.append("the tensor names are not a layout the header reader knows: only the total was compared")
        return counted
    first_layer = next(iter(decoder.layers.values()))
    read = facts_from_tensors(first_layer, checkpoint.config)
    differing = [
        f"{name} {getattr(read, name)} (meta device: {getattr(derived.architecture, name)})"
        for name in HEADER_FACTS
        if getattr(read, name) != getattr(derived.architecture, name)
    ]
    if differing and derived.closed_form_parameters is not None:
        raise ArchitectureError(f"{directory}: the tensor names disagree with the model's class: {', '.join(differing)}; nothing written")
    if differing:
        notes.append(f"the header reader reads this architecture's tensor names differently ({', '.join(differing)}); the totals agree")
    return counted

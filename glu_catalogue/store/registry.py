"""The model registry: base models, their real config values and their sources (``data/models/``).

Each file holds one model: the ``config.json`` values read from public copies (``sources``),
the facts a config does not state (``architecture_facts``: biases, q/k norms, norms per
layer, fused projections), and the catalogue's ``family`` and ``size_label``. A variant with
the architecture of another entry (Llama-3.2-1B-Instruct) names it in
``same_architecture_as`` and carries only its own id, labels and sources.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.records import ModelShape
from ..errors import ReadError, RegistryError, UnknownModelError
from .paths import registry_dir
from .reading import kind_of, read_json


class _Loose(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Loose):
    """A public copy a config value was read from."""

    repo: str
    path: str
    commit: str | None = None
    lines: str | None = None
    provides: str


class ArchitectureFacts(_Loose):
    """What a model's config.json does not say but its transformers class does."""

    qkv_bias: bool
    o_proj_bias: bool
    mlp_bias: bool
    qk_norm: bool
    norms_per_layer: int = Field(gt=0)
    fused_qkv: bool
    fused_gate_up: bool
    head_dim_effective: int = Field(gt=0)
    mlp_param_names: list[str]
    attn_param_names: list[str]
    transformers_class: str


#: A hub-style model id, ``org/name``: letters, digits, ``-``, ``_``, ``.``; no part starts with a dot
#: (so ``..`` and hidden names are out): ids become directory names (``--save-pruned``, checkpoints).
RegistryId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,95}/[A-Za-z0-9_-][A-Za-z0-9._-]{0,95}$")]


class ModelEntry(_Loose):
    """One registry model, resolved (a variant carries its base's config and facts)."""

    model_id: RegistryId
    family: str = Field(description="Model family, e.g. Llama-3.2.")
    size_label: str = Field(
        description="Short size label, e.g. 1B: the CSV's 'Model Family' column (the study labels its Instruct rows 1B-Instruct)."
    )
    config: dict[str, Any]
    fields_not_in_config_json: list[str] = []
    architecture_facts: ArchitectureFacts
    sources: list[Source]
    same_architecture_as: str | None = None
    note: str | None = None

    @property
    def shape(self) -> ModelShape:
        """The architecture the closed form counts."""
        return shape_from_config(self.config, self.architecture_facts)

    @property
    def transformers_class(self) -> str:
        """The transformers class that builds this model, e.g. LlamaForCausalLM."""
        return self.architecture_facts.transformers_class


class _VariantFile(_Loose):
    model_id: RegistryId
    family: str
    size_label: str
    same_architecture_as: str
    sources: list[Source]
    note: str | None = None


def shape_from_config(config: dict[str, Any], facts: ArchitectureFacts) -> ModelShape:
    """A ``ModelShape`` from config.json values plus the facts the config does not state.

    Defaults are the transformers ones: ``num_key_value_heads`` = heads, tied embeddings True.
    """
    heads = config["num_attention_heads"]
    return ModelShape(
        hidden_size=config["hidden_size"],
        intermediate_size=config["intermediate_size"],
        num_hidden_layers=config["num_hidden_layers"],
        num_attention_heads=heads,
        num_key_value_heads=config.get("num_key_value_heads") or heads,
        head_dim=facts.head_dim_effective,
        vocab_size=config["vocab_size"],
        tie_word_embeddings=config.get("tie_word_embeddings", True),
        qkv_bias=facts.qkv_bias,
        o_proj_bias=facts.o_proj_bias,
        mlp_bias=facts.mlp_bias,
        qk_norm=facts.qk_norm,
        norms_per_layer=facts.norms_per_layer,
        fused_qkv=facts.fused_qkv,
        fused_gate_up=facts.fused_gate_up,
    )


def _read(path: Path) -> dict[str, Any]:
    """One registry file's object; ``RegistryError`` (one line naming the file) for anything else."""
    try:
        document = read_json(path)
    except ReadError as error:
        raise RegistryError(str(error)) from None
    if not isinstance(document, dict):
        raise RegistryError(f"{path}: expected a JSON object (one registry entry), found {kind_of(document)}")
    return document


def _errors(path: Path, error: ValidationError) -> RegistryError:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return RegistryError(f"{path}: {where}: {first['msg']}")


def load_registry(directory: Path | None = None) -> dict[str, ModelEntry]:
    """Every registry model by id, variants resolved against their base; sorted by id.

    ``directory`` defaults to ``paths.registry_dir()`` (``$CATALOGUE_REGISTRY_DIR`` or ``data/models``).
    """
    directory = Path(directory or registry_dir())
    try:
        directory = directory.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic-link loop (Python < 3.13)
        raise RegistryError(f"{directory}: a symbolic link loop, not a registry directory") from None
    return _load_registry(directory)


@lru_cache(maxsize=8)
def _load_registry(directory: Path) -> dict[str, ModelEntry]:
    files = sorted(directory.glob("*.json"))
    if not files:
        raise RegistryError(f"{directory}: no registry files (*.json)")
    bases: dict[str, ModelEntry] = {}
    variants: list[tuple[Path, _VariantFile]] = []
    for path in files:
        raw = _read(path)
        try:
            if "same_architecture_as" in raw:
                variants.append((path, _VariantFile.model_validate(raw)))
            else:
                entry = ModelEntry.model_validate(raw)
                entry.shape  # noqa: B018 - fail here, naming the file, if the config is incomplete
                bases[entry.model_id] = entry
        except ValidationError as error:
            raise _errors(path, error) from None
        except KeyError as error:
            raise RegistryError(f"{path}: config lacks {error.args[0]}") from None
    entries = dict(bases)
    for path, variant in variants:
        base = bases.get(variant.same_architecture_as)
        if base is None:
            raise RegistryError(f"{path}: same_architecture_as {variant.same_architecture_as!r} is not a base entry")
        entries[variant.model_id] = base.model_copy(update=variant.model_dump())
    return dict(sorted(entries.items()))


def get_model(model_id: str, directory: Path | None = None) -> ModelEntry:
    """The registry entry of ``model_id``; an unknown id raises ``UnknownModelError`` with suggestions."""
    entries = load_registry(directory)
    try:
        return entries[model_id]
    except KeyError:
        raise UnknownModelError(model_id, suggest(model_id, entries)) from None


def suggest(model_id: str, entries: dict[str, ModelEntry]) -> list[str]:
    """Up to three registry ids close to ``model_id`` (case-insensitive, with or without org)."""
    by_lower = {key.lower(): key for key in entries}
    by_name = {key.split("/")[-1].lower(): key for key in entries}
    wanted = model_id.lower()
    close = difflib.get_close_matches(wanted, by_lower, n=3, cutoff=0.6)
    close += difflib.get_close_matches(wanted.split("/")[-1], by_name, n=3, cutoff=0.6)
    found = [by_lower.get(item) or by_name[item] for item in close]
    return list(dict.fromkeys(found))[:3]


def size_label(model_id: str, directory: Path | None = None) -> str:
    """The CSV's 'Model Family' label of a model: the registry's ``size_label``.

    For a model outside the registry, the last size-like token of its id (``7B``, ``135M``),
    else the id's name part.
    """
    entry = load_registry(directory).get(model_id)
    if entry is not None:
        return entry.size_label
    return guess_size_label(model_id)


def guess_size_label(model_id: str) -> str:
    """``Qwen2.5-0.5B`` -> ``0.5B``; ``gemma-3-1b-pt`` -> ``1B``; no size token -> the name."""
    name = model_id.split("/")[-1]
    tokens = re.findall(r"(?:^|[-_])(\d+(?:\.\d+)?[bBmM])(?=$|[-_])", name)
    return tokens[-1].upper() if tokens else name

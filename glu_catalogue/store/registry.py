"""The model registry: base models, their real config values and their sources (``data/models/``).

Each file holds one model: the ``config.json`` values read from public copies (``sources``),
the facts a config does not state (``architecture_facts``: biases, q/k norms, norms per
layer, fused projections), and the catalogue's ``family`` and ``size_label``. A variant with
the architecture of another entry (Llama-3.2-1B-Instruct) names it in
``same_architecture_as`` and carries only its own id, labels and sources.

The first eighteen entries' facts were checked by hand; an entry written by ``catalogue add``
has facts read off its transformers class on the meta device (``transformers_version`` says
which), the count of its parameters outside the MLPs, and its ``origin``: the config.json,
checkpoint or hub id it came from, and the sha256 of that config file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.architecture import Architecture, Experts, NonNegativeInt, PositiveInt, described
from ..errors import ReadError, RegistryError, UnknownModelError
from .paths import current_workspace, registry_layers
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


def _unless_stated(name: str) -> str:
    """The description of config field ``name`` among the facts: ``Architecture``'s, and when it is there."""
    return f"{described(name)} Only where config.json does not state it (a multimodal config's text_config, a class default)."


class ArchitectureFacts(_Loose):
    """What a model's config.json does not say but its transformers class does (``FACT_FIELDS``).

    A registry entry's ``architecture_facts``: ``FACT_FIELDS`` as ``Architecture`` declares them, ``head_dim``
    under the name ``head_dim_effective``; then ``CONFIG_FIELDS``, only where config.json does not state them;
    then where the facts were read from. ``Architecture.from_config`` joins them with the config.
    """

    head_dim_effective: PositiveInt = Field(description=described("head_dim"))
    qkv_bias: bool = Field(description=described("qkv_bias"))
    o_proj_bias: bool = Field(description=described("o_proj_bias"))
    mlp_bias: bool = Field(description=described("mlp_bias"))
    qk_norm: bool = Field(description=described("qk_norm"))
    norms_per_layer: NonNegativeInt = Field(description=described("norms_per_layer"))
    fused_qkv: bool = Field(default=False, description=described("fused_qkv"))
    fused_gate_up: bool = Field(default=False, description=described("fused_gate_up"))
    qk_norm_all_heads: bool = Field(default=False, description=described("qk_norm_all_heads"))
    norm_bias: bool = Field(default=False, description=described("norm_bias"))
    o_proj_hidden_input: bool = Field(default=False, description=described("o_proj_hidden_input"))
    non_mlp_parameters: PositiveInt | None = Field(default=None, description=described("non_mlp_parameters"))
    num_mlp_layers: NonNegativeInt | None = Field(default=None, description=described("num_mlp_layers"))
    hidden_size: PositiveInt | None = Field(default=None, description=_unless_stated("hidden_size"))
    intermediate_size: PositiveInt | None = Field(default=None, description=_unless_stated("intermediate_size"))
    num_hidden_layers: PositiveInt | None = Field(default=None, description=_unless_stated("num_hidden_layers"))
    num_attention_heads: PositiveInt | None = Field(default=None, description=_unless_stated("num_attention_heads"))
    vocab_size: PositiveInt | None = Field(default=None, description=_unless_stated("vocab_size"))
    num_key_value_heads: PositiveInt | None = Field(default=None, description=_unless_stated("num_key_value_heads"))
    tie_word_embeddings: bool | None = Field(default=None, description=_unless_stated("tie_word_embeddings"))
    mlp_param_names: list[str] = Field(description="Parameter names of one layer's MLP.")
    attn_param_names: list[str] = Field(description="Parameter names of one layer's attention.")
    transformers_class: str = Field(description="The transformers class that builds the model.")
    transformers_version: str | None = Field(default=None, description="The transformers whose class these facts were read from; None: checked by hand.")
    experts: Experts | None = Field(default=None, description="A mixture-of-experts model's routed experts.")
    not_prunable: str | None = Field(default=None, description="Why the model cannot be width-pruned (by optipfair or the catalogue); None: it can.")


#: A hub-style model id, ``org/name``: letters, digits, ``-``, ``_``, ``.``; no part starts with a dot
#: (so ``..`` and hidden names are out): ids become directory names (``--save-pruned``, checkpoints).
REGISTRY_ID_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,95}/[A-Za-z0-9_-][A-Za-z0-9._-]{0,95}$"
RegistryId = Annotated[str, Field(pattern=REGISTRY_ID_PATTERN)]


class Origin(_Loose):
    """Where ``catalogue add`` read a model's config: a config.json, a checkpoint directory or a hub id."""

    kind: Literal["config", "checkpoint", "hub"]
    location: str = Field(description="The path or hub id given to catalogue add.")
    revision: str | None = Field(default=None, description="The hub commit the id resolved to.")
    config_sha256: str = Field(description="sha256 of the config file that was read.")


#: How directly a registry entry's config was read (model-configs' grades).
SourceGrade = Literal["official", "copy", "derived", "partial"]


class ModelEntry(_Loose):
    """One model, resolved: a registry entry (a variant carries its base's config and facts), or a
    config, checkpoint or hub id given on the command line (its ``model_id`` is what was given)."""

    model_id: str = Field(min_length=1)
    family: str = Field(description="Model family, e.g. Llama-3.2.")
    size_label: str = Field(description="Short size label, e.g. 1B: the CSV's 'Model Family' column (the study labels its Instruct rows 1B-Instruct).")
    config: dict[str, Any]
    fields_not_in_config_json: list[str] = []
    architecture_facts: ArchitectureFacts
    sources: list[Source]
    same_architecture_as: str | None = None
    note: str | None = None
    origin: Origin | None = None
    source_grade: SourceGrade | None = Field(default=None, description="How directly the config was read from its sources.")

    @property
    def architecture(self) -> Architecture:
        """The architecture the closed form counts: the config's values and the facts."""
        return architecture_from_config(self.config, self.architecture_facts)

    @property
    def transformers_class(self) -> str:
        """The transformers class that builds this model, e.g. LlamaForCausalLM."""
        return self.architecture_facts.transformers_class

    @property
    def experts(self) -> Experts | None:
        """A mixture-of-experts model's routed experts; None for a dense model."""
        return self.architecture_facts.experts

    @property
    def not_prunable(self) -> str | None:
        """Why this model cannot be width-pruned; None when it can."""
        return self.architecture_facts.not_prunable


class RegistryEntry(ModelEntry):
    """A registry file's entry: its ``model_id`` must be a hub-style ``org/name`` (it names files and directories)."""

    model_id: RegistryId


class _VariantFile(_Loose):
    model_id: RegistryId
    family: str
    size_label: str
    same_architecture_as: str
    sources: list[Source]
    note: str | None = None


def architecture_from_config(config: dict[str, Any], facts: ArchitectureFacts) -> Architecture:
    """The ``Architecture`` of config.json values plus the facts the config does not state.

    A missing config key raises ``KeyError`` naming it (see ``Architecture.from_config``).
    """
    return Architecture.from_config(config, facts.model_dump())


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

    ``directory`` names one registry directory. Without it, the registry is what
    ``paths.registry_layers()`` lists: ``$CATALOGUE_REGISTRY_DIR``, or the default data
    directory's ``data/models``, or, in a workspace of one's own, the shipped models it includes
    plus its own (an id in both layers is refused, naming both files).
    """
    if directory is not None:
        return _load_registry(((_resolved(Path(directory)), False),), None)
    layers = tuple((_resolved(path), filtered) for path, filtered in registry_layers())
    workspace = current_workspace() if any(filtered for _, filtered in layers) else None
    return _load_registry(layers, workspace.includes if workspace is not None else None)


def _resolved(directory: Path) -> Path:
    try:
        return directory.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic-link loop (Python < 3.13)
        raise RegistryError(f"{directory}: a symbolic link loop, not a registry directory") from None


@lru_cache(maxsize=8)
def _load_registry(layers: tuple[tuple[Path, bool], ...], includes: Callable[[str], bool] | None) -> dict[str, ModelEntry]:
    files = [(path, filtered) for directory, filtered in layers for path in sorted(directory.glob("*.json"))]
    if not files and len(layers) == 1:
        raise RegistryError(f"{layers[0][0]}: no registry files (*.json)")
    bases: dict[str, ModelEntry] = {}
    variants: list[tuple[Path, _VariantFile]] = []
    seen: dict[str, Path] = {}
    left_out: set[str] = set()
    for path, filtered in files:
        raw = _read(path)
        try:
            if "same_architecture_as" in raw:
                variant = _VariantFile.model_validate(raw)
                model_id = variant.model_id
                variants.append((path, variant))
            else:
                entry = RegistryEntry.model_validate(raw)
                entry.architecture  # noqa: B018 - fail here, naming the file, if the config is incomplete
                model_id = entry.model_id
                bases[model_id] = entry
        except ValidationError as error:
            raise _errors(path, error) from None
        except KeyError as error:
            raise RegistryError(f"{path}: config lacks {error.args[0]}") from None
        if model_id in seen:
            raise RegistryError(f"{path}: {model_id} is registered already in {seen[model_id]}: remove one of the two files")
        seen[model_id] = path
        if filtered and includes is not None and not includes(model_id):
            left_out.add(model_id)
    entries = dict(bases)
    for path, variant in variants:
        base = bases.get(variant.same_architecture_as)
        if base is None:
            raise RegistryError(f"{path}: same_architecture_as {variant.same_architecture_as!r} is not a base entry")
        entries[variant.model_id] = base.model_copy(update=variant.model_dump())
    return dict(sorted((key, value) for key, value in entries.items() if key not in left_out))


def clear_cache() -> None:
    """Forget the registries read so far (after ``catalogue add`` wrote a file)."""
    _load_registry.cache_clear()


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

"""Where a model outside the registry comes from: a config.json, a checkpoint directory or a hub id.

``read_source(text)`` turns what a person typed into a ``ModelSource``: the config values, the
sha256 of the config file actually read, and where it came from.

* an existing file: a ``config.json``, or a model description ``{"model_id", "config",
  "sources", "notes"}`` (the layout of the catalogue's ``model-configs/``);
* an existing directory: a checkpoint (``config.json``, usually ``*.safetensors`` beside it);
* ``org/name[@revision]``: a hub id, resolved by huggingface_hub (``store.hub_files``), so the
  local Hugging Face cache and ``HF_HUB_OFFLINE=1`` work; the record names the commit the id
  resolved to. Only config.json is downloaded.

Standard library (huggingface_hub imported only for a hub id). Anything unusable raises
``SourceError``: one line naming the path or id.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..core.config_limits import size_problem
from ..errors import SourceError
from .hub_files import HubRepository, open_repository, small_file
from .local_paths import looks_like_path, names_local_path, path_kind
from .reading import MAX_SMALL_FILE_BYTES, kind_of, parse_json, read_bytes, reported_as
from .registry import REGISTRY_ID_PATTERN

CONFIG_FILE = "config.json"

#: ``org/name`` with an optional ``@revision``: what a hub id looks like (each part at most 96 characters).
HUB_ID = re.compile(r"^(?P<repo>[\w.-]{1,96}/[\w.-]{1,96})(?:@(?P<revision>[\w./-]{1,255}))?$")

#: A model id the registry accepts: ``org/name``, no part starting with a dot (ids name files and directories).
MODEL_ID = re.compile(REGISTRY_ID_PATTERN)


@dataclass(frozen=True)
class ModelSource:
    """A model's config and where it came from.

    ``kind`` is ``config`` (a file), ``checkpoint`` (a directory) or ``hub`` (``location`` is
    the id, ``revision`` the commit it resolved to). ``weights_dir`` is the directory holding
    safetensors beside the config, if any. ``model_id`` is the id the source names (hub id,
    a description's ``model_id``, a config's ``_name_or_path``), else None.
    """

    kind: Literal["config", "checkpoint", "hub"]
    location: str
    config: dict[str, Any]
    config_sha256: str
    config_path: Path
    revision: str | None = None
    weights_dir: Path | None = None
    model_id: str | None = None
    description: dict[str, Any] = field(default_factory=dict)
    hub: HubRepository | None = field(default=None, compare=False)  # the repository a hub id was read from

    @property
    def label(self) -> str:
        """How the screen names the source: the path as given, or ``org/name@commit``."""
        return f"{self.location}@{self.revision}" if self.revision else self.location


def looks_like_source(text: str) -> bool:
    """True when ``text`` names a path (one that exists or cannot be read, or text shaped like one) or a hub id."""
    return names_local_path(text) or bool(HUB_ID.match(text))


def hub_id_match(text: str) -> re.Match[str] | None:
    """``text`` as a hub id (groups ``repo`` and ``revision``) when it names nothing on disk and is not written as a path."""
    return None if names_local_path(text) else HUB_ID.match(text)


def read_source(text: str) -> ModelSource:
    """The ``ModelSource`` ``text`` names: an existing file or directory, else a hub id.

    Text shaped like a path (``./``, ``/``, ``~``, a name ending in ``.json``) that names nothing,
    a link loop, or a path too long for the file system is reported as such at once, never
    looked up on the hub.
    """
    kind = path_kind(text)  # raises SourceError for a loop, a too-long name, a denied directory
    if kind == "directory":
        return _checkpoint(text, Path(text).expanduser())
    if kind is not None:
        return _config_file(text, Path(text).expanduser())
    if looks_like_path(text):
        raise SourceError(f"{text}: no such file or directory")
    match = HUB_ID.match(text)
    if match is None:
        raise SourceError(f"{_short(text)}: no such file or directory, and not a hub id like org/name[@revision]")
    return _hub(match["repo"], match["revision"])


def _short(text: str) -> str:
    """``text`` as an error shows it: at most 120 characters."""
    return text if len(text) <= 120 else f"{text[:100]}... ({len(text)} characters)"


def _config_file(text: str, path: Path) -> ModelSource:
    document, digest = _read_json(path)
    if "config" in document and isinstance(document["config"], dict):  # a model description
        described = document.get("model_id")
        description = {key: document[key] for key in ("sources", "notes") if key in document}
        config = document["config"]
        _check_sizes(path, config)
        digest = config_sha256(config)
        return ModelSource("config", text, config, digest, path, model_id=described if _is_id(described) else None, description=description)
    return ModelSource("config", text, document, digest, path, model_id=_named(document))


def _checkpoint(text: str, directory: Path) -> ModelSource:
    path = directory / CONFIG_FILE
    if path_kind(str(path)) is None:
        raise SourceError(f"{text}: no {CONFIG_FILE} in this directory (is it a save_pretrained checkpoint?)")
    config, digest = _read_json(path)
    weights = directory if any(directory.glob("*.safetensors")) else None
    return ModelSource("checkpoint", text, config, digest, path, weights_dir=weights, model_id=_named(config))


def _hub(repo: str, revision: str | None) -> ModelSource:
    """config.json of ``repo`` at ``revision``, the revision resolved to its commit (``store.hub_files``: the cache
    first, and only it when offline); the repository is kept on the source so its headers can be read too."""
    repository = open_repository(repo, revision)
    if "config.json" not in repository.files:
        raise SourceError(f"{repository.label}: the repository has no config.json (it holds {_listing(repository.files)})")
    path = small_file(repository, CONFIG_FILE)
    config, digest = _read_json(path, shown_as=Path(repository.label) / CONFIG_FILE)  # errors name the hub's file, not the cache's copy
    weights = path.parent if any(path.parent.glob("*.safetensors")) else None
    return ModelSource("hub", repo, config, digest, path, revision=repository.commit, weights_dir=weights, model_id=repo, hub=repository)


def _listing(files: tuple[str, ...]) -> str:
    """A repository's files as an error names them: the first few, and how many more."""
    if not files:
        return "no files"
    return ", ".join(files[:4]) + (f" and {len(files) - 4} more" if len(files) > 4 else "")


def _read_json(path: Path, shown_as: Path | None = None) -> tuple[dict[str, Any], str]:
    """The JSON object in ``path`` and the sha256 of its bytes (a special or huge file is refused, never read);
    errors name ``shown_as`` (a hub file's ``org/name@commit/config.json``) where given, else ``path``."""
    named = shown_as or path
    with reported_as(shown_as):
        data = read_bytes(path, MAX_SMALL_FILE_BYTES, "a config.json")
        document = parse_json(path, data)
    if not isinstance(document, dict):
        raise SourceError(f"{named}: expected a JSON object of model settings (a config.json), found {kind_of(document)}")
    if not isinstance(document.get("config"), dict):  # a model description's config is checked where it is read
        _check_sizes(named, document)
    return document, hashlib.sha256(data).hexdigest()


def _check_sizes(path: Path, config: dict[str, Any]) -> None:
    """``SourceError`` naming the file and field when a size is not a whole number within what real models have."""
    problem = size_problem(config)
    if problem is not None:
        raise SourceError(f"{path}: {problem}; nothing was built")


def config_sha256(config: dict[str, Any]) -> str:
    """sha256 of config values with no file of their own: their JSON with sorted keys."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def _named(config: dict[str, Any]) -> str | None:
    """The ``org/name`` a saved config names in ``_name_or_path``, if it names one."""
    name = config.get("_name_or_path")
    return name if _is_id(name) else None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(MODEL_ID.match(value))

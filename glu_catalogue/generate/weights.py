"""Where a model's weights come from: a local checkpoint, a hub id, or random initialisation.

``--weights SOURCE`` applies to every selected model, ``--weights MODEL_ID=SOURCE`` to one.
SOURCE is ``random``, a local directory (a ``save_pretrained`` checkpoint with ``config.json``),
or a hub id (``org/name``, optionally ``@revision``). Without an option, a local checkpoint is
used when one is configured (``$CATALOGUE_CHECKPOINTS/<org>__<name>`` or ``<org>/<name>``) or
found in the Hugging Face cache; otherwise random weights of the exact architecture. No torch:
the build resolves sources before it knows whether anything needs building.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import WeightsError
from ..store.reading import MAX_SMALL_FILE_BYTES, read_bytes

#: Seed of random-init weights unless ``--seed`` says otherwise.
DEFAULT_SEED = 0


@dataclass(frozen=True)
class WeightsSource:
    """The weights one model is built from.

    ``kind`` is ``checkpoint`` (``location`` is a local directory), ``hub`` (``location`` is a
    hub id, ``revision`` optional) or ``random-init`` (``seed``). ``chosen_by`` says why: the
    ``--weights`` option, a configured or cached checkpoint, or the offline default. A hub
    source resolved to a commit carries the sha256 of the config.json it resolved to
    (``config_digest``).
    """

    kind: Literal["checkpoint", "hub", "random-init"]
    location: str = "random"
    revision: str | None = None
    seed: int | None = None
    chosen_by: str = "--weights"
    config_digest: str | None = None

    def describe(self) -> str:
        """One phrase for the screen: ``checkpoint /path``, ``hub org/name@rev``, ``random-init (seed 0)``."""
        if self.kind == "random-init":
            return f"random-init (seed {self.seed})"
        revision = f"@{self.revision}" if self.revision else ""
        return f"{self.kind} {self.location}{revision}"


def parse_source(text: str, seed: int) -> WeightsSource:
    """One SOURCE: ``random``, an existing local directory, or a hub id ``org/name[@revision]``."""
    text = text.strip()
    if text == "random":
        return WeightsSource(kind="random-init", seed=seed)
    path = Path(text).expanduser()
    if os.path.lexists(path) or text.startswith((".", "/", "~")):
        try:
            return WeightsSource(kind="checkpoint", location=str(path.resolve()))
        except (OSError, RuntimeError):  # RuntimeError: a symbolic-link loop (Python < 3.13)
            raise WeightsError(f"--weights: {text!r} is a symbolic-link loop, not a checkpoint directory") from None
    name, _, revision = text.partition("@")
    if name.count("/") != 1 or not all(name.split("/")):
        raise WeightsError(f"--weights: {text!r} is neither 'random', an existing directory, nor a hub id like org/name[@revision]")
    return WeightsSource(kind="hub", location=name, revision=revision or None)


def resolve_sources(options: tuple[str, ...], model_ids: tuple[str, ...], seed: int = DEFAULT_SEED) -> dict[str, WeightsSource]:
    """The weights of each model: ``MODEL_ID=SOURCE`` beats a bare ``SOURCE``, which beats discovery."""
    default: WeightsSource | None = None
    per_model: dict[str, WeightsSource] = {}
    for option in options:
        model_id, separator, source = option.partition("=")
        if not separator:
            if default is not None:
                raise WeightsError("--weights: give one SOURCE for all models, or MODEL_ID=SOURCE per model")
            default = parse_source(option, seed)
            continue
        if model_id not in model_ids:
            raise WeightsError(f"--weights {option}: {model_id!r} is not among the selected models ({', '.join(model_ids)})")
        per_model[model_id] = parse_source(source, seed)
    return {model_id: per_model.get(model_id) or default or discover(model_id, seed) for model_id in model_ids}


def discover(model_id: str, seed: int = DEFAULT_SEED) -> WeightsSource:
    """A configured or cached local checkpoint of ``model_id``, else random-init weights."""
    for directory, how in _candidates(model_id):
        if (directory / "config.json").is_file() and any(directory.glob("*.safetensors")):
            return WeightsSource(kind="checkpoint", location=str(directory.resolve()), chosen_by=how)
    return WeightsSource(kind="random-init", seed=seed, chosen_by="no local checkpoint found")


def _candidates(model_id: str) -> list[tuple[Path, str]]:
    candidates = []
    configured = os.environ.get("CATALOGUE_CHECKPOINTS")
    if configured:
        root = Path(configured).expanduser()
        candidates += [(root / model_id.replace("/", "__"), "$CATALOGUE_CHECKPOINTS"), (root / model_id, "$CATALOGUE_CHECKPOINTS")]
    return candidates + cached_snapshots(model_id)


def cached_snapshots(model_id: str) -> list[tuple[Path, str]]:
    """The snapshots of ``model_id`` in the Hugging Face cache, main's first, as huggingface_hub itself finds them
    (``snapshot_download(local_files_only=True)`` for main, ``scan_cache_dir`` for the rest); none without it."""
    try:
        from huggingface_hub import scan_cache_dir, snapshot_download
    except ImportError:
        return []
    cache = hub_cache_dir()
    found: list[tuple[Path, str]] = []
    try:  # the snapshot the hub's main branch pointed to when it was downloaded
        found.append((Path(snapshot_download(model_id, cache_dir=cache, local_files_only=True)), "Hugging Face cache (main)"))
    except Exception:  # not cached, or no ref for main: nothing to offer
        pass
    try:
        repositories = scan_cache_dir(cache).repos
    except Exception:  # no cache directory
        return found
    for repository in repositories:
        if repository.repo_id == model_id and repository.repo_type == "model":
            found += [(revision.snapshot_path, "Hugging Face cache") for revision in sorted(repository.revisions, key=lambda item: item.commit_hash)]
    return found


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache: ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return Path(home).expanduser() / "hub"


def config_sha256(config: dict[str, Any], weights: WeightsSource) -> str:
    """sha256 of the config a model is built from: a checkpoint's config.json bytes, else ``config``'s JSON.

    ``config`` is the registry's config.json values; a checkpoint whose config.json cannot be
    read (missing, not a regular file, too large) raises ``ReadError``.
    """
    if weights.config_digest is not None:
        return weights.config_digest
    if weights.kind == "checkpoint":
        return hashlib.sha256(read_bytes(Path(weights.location) / "config.json", MAX_SMALL_FILE_BYTES)).hexdigest()
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()

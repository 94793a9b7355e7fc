"""A checkpoint on the Hugging Face Hub, read as a directory is: config.json, the index, every
safetensors header, and not one byte of the weights.

``read_hub_checkpoint`` resolves the revision (``store.hub_files``), takes config.json and
``model.safetensors.index.json`` through huggingface_hub's cache, and reads each shard's header
with two range requests at most: the first ``FIRST_REQUEST_BYTES`` (which hold the whole header
of most files), then the rest of the header if it is longer. The header is checked exactly as a
local file's is (``checkpoints.safetensors.parse_header``), against the file's size the hub
states. A header over huggingface_hub's own limit is refused before it is fetched. The
``Checkpoint`` it returns names its directory ``org/name@<commit>``, so every problem names the
hub file it is about.

Offline, a cached snapshot that holds the shards themselves is read from disk instead.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SourceError
from ..store.hub_files import HubRepository, byte_range, open_repository, small_file
from ..store.reading import ReadError, kind_of, read_json, reported_as
from . import reading
from .reading import CONFIG_FILE, INDEX_FILE, Checkpoint
from .safetensors import LENGTH_PREFIX_BYTES, SafetensorsHeader, header_length, parse_header, read_header

#: Bytes asked for first: the length prefix and, for most files, the whole header.
FIRST_REQUEST_BYTES = 64 * 1024

#: The largest header read over the network: huggingface_hub's own limit (SAFETENSORS_MAX_HEADER_LENGTH).
MAX_REMOTE_HEADER_BYTES = 25_000_000


def read_hub_checkpoint(repo_id: str, revision: str | None = None, repository: HubRepository | None = None) -> tuple[Checkpoint, HubRepository]:
    """The ``Checkpoint`` of ``repo_id`` at ``revision`` from config.json, the index and the headers, and the repository read.

    Raises ``SourceError`` (one line) for a repository that is missing, gated, not safetensors or
    unreachable, ``ReadError`` for a file in it that is malformed.
    """
    repository = repository or open_repository(repo_id, revision)
    directory = Path(repository.label)
    files = set(repository.files)
    if CONFIG_FILE not in files:
        raise SourceError(f"{repository.label}: the repository has no {CONFIG_FILE}")
    with reported_as(directory / CONFIG_FILE):
        config = read_json(small_file(repository, CONFIG_FILE))
    if not isinstance(config, dict):
        raise ReadError(directory / CONFIG_FILE, f"expected a JSON object of model settings, found {kind_of(config)}")
    weight_map, index_metadata = None, {}
    if INDEX_FILE in files:
        with reported_as(directory / INDEX_FILE):
            weight_map, index_metadata = reading._read_index(small_file(repository, INDEX_FILE))
        shards = sorted(set(weight_map.values()))
        for shard in shards:
            if shard not in files:
                listed = sum(1 for name in weight_map.values() if name == shard)
                raise ReadError(directory / shard, f"missing from the repository: {INDEX_FILE} maps {listed} tensors to this shard")
    else:
        shards = sorted(name for name in files if name.endswith(".safetensors") and "/" not in name)
        if not shards and repository.offline_reason is not None:  # the cache lists what was downloaded, not the repository
            raise SourceError(
                f"{repository.label}: the hub cannot be reached ({repository.offline_reason}) and the cache holds no safetensors "
                "file of it (headers are read over the network, not cached): read it where there is a network"
            )
        if not shards:
            weights = sorted(name for name in files if name.endswith((".bin", ".pt", ".pth", ".gguf", ".h5", ".msgpack")))
            held = f"it holds {', '.join(weights[:3])}" if weights else "it holds no weights"
            raise SourceError(f"{repository.label}: not a safetensors repository: no *.safetensors and no {INDEX_FILE} ({held})")
    headers = [shard_header(repository, name, directory / name) for name in shards]
    return Checkpoint(directory, config, headers, weight_map, index_metadata), repository


def shard_header(repository: HubRepository, name: str, shown_as: Path) -> SafetensorsHeader:
    """The header of one safetensors file of the repository: from a cached copy, else by range requests."""
    if repository.snapshot is not None and (repository.snapshot / name).is_file():
        return read_header(repository.snapshot / name)
    if repository.offline_reason is not None:
        raise SourceError(
            f"{shown_as}: the hub cannot be reached ({repository.offline_reason}) and the cache holds no copy of this file "
            "(headers are read over the network, not cached): read it where there is a network"
        )
    content, file_bytes = byte_range(repository, name, 0, FIRST_REQUEST_BYTES - 1)
    header_bytes = header_length(shown_as, content[:LENGTH_PREFIX_BYTES], file_bytes, MAX_REMOTE_HEADER_BYTES)
    end = LENGTH_PREFIX_BYTES + header_bytes
    if len(content) < end:
        rest, _ = byte_range(repository, name, len(content), end - 1)
        content += rest
    if len(content) < end:
        raise ReadError(shown_as, f"the hub sent {len(content)} bytes of a {end}-byte header: the transfer was cut short")
    return parse_header(shown_as, content[LENGTH_PREFIX_BYTES:end], file_bytes)


def open_checkpoint(text: str | Path) -> tuple[Path | Checkpoint, HubRepository | None]:
    """A checkpoint as a person typed it: a local directory (returned as its path, read by the caller), or a hub
    id ``org/name[@revision]`` that names nothing on disk, read from its headers here."""
    from ..store.sources import hub_id_match

    text = str(text)
    match = hub_id_match(text)
    if match is None:
        return Path(text), None
    try:
        return read_hub_checkpoint(match["repo"], match["revision"])
    except SourceError as error:
        if "no such repository" not in str(error):
            raise
        raise SourceError(f"{text}: no such directory, and {str(error).partition(': ')[2]}") from None

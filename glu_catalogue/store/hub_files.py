"""A repository on the Hugging Face Hub, read file by file and never whole: its revision, its small
JSON files through huggingface_hub's cache, and the first bytes of a large file by range request.

``open_repository("org/name", "rev")`` resolves the revision to its commit and lists the files
(the model API ``HfApi.model_info`` asks, ``/api/models/{repo}/revision/{rev}``); offline (``HF_HUB_OFFLINE=1``, or a hub that cannot be reached) the
local Hugging Face cache answers instead, through huggingface_hub's own ``scan_cache_dir``.
``small_file`` gives config.json or the safetensors index from the cache
(``try_to_load_from_cache``) or downloads it into the cache (``hf_hub_download``);
``byte_range`` asks for a span of a file with an HTTP ``Range`` header and reads no more than
that span even from a server that ignores the header. Every byte that comes over the network is
counted in ``HubRepository.bytes_read``.

The endpoint is ``$HF_ENDPOINT`` as it is when a call is made (huggingface_hub's own constant is
read once, at its import), passed to every call. Every request runs under the hub's total deadline
(``hub_reach.within_deadline``): a hub that drips its answer is "too slow", named, not waited on
forever. Anything that goes wrong is a ``SourceError``: one line naming the repository and why
(a redirect to another host that fails is said to be one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..core.text import whole_number
from ..errors import SourceError
from .hub_reach import HubTooSlow, RateLimited, asked_politely, hub_endpoint, hub_unreachable_reason, quiet_hub, redirect_reason, retry_after_s, within_deadline
from .reading import MAX_SMALL_FILE_BYTES

#: Seconds to wait for the hub to answer one request.
REQUEST_TIMEOUT_S = 10.0


@dataclass
class HubRepository:
    """A model repository at one commit: its files, where it was read from, the bytes read so far."""

    repo_id: str
    requested_revision: str | None
    commit: str
    files: tuple[str, ...]
    endpoint: str
    offline_reason: str | None = None
    snapshot: Path | None = None  # the cached snapshot directory, when the cache answered
    bytes_read: int = 0

    @property
    def label(self) -> str:
        """How the screen names it: ``org/name@<commit, 12 digits>``."""
        return f"{self.repo_id}@{self.commit[:12]}"

    def cached_path(self, name: str) -> Path | None:
        """``name`` in the local cache at this commit, if it is there (huggingface_hub's ``try_to_load_from_cache``)."""
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(self.repo_id, name, revision=self.commit)
        return Path(found) if isinstance(found, str) else None

    def as_dict(self) -> dict[str, Any]:
        """What ``--format json`` reports about where the checkpoint was read."""
        return {
            "repo_id": self.repo_id,
            "revision": self.requested_revision,
            "commit": self.commit,
            "endpoint": self.endpoint,
            "offline": self.offline_reason,
            "bytes_read": self.bytes_read,
        }


def open_repository(repo_id: str, revision: str | None = None) -> HubRepository:
    """``repo_id`` at ``revision`` (default ``main``), resolved to its commit; the cache answers when offline."""
    named = f"{repo_id}{'@' + revision if revision else ''}"
    try:
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status
    except ImportError:
        raise SourceError(f"{named}: reading a hub id needs huggingface_hub (pip install huggingface_hub)") from None
    endpoint = hub_endpoint()
    unreachable = hub_unreachable_reason(endpoint)
    if unreachable is not None:
        return _cached_repository(repo_id, revision, endpoint, unreachable)
    # The model API's own answer (what HfApi.model_info asks), requested here so its bytes are counted too.
    url = f"{endpoint}/api/models/{repo_id}" + (f"/revision/{quote(revision, safe='')}" if revision else "")

    def ask():
        with quiet_hub():
            answer = get_session().get(url, headers=build_hf_headers(), timeout=REQUEST_TIMEOUT_S)
            if answer.status_code == 429:
                return RateLimited(retry_after_s(answer.headers))
            hf_raise_for_status(answer)
            return answer

    try:
        response = asked_politely(ask, named, endpoint)
    except HubTooSlow:
        raise
    except Exception as error:
        raise SourceError(f"{named}: {hub_reason(error, 'details', endpoint)}") from None
    try:
        info = json.loads(response.content)
        commit = info["sha"]
        files = tuple(sibling["rfilename"] for sibling in info.get("siblings") or ())
    except (ValueError, KeyError, TypeError):
        raise SourceError(f"{named}: the hub's answer about this repository is not the model API's JSON ({url})") from None
    if not isinstance(commit, str) or not commit:
        raise SourceError(f"{named}: the hub named no commit for this revision")
    return HubRepository(repo_id, revision, commit, files, endpoint, bytes_read=len(response.content))


def _cached_repository(repo_id: str, revision: str | None, endpoint: str, unreachable: str) -> HubRepository:
    """The repository as the local cache holds it (``scan_cache_dir``), for when the hub cannot be asked."""
    from huggingface_hub import scan_cache_dir

    named = f"{repo_id}{'@' + revision if revision else ''}"
    not_cached = SourceError(
        f"{named}: config.json is not in the local Hugging Face cache and the hub cannot be reached ({unreachable}); "
        "give a local config.json or checkpoint, or read it once where there is a network"
    )
    try:
        cache = scan_cache_dir()
    except Exception:  # no cache directory at all
        raise not_cached from None
    wanted = revision or "main"
    for repository in cache.repos:
        if repository.repo_id != repo_id or repository.repo_type != "model":
            continue
        for cached in sorted(repository.revisions, key=lambda item: item.commit_hash):
            if wanted in cached.refs or cached.commit_hash.startswith(wanted):
                files = tuple(sorted(file.file_path.relative_to(cached.snapshot_path).as_posix() for file in cached.files))
                return HubRepository(repo_id, revision, cached.commit_hash, files, endpoint, unreachable, cached.snapshot_path)
    raise not_cached


def small_file(repository: HubRepository, name: str) -> Path:
    """``name`` (config.json, an index) of the repository as a local file: from the cache, else downloaded into it."""
    cached = repository.cached_path(name)
    if cached is not None:
        return cached
    if repository.offline_reason is not None:
        raise SourceError(f"{repository.label}: {name} is not in the local Hugging Face cache and the hub cannot be reached ({repository.offline_reason})")
    from huggingface_hub import hf_hub_download

    _refuse_oversized(repository, name)
    # Asked for by the revision typed (``main`` by default), so the cache also learns where that revision points
    # and answers for it offline later; the file must then be the resolved commit's.
    revision = repository.requested_revision or "main"

    def download() -> Path:
        with quiet_hub():
            return Path(hf_hub_download(repository.repo_id, name, revision=revision, endpoint=repository.endpoint))

    try:
        path = within_deadline(download, f"{repository.label}/{name}", repository.endpoint)
    except HubTooSlow:
        raise
    except Exception as error:
        raise SourceError(f"{repository.label}: {hub_reason(error, name, repository.endpoint)}") from None
    repository.bytes_read += path.stat().st_size
    if repository.cached_path(name) != path:
        raise SourceError(f"{repository.repo_id}@{revision}: the revision moved to another commit while it was read; run the command again")
    return path


def _refuse_oversized(repository: HubRepository, name: str) -> None:
    """``SourceError`` before anything is downloaded when the hub says ``name`` is larger than a small file may be
    (``store.reading.MAX_SMALL_FILE_BYTES``): a HEAD request (huggingface_hub's ``get_hf_file_metadata``)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repository.repo_id, name, revision=repository.commit, endpoint=repository.endpoint)

    def ask() -> int | None:
        with quiet_hub():
            return get_hf_file_metadata(url, timeout=REQUEST_TIMEOUT_S, endpoint=repository.endpoint).size

    try:
        size = within_deadline(ask, f"{repository.label}/{name}", repository.endpoint)
    except HubTooSlow:
        raise
    except Exception as error:
        raise SourceError(f"{repository.label}: {hub_reason(error, name, repository.endpoint)}") from None
    if size is not None and size > MAX_SMALL_FILE_BYTES:
        raise SourceError(
            f"{repository.label}/{name}: {size} bytes, more than the {MAX_SMALL_FILE_BYTES} such a file may hold: not downloaded (is it the right repository?)"
        )


def byte_range(repository: HubRepository, name: str, first: int, last: int) -> tuple[bytes, int]:
    """Bytes ``first``..``last`` (inclusive) of ``name`` and the file's size; never more than that span is read."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url = hf_hub_url(repository.repo_id, name, revision=repository.commit, endpoint=repository.endpoint)
    wanted = last - first + 1
    headers = {**build_hf_headers(), "range": f"bytes={first}-{last}"}

    def fetch() -> tuple[bytes, int] | RateLimited:
        with quiet_hub(), get_session().stream("GET", url, headers=headers, timeout=REQUEST_TIMEOUT_S) as response:
            if response.status_code == 429:
                return RateLimited(retry_after_s(response.headers))
            if response.status_code >= 400:
                response.read()  # an error's body is small; huggingface_hub reads its message from it
                hf_raise_for_status(response)
            content = bytearray()
            skip = first if response.status_code == 200 else 0  # the whole file came: its first bytes are not asked for
            for chunk in response.iter_bytes():
                repository.bytes_read += len(chunk)
                content += chunk
                if len(content) >= skip + wanted:
                    break
            size = _file_size(response.headers, len(content) if response.status_code == 200 else None)
        return bytes(content[skip : skip + wanted]), size

    try:
        return asked_politely(fetch, f"{repository.label}/{name}", repository.endpoint)
    except SourceError:
        raise
    except Exception as error:
        raise SourceError(f"{repository.label}/{name}: {hub_reason(error, name, repository.endpoint)}") from None


def _file_size(headers: Any, whole: int | None) -> int:
    """The file's size: the total of ``Content-Range: bytes 0-99/1234``, else the length of a whole-file answer."""
    total = (headers.get("content-range") or "").rpartition("/")[2]
    if whole_number(total) is not None:
        return whole_number(total)
    length = whole_number(headers.get("content-length") or "")
    if whole is not None and length is not None:
        return length
    if whole is not None:
        return whole
    raise SourceError("the hub's answer to a range request states no file size (no Content-Range)")


def hub_reason(error: Exception, name: str = "config.json", endpoint: str | None = None) -> str:
    """Why huggingface_hub could not give ``name`` (or the repository's details), in one line."""
    kind = type(error).__name__
    redirected = redirect_reason(error, endpoint) if endpoint else None
    if redirected is not None:
        return redirected
    if kind in ("LocalEntryNotFoundError", "OfflineModeIsEnabled") or "offline" in str(error).lower():
        return (
            f"{name} is not in the local Hugging Face cache and the hub cannot be reached (offline); download it where there is a network, or give "
            "a local config.json or checkpoint"
        )
    if kind == "GatedRepoError":
        return "a gated repository: accept its licence on the hub and log in with `hf auth login`"
    if kind == "RepositoryNotFoundError":
        return "no such repository on the hub (or it is private: log in with `hf auth login`)"
    if kind == "RevisionNotFoundError":
        return "no such revision in this repository"
    if kind in ("EntryNotFoundError", "RemoteEntryNotFoundError") and name != "details":
        return f"the repository has no {name}"
    if kind in ("ConnectError", "ConnectTimeout", "ReadTimeout", "TimeoutException", "RemoteProtocolError", "ReadError"):
        return f"the hub did not answer ({kind}: {' '.join(str(error).split())[:160]})"
    text = " ".join(str(error).split()) or kind
    return f"cannot fetch {name}: {text[:200]}"

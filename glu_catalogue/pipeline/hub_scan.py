"""``catalogue hub scan``: every model the Hub lists as derived from a base model, read from its headers, classified.

The listing (``store.hub_listing``) gives the ids; up to ``jobs`` repositories are read at once
(``interop.hub_scan``), each request under the hub's deadline and 429s waited out as the Hub asks.
Each finished repository is appended to a state file (JSON lines, flushed to disk) before the next
is reported: a scan killed at any moment, even by kill -9, starts again where it stopped and reads
only the repositories it has not finished (a line cut short by the kill is dropped). ``add`` puts
the readable repositories the registry lacks into it through ``catalogue add``'s own code
(``pipeline.add.add_model``), each at the commit scanned.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CatalogueError, InputError, UsageError
from ..interop.hub_scan import ScannedRepository, scan_repository
from ..store.hub_listing import list_derivatives
from ..store.hub_reach import hub_endpoint, hub_unreachable_reason, rate_limit_waits
from ..store.sources import hub_id_match

#: The most repositories read at once.
MAX_JOBS = 32

#: The state file's first line: what scan it belongs to.
STATE_VERSION = 1


@dataclass
class ScanResult:
    """A whole scan: the repositories listed, each one's finding (those read before a restart too), what this run read."""

    base_model: str
    endpoint: str
    listed: int
    repositories: list[ScannedRepository]
    resumed: int
    bytes_read: int
    seconds: float
    state_file: Path
    rate_limited: dict[str, float] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    not_added: dict[str, str] = field(default_factory=dict)

    @property
    def scanned_this_run(self) -> int:
        """Repositories read in this run (not taken from the state file)."""
        return len(self.repositories) - self.resumed


def default_state_file(base_model: str) -> Path:
    """``hub-scan-<org>__<name>.jsonl`` in the current directory."""
    return Path(f"hub-scan-{base_model.replace('/', '__')}.jsonl")


def scan_hub(
    base_model: str,
    *,
    jobs: int = 4,
    state_file: Path | None = None,
    add: bool = False,
    data_dir: Path | None = None,
    on_repository: Callable[[ScannedRepository], None] | None = None,
) -> ScanResult:
    """List ``base_model``'s derivatives on the hub and read each one not read yet; ``add`` registers the readable ones."""
    if hub_id_match(base_model) is None or "@" in base_model:
        raise UsageError(f"--base-model {base_model!r}: expected a hub id like meta-llama/Llama-3.2-1B")
    if not 1 <= jobs <= MAX_JOBS:
        raise UsageError(f"--jobs {jobs}: expected 1 to {MAX_JOBS}")
    endpoint = hub_endpoint()
    unreachable = hub_unreachable_reason(endpoint)
    if unreachable is not None:
        raise InputError(f"{base_model}: the hub at {endpoint} cannot be reached ({unreachable}); a scan needs the network")
    state_file = Path(state_file or default_state_file(base_model))
    records = _records(data_dir)
    started, waits_before = time.perf_counter(), dict(rate_limit_waits)
    done = _load_state(state_file, base_model, endpoint)
    listing = list_derivatives(base_model, endpoint)
    found = {repo_id: done[repo_id] for repo_id in listing.repo_ids if repo_id in done}
    resumed = len(found)
    bytes_read = listing.bytes_read
    with _StateWriter(state_file, base_model, endpoint) as writer, ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(scan_repository, repo_id, records): repo_id for repo_id in listing.repo_ids if repo_id not in found}
        for future in as_completed(futures):
            scanned = future.result()
            writer.append(scanned)
            found[scanned.repo_id] = scanned
            bytes_read += scanned.bytes_read
            if on_repository is not None:
                on_repository(scanned)
    waits = {key: rate_limit_waits[key] - waits_before[key] for key in rate_limit_waits}
    result = ScanResult(
        base_model,
        endpoint,
        len(listing.repo_ids),
        [found[repo_id] for repo_id in listing.repo_ids],
        resumed,
        bytes_read,
        time.perf_counter() - started,
        state_file,
        waits,
    )
    if add:
        _add_readable(result)
    return result


def _records(data_dir: Path | None) -> dict:
    """The catalogue's successful records, read once for every repository's match (none: nothing matches)."""
    from ..checkpoints.inspect import successful_records
    from ..store.reading import ReadError

    try:
        return successful_records(data_dir)[1]
    except ReadError:
        return {}


def _add_readable(result: ScanResult) -> None:
    """Each readable repository the registry lacks, added at the commit scanned (``catalogue add``'s checks and write)."""
    from ..store.registry import load_registry
    from .add import add_model

    registered = set(load_registry())
    for scanned in result.repositories:
        if not scanned.readable or scanned.repo_id in registered:
            continue
        try:
            add_model(f"{scanned.repo_id}@{scanned.commit}", model_id=scanned.repo_id)
        except CatalogueError as error:
            result.not_added[scanned.repo_id] = str(error)
        else:
            result.added.append(scanned.repo_id)


def _load_state(path: Path, base_model: str, endpoint: str) -> dict[str, ScannedRepository]:
    """The repositories a previous run of the same scan finished; a last line cut short by a kill is dropped (and cut off)."""
    if not path.exists():
        return {}
    if not path.is_file():
        raise InputError(f"{path}: the scan's state file is not a file")
    content = path.read_bytes()
    lines = content.split(b"\n")
    complete = content.endswith(b"\n")
    kept = lines[:-1]  # the text after the last newline is a line cut short (or nothing)
    if not complete:
        with open(path, "r+b") as handle:  # cut the partial line so the next append starts a line of its own
            handle.truncate(len(content) - len(lines[-1]))
    try:
        header = json.loads(kept[0]) if kept else None
    except ValueError:
        header = None
    if header != {"state_version": STATE_VERSION, "base_model": base_model, "endpoint": endpoint}:
        raise InputError(f"{path}: the state file of another scan (not {base_model} at {endpoint}): give --state another file, or remove it")
    done = {}
    for number, line in enumerate(kept[1:], start=2):
        try:
            scanned = ScannedRepository(**json.loads(line))
        except (ValueError, TypeError):
            raise InputError(f"{path}:{number}: not a line this scan wrote: remove the file to scan again from the start") from None
        done[scanned.repo_id] = scanned
    return done


class _StateWriter:
    """Appends one JSON line per finished repository, flushed to disk before it counts as done."""

    def __init__(self, path: Path, base_model: str, endpoint: str):
        self.path, self.header = path, {"state_version": STATE_VERSION, "base_model": base_model, "endpoint": endpoint}
        self.lock = threading.Lock()

    def __enter__(self) -> _StateWriter:
        new = not self.path.exists() or self.path.stat().st_size == 0
        try:
            self.handle = open(self.path, "a", encoding="utf-8")
        except OSError as error:
            raise InputError(f"{self.path}: cannot write the scan's state file ({error.strerror or error})") from None
        if new:
            self._write(self.header)
        return self

    def append(self, scanned: ScannedRepository) -> None:
        """One repository's finding, on disk before this returns."""
        self._write(scanned.as_dict())

    def _write(self, document: dict) -> None:
        with self.lock:
            self.handle.write(json.dumps(document, sort_keys=True, ensure_ascii=False) + "\n")
            self.handle.flush()
            os.fsync(self.handle.fileno())

    def __exit__(self, *exc) -> None:
        self.handle.close()

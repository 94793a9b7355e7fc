"""A fake Hugging Face Hub: a real HTTP server on the loopback interface, serving what huggingface_hub asks for.

* ``HEAD``/``GET /{repo}/resolve/{revision}/{file}`` with ``X-Repo-Commit``, ``ETag`` and
  ``Content-Length``; a ``Range: bytes=a-b`` request is answered ``206`` with ``Content-Range``;
* ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{revision}``: the commit and the
  file list (``siblings``); ``/api/models/{repo}/tree/{revision}``: the files (``snapshot_download``);
* ``404`` with ``X-Error-Code: RepoNotFound``, ``RevisionNotFound`` or ``EntryNotFound``; a gated
  repository answers ``401`` with ``X-Error-Code: GatedRepo``;
* ``GET /api/models?filter=base_model:<id>``: the repositories added with that ``base_model``, a page of
  ``LIST_PAGE_SIZE`` at a time, the next page named in a ``Link: <...>; rel="next"`` header (what
  ``HfApi.list_models(filter="base_model:<id>")`` asks and follows in huggingface_hub 2.4);
* misbehaving on purpose: a repository in ``drip`` sends every body one byte at a time, that many
  seconds apart, one in ``pause`` waits that long before each answer; one in ``redirects`` answers its files with ``302`` to another address; each path
  named in ``too_many`` (a prefix) answers ``429`` with ``Retry-After: retry_after_s`` that many times first.

Files are served from checkpoints transformers saved in the test, or are "shaped" files: a real
safetensors header followed by a data section of zeros that exists only as a length, so a
multi-gigabyte checkpoint costs nothing to serve as long as nobody reads its weights. The server
counts every body byte it sends (``bytes_sent``) and logs each request (``requests``).

huggingface_hub reads ``HF_ENDPOINT`` once, when its constants are imported; the catalogue reads it
at each call, and CLI tests run a fresh process with ``HF_ENDPOINT`` set to ``endpoint``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<file>.+)$")
API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+?)(?:/revision/(?P<revision>[^/]+))?$")
LIST = "/api/models"
TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+?)/tree/(?P<revision>[^/]+)$")

#: Models per page of the listing (the Hub's is 1,000; small here so that tests cross pages).
LIST_PAGE_SIZE = 50

#: Bytes a shaped file's data section is sent in (zeros).
CHUNK = 1 << 16


@dataclass
class ShapedFile:
    """A file of ``size`` bytes whose first bytes are ``head`` and the rest zeros (never stored)."""

    head: bytes
    size: int

    def read(self, first: int, last: int) -> bytes:
        """Bytes ``first``..``last`` inclusive."""
        part = self.head[first : last + 1]
        return part + bytes(last - first + 1 - len(part))


@dataclass
class Repository:
    """One repository: its refs (branch -> commit) and each commit's files (name -> bytes or ShapedFile)."""

    refs: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict[str, bytes | ShapedFile]] = field(default_factory=dict)
    gated: bool = False
    base_model: str | None = None


class FakeHub:
    """The server and what it serves; ``endpoint`` is its address once started."""

    def __init__(self) -> None:
        self.repositories: dict[str, Repository] = {}
        self.bytes_sent = 0
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, range)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        #: repo id -> seconds between the bytes of every answer's body (a hub that drips).
        self.drip: dict[str, float] = {}
        #: repo id -> the address its files are redirected to (``302``, as the Hub sends large files to its CDN).
        self.redirects: dict[str, str] = {}
        #: repo id -> seconds each answer about it waits before it starts (a busy hub).
        self.pause: dict[str, float] = {}
        #: path prefix -> how many more requests under it answer 429 (``Retry-After: retry_after_s``).
        self.too_many: dict[str, int] = {}
        self.retry_after_s = 1
        #: (monotonic time, method, path, status) of every answer, for tests of waiting.
        self.answers: list[tuple[float, str, str, int]] = []

    # --- what it serves -----------------------------------------------------------------------

    def add(self, repo_id: str, files: dict[str, bytes | ShapedFile], branch: str = "main", gated: bool = False, base_model: str | None = None) -> str:
        """Serve ``files`` as a new commit of ``repo_id`` on ``branch``; returns the commit (40 hex digits)."""
        digest = hashlib.sha1(repo_id.encode())
        for name in sorted(files):
            content = files[name]
            digest.update(name.encode() + (content.head + str(content.size).encode() if isinstance(content, ShapedFile) else content))
        commit = digest.hexdigest()
        repository = self.repositories.setdefault(repo_id, Repository())
        repository.commits[commit] = dict(files)
        repository.refs[branch] = commit
        repository.gated = repository.gated or gated
        repository.base_model = base_model or repository.base_model
        return commit

    def add_directory(
        self, repo_id: str, directory: Path, branch: str = "main", gated: bool = False, shaped: bool = False, base_model: str | None = None
    ) -> str:
        """Serve every file of a checkpoint directory as a commit of ``repo_id``: as it is (one transformers
        saved), or (``shaped``) each safetensors file as its header and a length of zeros (a sparse file's)."""
        files: dict[str, bytes | ShapedFile] = {}
        for path in sorted(Path(directory).iterdir()):
            if shaped and path.suffix == ".safetensors":
                with open(path, "rb") as handle:
                    prefix = handle.read(8)
                    head = prefix + handle.read(int.from_bytes(prefix, "little"))
                files[path.name] = ShapedFile(head, path.stat().st_size)
            elif path.is_file():
                files[path.name] = path.read_bytes()
        return self.add(repo_id, files, branch, gated, base_model)

    def reset_counts(self) -> None:
        """Forget the bytes sent and the requests seen so far."""
        with self._lock:
            self.bytes_sent = 0
            self.requests.clear()

    # --- the server ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None, "start() the fake hub first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeHub:
        """Listen on a free loopback port, in a daemon thread."""
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                hub._answer(self, body=False)

            def do_GET(self) -> None:
                hub._answer(self, body=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        address = urlsplit(handler.path)
        path = unquote(address.path)
        wanted = handler.headers.get("Range")
        with self._lock:
            self.requests.append((handler.command, path, wanted))
            limited = next((prefix for prefix, left in self.too_many.items() if left > 0 and path.startswith(prefix)), None)
            if limited is not None:
                self.too_many[limited] -= 1
        if limited is not None:
            return self._send(handler, 429, b'{"error": "Too Many Requests"}', {"Retry-After": str(self.retry_after_s)}, body)
        if path == LIST:
            return self._list(handler, parse_qs(address.query), body)
        named = TREE.match(path) or API.match(path) or RESOLVE.match(path)
        handler.drip_s = self.drip.get(named["repo"]) if named else None  # type: ignore[attr-defined]
        if named and named["repo"] in self.pause:
            time.sleep(self.pause[named["repo"]])
        resolve = RESOLVE.match(path)
        if resolve and resolve["repo"] in self.redirects:
            return self._redirect(handler, resolve, path, body)
        tree = TREE.match(path)
        if tree:
            return self._tree(handler, tree["repo"], tree["revision"], body)
        api = API.match(path)
        if api:
            return self._api(handler, api["repo"], api["revision"] or "main", body)
        resolve = RESOLVE.match(path)
        if resolve:
            return self._file(handler, resolve["repo"], resolve["revision"], resolve["file"], wanted, body)
        self._send(handler, 404, b"not found", {"X-Error-Code": "RepoNotFound"}, body)

    def _list(self, handler, query: dict[str, list[str]], body: bool) -> None:
        """One page of the models whose ``base_model`` the filter names, in the order they were added."""
        wanted = [value.removeprefix("base_model:") for value in query.get("filter", []) if value.startswith("base_model:")]
        if len(wanted) != 1:
            return self._send(handler, 400, b'{"error": "this fake lists by one base_model filter only"}', {}, body)
        derived = [repo_id for repo_id, repository in self.repositories.items() if repository.base_model == wanted[0]]
        cursor = int(query.get("cursor", ["0"])[0])
        page = [
            {"id": repo_id, "modelId": repo_id, "tags": [f"base_model:{wanted[0]}"], "private": False} for repo_id in derived[cursor : cursor + LIST_PAGE_SIZE]
        ]
        headers = {"Content-Type": "application/json"}
        if cursor + LIST_PAGE_SIZE < len(derived):
            following = urlencode({"filter": f"base_model:{wanted[0]}", "cursor": cursor + LIST_PAGE_SIZE})
            headers["Link"] = f'<{self.endpoint}{LIST}?{following}>; rel="next"'
        self._send(handler, 200, json.dumps(page).encode(), headers, body)

    def _commit(self, handler, repo_id: str, revision: str, body: bool) -> tuple[str, dict] | None:
        repository = self.repositories.get(repo_id)
        if repository is None:
            self._send(handler, 404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"}, body)
            return None
        if repository.gated:
            message = "Access to this model is restricted. You must be authenticated to access it."
            self._send(handler, 401, json.dumps({"error": message}).encode(), {"X-Error-Code": "GatedRepo", "X-Error-Message": message}, body)
            return None
        commit = repository.refs.get(revision) or next((sha for sha in repository.commits if sha.startswith(revision) and len(revision) >= 7), None)
        if commit is None:
            self._send(handler, 404, b'{"error": "Invalid rev id"}', {"X-Error-Code": "RevisionNotFound", "X-Error-Message": "Invalid rev id"}, body)
            return None
        return commit, repository.commits[commit]

    def _api(self, handler, repo_id: str, revision: str, body: bool) -> None:
        found = self._commit(handler, repo_id, revision, body)
        if found is None:
            return
        commit, files = found
        document = {"id": repo_id, "modelId": repo_id, "sha": commit, "private": False, "siblings": [{"rfilename": name} for name in sorted(files)]}
        self._send(handler, 200, json.dumps(document).encode(), {"Content-Type": "application/json"}, body)

    def _tree(self, handler, repo_id: str, revision: str, body: bool) -> None:
        found = self._commit(handler, repo_id, revision, body)
        if found is None:
            return
        commit, files = found
        entries = [
            {
                "type": "file",
                "path": name,
                "size": content.size if isinstance(content, ShapedFile) else len(content),
                "oid": hashlib.sha1((commit + name).encode()).hexdigest(),
            }
            for name, content in sorted(files.items())
        ]
        self._send(handler, 200, json.dumps(entries).encode(), {"Content-Type": "application/json"}, body)

    def _file(self, handler, repo_id: str, revision: str, name: str, wanted: str | None, body: bool) -> None:
        found = self._commit(handler, repo_id, revision, body)
        if found is None:
            return
        commit, files = found
        content = files.get(name)
        if content is None:
            self._send(
                handler,
                404,
                b'{"error": "Entry not found"}',
                {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found", "X-Repo-Commit": commit},
                body,
            )
            return
        size = content.size if isinstance(content, ShapedFile) else len(content)
        etag = hashlib.sha256((commit + name).encode()).hexdigest()
        headers = {"X-Repo-Commit": commit, "ETag": f'"{etag}"', "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        first, last, status = 0, size - 1, 200
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted or "")
        if match:
            first = int(match[1])
            last = min(int(match[2]) if match[2] else size - 1, size - 1)
            if first >= size:
                self._send(handler, 416, b"", {"Content-Range": f"bytes */{size}"}, body)
                return
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        self._send_span(handler, status, content, first, last, headers, body)

    def _redirect(self, handler, resolve: re.Match, path: str, body: bool) -> None:
        """``302`` to the repository's other address, with the headers the Hub puts on its redirects to the CDN."""
        found = self._commit(handler, resolve["repo"], resolve["revision"], body)
        if found is None:
            return
        commit, files = found
        content = files.get(resolve["file"], b"")
        size = content.size if isinstance(content, ShapedFile) else len(content)
        etag = hashlib.sha256((commit + resolve["file"]).encode()).hexdigest()
        headers = {"Location": self.redirects[resolve["repo"]] + path, "X-Repo-Commit": commit, "X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(size)}
        self._send(handler, 302, b"", headers, body)

    def _send_span(self, handler, status: int, content, first: int, last: int, headers: dict, body: bool) -> None:
        self._note(handler, status)
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(last - first + 1))
        handler.end_headers()
        if not body:
            return
        position = first
        try:
            while position <= last:
                end = min(position + CHUNK - 1, last)
                chunk = content.read(position, end) if isinstance(content, ShapedFile) else content[position : end + 1]
                self._write(handler, chunk)
                position = end + 1
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client took what it wanted and closed the connection

    def _note(self, handler, status: int) -> None:
        with self._lock:
            self.answers.append((time.monotonic(), handler.command, unquote(urlsplit(handler.path).path), status))

    def _send(self, handler, status: int, content: bytes, headers: dict, body: bool) -> None:
        self._note(handler, status)
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        if body:
            try:
                self._write(handler, content)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def _write(self, handler, content: bytes) -> None:
        """Send ``content``: at once, or one byte at a time with a pause between (a repository in ``drip``)."""
        pause = getattr(handler, "drip_s", None)
        pieces = [content[index : index + 1] for index in range(len(content))] if pause else [content]
        for piece in pieces:
            handler.wfile.write(piece)
            with self._lock:
                self.bytes_sent += len(piece)
            if pause:
                handler.wfile.flush()
                time.sleep(pause)

"""The built site in a real browser: build it under a subpath, serve it as GitHub Pages would, drive Chromium.

Used by ``tests/e2e/test_browser.py`` and ``benchmarks/page_weight.py``. Chromium is Debian's
(``apt-get install -y chromium``), driven through Playwright's Python API: Playwright cannot
download its own browser here.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: The site is served under this path, as a GitHub Pages project site is.
SUBPATH = "glu-catalogue"
INSTALL_HINT = "apt-get install -y chromium (Debian's browser) and pip install -e '.[test]' (playwright)"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401 - installed or not: the import is the question
    except ImportError:
        return f"needs playwright and Chromium: {INSTALL_HINT}"
    if not CHROMIUM.is_file():
        return f"needs {CHROMIUM}: {INSTALL_HINT}"
    return None


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files; a missing path gets the site's 404.html with status 404, as GitHub Pages does."""

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / SUBPATH / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def served(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 in a thread; yields the URL of the site (``http://127.0.0.1:PORT/glu-catalogue/``)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{SUBPATH}/"
    finally:
        server.shutdown()
        server.server_close()


def build_site(root: Path, site_url: str) -> Path:
    """``mkdocs build --strict`` of the repository into ``root/glu-catalogue`` for ``site_url``; returns that folder."""
    target = root / SUBPATH
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CATALOGUE_SITE_URL": site_url, "NO_MKDOCS_2_WARNING": "1"},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"mkdocs build failed:\n{completed.stdout}{completed.stderr}")
    return target


@contextmanager
def built_and_served(root: Path) -> Iterator[tuple[str, Path]]:
    """The site built for, and served at, a local address under a subpath: (site URL, site folder)."""
    with served(root) as url:
        yield url, build_site(root, url)


def launch(playwright):
    """Debian's Chromium, headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def page_urls(site: Path, url: str) -> list[str]:
    """Every page of the built site (its sitemap's addresses), in order."""
    import re

    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    return re.findall(r"<loc>([^<]+)</loc>", sitemap) or [url]


def page_weight(page, url: str) -> tuple[int, dict[str, int], list[str]]:
    """Load ``url`` in ``page`` until the network is idle: total bytes, bytes per address, and the failed loads.

    Every response counts: the HTML, stylesheets, scripts, images, and what scripts fetch
    (the search index); a response's body length is what crossed the wire (the test server
    does not compress).
    """
    responses = []
    failed: list[str] = []

    def on_response(response) -> None:
        responses.append(response)

    def on_failed(request) -> None:
        failed.append(f"failed {request.url}")

    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    try:
        page.goto(url, wait_until="networkidle")
    finally:
        page.remove_listener("response", on_response)
        page.remove_listener("requestfailed", on_failed)
    sizes: dict[str, int] = {}
    for response in responses:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")
            continue
        try:
            sizes[response.url] = len(response.body())
        except Exception:  # no body (a redirect)
            sizes.setdefault(response.url, 0)
    return sum(sizes.values()), sizes, failed

"""Whether the Hugging Face Hub can be reached at all, asked in a second, and huggingface_hub kept quiet.

huggingface_hub retries a request that meets a network error five times with back-off (about
24 s) and logs a warning for each try. Without a network that is 24 s and a dozen lines before
one answer that was known at once, so the hub's host is resolved and connected to first, with a
short timeout; when that fails, only the local cache is asked. Standard library only.
"""

from __future__ import annotations

import logging
import os
import socket
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit

#: The hub huggingface_hub talks to unless HF_ENDPOINT names another.
DEFAULT_ENDPOINT = "https://huggingface.co"

#: Loggers silenced while the hub is asked: huggingface_hub's, and its HTTP client's (httpx2 in huggingface_hub 2.x, httpx before).
QUIET_LOGGERS = ("huggingface_hub", "httpx2", "httpx", "httpcore2", "httpcore")

#: Seconds to wait for the hub's host to answer a connection.
CONNECT_TIMEOUT_S = 3.0


def hub_endpoint() -> str:
    """The hub's address now: ``$HF_ENDPOINT`` as it is at the call (huggingface_hub's own constant is read once,
    at its import), else https://huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def hub_unreachable_reason(endpoint: str | None = None) -> str | None:
    """Why the hub cannot be reached (``HF_HUB_OFFLINE`` set, its name not resolved, no connection), else None."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return "HF_HUB_OFFLINE is set"
    address = urlsplit(endpoint or hub_endpoint())
    host = address.hostname or ""
    port = address.port or (443 if address.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return None
    except socket.gaierror:
        return f"the name {host} does not resolve: no network?"
    except OSError as error:
        return f"no connection to {host}:{port}: {error.strerror or type(error).__name__}"


@contextmanager
def quiet_hub() -> Iterator[None]:
    """huggingface_hub's warnings (retries, progress) and its HTTP client's request lines kept off the screen while
    a file is fetched (a library imported before, transformers' for one, may have set the root logger to INFO)."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)

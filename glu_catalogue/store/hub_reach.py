"""Whether the Hugging Face Hub can be reached at all, asked in a second, and huggingface_hub kept quiet.

huggingface_hub retries a request that meets a network error five times with back-off (about
24 s) and logs a warning for each try. Without a network that is 24 s and a dozen lines before
one answer that was known at once, so the hub's host is resolved and connected to first, with a
short timeout; when that fails, only the local cache is asked.

Every request to the hub runs under a total deadline (``within_deadline``): the HTTP client's read
timeout starts again with each byte, so a hub that drips one byte a second would otherwise hold a
command forever. The deadline is ``CATALOGUE_HUB_DEADLINE_S`` seconds (default
``DEFAULT_DEADLINE_S``); a request still running then is abandoned (its thread is a daemon) and the
command says the hub was too slow, naming it. A ``429 Too Many Requests`` is waited out as its
``Retry-After`` asks (``asked_politely``), outside that deadline. Standard library only.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..core.text import whole_number
from ..errors import SourceError, UsageError

T = TypeVar("T")

#: The hub huggingface_hub talks to unless HF_ENDPOINT names another.
DEFAULT_ENDPOINT = "https://huggingface.co"

#: Loggers silenced while the hub is asked: huggingface_hub's, and its HTTP client's (httpx2 in huggingface_hub 2.x, httpx before).
QUIET_LOGGERS = ("huggingface_hub", "httpx2", "httpx", "httpcore2", "httpcore")

#: Seconds to wait for the hub's host to answer a connection.
CONNECT_TIMEOUT_S = 3.0

#: Seconds one request to the hub may take in all, answer and body (a header, config.json, a listing page).
DEFAULT_DEADLINE_S = 30.0

#: The environment variable that raises (or lowers) that deadline, in seconds.
DEADLINE_VARIABLE = "CATALOGUE_HUB_DEADLINE_S"

#: The longest deadline the variable may set (a day): a longer one is a typing error.
MAX_DEADLINE_S = 86_400.0


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
    a file is fetched (a library imported before, transformers' for one, may have set the root logger to INFO).

    Counted across threads (a scan fetches several files at once): the first to enter quiets the
    loggers, the last to leave gives them back their levels."""
    with _QUIET_LOCK:
        if _quiet["depth"] == 0:
            loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
            _quiet["levels"] = [(logger, logger.level) for logger in loggers]
            for logger in loggers:
                logger.setLevel(logging.ERROR)
        _quiet["depth"] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet["depth"] -= 1
            if _quiet["depth"] == 0:
                for logger, level in _quiet["levels"]:
                    logger.setLevel(level)


_QUIET_LOCK = threading.Lock()
_quiet: dict[str, Any] = {"depth": 0, "levels": []}


class HubTooSlow(SourceError):
    """A request to the hub that had not finished when its total deadline passed."""


def hub_deadline_s() -> float:
    """The total seconds one request to the hub may take: ``$CATALOGUE_HUB_DEADLINE_S``, else ``DEFAULT_DEADLINE_S``."""
    text = os.environ.get(DEADLINE_VARIABLE, "").strip()
    if not text:
        return DEFAULT_DEADLINE_S
    try:
        seconds = float(text) if len(text) <= 32 else float("nan")
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= MAX_DEADLINE_S:  # NaN fails both comparisons
        raise UsageError(f"{DEADLINE_VARIABLE}={text[:40]!r}: expected seconds, a number above 0 and at most {MAX_DEADLINE_S:.0f}")
    return seconds


def within_deadline(call: Callable[[], T], what: str, endpoint: str | None = None) -> T:
    """``call()`` if it returns within the hub's deadline; else ``HubTooSlow`` naming ``what`` and the hub.

    The call runs in a daemon thread: a hub that drips its answer cannot be interrupted mid-read by
    the HTTP client, so the caller stops waiting and the thread is left to the process's exit.
    """
    seconds = hub_deadline_s()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller's thread as it is
            outcome["error"] = error

    worker = threading.Thread(target=run, name=f"hub request: {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise HubTooSlow(
            f"{what}: the hub at {endpoint or hub_endpoint()} was too slow: no complete answer within {seconds:g} s (set {DEADLINE_VARIABLE} to wait longer)"
        )
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def redirect_reason(error: Exception, endpoint: str) -> str | None:
    """Where the hub redirected a request that then failed on another host, in words; None when it stayed on the hub.

    huggingface_hub wraps a failed download in errors of its own ("cannot find the file in the local
    cache"), so the chain of causes is followed to the HTTP client's error, which names the request.
    """
    hub_host = urlsplit(endpoint).hostname
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        host = getattr(getattr(_request_of(cause), "url", None), "host", None)
        if host and host != hub_host:
            reason = " ".join(str(cause).split())[:160] or type(cause).__name__
            return f"the hub at {endpoint} redirected the request to another host, {host}, which did not answer ({type(cause).__name__}: {reason})"
        cause = cause.__cause__ or cause.__context__
    return None


def _request_of(error: Exception) -> object | None:
    try:
        return error.request  # type: ignore[attr-defined]  # httpx raises RuntimeError when an error has no request
    except Exception:
        return None


#: How many 429 answers in a row one request waits through before it gives up.
MAX_RATE_LIMITED_TRIES = 8

#: The longest wait one Retry-After may ask for (seconds); a longer one is waited this long, then asked again.
MAX_RETRY_AFTER_S = 300.0

#: Seconds waited after a 429 that states no Retry-After.
DEFAULT_RETRY_AFTER_S = 5.0


@dataclass(frozen=True)
class RateLimited:
    """The hub's ``429 Too Many Requests``, with the seconds its ``Retry-After`` asks to wait."""

    seconds: float


#: Seconds this process has waited on the hub's 429 answers, all requests together (reported by hub scan).
rate_limit_waits = {"count": 0, "seconds": 0.0}
_WAITS_LOCK = threading.Lock()


def retry_after_s(headers: Any) -> float:
    """The wait a 429's ``Retry-After`` asks for: seconds, or an HTTP date; ``DEFAULT_RETRY_AFTER_S`` without one."""
    text = (headers.get("retry-after") or "").strip()
    seconds = whole_number(text, max_digits=9)
    if seconds is not None:
        return float(seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RETRY_AFTER_S
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def asked_politely(attempt: Callable[[], T | RateLimited], what: str, endpoint: str | None = None) -> T:
    """``attempt()`` under the deadline; while it answers ``RateLimited``, wait as the hub asks and try again."""
    for _ in range(MAX_RATE_LIMITED_TRIES):
        answer = within_deadline(attempt, what, endpoint)
        if not isinstance(answer, RateLimited):
            return answer
        wait = min(answer.seconds, MAX_RETRY_AFTER_S)
        with _WAITS_LOCK:  # a scan's requests run in several threads
            rate_limit_waits["count"] += 1
            rate_limit_waits["seconds"] += wait
        time.sleep(wait)
    raise SourceError(f"{what}: the hub at {endpoint or hub_endpoint()} answered 429 Too Many Requests {MAX_RATE_LIMITED_TRIES} times: try again later")

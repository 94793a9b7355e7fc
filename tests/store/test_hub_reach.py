"""A hub that drips its answers, or sends its files elsewhere: every request has a total deadline, and a
redirect to another host that fails is said to be one (issue 29, item 9). The fake Hub drips for real:
one byte at a time over a socket, as a slow or hostile server would."""

from __future__ import annotations

import json
import socket
import time

import pytest
from conftest import run_cli
from fake_hub import FakeHub
from hub_users import LLAMA_1B, one_error_line
from safetensors_files import llama_config

from glu_catalogue.errors import UsageError
from glu_catalogue.store import hub_reach


@pytest.fixture
def dripping(hub: FakeHub) -> str:
    """A repository whose every answer comes one byte every half second (its model API answer alone is ~300 bytes)."""
    hub.add("slow/drip", {"config.json": json.dumps(llama_config(LLAMA_1B)).encode()})
    hub.drip["slow/drip"] = 0.5
    return "slow/drip"


def test_inspect_of_a_dripping_hub_stops_at_the_deadline_and_names_the_hub(hub, env, dripping):
    started = time.monotonic()
    line = one_error_line(run_cli("inspect", dripping, env={**env, "CATALOGUE_HUB_DEADLINE_S": "2"}, timeout=60))
    assert time.monotonic() - started < 20
    assert f"the hub at {hub.endpoint} was too slow" in line and "within 2 s" in line and "CATALOGUE_HUB_DEADLINE_S" in line, line


def test_results_check_of_a_file_naming_a_dripping_repository_stops_too(hub, env, dripping, tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"results": {"arc_easy": {"acc,none": 0.5}}, "config": {"model_args": f"pretrained={dripping}"}, "versions": {}}))
    started = time.monotonic()
    line = one_error_line(run_cli("results", "check", str(results), env={**env, "CATALOGUE_HUB_DEADLINE_S": "2"}, timeout=60))
    assert time.monotonic() - started < 20
    assert "too slow" in line and hub.endpoint in line, line


def test_a_redirect_to_another_host_that_fails_is_said_to_be_one(hub, env):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    hub.add("cdn/elsewhere", {"config.json": json.dumps(llama_config(LLAMA_1B)).encode(), "model.safetensors": b"\0" * 16})
    hub.redirects["cdn/elsewhere"] = f"http://localhost:{port}"
    line = one_error_line(run_cli("inspect", "cdn/elsewhere", env=env, timeout=60))
    assert f"the hub at {hub.endpoint} redirected the request to another host, localhost" in line, line
    assert "offline" not in line and "cannot be reached" not in line, line


@pytest.mark.parametrize("typed", ["0", "-1", "nan", "soon", "1e9", "9" * 400])
def test_a_deadline_that_is_no_number_of_seconds_is_refused(monkeypatch, typed):
    monkeypatch.setenv("CATALOGUE_HUB_DEADLINE_S", typed)
    with pytest.raises(UsageError, match="CATALOGUE_HUB_DEADLINE_S"):
        hub_reach.hub_deadline_s()


def test_within_deadline_returns_the_answer_raises_the_error_and_stops_waiting(monkeypatch):
    monkeypatch.setenv("CATALOGUE_HUB_DEADLINE_S", "0.3")
    assert hub_reach.within_deadline(lambda: 42, "x") == 42
    with pytest.raises(KeyError):
        hub_reach.within_deadline(lambda: {}["missing"], "x")
    started = time.monotonic()
    with pytest.raises(hub_reach.HubTooSlow, match="org/name: the hub at http://hub.example was too slow"):
        hub_reach.within_deadline(lambda: time.sleep(5), "org/name", "http://hub.example")
    assert time.monotonic() - started < 2


def test_retry_after_is_read_in_seconds_or_as_a_date():
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    assert hub_reach.retry_after_s({"retry-after": "7"}) == 7
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= hub_reach.retry_after_s({"retry-after": later}) <= 30
    assert hub_reach.retry_after_s({}) == hub_reach.retry_after_s({"retry-after": "soon"}) == hub_reach.DEFAULT_RETRY_AFTER_S
    assert hub_reach.retry_after_s({"retry-after": "Mon, 01 Jan 2001 00:00:00 GMT"}) == 0  # a date gone by: ask again now

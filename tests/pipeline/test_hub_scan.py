"""``catalogue hub scan`` against the fake Hub's few hundred derivatives of Llama-3.2-1B (tests/hub_derivatives.py):
every repository classified, headers only, resumable after kill -9, 429 waited out as Retry-After asks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, invoke, run_cli
from fake_hub import FakeHub
from hub_derivatives import BASE, LLAMA_1B, populate

from glu_catalogue.core import formulas


@pytest.fixture(scope="module")
def derived_hub():
    """One fake Hub with the few hundred derivatives, shared by the module's in-process scans."""
    server = FakeHub().start()
    expected = populate(server)
    yield server, expected
    server.stop()


@pytest.fixture
def scan_env(derived_hub, tmp_path, monkeypatch):
    """This process as a user's whose hub is the fake one: online, with an empty cache of its own (huggingface_hub
    read HF_HUB_OFFLINE and the cache's place at its import, so its constants are set here too)."""
    from huggingface_hub import constants

    server, _ = derived_hub
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("CATALOGUE_HUB_DEADLINE_S", "2")
    monkeypatch.chdir(tmp_path)
    return server


def test_every_derivative_is_classified_from_its_headers(derived_hub, scan_env):
    from glu_catalogue.pipeline.hub_scan import scan_hub

    server, expected = derived_hub
    server.reset_counts()
    result = scan_hub(BASE, jobs=8)
    assert result.listed == len(expected) == 303
    assert {scanned.repo_id: scanned.kind for scanned in result.repositories} == expected
    assert "unrelated/model" not in {scanned.repo_id for scanned in result.repositories}
    by_id = {scanned.repo_id: scanned for scanned in result.repositories}
    pruned_40 = by_id["good/llama-1b-pruned-004"]
    assert pruned_40.layer_widths == [4916] * 16 and pruned_40.uniform and pruned_40.expansion_ratio == 4916 / 2048
    assert pruned_40.total_parameters == 913_770_496
    assert pruned_40.matching_records == ["meta-llama/Llama-3.2-1B@40", "meta-llama/Llama-3.2-1B-Instruct@40"]
    varied = by_id["varied/llama-1b-001"]
    assert not varied.uniform and varied.expansion_ratio is None and varied.matching_records == []
    assert (varied.expansion_ratio_min, varied.expansion_ratio_max) == ((8192 - 7 * 256) / 2048, 4.0)
    assert "a gated repository" in by_id["gated/llama-1b-000"].reason
    assert "was too slow" in by_id["slow/llama-1b-000"].reason
    assert "pytorch_model.bin" in by_id["old/llama-1b-bin-000"].reason
    assert "not a GLU decoder checkpoint" in by_id["other/not-glu-000"].reason
    assert result.bytes_read < 100_000 * len(expected)  # headers, never a weight
    assert not any(method == "GET" and path.endswith(".safetensors") and wanted is None for method, path, wanted in server.requests)


def test_the_fake_answers_huggingface_hubs_own_listing_request(derived_hub, scan_env):
    from huggingface_hub import HfApi

    server, expected = derived_hub
    listed = [model.id for model in HfApi(endpoint=server.endpoint).list_models(filter=f"base_model:{BASE}")]
    assert listed == list(expected)


def test_a_429_is_waited_out_as_retry_after_asks(scan_env):
    from glu_catalogue.store.hub_listing import list_derivatives
    from glu_catalogue.store.hub_reach import rate_limit_waits

    server = scan_env
    server.retry_after_s = 1
    server.too_many["/api/models"] = 2
    before = dict(rate_limit_waits)
    server.answers.clear()
    listing = list_derivatives(BASE)
    assert len(listing.repo_ids) == 303
    first = [(when, status) for when, _, path, status in server.answers if path == "/api/models"]
    assert [status for _, status in first[:3]] == [429, 429, 200]
    assert first[1][0] - first[0][0] >= 1 and first[2][0] - first[1][0] >= 1  # waited the second asked each time
    assert rate_limit_waits["count"] - before["count"] == 2


def _scan_process(environment: dict, state, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "glu_catalogue", "hub", "scan", "--base-model", BASE, "--state", str(state), *options],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_scan_killed_with_kill_9_resumes_where_it_stopped(hub, env, tmp_path):
    expected = populate(hub, n_good=30, n_non_uniform=5, n_not_glu=3, n_gated=2, n_no_headers=2, n_slow=0)
    for repo_id in expected:  # slow enough to be killed midway: each answer about a repository waits 0.1 s
        hub.pause[repo_id] = 0.1
    state = tmp_path / "scan.jsonl"
    process = _scan_process(env, state, "--jobs", "2")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not state.exists() or state.read_text().count("\n") < 10):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = [json.loads(line)["repo_id"] for line in state.read_text().splitlines()[1:] if line.endswith("}")]
    assert 9 <= len(done) < len(expected)
    hub.reset_counts()
    hub.pause.clear()  # the rerun need not be slow
    result = run_cli("hub", "scan", "--base-model", BASE, "--state", str(state), "--format", "json", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["resumed"] >= len(done) - 1  # a line cut short by the kill is read again
    assert {item["repo_id"]: item["kind"] for item in document["repositories"]} == expected
    asked_again = {path.split("/api/models/")[1] for method, path, _ in hub.requests if path.startswith("/api/models/")}
    assert not asked_again & set(done[:-1])


def test_scan_table_and_add_put_the_readable_ones_in_the_registry(hub, env, tmp_path):
    expected = populate(hub, n_good=3, n_non_uniform=1, n_not_glu=1, n_gated=1, n_no_headers=1, n_slow=0)
    result = run_cli("hub", "scan", "--base-model", BASE, "--state", str(tmp_path / "s.jsonl"), "--add", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    width = formulas.kept_neurons(LLAMA_1B.intermediate_size, 10)
    parameters = formulas.total_parameters(LLAMA_1B, width)
    line = f"good/llama-1b-pruned-001  uniform  {width / 2048:.2f}x  {parameters:,} parameters  widths 0-15: {width}  -> {BASE}@10, {BASE}-Instruct@10"
    assert line in out, out
    assert "varied/llama-1b-000  non-uniform  3.12x-4.00x" in out and "widths 0: 8192, 1: 7936, 2: 7680" in out
    assert "not added: varied/llama-1b-000: " in out  # its config.json states the first layer's width only
    assert f"{len(expected)} models derive from {BASE} (1 gated, 1 no-safetensors-headers, 1 non-uniform, 1 not-glu, 3 uniform)" in out
    assert "no weights" in out
    registry = {path.name for path in (tmp_path / "registry").iterdir()}
    assert {"good__llama-1b-pruned-000.json", "good__llama-1b-pruned-001.json", "good__llama-1b-pruned-002.json"} <= registry
    assert "gated__llama-1b-000.json" not in registry
    assert "added to the registry: " in out


@pytest.mark.parametrize("options, message", [(("--base-model", "not-a-hub-id"), "expected a hub id"), (("--base-model", BASE, "--jobs", "0"), "--jobs 0")])
def test_bad_options_are_one_line(options, message):
    result = invoke("hub", "scan", *options)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr

"""``catalogue results check`` as a user runs it (a subprocess), and the problems its JSON report gives at one place."""

from __future__ import annotations

import json

from conftest import run_cli


def check(*args: str) -> tuple[int, dict]:
    """``catalogue results check ... --format json``: its exit code and its report."""
    completed = run_cli("results", "check", *map(str, args), "--format", "json", timeout=120)
    assert completed.returncode in (0, 1), completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def messages(report: dict, place: str) -> list[str]:
    return [problem["message"] for problem in report["problems"] if problem["field"] == place]

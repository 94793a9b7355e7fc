"""``catalogue results check`` (run in this process), and the problems its JSON report gives at one place."""

from __future__ import annotations

import json

from conftest import run_here


def check(*args: str) -> tuple[int, dict]:
    """``catalogue results check ... --format json``: its exit code and its report."""
    completed = run_here("results", "check", *map(str, args), "--format", "json")
    assert completed.returncode in (0, 1), completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def messages(report: dict, place: str) -> list[str]:
    return [problem["message"] for problem in report["problems"] if problem["field"] == place]

"""One write is atomic across all its files: a crash at any step leaves the old set or the new set, never a mix.

A write of the catalogue touches the data (JSON, CSV), ``schemas/`` and the site's pages and
charts, and deletes pages the data no longer has. The writer is crashed at every step it
takes (each open, write, fsync, chmod, rename and unlink, the journal's included), once by an
exception and once by a hard crash (a forked child that dies at that step, running no
cleanup), and the next command's recovery must leave exactly the old files or exactly the new
ones, with no temporary file or journal left. End to end, a real ``catalogue build`` killed
after its first rename is completed by the next ``catalogue verify``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import run_here
from write_faults import CRASHING_BUILD, Steps

from glu_catalogue.errors import WriteError
from glu_catalogue.store.writing import JOURNAL_FILE, recover, write_files

#: The os functions the writer changes the disk with; each call is one step a crash can hit.

OLD = {
    "data/expansion_rates.json": "old json\n",
    "data/expansion_rates_summary.csv": "old csv\n",
    "schemas/expansion_rates.schema.json": "old schema\n",
    "docs/index.md": "old page\n",
    "docs/obsolete.md": "a page the new data no longer has\n",
    "docs/plots/chart.svg": "<svg>old</svg>\n",
    "docs/hand-written.md": "not generated: never touched\n",
}
NEW = {
    **{name: text.replace("old", "new") for name, text in OLD.items() if name not in ("docs/obsolete.md", "docs/hand-written.md")},
    "docs/families/new-family.md": "a new page\n",
    "docs/hand-written.md": OLD["docs/hand-written.md"],
}


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (temporary files and journals included) and its text."""
    return {path.relative_to(root).as_posix(): path.read_text() for path in sorted(root.rglob("*")) if path.is_file()}


def setup_old(root: Path) -> None:
    for name, text in OLD.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def the_write(root: Path) -> None:
    """What ``pipeline.publish.write_catalogue`` does for the default data directory, on the files above."""
    texts = {root / name: text for name, text in NEW.items()}
    write_files(texts, delete=[root / "docs/obsolete.md"], journal_dir=root / "data", roots=(root / "schemas", root / "docs"))


def the_next_command(root: Path) -> None:
    """What every reading command does first (``recover_data_dir`` on the default data directory)."""
    recover(root / "data", (root / "schemas", root / "docs"))


def count_steps(tmp_path: Path) -> int:
    root = tmp_path / "count"
    setup_old(root)
    with pytest.MonkeyPatch.context() as patch:
        steps = Steps(patch)
        the_write(root)
    assert tree(root) == NEW
    return steps.count


def test_the_write_itself_gives_the_new_set_and_leaves_nothing_else(tmp_path):
    assert count_steps(tmp_path) > 20  # journal twice, six temporary files, six renames, a deletion, flushes


def test_an_exception_at_every_step_leaves_the_old_or_the_new_set(tmp_path):
    outcomes = []
    for fail_at in range(1, count_steps(tmp_path) + 1):
        root = tmp_path / f"exception-{fail_at}"
        setup_old(root)
        with pytest.MonkeyPatch.context() as patch:
            Steps(patch, fail_at)
            try:
                the_write(root)  # a fault while reading what a file holds now only makes it count as changed
            except WriteError as error:
                assert "injected fault" in str(error) and "\n" not in str(error)
                outcomes.append(fail_at)
        the_next_command(root)
        found = tree(root)
        assert found in (OLD, NEW), (fail_at, found)
    assert outcomes  # most steps fail the write


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_hard_crash_at_every_step_leaves_the_old_or_the_new_set(tmp_path):
    outcomes = []
    for crash_at in range(1, count_steps(tmp_path) + 1):
        root = tmp_path / f"crash-{crash_at}"
        setup_old(root)
        child = os.fork()
        if child == 0:  # pragma: no cover - the child dies at the step or exits
            with pytest.MonkeyPatch.context() as patch:
                Steps(patch, crash_at, hard=True)
                the_write(root)
            os._exit(0)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 70, crash_at
        the_next_command(root)
        found = tree(root)
        assert found in (OLD, NEW), (crash_at, found)
        outcomes.append(found == NEW)
    assert outcomes == sorted(outcomes) and outcomes[0] is False and outcomes[-1] is True


def test_a_journal_naming_files_outside_its_directories_is_refused_not_obeyed(tmp_path):
    data, victim = tmp_path / "data", tmp_path / "victim.txt"
    data.mkdir()
    victim.write_text("precious\n")
    forged = {"state": "committed", "renames": [], "deletions": ["../victim.txt"]}
    (data / JOURNAL_FILE).write_text(json.dumps(forged))
    completed = run_here("verify", str(data))
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith(f"error: {data / JOURNAL_FILE}: not a journal the catalogue can complete") and "victim.txt" in line
    assert victim.read_text() == "precious\n"


# --- end to end: a real build, killed, then the next verify --------------------------------------


def test_a_build_killed_after_its_first_rename_is_completed_by_the_next_verify(tmp_path):
    """The journal's rename is os.replace call 1, the commit call 2, the first file's rename call 3."""
    crash_at_replace, levels_after = 3, [0, 10]
    data, docs = tmp_path / "data", tmp_path / "docs"
    docs.mkdir()
    env = {**os.environ, "CATALOGUE_DATA_DIR": str(data)}
    build = ["build", "--closed-form", "--models", "HuggingFaceTB/SmolLM2-135M", "--data", str(data), "--quiet"]
    assert run_here(*build, "--levels", "0", env=env).returncode == 0
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_BUILD, *build, "--levels", "0,10"],
        env={**env, "CRASH_AT_REPLACE": str(crash_at_replace)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert crashed.returncode == 70, crashed.stderr
    assert list(tmp_path.rglob(JOURNAL_FILE))  # the crash left its journal
    verified = run_here("verify", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr  # data, CSV and pages agree
    records = json.loads((data / "expansion_rates.json").read_text())["models"]
    assert [record["pruning_pct"] for record in records] == levels_after
    assert not [path for path in tmp_path.rglob("*") if path.name.endswith(".tmp") or path.name == JOURNAL_FILE]


def test_a_build_elsewhere_writes_only_there(tmp_path, monkeypatch):
    """Only the default data directory has the checkout's schemas/ (and a site); --data DIR writes DIR alone."""
    from glu_catalogue.pipeline import build, publish
    from glu_catalogue.store import paths

    schemas = tmp_path / "checkout-schemas"
    schemas.mkdir()
    stale = {name: "stale\n" for name in ("expansion_rates.schema.json", "expansion_rates_summary.tableschema.json")}
    for name, text in stale.items():
        (schemas / name).write_text(text)
    monkeypatch.setattr(paths, "schemas_dir", lambda: schemas)
    monkeypatch.setattr(publish, "schemas_dir", lambda: schemas)
    monkeypatch.setenv("CATALOGUE_DATA_DIR", str(tmp_path / "default-data"))
    request = build.BuildRequest(model_ids=("HuggingFaceTB/SmolLM2-135M",), levels=(0,), closed_form=True, data_dir=tmp_path / "elsewhere")
    result = build.run_build(request)
    assert sorted(path.name for path in result.changed_files) == ["expansion_rates.json", "expansion_rates_summary.csv"]
    assert {name: (schemas / name).read_text() for name in stale} == stale
    result = build.run_build(replace(request, data_dir=tmp_path / "default-data"))
    assert {path.parent for path in result.changed_files} == {tmp_path / "default-data", schemas}

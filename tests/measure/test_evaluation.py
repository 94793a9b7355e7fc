"""lm-eval's task index as ``catalogue evaluate`` builds it: the local files alone when they hold every task asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from lm_eval_tasks import TASK, write_task

pytestmark = pytest.mark.torch

GROUP_YAML = f"group: tiny_group\ntask:\n  - {TASK}\n"


def tasks_with_a_group(directory: Path) -> Path:
    """The tiny task's files and a group of it."""
    write_task(directory)
    (directory / "tiny_group.yaml").write_text(GROUP_YAML)
    return directory


def test_local_tasks_alone_are_indexed_when_they_hold_every_task_asked_for(tmp_path):
    from glu_catalogue.measure.evaluation import task_manager

    manager = task_manager(tasks_with_a_group(tmp_path / "tasks"), (TASK,))
    assert sorted(manager.all_tasks) == sorted([TASK, "tiny_group"])  # lm-eval's own ~15,000 were not read
    assert list(manager.load([TASK])["tasks"]) == [TASK]


@pytest.mark.parametrize("asked", [("tiny_group",), (TASK, "arc_easy")], ids=["a local group", "a task of lm-eval's own"])
def test_a_group_or_a_task_not_under_the_include_path_indexes_every_task(tmp_path, monkeypatch, asked):
    """A group may name lm-eval's own tasks, and a name not under --include-path may be one of them: lm-eval indexes all its tasks.

    lm-eval's index of its own tasks costs seconds; what is checked here is that it is asked for, with the include path."""
    import lm_eval.tasks

    from glu_catalogue.measure.evaluation import task_manager

    made: list[tuple[str | None, bool]] = []

    class Recorded(lm_eval.tasks.TaskManager):
        def __init__(self, *, include_path=None, include_defaults=True, **options):
            made.append((include_path, include_defaults))
            if not include_defaults:
                super().__init__(include_path=include_path, include_defaults=False, **options)

    monkeypatch.setattr(lm_eval.tasks, "TaskManager", Recorded)
    tasks = tasks_with_a_group(tmp_path / "tasks")
    manager = task_manager(tasks, asked)
    assert made == [(str(tasks), False), (str(tasks), True)] and type(manager) is Recorded

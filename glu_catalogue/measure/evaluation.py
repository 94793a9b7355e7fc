"""lm-evaluation-harness on a model in memory, through its Python API; its own results file, written by its own code.

``evaluate_task`` wraps the pruned model (already on its device, in its dtype) in lm-eval's
``HFLM``, runs ``simple_evaluate`` on one task with the seeds given, and has lm-eval's
``EvaluationTracker`` write the results file (its layout, its task hashes from the samples),
into a scratch directory beside the target; the finished file is then renamed into place, so a
killed run never leaves half a results file. The file carries one key lm-eval does not write,
``catalogue``: the record measured, the kept-neuron digest and how it was measured; lm-eval's
own readers (``lm_eval.utils.make_table``) ignore it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelFailed
from .settings import EvaluateSettings

#: lm-eval's default seeds (``simple_evaluate``'s), used unless ``--seed`` sets all four.
LM_EVAL_DEFAULT_SEEDS = {"random_seed": 0, "numpy_random_seed": 1234, "torch_random_seed": 1234, "fewshot_random_seed": 1234}


def lm_eval_version() -> str:
    """The installed lm-evaluation-harness's version (``ModelFailed`` when it is not installed)."""
    try:
        return metadata.version("lm_eval")
    except metadata.PackageNotFoundError:
        raise ModelFailed("catalogue evaluate needs lm-evaluation-harness: pip install 'lm_eval>=0.4.13'") from None


def seeds_of(settings: EvaluateSettings) -> dict[str, int]:
    """The four seeds lm-eval is given."""
    return dict(LM_EVAL_DEFAULT_SEEDS) if settings.seed is None else {name: settings.seed for name in LM_EVAL_DEFAULT_SEEDS}


def load_tokenizer(source: str) -> Any:
    """The tokenizer of a checkpoint directory or hub id (``ModelFailed``, one line, when there is none)."""
    from transformers import AutoTokenizer

    from ..store.local_paths import looks_like_path

    local = os.path.isdir(source)
    if not local and looks_like_path(source):
        raise ModelFailed(f"no tokenizer in {source}: no such directory; give --tokenizer DIR|HUB_ID")
    try:
        return AutoTokenizer.from_pretrained(source, local_files_only=local)
    except (OSError, ValueError, TypeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFailed(f"no tokenizer in {source} ({reason}): give --tokenizer DIR|HUB_ID") from None


def task_manager(include_path: Path | None, tasks: tuple[str, ...]) -> Any:
    """lm-eval's ``TaskManager`` for ``tasks``: lm-eval's own tasks and those of the YAML files under ``include_path``.

    When every task asked for is a task (not a group or tag) of the files under ``include_path``,
    lm-eval's own ~15,000 task files are not indexed: reading them costs 6-20 s per run, and they
    cannot change what such a name loads, since lm-eval's include path takes precedence over its
    own tasks. A group or tag may name lm-eval's tasks, so asking for one indexes them all.
    """
    from lm_eval.tasks import TaskManager

    logging.getLogger("lm_eval").setLevel(logging.ERROR)  # its index's notes (its ``verbosity`` argument is deprecated)
    if include_path:
        local = TaskManager(include_path=str(include_path), include_defaults=False)
        if set(tasks) <= set(local.all_subtasks):
            return local
    return TaskManager(include_path=str(include_path) if include_path else None)


def check_tasks(manager: Any, tasks: tuple[str, ...]) -> None:
    """``ModelFailed`` naming a task lm-eval does not know (before any model is loaded)."""
    unknown = [task for task in tasks if task not in manager.all_tasks]
    if unknown:
        raise ModelFailed(
            f"--tasks: lm-eval knows no task {', '.join(map(repr, unknown))} (`lm_eval ls tasks` lists them; local YAML files: --include-path DIR)"
        )


def check_fewshot(manager: Any, tasks: tuple[str, ...], num_fewshot: int) -> None:
    """``ModelFailed`` when a task has fewer documents to draw ``num_fewshot`` examples from than that (before any model is loaded).

    lm-eval's sampler draws the examples from the task's few-shot documents (its few-shot split,
    else its training, validation or test documents), one more when they are the documents
    evaluated (the one asked about is left out); past that every level would fail.
    """
    from lm_eval.tasks import get_task_dict

    _quiet_datasets()
    logging.getLogger("lm_eval").setLevel(logging.ERROR)  # "Selected tasks" at INFO
    with _without_git_noise():
        loaded = get_task_dict(list(tasks), manager)
    for name, task in _leaf_tasks(loaded):
        try:
            pool = len(task.fewshot_docs() or [])
            same_split = getattr(getattr(task, "fewshot_cfg", None), "split", None) == getattr(task.config, "test_split", None)
        except Exception:  # a task whose documents only lm-eval's run can reach: it says so itself
            continue
        available = pool - 1 if same_split else pool
        if num_fewshot > available:
            raise ModelFailed(f"--num-fewshot {num_fewshot}: task {name} has {max(available, 0):,} documents to draw few-shot examples from")


def _leaf_tasks(loaded: dict) -> list[tuple[str, Any]]:
    """(name, task) of every task in lm-eval's nested dict of groups and tasks."""
    leaves = []
    for key, value in loaded.items():
        if isinstance(value, dict):
            leaves += _leaf_tasks(value)
        else:
            leaves.append((getattr(key, "group_name", None) or str(key), value))
    return leaves


def _quiet_datasets() -> None:
    """The datasets library's bars off the screen as it builds a task's local JSON ("Generating test split")."""
    with contextlib.suppress(ImportError):
        from datasets.utils.tqdm import disable_progress_bars

        disable_progress_bars()


def evaluate_task(
    model: torch.nn.Module, tokenizer: Any, task: str, settings: EvaluateSettings, manager: Any, target_dir: Path, catalogue: dict[str, Any]
) -> Path:
    """Evaluate ``model`` on ``task``; lm-eval's results file (with ``catalogue``) in ``target_dir``; its path."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.models.huggingface import HFLM

    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    os.environ.setdefault("TQDM_DISABLE", "1")  # lm-eval's per-request bars; the catalogue prints a line per task
    _quiet_datasets()  # and the datasets library's
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=settings.batch_size)
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target_dir, prefix=".lm-eval-") as scratch:
        tracker = EvaluationTracker(output_path=scratch)
        with _without_git_noise():
            results = simple_evaluate(
                model=lm,
                tasks=[task],
                num_fewshot=settings.num_fewshot,
                limit=settings.limit,
                batch_size=settings.batch_size,
                device=str(model.device),
                task_manager=manager,
                log_samples=True,
                evaluation_tracker=tracker,
                verbosity="ERROR",
                **seeds_of(settings),
            )
        if results is None:
            raise ModelFailed(f"lm-eval returned no results for {task}")
        samples = results.pop("samples", None)
        results["catalogue"] = catalogue
        tracker.save_results_aggregated(results=results, samples=samples)
        written = sorted(Path(scratch).rglob("results_*.json"))
        if len(written) != 1:
            raise ModelFailed(f"lm-eval wrote {len(written)} results files for {task} (expected one)")
        target = target_dir / written[0].name
        os.replace(written[0], target)
    return target


#: A tqdm bar's line (lm-eval's per-request bars; the catalogue prints one line per task instead).
PROGRESS_BAR = re.compile(r"\|\s*\d+/\d+ \[")

#: What ``git describe`` prints when lm-eval asks it for a commit outside a repository (lm-eval then records none).
GIT_NOISE = "fatal: not a git repository"


@contextlib.contextmanager
def _without_git_noise():
    """The process's stderr (file descriptor 2) caught for the block and printed after it, less git's complaint and tqdm's bars.

    lm-eval runs ``git describe`` in a subprocess to record a commit; outside a repository git
    prints "fatal: not a git repository" on the inherited stderr, which reads as an error.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = caught.read().decode("utf-8", "replace")
            lines = text.replace("\r", "\n").splitlines()
            kept = [line for line in lines if line.strip() and not line.startswith(GIT_NOISE) and not PROGRESS_BAR.search(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)

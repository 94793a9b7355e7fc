"""``catalogue evaluate``: lm-evaluation-harness scores of every level, from one load per model.

Per group of records (``measurements.select_groups``): the model is loaded once with the weights
its records were built from, each level is pruned in memory and checked against its record
(``measure.levels``: the kept neurons' digest and the parameter count), then each task is run
through lm-eval's Python API on that model object (``measure.evaluation``). Each (record, task)
gives one lm-eval results file, stored at once through ``results add``, linked by the record and
digest the file names: a killed evaluate keeps every (record, task) it finished, the next run
does only the rest, and a run with the same inputs does nothing.

Scores of random-init weights measure nothing about the real model: evaluating them is refused
unless ``store_random_init`` is given, and then the records say so (``measurement.note``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import ModelFailed, UsageError
from ..measure.settings import EvaluateSettings
from . import measurements
from .build import failure_reason

TOOL = "catalogue evaluate"


@dataclass(frozen=True)
class EvaluateRequest:
    """Everything ``catalogue evaluate`` was asked to do."""

    data_dir: Path
    settings: EvaluateSettings
    models: str | None = None
    levels: tuple[int, ...] | None = None
    device: str = "auto"
    dtype: str | None = None
    output: Path | None = None
    store_random_init: bool = False


@dataclass
class TaskResult:
    """One (record, task): evaluated (its file and scores), already done, or failed."""

    record: str
    task: str
    status: str  # measured, kept (a finished file of a killed run), done, failed
    path: Path | None = None
    figures: dict[str, float] = field(default_factory=dict)
    error: str | None = None


class EvaluateProgress(Protocol):
    """What an evaluation tells its caller as it goes."""

    def model_started(self, model_id: str, weights: str, levels: int) -> None: ...
    def warning(self, text: str) -> None: ...
    def task_done(self, result: TaskResult) -> None: ...


class _Silent:
    def model_started(self, model_id: str, weights: str, levels: int) -> None: ...
    def warning(self, text: str) -> None: ...
    def task_done(self, result: TaskResult) -> None: ...


def run_evaluate(request: EvaluateRequest, progress: EvaluateProgress | None = None) -> list[TaskResult]:
    """Evaluate every selected (record, task) not yet stored with these inputs; one result each, in order."""
    progress = progress or _Silent()
    settings = request.settings
    _check_settings(settings)
    groups = measurements.select_groups(request.data_dir, request.models, request.levels)
    random_init = sorted({group.model_id for group in groups if _built_from_random_init(group)})
    if random_init and not request.store_random_init:  # said before torch and lm-eval are imported (seconds)
        raise UsageError(
            f"the records of {', '.join(random_init)} were built from random-init weights: their scores measure nothing about the real "
            "model. Build from real weights (`catalogue build --weights ...`), or give --store-random-init to evaluate and store them anyway"
        )
    measurements.require_libraries("evaluate", ("torch", "transformers", "optipfair", "lm_eval"))
    from ..generate.model import library_versions
    from ..measure import evaluation
    from ..measure.levels import TORCH_DTYPE_NAMES, measurement_dtype, measuring_device, pruned_levels, recipe_of

    recipes = [recipe_of(group.records[0]) for group in groups]
    dtypes = [measurement_dtype(recipe, request.dtype) for recipe in recipes]  # a --dtype that cannot be: before anything is loaded
    tokenizer_sources = [_tokenizer_source(settings, recipe) for recipe in recipes]
    version = evaluation.lm_eval_version()
    manager = evaluation.task_manager(settings.include_path)
    try:
        evaluation.check_tasks(manager, settings.tasks)
        loaded = {source: evaluation.load_tokenizer(source) for source in dict.fromkeys(tokenizer_sources)}  # before any model is loaded
    except ModelFailed as error:
        raise UsageError(str(error)) from None
    where = measuring_device(request.device)
    device, machine = where.device, where.machine
    for model_id in random_init:  # said once every input is known to be good
        progress.warning(f"{model_id}: random-init weights: these scores measure nothing about the real model (stored, and marked so)")
    done = measurements.done_inputs(request.data_dir)
    results: list[TaskResult] = []
    for group, recipe, dtype, tokenizer_source in zip(groups, recipes, dtypes, tokenizer_sources):
        todo: dict[int, list[tuple[str, str]]] = {}
        for record in group.records:
            name = measurements.label(record)
            for task in settings.tasks:
                inputs = measurements.inputs_sha256(TOOL, record, {**settings.asked(task), "dtype": dtype, "lm_eval": version})
                directory = _task_dir(request, record, task)
                if (name, inputs) in done:
                    _report(progress, results, TaskResult(name, task, "done"))
                elif (left := measurements.finished_file(directory, "results_*.json", inputs)) is not None:
                    measurements.keep([left], request.data_dir)
                    _report(progress, results, TaskResult(name, task, "kept", left))
                else:
                    todo.setdefault(record.pruning_pct, []).append((task, inputs))
        if not todo:
            continue
        pending = [record for record in group.records if record.pruning_pct in todo]
        progress.model_started(group.model_id, recipe.weights.describe(), len(pending))
        try:
            tokenizer = loaded[tokenizer_source]
            for level in pruned_levels(group.entry, pending, recipe, device, request.dtype):
                record = level.record
                for task, inputs in todo[record.pruning_pct]:
                    measurement = measurements.measurement_block(
                        TOOL, inputs, level.kept_indices_sha256, recipe.weights, where.name, TORCH_DTYPE_NAMES[dtype],
                        machine, evaluation.seeds_of(settings), {**library_versions(), "lm_eval": version},
                    )
                    block = {"record": measurements.label(record), "measurement": measurement}
                    path = evaluation.evaluate_task(level.model, tokenizer, task, settings, manager, _task_dir(request, record, task), block)
                    measurements.keep([path], request.data_dir)
                    _report(progress, results, TaskResult(measurements.label(record), task, "measured", path, _scores(path, task)))
        except Exception as error:  # a model that cannot be evaluated is reported; the others go on
            finished = {(r.record, r.task) for r in results}
            for record in pending:
                for task, _ in todo[record.pruning_pct]:
                    if (measurements.label(record), task) not in finished:
                        _report(progress, results, TaskResult(measurements.label(record), task, "failed", error=failure_reason(error)))
    return results


def _built_from_random_init(group: measurements.Group) -> bool:
    """Whether the group's records were built from random-init weights (their provenance says so)."""
    provenance = group.records[0].provenance
    return provenance is not None and provenance.weights == "random-init"


def _check_settings(settings: EvaluateSettings) -> None:
    """Settings lm-eval cannot run are refused in one line before anything is loaded."""
    import math

    if not settings.tasks:
        raise UsageError("--tasks names no task: give lm-eval task names, comma-separated")
    measurements.check_positive("--batch-size", settings.batch_size)
    if settings.include_path is not None and not Path(settings.include_path).is_dir():
        raise UsageError(f"--include-path {settings.include_path}: no such directory (a directory of lm-eval task YAML files)")
    if settings.num_fewshot is not None and settings.num_fewshot < 0:
        raise UsageError(f"--num-fewshot {settings.num_fewshot}: expected 0 or more examples")
    limit = settings.limit
    if limit is not None and (not math.isfinite(limit) or limit <= 0 or (limit >= 1 and limit != int(limit))):
        raise UsageError(f"--limit {limit:g}: expected a fraction of each task above 0 and below 1, or a whole number of examples")


def _report(progress: EvaluateProgress, results: list[TaskResult], result: TaskResult) -> None:
    results.append(result)
    progress.task_done(result)


def _task_dir(request: EvaluateRequest, record, task: str) -> Path:
    return measurements.measurement_dir(request.data_dir, request.output, "evaluate", record) / task


def _tokenizer_source(settings: EvaluateSettings, recipe) -> str:
    if settings.tokenizer:
        return settings.tokenizer
    if recipe.weights.kind == "random-init":
        raise UsageError("random-init weights have no tokenizer: give --tokenizer DIR|HUB_ID (the real model's)")
    return recipe.weights.location


def _scores(path: Path, task: str) -> dict[str, Any]:
    """The task's values in lm-eval's results file (``acc,none`` -> ``acc``), stderrs left out."""
    import json

    values = json.loads(path.read_text(encoding="utf-8"))["results"].get(task, {})
    return {key.partition(",")[0]: value for key, value in values.items() if "," in key and isinstance(value, (int, float)) and "_stderr" not in key}

"""``catalogue evaluate``: lm-evaluation-harness scores of every level, as one measurement of the measuring pipeline.

The pipeline (``measuring``) selects the records, loads each model once, prunes and checks each
level and stores each file as it is written. What this module adds: a unit is one task, and
measuring it runs lm-eval's Python API on the model object (``measure.evaluation``), whose own
results file is the measurement file (lm-eval's layout, with a ``catalogue`` key naming the
record and how it was measured). Before any model is loaded: the tasks are known to lm-eval,
the few-shot count is within each task's documents, the tokenizers load.

Scores of random-init weights measure nothing about the real model: evaluating them is refused
unless ``store_random_init`` is given, and then the records say so (``measurement.note``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelFailed, UsageError
from ..measure.settings import EvaluateSettings
from . import measurements
from .measuring import MeasuredUnit, MeasureRequest, Progress, Where, run_measurement

TOOL = "catalogue evaluate"

#: The seeds lm-eval hands to numpy take 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True, kw_only=True)
class EvaluateRequest(MeasureRequest):
    """Everything ``catalogue evaluate`` was asked to do."""

    settings: EvaluateSettings
    store_random_init: bool = False


def run_evaluate(request: EvaluateRequest, progress: Progress | None = None) -> list[MeasuredUnit]:
    """Evaluate every selected (record, task) not yet stored with these inputs; one result each (``unit`` is the task), in order."""
    return run_measurement(request, Evaluation(request.settings, request.store_random_init), progress)


class Evaluation:
    """lm-eval's tasks on each pruned level: one results file per (record, task)."""

    tool = TOOL
    name = "evaluate"
    file_pattern = "results_*.json"

    def __init__(self, settings: EvaluateSettings, store_random_init: bool = False):
        self.settings = settings
        self.store_random_init = store_random_init
        self.random_init: list[str] = []
        self.tokenizers: dict[str, Any] = {}  # by source (a checkpoint directory or hub id)

    def check(self) -> None:
        """Settings lm-eval cannot run are refused in one line before anything is read."""
        settings = self.settings
        if not settings.tasks:
            raise UsageError("--tasks names no task: give lm-eval task names, comma-separated")
        measurements.check_positive("--batch-size", settings.batch_size)
        if settings.include_path is not None and not Path(settings.include_path).is_dir():
            raise UsageError(f"--include-path {settings.include_path}: no such directory (a directory of lm-eval task YAML files)")
        if settings.num_fewshot is not None and settings.num_fewshot < 0:
            raise UsageError(f"--num-fewshot {settings.num_fewshot}: expected 0 or more examples")
        if settings.seed is not None and not 0 <= settings.seed <= MAX_SEED:
            raise UsageError(f"--seed {settings.seed}: expected a whole number from 0 to {MAX_SEED:,} (numpy's seeds)")
        limit = settings.limit
        if limit is not None and (not math.isfinite(limit) or limit <= 0 or (limit >= 1 and limit != int(limit))):
            raise UsageError(f"--limit {limit:g}: expected a fraction of each task above 0 and below 1, or a whole number of examples")

    def check_groups(self, groups: Sequence[measurements.Group]) -> None:
        """Random-init records are refused before torch and lm-eval are imported (seconds), unless asked for."""
        self.random_init = sorted({group.model_id for group in groups if _built_from_random_init(group)})
        if self.random_init and not self.store_random_init:
            raise UsageError(
                f"the records of {', '.join(self.random_init)} were built from random-init weights: their scores measure nothing about the real "
                "model. Build from real weights (`catalogue build --weights ...`), or give --store-random-init to evaluate and store them anyway"
            )

    def libraries(self) -> tuple[str, ...]:
        """lm-eval, beside the generator's stack."""
        return ("lm_eval",)

    def prepare(self, groups: Sequence[measurements.Group], wheres: Sequence[Where], progress: Progress) -> None:
        """lm-eval's version and tasks, the few-shot count against each task's documents, and every tokenizer: before any load."""
        from ..measure import evaluation

        sources = [_tokenizer_source(self.settings, where.recipe) for where in wheres]
        self.version = evaluation.lm_eval_version()
        self.manager = evaluation.task_manager(self.settings.include_path, self.settings.tasks)
        try:
            evaluation.check_tasks(self.manager, self.settings.tasks)
            if self.settings.num_fewshot:
                evaluation.check_fewshot(self.manager, self.settings.tasks, self.settings.num_fewshot)
            loaded = {source: evaluation.load_tokenizer(source) for source in dict.fromkeys(sources)}
        except ModelFailed as error:
            raise UsageError(str(error)) from None
        self.tokenizers = loaded
        for model_id in self.random_init:  # said once every input is known to be good
            progress.warning(f"{model_id}: random-init weights: these scores measure nothing about the real model (stored, and marked so)")

    def units(self) -> tuple[str, ...]:
        """One unit per task."""
        return self.settings.tasks

    def asked(self, unit: str | None, where: Where) -> dict[str, Any]:
        """The task, shots, limit and seed; the dtype and lm-eval's version (batch size does not change a score)."""
        return {**self.settings.asked(unit), "dtype": where.dtype, "lm_eval": self.version}

    def measure(self, level: Any, unit: str | None, inputs: str, where: Where, directory: Path) -> tuple[Path, dict[str, float]]:
        """lm-eval's results file of one task on one level, with the record and how it was measured; its scores."""
        from ..generate.model import library_versions
        from ..measure import evaluation
        from ..measure.levels import TORCH_DTYPE_NAMES

        measurement = measurements.measurement_block(
            TOOL,
            inputs,
            level.kept_indices_sha256,
            where.recipe.weights,
            where.device_name,
            TORCH_DTYPE_NAMES[where.dtype],
            where.machine,
            evaluation.seeds_of(self.settings),
            {**library_versions(), "lm_eval": self.version},
        )
        block = {"record": measurements.label(level.record), "measurement": measurement}
        tokenizer = self.tokenizers[_tokenizer_source(self.settings, where.recipe)]
        path = evaluation.evaluate_task(level.model, tokenizer, unit, self.settings, self.manager, directory, block)
        return path, _scores(path, unit)


def _built_from_random_init(group: measurements.Group) -> bool:
    """Whether the group's records were built from random-init weights (their provenance says so)."""
    provenance = group.records[0].provenance
    return provenance is not None and provenance.weights == "random-init"


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

"""The study's way of scoring pruned levels against `catalogue evaluate`, in one process, same task, same scores.

The model: random weights of a registry model's exact architecture (default SmolLM2-135M), saved
with `save_pretrained` beside a word-level tokenizer; the task: a local multiple-choice lm-eval task
(`tests/lm_eval_tasks.py`, no network). `catalogue build` makes the records first (timed apart).

* The study's way, per level: a fresh `from_pretrained` of the checkpoint, `optipfair.prune_model`,
  lm-eval's `simple_evaluate` with a task manager of its own (as each notebook run makes one).
* The catalogue's way: `pipeline.evaluate.run_evaluate`, one load for every level, each level pruned
  in memory and checked against its record, lm-eval on the model object, each results file stored.

Every level's scores must be identical (exit 1 otherwise). Both ways run after an untimed warm-up
evaluation (imports, lm-eval's first task indexing), in the same process.

    python benchmarks/evaluate_speed.py
    python benchmarks/evaluate_speed.py --model Qwen/Qwen3-0.6B --questions 50
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from lm_eval_tasks import TASK, save_tokenizer, write_task  # noqa: E402 - tests/ on sys.path first

LEVELS = (0, 10, 20, 30, 40, 50, 60)


def make_checkpoint(model_id: str, directory: Path) -> None:
    """Random weights of ``model_id``'s architecture (fp32), and the word-level tokenizer, saved as transformers saves them."""
    import torch

    from glu_catalogue.generate.model import random_model
    from glu_catalogue.store.registry import get_model

    random_model(get_model(model_id), torch.float32, "cpu", seed=0).save_pretrained(directory)
    save_tokenizer(directory)


def study_way(checkpoint: Path, tasks: Path, level: int) -> dict:
    """One notebook run: load, prune with optipfair, evaluate with lm-eval; the task's results."""
    import optipfair
    import torch
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32)
    if level:
        model = optipfair.prune_model(model, pruning_type="MLP_GLU", neuron_selection_method="MAW", pruning_percentage=level, show_progress=False)
    model.eval()
    harness = HFLM(pretrained=model, tokenizer=AutoTokenizer.from_pretrained(checkpoint), batch_size=1, device="cpu")
    return simple_evaluate(model=harness, tasks=[TASK], task_manager=TaskManager(include_path=str(tasks)))["results"][TASK]


def catalogue_way(checkpoint: Path, tasks: Path, data: Path) -> dict[int, dict]:
    """`catalogue evaluate` of every level from one load; each level's results as lm-eval wrote them."""
    import json

    from glu_catalogue.measure.settings import EvaluateSettings
    from glu_catalogue.pipeline.evaluate import EvaluateRequest, run_evaluate

    request = EvaluateRequest(data_dir=data, settings=EvaluateSettings(tasks=(TASK,), include_path=tasks), models=str(checkpoint), device="cpu")
    found = {}
    for result in run_evaluate(request):
        if result.status != "measured":
            raise SystemExit(f"{result.record}: {result.status} {result.error or ''}")
        found[int(result.record.rsplit("@", 1)[1])] = json.loads(result.path.read_text())["results"][TASK]
    return found


def scores(results: dict) -> dict:
    return {key: value for key, value in results.items() if key != "alias"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="HuggingFaceTB/SmolLM2-135M", help="A registry model whose architecture is evaluated (random weights).")
    parser.add_argument("--questions", type=int, default=24, help="Questions in the local task.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        checkpoint, data = root / "checkpoint", root / "data"
        make_checkpoint(args.model, checkpoint)
        tasks = write_task(root / "tasks", args.questions)
        started = time.perf_counter()
        levels = ",".join(map(str, LEVELS))
        command = [
            sys.executable,
            "-m",
            "glu_catalogue",
            "build",
            "--models",
            str(checkpoint),
            "--levels",
            levels,
            "--dtype",
            "fp32",
            "--data",
            str(data),
            "--quiet",
        ]
        subprocess.run(command, check=True, cwd=root)
        build_s = time.perf_counter() - started
        study_way(checkpoint, tasks, 0)  # warm-up: imports, lm-eval's first indexing; neither way's work

        started = time.perf_counter()
        ours = catalogue_way(checkpoint, tasks, data)
        catalogue_s = time.perf_counter() - started
        started = time.perf_counter()
        theirs = {level: study_way(checkpoint, tasks, level) for level in LEVELS}
        study_s = time.perf_counter() - started

    different = [level for level in LEVELS if scores(ours[level]) != scores(theirs[level])]
    print(f"{args.model} architecture (random weights, fp32, CPU), task {TASK} of {args.questions} questions, levels {levels}")
    for level in LEVELS:
        print(f"  {level:>2} %: acc {ours[level]['acc,none']:.4f} (catalogue)  {theirs[level]['acc,none']:.4f} (study's way)")
    print(f"records built first by catalogue build: {build_s:.1f} s (not in either time)")
    print(f"study's way (load + optipfair.prune_model + lm-eval, per level): {study_s:.1f} s")
    print(f"catalogue evaluate (one load, every level, results stored):       {catalogue_s:.1f} s")
    print(f"ratio: {study_s / catalogue_s:.2f}x; scores identical at every level: {'yes' if not different else 'NO, at ' + str(different)}")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())

"""A Hugging Face model card for a pruned checkpoint: README.md (YAML metadata, the record, how to reproduce) and
``.eval_results/*.yaml``, written with huggingface_hub's own classes so that the Hub and ``ModelCard.load`` read them.

The metadata names ``base_model`` (the Hub has no relation for pruning, so tags say it: ``width-pruned``,
``optipfair``) and, when the record has stored scores, ``model-index`` (``ModelCardData`` with one
``EvalResult`` per task, metric and filter). The newer ``.eval_results/<task>.yaml`` files hold the
same values (``EvalResultEntry``), for the tasks whose Hub dataset is known (``LM_EVAL_DATASETS``);
the card lists the others. Needs huggingface_hub (transformers brings it); no network.
"""

from __future__ import annotations

from typing import Any

from .._version import __version__
from ..core.outcome_records import ScoreOutcome
from ..core.records import ExpansionRecord
from ..core.text import count, ratio
from ..errors import InputError

#: The tags every card carries: what was done to the model, and with what.
TAGS = ["width-pruned", "optipfair", "glu-catalogue", "mlp-pruning"]

#: The Hub dataset each lm-evaluation-harness task reads (``dataset_path`` of its YAML in lm-eval 0.4.13; a test checks it).
LM_EVAL_DATASETS = {
    "arc_challenge": "allenai/ai2_arc",
    "arc_easy": "allenai/ai2_arc",
    "boolq": "aps/super_glue",
    "gsm8k": "openai/gsm8k",
    "hellaswag": "Rowan/hellaswag",
    "ifeval": "google/IFEval",
    "lambada_openai": "EleutherAI/lambada_openai",
    "mmlu": "cais/mmlu",
    "openbookqa": "allenai/openbookqa",
    "piqa": "baber/piqa",
    "truthfulqa_mc1": "truthfulqa/truthful_qa",
    "truthfulqa_mc2": "truthfulqa/truthful_qa",
    "wikitext": "EleutherAI/wikitext_document_level",
    "winogrande": "allenai/winogrande",
    "leaderboard_musr": "TAUR-Lab/MuSR",
}

#: The folder of the Hub's newer evaluation results, one YAML file per task.
EVAL_RESULTS_DIR = ".eval_results"


def _hub() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise InputError("writing a model card needs huggingface_hub (pip install huggingface_hub)") from None
    return huggingface_hub


def card_scores(outcomes: list[Any], label: str) -> list[ScoreOutcome]:
    """The record's stored scores, one per (task, metric, filter, n-shot): the first source in the files' order."""
    chosen: dict[tuple, ScoreOutcome] = {}
    for outcome in outcomes:
        if isinstance(outcome, ScoreOutcome) and outcome.record == label:
            chosen.setdefault((outcome.task, outcome.metric, outcome.filter, outcome.n_shot), outcome)
    return [chosen[key] for key in sorted(chosen, key=lambda key: tuple(str(part) for part in key))]


def eval_result(score: ScoreOutcome) -> Any:
    """One score as huggingface_hub's ``EvalResult`` (model-index): task, metric, filter, n-shot, value."""
    return _hub().EvalResult(
        task_type="text-generation",
        dataset_type=LM_EVAL_DATASETS.get(score.task, score.task),
        dataset_name=score.task,
        metric_type=score.metric,
        metric_value=score.value,
        metric_config=score.filter,
        dataset_args={"num_few_shot": score.n_shot} if score.n_shot is not None else None,
    )


def card_text(record: ExpansionRecord, scores: list[ScoreOutcome], reproduce: str) -> str:
    """README.md of the record's pruned checkpoint: metadata (base_model, tags, model-index), the record, how to reproduce."""
    hub = _hub()
    name = f"{record.base_model.split('/')[-1]}-width-pruned-{record.pruning_pct}pct"
    data = hub.ModelCardData(
        base_model=record.base_model,
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=list(TAGS),
        model_name=name,
        eval_results=[eval_result(score) for score in scores] or None,
    )
    return str(hub.ModelCard(f"---\n{data.to_yaml()}\n---\n\n{_body(record, scores, name, reproduce)}"))


def _body(record: ExpansionRecord, scores: list[ScoreOutcome], name: str, reproduce: str) -> str:
    before, after, provenance = record.original_architecture, record.pruned_architecture, record.provenance
    reductions = record.reductions
    rows = [
        ("expansion ratio (I / H)", ratio(before.expansion_ratio_exact), ratio(after.expansion_ratio_exact)),
        ("MLP width (intermediate_size)", str(before.intermediate_size), str(after.intermediate_size)),
        ("hidden size, layers", f"{before.hidden_size}, {before.num_hidden_layers}", f"{after.hidden_size}, {after.num_hidden_layers}"),
        ("parameters", count(before.total_parameters), count(after.total_parameters)),
    ]
    lines = [
        f"# {name}",
        "",
        f"[{record.base_model}](https://huggingface.co/{record.base_model}) with every MLP pruned in width by "
        f"{record.pruning_pct} % with optipfair (GLU neurons removed as gate/up/down triples; attention untouched).",
        "",
        "| | before | after |",
        "|---|---:|---:|",
        *(f"| {label} | {old} | {new} |" for label, old, new in rows),
        "",
        f"- parameters removed: {reductions.parameter_reduction_pct} %, MLP width removed: {reductions.expansion_reduction_pct} %",
    ]
    if provenance is not None:
        method = provenance.neuron_selection_method or provenance.method
        lines.append(f"- method: {provenance.method} MLP_GLU, neuron selection {method}, pruning_percentage {record.pruning_pct}")
        if provenance.kept_indices_sha256:
            lines.append(f"- kept-neuron digest (sha256): `{provenance.kept_indices_sha256}`")
        versions = {
            "glu-catalogue": provenance.catalogue_version,
            "optipfair": provenance.optipfair_version,
            "transformers": provenance.transformers_version,
            "torch": provenance.torch_version,
        }
        lines.append("- versions: " + ", ".join(f"{key} {value}" for key, value in versions.items() if value))
        if provenance.weights:
            lines.append(f"- weights pruned: {provenance.weights} ({provenance.weights_source})" + (f"; {provenance.note}" if provenance.note else ""))
    lines += ["", "## Evaluation", ""]
    if scores and provenance is not None and provenance.weights == "random-init":
        lines += [
            "**These weights are random (random-init)**: the checkpoint has the real model's shapes and counts, but the scores "
            "below are those stored for its record (each with its source), not measurements of these weights.",
            "",
        ]
    if scores:
        lines += ["| task | metric | filter | n-shot | value | stderr | source |", "|---|---|---|---:|---:|---:|---|"]
        lines += [_score_row(score) for score in scores]
        unknown = sorted({s.task for s in scores if s.task not in LM_EVAL_DATASETS})
        if unknown:
            lines += ["", f"Not in `{EVAL_RESULTS_DIR}/` (no known Hub dataset): {', '.join(unknown)}."]
    else:
        lines.append(f"No stored scores yet: `catalogue card {record.base_model}@{record.pruning_pct} --checkpoint DIR` adds them once measured.")
    lines += [
        "",
        "## How to reproduce",
        "",
        "```bash",
        "pip install glu-catalogue[generate]",
        reproduce,
        "```",
        "",
        f"Card written by glu-catalogue {__version__}.",
        "",
    ]
    return "\n".join(lines)


def _score_row(score: ScoreOutcome) -> str:
    """One score as a row of the card's table, with where it came from."""
    n_shot = "-" if score.n_shot is None else score.n_shot
    stderr = "-" if score.stderr is None else f"{score.stderr:.4f}"
    if score.measurement is not None:
        source = f"{score.measurement.tool} ({score.measurement.weights})"
    else:
        source = f"{score.source.format}: {score.source.path.rsplit('/', 1)[-1]}"
    return f"| {score.task} | {score.metric} | {score.filter or '-'} | {n_shot} | {score.value:.4f} | {stderr} | {source} |"


def eval_results_files(scores: list[ScoreOutcome]) -> dict[str, str]:
    """``.eval_results/<task>.yaml`` -> its YAML (huggingface_hub's ``eval_result_entries_to_yaml``), for tasks with a known dataset."""
    import yaml

    hub = _hub()
    by_task: dict[str, list[Any]] = {}
    for score in scores:
        if score.task in LM_EVAL_DATASETS:
            notes = f"{score.metric}" + (f", filter {score.filter}" if score.filter else "") + (f", {score.n_shot}-shot" if score.n_shot is not None else "")
            by_task.setdefault(score.task, []).append(
                hub.EvalResultEntry(dataset_id=LM_EVAL_DATASETS[score.task], task_id=score.task, value=score.value, notes=notes)
            )
    return {
        f"{EVAL_RESULTS_DIR}/{task}.yaml": yaml.safe_dump(hub.eval_result_entries_to_yaml(entries), sort_keys=True) for task, entries in sorted(by_task.items())
    }


def reproduce_command(record: ExpansionRecord) -> str:
    """The ``catalogue build`` that makes this checkpoint again."""
    provenance = record.provenance
    parts = ["catalogue build", f"--models {record.base_model}", f"--levels {record.pruning_pct}"]
    if provenance is not None and provenance.neuron_selection_method and provenance.neuron_selection_method != "MAW":
        parts.append(f"--method {provenance.neuron_selection_method}")
    if provenance is not None and provenance.weights == "random-init" and provenance.seed:
        parts.append(f"--seed {provenance.seed}")
    elif provenance is not None and provenance.weights in ("checkpoint", "hub") and provenance.weights_source:
        parts.append(f"--weights {record.base_model}={provenance.weights_source}")
    return " ".join(parts) + " --save-pruned pruned/"

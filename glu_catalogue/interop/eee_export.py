"""The catalogue's stored scores as Every Eval Ever records: one record per (catalogue record, evaluation source).

``model_info`` names the pruned model: the base model's hub id at 0 % (the model itself), else
``MODEL@PCT`` (no pruned checkpoint of a record has a hub id the catalogue knows), and carries
the record in its ``additional_details`` (strings, as the schema asks): the record's label,
pruning method and percentage, the expansion ratio and MLP width before and after, the hidden
size, parameter counts, the kept-neuron digest, and the versions that pruned it. Each score keeps
its metric config (direction, bounds: [0, 1] for proportions), its standard error where the source
gave one, its n-shot, filter, task version and hash, and the place of the source file it was read
from; the source file itself (path, sha256, format) is in ``source_metadata``. The reader
(``outcomes.readers.eee``) turns such a record back into the same outcomes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ..core.outcome_records import ScoreOutcome
from ..core.records import ExpansionRecord
from ..outcomes.checks import is_proportion
from .eee_schema import EEE_SCHEMA_VERSION

#: Who writes the records (``source_metadata.source_organization_name``).
ORGANIZATION = "glu-catalogue"

#: What ``eval_library.name`` says for lm-evaluation-harness (Every Eval Ever's own name for it).
LM_EVAL_LIBRARY = "lm_eval"


def eee_records(outcomes: Iterable[Any], records: dict[tuple[str, int], ExpansionRecord], retrieved_timestamp: str) -> dict[str, dict[str, Any]]:
    """Relative file name -> Every Eval Ever record, one per (record, source file) of the stored scores."""
    groups: dict[tuple[str, str], list[ScoreOutcome]] = defaultdict(list)
    for outcome in outcomes:
        if isinstance(outcome, ScoreOutcome):
            groups[(outcome.record, outcome.source.sha256)].append(outcome)
    written = {}
    for (_, sha256), scores in sorted(groups.items()):
        record = records.get((scores[0].base_model, scores[0].pruning_pct))
        name = f"{scores[0].base_model.replace('/', '__')}/{scores[0].pruning_pct:03d}pct/{sha256[:16]}.json"
        written[name] = eee_record(scores, record, retrieved_timestamp)
    return written


def eee_record(scores: list[ScoreOutcome], record: ExpansionRecord | None, retrieved_timestamp: str) -> dict[str, Any]:
    """One Every Eval Ever record of one catalogue record's scores from one source file."""
    first = scores[0]
    model_id = first.base_model if first.pruning_pct == 0 else first.record
    source = first.source
    library = {"name": LM_EVAL_LIBRARY if first.harness == "lm-evaluation-harness" else first.harness, "version": first.harness_version or "unknown"}
    library["additional_details"] = {"harness": first.harness}
    return {
        "schema_version": EEE_SCHEMA_VERSION,
        "evaluation_id": f"{ORGANIZATION}/{model_id}/{source.sha256[:16]}",
        "retrieved_timestamp": retrieved_timestamp,
        "source_metadata": {
            "source_name": f"glu-catalogue outcomes ({source.format})",
            "source_type": "documentation",
            "source_organization_name": ORGANIZATION,
            "evaluator_relationship": "first_party" if first.measurement is not None else "third_party",
            "additional_details": {"source_path": source.path, "source_sha256": source.sha256, "source_format": source.format},
        },
        "model_info": model_info(model_id, first, record),
        "eval_library": library,
        "evaluation_results": [evaluation_result(score) for score in scores],
    }


def model_info(model_id: str, score: ScoreOutcome, record: ExpansionRecord | None) -> dict[str, Any]:
    """``model_info``: the pruned model's id and the record it is, every value as text."""
    details = {
        "deployment_type": "self_deployed",
        "model_availability": "open_weights",
        "catalogue_record": score.record,
        "base_model": score.base_model,
        "pruning_pct": str(score.pruning_pct),
    }
    if record is not None and record.pruned_architecture is not None and record.original_architecture is not None:
        before, after, provenance = record.original_architecture, record.pruned_architecture, record.provenance
        details.update(
            hidden_size=str(after.hidden_size),
            num_hidden_layers=str(after.num_hidden_layers),
            intermediate_size_before=str(before.intermediate_size),
            intermediate_size=str(after.intermediate_size),
            expansion_ratio_before=repr(before.expansion_ratio_exact),
            expansion_ratio=repr(after.expansion_ratio_exact),
            total_parameters_before=str(before.total_parameters),
            total_parameters=str(after.total_parameters),
        )
        if provenance is not None:
            method = provenance.neuron_selection_method
            details["pruning_method"] = f"optipfair MLP_GLU{f' ({method})' if method else ''}" if provenance.method == "optipfair" else provenance.method
            for key in ("kept_indices_sha256", "optipfair_version", "transformers_version", "torch_version"):
                if getattr(provenance, key, None):
                    details[key] = str(getattr(provenance, key))
    return {"name": model_id.split("/")[-1], "id": model_id, "developer": score.base_model.split("/")[0], "additional_details": details}


def evaluation_result(score: ScoreOutcome) -> dict[str, Any]:
    """One score: its task, metric config (direction, bounds), value, standard error and where it was read."""
    config: dict[str, Any] = {"metric_id": score.metric, "metric_name": score.metric, "lower_is_better": score.higher_is_better is False}
    if is_proportion(score.metric):
        config.update(score_type="continuous", min_score=0.0, max_score=1.0, metric_unit="proportion")
    details = {"source_location": score.source.location}
    for key in ("filter", "n_shot", "task_version", "task_hash"):
        value = getattr(score, key)
        if value is not None:
            details[key] = str(value)
    if score.higher_is_better is None:
        details["direction"] = "not stated by the source"
    if score.measurement is not None:
        details["catalogue_measurement"] = json.dumps(score.measurement.model_dump(mode="json", exclude_none=True), sort_keys=True)
    config["additional_details"] = details
    score_details: dict[str, Any] = {"score": score.value}
    uncertainty: dict[str, Any] = {}
    if score.stderr is not None:
        uncertainty["standard_error"] = {"value": score.stderr}
    if score.n_samples is not None:
        uncertainty["num_samples"] = score.n_samples
    if uncertainty:
        score_details["uncertainty"] = uncertainty
    return {
        "evaluation_result_id": f"{score.task}/{score.metric}" + (f"/{score.filter}" if score.filter else ""),
        "evaluation_name": score.task,
        "source_data": {"dataset_name": score.task, "source_type": "other", "additional_details": {"task": score.task}},
        "metric_config": config,
        "score_details": score_details,
    }

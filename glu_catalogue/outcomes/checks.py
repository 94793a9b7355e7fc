"""The checks of outcomes: what a file claims against its record, and each value against its nature.

Every problem names the file, the record, the place in the file, what was expected and what was
found, with its kind (``outcome-claim``, ``outcome-nature``; the readers report
``outcome-consistency``). A value a check rejects is reported and left out, never corrected.
Standard library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from ..core import formulas
from ..core.records import ExpansionRecord
from .linking import Link
from .reading import Reading

#: Metrics that are proportions (lm-eval's names, and the study's renamed ``accuracy``).
PROPORTION_METRICS = frozenset({"acc", "accuracy", "acc_norm", "exact_match", "mc1", "mc2", "f1", "em", "contains", "acc_mutual_info"})

#: Bytes a parameter may take in a checkpoint whose size a file states (fp32, bf16/fp16, 8-bit).
BYTES_PER_PARAMETER = (4, 2, 1)

#: How far a file's weight size may be from the record's count times bytes per parameter (buffers, metadata).
WEIGHT_BYTES_TOLERANCE = 1e-3


#: Where a format names the model it measured (lm-eval: ``config.model_args``'s ``pretrained=``; the study: ``hf_repo``).
_MODEL_FIELD = {"lm-eval-results": "model_args"}


def is_proportion(metric: str) -> bool:
    """True for a metric that is a share of examples: in [0, 1]."""
    return metric in PROPORTION_METRICS or metric.endswith("_acc") or metric.startswith("acc_")


def check_nature(reading: Reading, labels: dict[int, str]) -> None:
    """Each value against its nature: proportions in [0, 1], perplexities >= 1, bits per byte and stderrs >= 0,
    efficiency quantities >= 0; a bits-per-byte of 0 beside a perplexity above 1 (a perfect model is not one)."""
    for index, group in enumerate(reading.groups):
        label = labels.get(index, group.claim.name or "-")
        columns = group.values
        rows = zip(columns.shared, columns.task, columns.measure, columns.value)
        perplexity = {task: number for common, task, metric, number in rows if columns.is_score[common] and metric == "perplexity"}
        rules: dict[str, tuple[bool, bool]] = {}  # metric -> (a proportion, a perplexity), found once per metric
        where = columns.location  # each place made as text where a problem names it
        for row, (common, task, metric, number, stderr) in enumerate(zip(columns.shared, columns.task, columns.measure, columns.value, columns.stderr)):
            if not columns.is_score[common]:
                if number < 0:
                    reading.problem(label, where[row], ">= 0", number, f"{metric} cannot be negative", "outcome-nature")
                continue
            proportion, perplexity_like = rules[metric] if metric in rules else rules.setdefault(metric, (is_proportion(metric), "perplexity" in metric))
            if proportion and not 0 <= number <= 1:
                reading.problem(label, where[row], "a proportion in [0, 1]", number, f"{metric} is a share of examples", "outcome-nature")
            elif perplexity_like and number < 1:
                reading.problem(label, where[row], ">= 1", number, f"a {metric} below 1 is impossible (1 is a perfect model)", "outcome-nature")
            elif metric == "bits_per_byte" and (number < 0 or (number == 0 and perplexity.get(task, 1) > 1)):
                reading.problem(
                    label,
                    where[row],
                    "> 0 (the task's perplexity is above 1)",
                    number,
                    "0 bits per byte is a perfect model, which the task's perplexity says it is not",
                    "outcome-nature",
                )
            if stderr is not None and stderr < 0:
                reading.problem(label, f"{where[row]} (stderr)", ">= 0", stderr, "a standard error cannot be negative", "outcome-nature")


def check_claims(reading: Reading, links: Iterable[Link]) -> None:
    """What the file says of each model against the record it was joined to; a claim that cannot be read is a problem too."""
    for link in links:
        claim, record = link.group.claim, link.record
        block = record.pruned_architecture
        where = claim.where
        if link.other_model is not None:
            reading.problem(
                link.label,
                f"{where}.{_MODEL_FIELD.get(reading.format, 'hf_repo')}",
                f"a name of {record.base_model}",
                claim.repository,
                link.other_model,
                "outcome-model",
            )
        for place, (value, expected) in claim.unreadable.items():
            reading.problem(
                link.label,
                place,
                expected,
                value,
                "the file's claim about its model cannot be read, so it cannot be checked against the record",
                "outcome-claim",
            )
        digest = record.provenance.kept_indices_sha256 if record.provenance else None
        if claim.kept_indices_sha256 is not None and claim.kept_indices_sha256 != digest:
            reading.problem(
                link.label,
                f"{where}.kept_indices_sha256",
                digest,
                claim.kept_indices_sha256,
                "the measured model kept other neurons than the record: it is not the record's model (rebuild, or measure again)",
                "outcome-claim",
            )
        if claim.pruning_pct is not None and claim.pruning_pct != record.pruning_pct:
            reading.problem(
                link.label, f"{where}.pruning_pct", record.pruning_pct, claim.pruning_pct, "the file's pruning % is not the record's", "outcome-claim"
            )
        if claim.expansion_ratio is not None:
            _check_ratio(reading, link.label, f"{where}.expansion_rate", claim.expansion_ratio, claim.expansion_ratio_as_written, block.expansion_ratio_exact)
        if claim.total_parameters is not None and claim.total_parameters != block.total_parameters:
            reading.problem(
                link.label,
                f"{where}.model_num_parameters",
                block.total_parameters,
                claim.total_parameters,
                f"the file's parameter count differs from the record's by {claim.total_parameters - block.total_parameters:+,}",
                "outcome-claim",
            )
        if claim.weight_bytes is not None and not _weights_fit(claim.weight_bytes, block.total_parameters):
            reading.problem(
                link.label,
                f"{where}.model_size_gb",
                f"{block.total_parameters:,} parameters x 1, 2 or 4 bytes",
                f"{claim.weight_bytes:,} bytes",
                "the file's weight size fits no dtype of the record's parameter count",
                "outcome-claim",
            )
        _check_variant(reading, link, record)


def _check_ratio(reading: Reading, label: str, where: str, claimed: float, written: str | None, exact: float) -> None:
    """The expansion ratio as the file writes it (a factor, or a percentage when above 20) against the exact one."""
    in_pct = claimed > 20
    factor = formulas.ratio_from_rate_pct(claimed) if in_pct else claimed
    expected = formulas.rate_pct_from_ratio(exact) if in_pct else exact
    decimals = len(written.partition(".")[2]) if written and "." in written else 0
    if round(expected, decimals) != round(claimed, decimals) and not math.isclose(factor, exact, rel_tol=1e-9):
        reading.problem(label, where, round(expected, max(decimals, 2)), written or claimed, "the file's expansion ratio is not the record's", "outcome-claim")


def _weights_fit(weight_bytes: int, parameters: int) -> bool:
    return any(abs(weight_bytes - parameters * size) <= WEIGHT_BYTES_TOLERANCE * parameters * size for size in BYTES_PER_PARAMETER)


def _check_variant(reading: Reading, link: Link, record: ExpansionRecord) -> None:
    """A repository or name that says Instruct (or base) against a record of the other variant."""
    claim = link.group.claim
    record_instruct = _says_instruct(record.base_model)
    for attribute, field_name, text in (("repository", "hf_repo", claim.repository), ("name", "name", claim.name)):
        if text and _variant(text, record.base_model) not in (None, record_instruct):
            reading.problem(
                link.label,
                claim.place(attribute, field_name),
                f"a name of {record.base_model}",
                text,
                f"the file names {'a base' if record_instruct else 'an Instruct'} model here, but joins it to {link.label} by {link.by}: which was "
                "measured cannot be told",
                "outcome-claim",
            )


def _says_instruct(text: str) -> bool:
    return "instruct" in text.lower()


def _variant(text: str, base_model: str) -> bool | None:
    """True: ``text`` says Instruct; False: it is the base model's own name (``Llama-3.2-1B``, pruned or not);
    None: it says neither (the study's ``Llama-3.2-1B-I-pruned-10pct``: its file's family tells)."""
    if _says_instruct(text):
        return True
    stem = re.sub(r"-pruned-\d+(?:%|pct)?$", "", text.rsplit("/", 1)[-1]).lower()
    base = re.sub(r"-instruct$", "", base_model.rsplit("/", 1)[-1], flags=re.IGNORECASE).lower()
    return False if stem == base else None


def rejected_locations(reading: Reading) -> dict[str, Any]:
    """The places whose values a check rejected, each with its problem (``outcome-claim`` rejects a whole model)."""
    return {problem.field: problem for problem in reading.problems}

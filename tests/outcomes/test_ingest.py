"""``ingest`` in-process on small lm-eval files: what it stores, what it leaves out and why, what it refuses.

Only the public ``ingest()`` is used: a claim that is not the record's leaves out every value of its model;
a problem at one value (its stderr included) leaves out that value alone; the same bytes named twice are
read once; a file whose model cannot be joined to one record is refused whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from outcome_builders import shipped_records

from glu_catalogue.outcomes.ingest import ingest
from glu_catalogue.outcomes.linking import LinkError

BASE = "meta-llama/Llama-3.2-1B"
REGISTRY = {BASE, f"{BASE}-Instruct"}
#: The parameter count of Llama-3.2-1B at 0 % (the record's).
PARAMETERS = 1_235_814_400


def lm_eval_file(folder: Path, name: str = "results.json", parameters: int = PARAMETERS, **results: dict) -> Path:
    """A results file of lm-eval 0.4's layout naming Llama-3.2-1B by its hub id, with ``results`` by task."""
    document = {
        "results": results or {"arc": {"acc,none": 0.5, "acc_stderr,none": 0.01}, "piqa": {"acc,none": 0.7, "acc_stderr,none": 0.01}},
        "config": {"model_args": f"pretrained={BASE},dtype=bfloat16", "model_num_parameters": parameters},
        "lm_eval_version": "0.4.13",
    }
    path = folder / name
    path.write_text(json.dumps(document))
    return path


def stored(ingested) -> list[tuple[str, str, float]]:
    return sorted((outcome.record, outcome.task, outcome.value) for outcome in ingested.outcomes)


def test_a_clean_file_is_stored_with_its_link(tmp_path):
    path = lm_eval_file(tmp_path)
    ingested = ingest([path], shipped_records(), REGISTRY)
    assert stored(ingested) == [(f"{BASE}@0", "arc", 0.5), (f"{BASE}@0", "piqa", 0.7)]
    assert ingested.problems == [] and ingested.left_out == [] and [link.label for link in ingested.links[path]] == [f"{BASE}@0"]


def test_a_claim_that_is_not_the_records_leaves_out_every_value_of_its_model(tmp_path):
    ingested = ingest([lm_eval_file(tmp_path, parameters=PARAMETERS + 1)], shipped_records(), REGISTRY)
    assert ingested.outcomes == [] and [problem.kind for problem in ingested.problems] == ["outcome-claim"]
    assert sorted(item.what for item in ingested.left_out) == ["arc acc", "piqa acc"] and {item.kind for item in ingested.left_out} == {"outcome-claim"}


def test_a_value_against_its_nature_or_with_a_bad_stderr_is_left_out_alone(tmp_path):
    results = {"arc": {"acc,none": 1.5}, "piqa": {"acc,none": 0.7, "acc_stderr,none": "wide"}, "sciq": {"acc,none": 0.9}}
    ingested = ingest([lm_eval_file(tmp_path, **results)], shipped_records(), REGISTRY)
    assert stored(ingested) == [(f"{BASE}@0", "sciq", 0.9)]
    reasons = {item.source.location: item.reason for item in ingested.left_out}
    assert reasons["results.arc.acc,none"].startswith("acc is a share of examples (at results.arc.acc,none: expected a proportion in [0, 1], found 1.5)")
    assert reasons["results.piqa.acc,none"].startswith("a standard error must be a number (at results.piqa.acc,none (stderr)")


def test_the_same_bytes_named_twice_are_read_once(tmp_path):
    first = lm_eval_file(tmp_path)
    copy = tmp_path / "copy.json"
    copy.write_bytes(first.read_bytes())
    ingested = ingest([first, copy, first], shipped_records(), REGISTRY)
    assert len(ingested.readings) == 1 and len(ingested.outcomes) == 2 and ingested.problems == []


def test_a_file_whose_model_cannot_be_joined_is_refused_whole(tmp_path):
    good, unnamed = lm_eval_file(tmp_path), tmp_path / "unnamed.json"
    unnamed.write_text(json.dumps({"results": {"arc": {"acc,none": 0.5}}, "config": {"model_args": "dtype=float32"}, "versions": {}}))
    with pytest.raises(LinkError, match=r"unnamed\.json \(config\): the file does not name its model"):
        ingest([good, unnamed], shipped_records(), REGISTRY)
    assert stored(ingest([unnamed], shipped_records(), REGISTRY, f"{BASE}@40")) == [(f"{BASE}@40", "arc", 0.5)]

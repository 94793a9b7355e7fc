"""The outcome checks in-process: each value against its nature, each claim of a file against its record.

Every kind of problem is made once on a small ``Reading`` and found at its place, with its kind; the
record is the shipped catalogue's Llama-3.2-1B at 40 % (H 2048, I 4916, 913,770,496 parameters).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from outcome_builders import shipped_records

from glu_catalogue.outcomes.checks import check_claims, check_nature, is_proportion, rejected_locations
from glu_catalogue.outcomes.linking import Link
from glu_catalogue.outcomes.reading import Claim, ModelGroup, Reading

BASE = "meta-llama/Llama-3.2-1B"
SHA = "0" * 64


@pytest.fixture(scope="module")
def record():
    return shipped_records()[(BASE, 40)]


def score(metric: str, value: float, task: str = "t", stderr: float | None = None) -> dict:
    return {"kind": "score", "task": task, "metric": metric, "value": value, "stderr": stderr, "source": {"location": f"results.{task}.{metric}"}}


def nature(*values: dict) -> dict[str, str]:
    """The problems ``check_nature`` finds in one group of ``values``: place -> message."""
    group = ModelGroup(Claim(where="config"))
    reading = Reading(Path("x.json"), SHA, "lm-eval-results", groups=[group])
    for value in values:
        reading.add(group, {**value, "source": reading.source(value["source"]["location"])})
    check_nature(reading, {0: f"{BASE}@40"})
    assert all(problem.kind == "outcome-nature" and problem.record == f"{BASE}@40" for problem in reading.problems)
    return {problem.field: problem.message for problem in reading.problems}


def test_proportions_are_told_by_their_metric_name():
    assert all(is_proportion(metric) for metric in ("acc", "accuracy", "acc_norm", "exact_match", "mc2", "f1", "pass_acc", "acc_per_char"))
    assert not any(is_proportion(metric) for metric in ("perplexity", "word_perplexity", "bits_per_byte", "bleu", "rouge1"))


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_a_proportion_in_0_to_1_is_no_problem(value):
    assert nature(score("acc", value)) == {}


@pytest.mark.parametrize("value", [-0.01, 1.0001, 61.0])
def test_a_proportion_outside_0_to_1_is_a_problem(value):
    assert nature(score("acc", value)) == {"results.t.acc": "acc is a share of examples"}


def test_a_perplexity_below_1_is_impossible():
    assert nature(score("word_perplexity", 0.9)) == {"results.t.word_perplexity": "a word_perplexity below 1 is impossible (1 is a perfect model)"}
    assert nature(score("perplexity", 1.0)) == {}


def test_bits_per_byte_below_0_or_0_beside_a_perplexity_above_1():
    assert list(nature(score("bits_per_byte", -0.1))) == ["results.t.bits_per_byte"]
    assert list(nature(score("bits_per_byte", 0.0), score("perplexity", 7.5))) == ["results.t.bits_per_byte"]
    assert nature(score("bits_per_byte", 0.0), score("perplexity", 7.5, task="other")) == {}  # another task's perplexity says nothing
    assert nature(score("bits_per_byte", 0.0), score("perplexity", 1.0)) == {}


def test_a_negative_stderr_is_a_problem_at_the_scores_stderr():
    assert nature(score("acc", 0.5, stderr=-0.01)) == {"results.t.acc (stderr)": "a standard error cannot be negative"}
    assert nature(score("acc", 0.5, stderr=0.0)) == {}


def test_a_negative_efficiency_quantity_is_a_problem():
    value = {"kind": "efficiency", "quantity": "energy_net_kwh", "value": -1e-6, "source": {"location": "results.w.energy_kwh_mean"}}
    assert nature(value) == {"results.w.energy_kwh_mean": "energy_net_kwh cannot be negative"}
    assert nature({**value, "value": 0.0}) == {}


# --- claims --------------------------------------------------------------------------------------------------------


def claims(record, other_model: str | None = None, format: str = "study-capability-json", **stated) -> dict[str, tuple[str, str, str]]:
    """The problems ``check_claims`` finds for a claim of ``stated`` joined to ``record``: place -> (kind, expected, found)."""
    claim = Claim(where="models_evaluated.40pct", **stated)
    reading = Reading(Path("x.json"), SHA, format, groups=[ModelGroup(claim)])
    check_claims(reading, [Link(reading.groups[0], record, "the study's family", other_model)])
    assert all(problem.record == f"{BASE}@40" for problem in reading.problems)
    return {problem.field: (problem.kind, problem.expected, problem.found) for problem in reading.problems}


def test_claims_that_are_the_records_are_no_problem(record):
    assert (
        claims(
            record,
            name="Llama-3.2-1B-pruned-40%",
            repository=BASE,
            pruning_pct=40,
            expansion_ratio=2.4,
            expansion_ratio_as_written="2.4",
            total_parameters=913_770_496,
            weight_bytes=913_770_496 * 2,
            kept_indices_sha256=record.provenance.kept_indices_sha256,
        )
        == {}
    )


def test_a_pruning_pct_or_parameter_count_that_is_not_the_records(record):
    assert claims(record, pruning_pct=30) == {"models_evaluated.40pct.pruning_pct": ("outcome-claim", "40", "30")}
    [(place, (kind, _, found))] = claims(record, total_parameters=913_770_497).items()
    assert (place, kind, found) == ("models_evaluated.40pct.model_num_parameters", "outcome-claim", "913770497")


@pytest.mark.parametrize(
    ("ratio", "written", "wrong"),
    [
        (2.4, "2.4", False),
        (2.40039, "2.40039", False),
        (240.04, "240.04", False),
        (2.4004, "2.4004", False),
        (2.5, "2.5", True),
        (240.1, "240.1", True),
        (2.401, "2.401", True),
    ],
)
def test_the_expansion_ratio_as_written_a_factor_or_a_percentage_to_its_decimals(record, ratio, written, wrong):
    """The exact ratio is 4916 / 2048 = 2.400390625: 2.4 and 240.04 are it rounded as written; 2.401 is not."""
    found = claims(record, expansion_ratio=ratio, expansion_ratio_as_written=written)
    assert (found != {}) is wrong
    if wrong:
        assert found["models_evaluated.40pct.expansion_rate"][0] == "outcome-claim"


@pytest.mark.parametrize(("weight_bytes", "fits"), [(913_770_496 * 4, True), (913_770_496, True), (913_770_496 * 2 + 1000, True), (913_770_496 * 3, False)])
def test_a_weight_size_must_fit_a_dtype_of_the_records_count(record, weight_bytes, fits):
    assert (claims(record, weight_bytes=weight_bytes) == {}) is fits


def test_another_kept_neuron_digest_is_not_the_records_model(record):
    assert claims(record, kept_indices_sha256="f" * 64)["models_evaluated.40pct.kept_indices_sha256"][0] == "outcome-claim"


def test_an_unreadable_claim_is_a_problem_at_its_place(record):
    found = claims(record, unreadable={"models_evaluated.40pct.pruning_pct": ("forty", "a whole number from 0 to 100")})
    assert found == {"models_evaluated.40pct.pruning_pct": ("outcome-claim", "a whole number from 0 to 100", "forty")}


@pytest.mark.parametrize(
    ("stated", "place"),
    [({"repository": f"{BASE}-Instruct"}, "models_evaluated.40pct.hf_repo"), ({"name": "Llama-3.2-1B-Instruct-pruned-40%"}, "models_evaluated.40pct.name")],
)
def test_a_name_that_says_instruct_joined_to_a_base_record_is_a_problem(record, stated, place):
    assert claims(record, **stated) == {place: ("outcome-claim", f"a name of {BASE}", next(iter(stated.values())))}


def test_a_name_that_says_neither_variant_is_no_problem(record):
    """The study's CSV writes ``Llama-3.2-1B-I-pruned-10pct``: its family tells, not its name."""
    assert claims(record, name="Llama-3.2-1B-I-pruned-40pct") == {} and claims(record, name="Llama-3.2-1B-pruned-40pct") == {}


def test_another_model_named_with_record_is_an_outcome_model_problem_at_the_key_the_format_holds(record):
    said = "the file names someone/x, another model, not it"
    assert claims(record, said, repository="someone/x") == {"models_evaluated.40pct.hf_repo": ("outcome-model", f"a name of {BASE}", "someone/x")}
    lm_eval = claims(record, said, format="lm-eval-results", repository="someone/x")
    assert list(lm_eval) == ["models_evaluated.40pct.model_args"]


def test_rejected_locations_are_the_problems_places():
    reading = Reading(Path("x.json"), SHA, "lm-eval-results")
    reading.problem("-", "results.t.acc,none", 1, 2, "m", "outcome-nature")
    assert list(rejected_locations(reading)) == ["results.t.acc,none"]

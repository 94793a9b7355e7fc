"""Every Eval Ever both ways: the stored scores exported as records that validate against the vendored 0.3.0
schema, and such records (ours, and the public datastore's) read back as outcome files."""

from __future__ import annotations

import json
import os

import pytest
from conftest import DATA, REPO, run_here

from glu_catalogue.core.outcome_records import ScoreOutcome
from glu_catalogue.interop.eee_schema import EEE_SCHEMA_FILE, EEE_SCHEMA_VERSION, schema_errors
from glu_catalogue.outcomes.readers import read_outcome_file
from glu_catalogue.pipeline.export import export_eee
from glu_catalogue.pipeline.results import check_results
from glu_catalogue.store.outcomes_files import read_outcomes

SHARED = REPO.parent / "shared" / "formats" / "every-eval-ever"  # shared/ beside the checkout, as CI lays it
EXAMPLE = SHARED / "example-hfopenllm_v2-LLaMA-Pro-8B-Instruct.json"
STORED_SCORES = [outcome for outcome in read_outcomes(DATA).outcomes if isinstance(outcome, ScoreOutcome)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("eee")
    return export_eee(out, DATA)


def test_the_vendored_schema_is_the_shared_copy_with_its_licence_and_provenance():
    vendor = EEE_SCHEMA_FILE.parent
    assert json.loads(EEE_SCHEMA_FILE.read_text())["version"] == EEE_SCHEMA_VERSION == "0.3.0"
    assert "MIT License" in (vendor / "every_eval_ever_LICENSE").read_text()
    import hashlib

    assert hashlib.sha256(EEE_SCHEMA_FILE.read_bytes()).hexdigest() in (vendor / "README.md").read_text()
    if (SHARED / "eval.schema.json").is_file():
        assert EEE_SCHEMA_FILE.read_bytes() == (SHARED / "eval.schema.json").read_bytes()


def test_every_exported_record_validates_and_every_stored_score_is_in_one(exported):
    groups = {(score.record, score.source.sha256) for score in STORED_SCORES}
    assert len(exported.files) == len(groups) > 0
    total = 0
    for name in exported.files:
        document = json.loads((exported.out_dir / name).read_text())
        assert schema_errors(document) == [], name
        info = document["model_info"]["additional_details"]
        assert {
            "catalogue_record",
            "expansion_ratio",
            "expansion_ratio_before",
            "intermediate_size",
            "total_parameters",
            "kept_indices_sha256",
            "pruning_method",
        } <= set(info)
        total += len(document["evaluation_results"])
    assert total == len(STORED_SCORES)


def test_a_record_that_breaks_the_schema_is_named():
    assert any(error.startswith("model_info") for error in schema_errors({"schema_version": "0.3.0", "model_info": {"id": 1}}))


def _comparable(outcome: ScoreOutcome) -> dict:
    return outcome.model_dump(exclude={"source"})


def test_each_exported_record_reads_back_to_the_same_outcomes(exported):
    stored = {(score.record, score.source.sha256, score.source.location): _comparable(score) for score in STORED_SCORES}
    read_back = 0
    for name in exported.files:
        path = exported.out_dir / name
        document = json.loads(path.read_text())
        sha256 = document["source_metadata"]["additional_details"]["source_sha256"]
        checked = check_results([path], DATA)
        assert checked.report.ok, checked.report.problems
        for outcome in checked.ingested.outcomes:
            location = document["evaluation_results"][int(outcome.source.location.split("[")[1].rstrip("]"))]["metric_config"]["additional_details"][
                "source_location"
            ]
            assert _comparable(outcome) == stored[(outcome.record, sha256, location)]
            read_back += 1
    assert read_back == len(STORED_SCORES)


def test_a_claim_in_the_record_that_is_not_the_records_is_a_problem(exported, tmp_path):
    name = next(name for name in exported.files if "/040pct/" in name)
    document = json.loads((exported.out_dir / name).read_text())
    document["model_info"]["additional_details"]["total_parameters"] = "1"
    document["model_info"]["additional_details"]["kept_indices_sha256"] = "0" * 64
    (tmp_path / "edited.json").write_text(json.dumps(document))
    checked = check_results([tmp_path / "edited.json"], DATA)
    assert {problem.field for problem in checked.report.problems} >= {"model_info.model_num_parameters", "model_info.kept_indices_sha256"}
    assert checked.ingested.outcomes == []


def test_export_and_check_from_the_command_line(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1796688000", "HF_HUB_OFFLINE": "1"}
    result = run_here("results", "export", "--format", "eee", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr
    assert "each valid against schema 0.3.0" in result.stdout
    again = run_here("results", "export", "--format", "eee", "--out", str(tmp_path / "out"), env=env)
    assert "files written: none (unchanged)" in again.stdout
    one = next((tmp_path / "out").rglob("*.json"))
    checked = run_here("results", "check", str(one), env=env)
    assert checked.returncode == 0 and "(by the record and kept-neuron digest the catalogue wrote in it)" in checked.stdout, checked.stdout + checked.stderr
    (tmp_path / "file").write_text("")
    refused = run_here("results", "export", "--format", "eee", "--out", str(tmp_path / "file"), env=env)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "--out must be a directory" in refused.stderr


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="the shared Every Eval Ever example is not beside the checkout")
def test_the_public_datastores_record_is_read_and_its_unknown_model_is_one_line():
    result = run_here("results", "check", str(EXAMPLE), env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "names TencentARC/LLaMA-Pro-8B-Instruct, which the registry does not hold" in lines[0], result.stderr
    reading = read_outcome_file(EXAMPLE)
    assert (reading.format, reading.problems, reading.groups[0].claim.repository) == ("every-eval-ever", [], "TencentARC/LLaMA-Pro-8B-Instruct")
    values = reading.groups[0].values
    assert sorted(value["task"] for value in values) == ["BBH", "GPQA", "IFEval", "MATH Level 5", "MMLU-PRO", "MUSR"]
    assert {(value["higher_is_better"], value["harness"]) for value in values} == {(True, "unknown")}  # a 0.2 record names no library
    assert next(value for value in values if value["task"] == "IFEval")["value"] == 0.4486

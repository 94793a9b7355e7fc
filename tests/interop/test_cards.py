"""Model cards of pruned checkpoints: what ``build --save-pruned`` writes beside each checkpoint, and what
``catalogue card`` adds, read back by huggingface_hub itself (``ModelCard.load``, ``model_index_to_eval_results``,
``parse_eval_result_entries``). No network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from tiny_builds import build, records

from glu_catalogue.cli.commands import cli
from glu_catalogue.core.outcome_records import ScoreOutcome
from glu_catalogue.interop.cards import LM_EVAL_DATASETS
from glu_catalogue.store.outcomes_files import read_outcomes

pytestmark = pytest.mark.torch


@pytest.fixture
def saved(registry, tmp_path):
    """tiny/qwen2 built at 0 and 40 % with --save-pruned, and an lm-eval file of the 40 % checkpoint added to its outcomes."""
    data, root = tmp_path / "data", tmp_path / "pruned"
    assert build(data, "--models", "tiny/qwen2", "--levels", "0,40", "--save-pruned", str(root)).exit_code == 0
    checkpoint = root / "tiny__qwen2" / "pruned-40pct"
    results = {
        "results": {
            "arc_easy": {"alias": "arc_easy", "acc,none": 0.3125, "acc_stderr,none": 0.0412, "acc_norm,none": 0.28125, "acc_norm_stderr,none": "N/A"},
            "my_local_task": {"alias": "my_local_task", "exact_match,strict": 0.5},
        },
        "n-shot": {"arc_easy": 0, "my_local_task": 5},
        "versions": {"arc_easy": 1.0, "my_local_task": 0},
        "higher_is_better": {"arc_easy": {"acc": True, "acc_norm": True}},
        "config": {"model": "hf", "model_args": f"pretrained={checkpoint}"},
        "lm_eval_version": "0.4.13",
    }
    (tmp_path / "results.json").write_text(json.dumps(results))
    added = CliRunner().invoke(cli, ["results", "add", str(tmp_path / "results.json"), "--data", str(data)])
    assert added.exit_code in (0, 1), added.output
    return data, root, checkpoint


def test_save_pruned_writes_a_card_that_model_card_load_reads(saved):
    from huggingface_hub import ModelCard

    data, root, _ = saved
    for record in records(data):
        readme = root / "tiny__qwen2" / f"pruned-{record['pruning_pct']:02d}pct" / "README.md"
        card = ModelCard.load(readme)
        assert card.data.base_model == "tiny/qwen2"
        assert {"width-pruned", "optipfair"} <= set(card.data.tags)
        after, before = record["pruned_architecture"], record["original_architecture"]
        assert f"| MLP width (intermediate_size) | {before['intermediate_size']} | {after['intermediate_size']} |" in card.text
        assert f"| parameters | {before['total_parameters']:,} | {after['total_parameters']:,} |" in card.text
        assert record["provenance"]["kept_indices_sha256"] in card.text
        assert f"catalogue build --models tiny/qwen2 --levels {record['pruning_pct']}" in card.text
        assert card.data.eval_results is None  # no scores until measured
        assert "No stored scores yet" in card.text


def test_card_adds_the_stored_scores_in_both_of_the_hubs_forms(saved):
    from huggingface_hub import ModelCard, parse_eval_result_entries
    from huggingface_hub.repocard_data import model_index_to_eval_results

    data, _, checkpoint = saved
    result = CliRunner().invoke(cli, ["card", "tiny/qwen2@40", "--checkpoint", str(checkpoint), "--data", str(data)])
    assert result.exit_code == 0, result.output
    stored = sorted((o.task, o.metric, o.filter, o.value) for o in read_outcomes(data).outcomes if isinstance(o, ScoreOutcome) and o.record == "tiny/qwen2@40")
    assert len(stored) == 3
    card = ModelCard.load(checkpoint / "README.md")
    _, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert sorted((r.dataset_name, r.metric_type, r.metric_config, r.metric_value) for r in results) == stored
    assert {r.dataset_type for r in results if r.dataset_name == "arc_easy"} == {LM_EVAL_DATASETS["arc_easy"]}
    entries = parse_eval_result_entries(yaml.safe_load((checkpoint / ".eval_results" / "arc_easy.yaml").read_text()))
    assert sorted((e.task_id, e.notes.split(",")[0], e.value) for e in entries) == sorted((t, m, v) for t, m, _, v in stored if t == "arc_easy")
    assert not (checkpoint / ".eval_results" / "my_local_task.yaml").exists()  # no known Hub dataset: said in the card
    assert "Not in `.eval_results/` (no known Hub dataset): my_local_task." in card.text
    again = CliRunner().invoke(cli, ["card", "tiny/qwen2@40", "--checkpoint", str(checkpoint), "--data", str(data)])
    assert "written: 0" in again.output


def test_card_refuses_another_records_checkpoint_and_a_readme_it_did_not_write(saved):
    data, root, checkpoint = saved
    other = root / "tiny__qwen2" / "pruned-00pct"
    wrong = CliRunner().invoke(cli, ["card", "tiny/qwen2@40", "--checkpoint", str(other), "--data", str(data)])
    assert wrong.exit_code == 2 and "not the checkpoint of tiny/qwen2@40" in wrong.output
    (checkpoint / "README.md").write_text("# my own notes\n")
    mine = CliRunner().invoke(cli, ["card", "tiny/qwen2@40", "--checkpoint", str(checkpoint), "--data", str(data)])
    assert mine.exit_code == 2 and "a README.md the catalogue did not write" in mine.output
    assert (checkpoint / "README.md").read_text() == "# my own notes\n"


def test_the_dataset_table_is_lm_evals_own():
    """Each task's Hub dataset is the ``dataset_path`` lm-eval's own task YAML names (installed lm-eval)."""
    lm_eval = pytest.importorskip("lm_eval")
    tasks = Path(lm_eval.__file__).parent / "tasks"

    def text(path: Path) -> str:  # the file and the file it includes (truthfulqa_mc2 includes truthfulqa_mc1)
        own = path.read_text(errors="replace")
        included = next((line.split(":", 1)[1].strip().strip("\"'") for line in own.splitlines() if line.startswith("include:")), None)
        return own + ((path.parent / included).read_text(errors="replace") if included and (path.parent / included).is_file() else "")

    files = [(path.relative_to(tasks).as_posix(), text(path)) for path in tasks.rglob("*yaml") if path.is_file()]
    for task, dataset in LM_EVAL_DATASETS.items():
        assert any(f"dataset_path: {dataset}\n" in text and (task in name or f"task: {task}" in text) for name, text in files), task


@pytest.mark.parametrize("label", ["tiny/qwen2@²", "tiny/qwen2@" + "9" * 5000, "tiny/qwen2", "tiny/qwen2@-5"])
def test_a_label_that_is_not_model_at_pct_is_one_line(label, tmp_path):
    result = CliRunner().invoke(cli, ["card", label, "--checkpoint", str(tmp_path)])
    assert result.exit_code == 2 and "expected MODEL@PCT" in result.output and len(result.output) < 300, result.output

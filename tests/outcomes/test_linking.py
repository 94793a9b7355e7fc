"""Joining a file's models to catalogue records, in-process on claims as the readers give them.

A group is joined to exactly one record or the link is refused with one line naming why (the
candidates, the pruning % it lacks, the option that settles it): by ``--record``, by the record a
file of the catalogue names, by a checkpoint's safetensors headers (sparse files of the real
architecture, written without torch), by a registry hub id, by the study's family; never by likeness.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from outcome_builders import shipped_records
from safetensors_files import llama_config, llama_tensors, write_checkpoint

from glu_catalogue.core.architecture import Architecture
from glu_catalogue.outcomes.linking import LinkError, family_names, link_groups, named_other_model
from glu_catalogue.outcomes.reading import Claim, ModelGroup
from glu_catalogue.store.registry import load_registry

BASE, INSTRUCT = "meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B-Instruct"


@pytest.fixture(scope="module")
def records():
    """The shipped catalogue's records by (model, pruning %)."""
    return shipped_records()


@pytest.fixture(scope="module")
def registry_ids() -> set[str]:
    return set(load_registry())


def group(**claim) -> ModelGroup:
    return ModelGroup(Claim(where=claim.pop("where", "config"), **claim))


def link_one(records, registry_ids, record_label=None, named=None, **claim):
    [link] = link_groups(Path("results.json"), [group(**claim)], records, registry_ids, record_label, named)
    return link


def refused(records, registry_ids, record_label=None, named=None, **claim) -> str:
    with pytest.raises(LinkError) as error:
        link_one(records, registry_ids, record_label, named, **claim)
    message = str(error.value)
    assert "\n" not in message and message.startswith("results.json")
    return message


# --- --record --------------------------------------------------------------------------------------------------


def test_record_joins_the_files_one_group_whatever_it_names(records, registry_ids):
    link = link_one(records, registry_ids, f"{BASE}@40")
    assert (link.label, link.by, link.other_model) == (f"{BASE}@40", f"--record {BASE}@40", None)
    assert link.record is records[(BASE, 40)]


def test_record_refuses_a_file_of_several_models_and_a_label_that_is_no_record(records, registry_ids):
    with pytest.raises(LinkError, match="the file measures 2 models; --record names one record"):
        link_groups(Path("results.json"), [group(), group()], records, registry_ids, f"{BASE}@40")
    assert "is not MODEL@PCT with a whole percentage" in refused(records, registry_ids, "meta-llama/Llama-3.2-1B")
    assert "is not MODEL@PCT" in refused(records, registry_ids, f"{BASE}@forty")
    message = refused(records, registry_ids, f"{BASE}@45")
    assert f"the catalogue has no record {BASE}@45 (it has {BASE} at 0, 10, 20" in message
    assert "it has no record of me/unknown" in refused(records, registry_ids, "me/unknown@40")


def test_record_says_when_the_file_names_another_model(records, registry_ids):
    link = link_one(records, registry_ids, f"{BASE}@40", repository=INSTRUCT)
    assert link.other_model == f"the file names {INSTRUCT}, another registry model, not {BASE}: its values are not {BASE}@40's"
    assert link_one(records, registry_ids, f"{BASE}@40", repository=BASE).other_model is None
    assert link_one(records, registry_ids, f"{BASE}@40", repository="<in-memory model>").other_model is None  # names nothing usable


def test_record_at_0_pct_and_an_unregistered_hub_id_is_another_model(records, registry_ids):
    """An unpruned model of another name (a fine-tune, a distillation) shares every count: it is never taken for the record."""
    other = named_other_model("results.json", Claim(where="config", repository="someone/llama-finetune"), records[(BASE, 0)], registry_ids)
    assert (
        other
        == f"the file names someone/llama-finetune, another model (a fine-tune or distillation has the same counts), not {BASE}: its values are not {BASE}@0's"
    )


# --- what the file names ------------------------------------------------------------------------------------------


def test_a_file_of_the_catalogue_links_by_the_record_it_names(records, registry_ids):
    link = link_one(records, registry_ids, record=f"{INSTRUCT}@20", repository=BASE)
    assert link.label == f"{INSTRUCT}@20" and link.by == "the record and kept-neuron digest the catalogue wrote in it"
    assert "the catalogue has no record" in refused(records, registry_ids, record=f"{BASE}@45")


def test_a_registry_hub_id_links_at_the_files_pruning_pct_or_0(records, registry_ids):
    assert link_one(records, registry_ids, repository=BASE, pruning_pct=30).label == f"{BASE}@30"
    link = link_one(records, registry_ids, repository=BASE)
    assert (link.label, link.by) == (f"{BASE}@0", f"the hub id {BASE}")


def test_a_hub_id_the_registry_does_not_hold_and_the_hub_cannot_serve_is_refused_naming_catalogue_add(records, registry_ids, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    message = refused(records, registry_ids, repository="someone/pruned-llama", revision="v2")
    assert "names someone/pruned-llama at revision v2, which the registry does not hold" in message
    assert "`catalogue add someone/pruned-llama`" in message and "give --record MODEL@PCT" in message


def test_a_file_that_names_nothing_is_refused(records, registry_ids):
    assert refused(records, registry_ids).endswith("the file does not name its model (no checkpoint, hub id or family): give --record MODEL@PCT")


# --- the study's family ------------------------------------------------------------------------------------------


def test_the_studys_family_and_pruning_pct_name_one_registry_model(records, registry_ids):
    link = link_one(records, registry_ids, family="Llama-3.2-1B", pruning_pct=40, name="whatever")
    assert (link.label, link.by) == (f"{BASE}@40", "the study's family Llama-3.2-1B and each model's pruning %")
    assert link_one(records, registry_ids, name="Llama-3.2-1B-pruned-30%").label == f"{BASE}@30"  # read from the name
    assert link_one(records, registry_ids, name="Llama-3.2-1B-pruned-30pct-run2").label == f"{BASE}@30"
    assert link_one(records, registry_ids, name="Llama-3.2-1B").label == f"{BASE}@0"  # the baseline's name


def test_a_family_no_registry_id_is_named_is_refused_unless_another_file_names_it(records, registry_ids):
    message = refused(records, registry_ids, name="Llama-3.2-1B-I-pruned-10%")
    assert "the family 'Llama-3.2-1B-I' names 0 registry models (no registry id is named Llama-3.2-1B-I (`catalogue add` it))" in message
    link = link_one(records, registry_ids, named={"Llama-3.2-1B-I-pruned-10%": INSTRUCT}, name="Llama-3.2-1B-I-pruned-10%")
    assert link.label == f"{INSTRUCT}@10" and "another file of this command gives with its family" in link.by


def test_a_family_two_registry_ids_share_is_refused_naming_both(records):
    message = refused(records, {"a/Llama-3.2-1B", "b/Llama-3.2-1B"}, family="Llama-3.2-1B", pruning_pct=40)
    assert "names 2 registry models (registry ids named Llama-3.2-1B: a/Llama-3.2-1B, b/Llama-3.2-1B); give --record" in message


def test_a_family_without_a_pruning_pct_is_refused(records, registry_ids):
    assert "does not say the pruning % of Llama-3.2-1B" in refused(records, registry_ids, family="Llama-3.2-1B")


def test_family_names_are_the_names_files_state_with_their_family(records, registry_ids):
    groups = [group(family="Llama-3.2-1B", name="Llama-3.2-1B-pruned-40%", pruning_pct=40), group(repository=BASE)]
    links = link_groups(Path("carbon.json"), groups, records, registry_ids)
    assert family_names(links) == {"Llama-3.2-1B-pruned-40%": BASE}


# --- a checkpoint directory, by its safetensors headers ----------------------------------------------------------


def pruned_checkpoint(directory: Path, record, widths=None) -> Path:
    """A checkpoint of ``record``'s pruned architecture (sparse files: headers exact, no weights)."""
    block = record.pruned_architecture
    shape = Architecture(**{name: getattr(block, name) for name in Architecture.model_fields if getattr(block, name, None) is not None})
    write_checkpoint(directory, llama_config(shape), llama_tensors(shape, widths))
    return directory


def test_a_checkpoint_a_model_shares_with_its_instruct_sibling_is_refused_naming_both(records, registry_ids, tmp_path):
    checkpoint = pruned_checkpoint(tmp_path / "pruned", records[(BASE, 40)])
    message = refused(records, registry_ids, repository=str(checkpoint))
    assert f"the architecture and parameter count of 2 records ({BASE}@40, {INSTRUCT}@40)" in message and "give --record" in message
    only_base = {key: record for key, record in records.items() if key[0] != INSTRUCT}
    link = link_one(only_base, registry_ids, repository=str(checkpoint))
    assert link.label == f"{BASE}@40" and link.by == f"the checkpoint {checkpoint}, by its safetensors headers"


def test_with_record_a_checkpoint_of_the_records_shape_is_its_model_and_another_is_said(records, registry_ids, tmp_path):
    checkpoint = pruned_checkpoint(tmp_path / "pruned", records[(BASE, 40)])
    assert link_one(records, registry_ids, f"{INSTRUCT}@40", repository=str(checkpoint)).other_model is None  # --record tells siblings apart
    other = link_one(records, registry_ids, f"{BASE}@30", repository=str(checkpoint)).other_model
    assert other.startswith(f"the checkpoint {checkpoint} has the architecture H 2048, I 4916, 16 layers") and f"not that of {BASE}@30" in other


def test_a_checkpoint_no_record_has_or_of_uneven_widths_is_refused(records, registry_ids, tmp_path):
    record = records[(BASE, 40)]
    message = refused({(BASE, 30): records[(BASE, 30)]}, registry_ids, repository=str(pruned_checkpoint(tmp_path / "a", record)))
    assert "no catalogue record has this checkpoint's architecture (H 2048, I 4916, 16 layers" in message
    uneven = [4916] * 15 + [4000]
    message = refused(records, registry_ids, repository=str(pruned_checkpoint(tmp_path / "b", record, uneven)))
    assert "the checkpoint's layers have MLP widths [4000, 4916]: not a uniformly pruned catalogue model" in message

"""``glu_catalogue.load_outcomes``: one row per stored outcome, every field of it, beside its record's architecture."""

from __future__ import annotations

import pandas
import pytest
from conftest import DATA

import glu_catalogue
from glu_catalogue.core.formulas import expansion_ratio
from glu_catalogue.outcomes.frame import COLUMNS, OUTCOME_COLUMNS, RECORD_COLUMNS, flat_fields
from glu_catalogue.pipeline.publish import catalogue_texts
from glu_catalogue.store.outcomes_files import outcomes_texts, read_outcomes
from glu_catalogue.store.writing import write_files

OUTCOMES = read_outcomes(DATA).outcomes
RECORDS = {(record.base_model, record.pruning_pct): record for record in glu_catalogue.load_catalogue().models if record.status == "success"}


@pytest.fixture(scope="module")
def frame() -> pandas.DataFrame:
    return glu_catalogue.load_outcomes()


def test_the_shipped_data_has_outcomes_of_both_kinds():
    assert {outcome.kind for outcome in OUTCOMES} == {"score", "efficiency"}


def test_one_row_per_outcome_in_the_files_order(frame):
    assert list(frame.columns) == list(COLUMNS)
    assert frame["record"].tolist() == [outcome.record for outcome in OUTCOMES]
    assert frame["source_location"].tolist() == [outcome.source.location for outcome in OUTCOMES]


def test_every_rows_ratio_and_architecture_are_its_records(frame):
    for row in frame.itertuples(index=False):
        block = RECORDS[(row.base_model, row.pruning_pct)].pruned_architecture
        assert row.record == f"{row.base_model}@{row.pruning_pct}"
        assert row.expansion_ratio == block.expansion_ratio_exact == expansion_ratio(block.intermediate_size, block.hidden_size), row.record
        assert (row.intermediate_size, row.hidden_size, row.num_hidden_layers, row.total_parameters) == (
            block.intermediate_size,
            block.hidden_size,
            block.num_hidden_layers,
            block.total_parameters,
        )


def test_every_field_of_every_outcome_is_a_column_with_its_value(frame):
    for index, outcome in enumerate(OUTCOMES):
        cells = flat_fields(outcome.model_dump(exclude_none=True))
        assert set(cells) <= set(OUTCOME_COLUMNS), set(cells) - set(OUTCOME_COLUMNS)
        row = frame.iloc[index]
        for column in OUTCOME_COLUMNS:
            if column not in cells:
                assert pandas.isna(row[column]), (outcome.record, column, row[column])
            elif isinstance(cells[column], list):
                assert list(row[column]) == cells[column]
            else:
                assert row[column] == cells[column], (outcome.record, column, row[column], cells[column])


def test_counts_stay_integers_where_some_rows_have_none(frame):
    scores = frame[frame["kind"] == "score"]
    assert str(frame["n_shot"].dtype) == "Int64" and frame["workload_batch_size"][scores.index].isna().all()
    assert scores["n_shot"].dropna().map(type).eq(int).all()


def test_a_data_directory_without_outcomes_gives_an_empty_table(data_copy):
    empty = glu_catalogue.load_outcomes(data_copy)
    assert empty.empty and list(empty.columns) == list(COLUMNS)


def test_an_outcome_whose_record_the_catalogue_lacks_has_empty_record_columns(data_copy):
    first = OUTCOMES[0]
    kept = [record for record in glu_catalogue.load_catalogue().models if (record.base_model, record.pruning_pct) != (first.base_model, first.pruning_pct)]
    write_files({**catalogue_texts(data_copy, kept, "none (test)", "MAW"), **outcomes_texts(data_copy, read_outcomes(DATA))})
    frame = glu_catalogue.load_outcomes(data_copy)
    lacking = frame["record"] == first.record
    assert lacking.any() and frame.loc[lacking, list(RECORD_COLUMNS)].isna().all().all()
    assert frame.loc[~lacking, list(RECORD_COLUMNS)].notna().all().all()


def test_measure_is_the_metric_or_the_quantity(frame):
    """One column for what is measured, so every outcome pivots the same way."""
    scores, efficiency = frame[frame["kind"] == "score"], frame[frame["kind"] == "efficiency"]
    assert (scores["measure"] == scores["metric"]).all() and (efficiency["measure"] == efficiency["quantity"]).all()
    assert frame["measure"].notna().all()

"""The equal-ratios page computed in-process: Llama-3.2-1B at 40 % and Llama-3.2-3B at 10 % both reach 2.4x.

Each level's value is set beside its own baseline's (the same model at 0 %, from the same file), and
the change from it is what the chart draws; a model without a level at the ratio is not there.
"""

from __future__ import annotations

import pytest
from outcome_builders import efficiency, score, shipped_records, source

from glu_catalogue.site.equal_ratios import chart_rows, equal_ratio_chart, equal_ratios_page, measure_label, ratio_views

ONE, THREE = "meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-3B"


def study(record: str, task: str, value: float, metric: str = "acc", **fields):
    return score(record, task, metric, value, source=source("study.json", "study-capability-json", f"{record}.{task}"), **fields)


def views(*outcomes):
    return ratio_views(outcomes, shipped_records().values())


BOTH = (study(f"{ONE}@0", "arc", 0.6), study(f"{ONE}@40", "arc", 0.5), study(f"{THREE}@0", "arc", 0.7), study(f"{THREE}@10", "arc", 0.68))


def test_a_ratio_two_models_reach_is_one_view_of_each_levels_change_from_its_baseline():
    [view] = views(*BOTH)
    assert view.ratio == pytest.approx(2.4, abs=0.01) and view.levels == (f"{ONE}@40", f"{THREE}@10")
    assert (view.anchor, view.chart_name) == ("ratio-2-40", "equal-ratio-2-40")
    changes = {row.record: (row.value, row.baseline_value, row.change_pct) for row in view.rows}
    assert changes == {f"{ONE}@40": (0.5, 0.6, pytest.approx(-100 / 6)), f"{THREE}@10": (0.68, 0.7, pytest.approx(-2 / 0.7))}


def test_no_view_where_only_one_model_has_a_level_at_a_ratio():
    assert views(*BOTH[:2]) == []
    assert views(study(f"{ONE}@40", "arc", 0.5), study(f"{ONE}@0", "arc", 0.6), study(f"{THREE}@0", "arc", 0.7)) == []


def test_the_single_runs_of_the_study_are_left_out():
    run = source("run.json", "study-carbon-run")
    runs = [efficiency(record, "mmlu_latency_b1", "energy_net_kwh", 0.001, source=run) for record in (f"{ONE}@40", f"{THREE}@10")]
    assert views(*runs) == []


def test_the_chart_has_a_category_per_measure_two_levels_changed_and_a_series_per_level():
    [view] = views(*BOTH, study(f"{ONE}@0", "piqa", 0.7), study(f"{ONE}@40", "piqa", 0.65))  # piqa: one level only
    assert list(chart_rows(view)) == ["arc acc"]
    chart = equal_ratio_chart(view)
    assert chart["categories"] == ["arc acc"] and chart["title"] == "Change from baseline at 2.4x"
    assert [(series["label"], series["points"], series["pcts"]) for series in chart["series"]] == [
        ("Llama-3.2-1B @ 40 %", [[0, pytest.approx(-100 / 6)]], [40]),
        ("Llama-3.2-3B @ 10 %", [[0, pytest.approx(-2 / 0.7)]], [10]),
    ]


def test_a_measure_is_labelled_with_its_filter_unless_none():
    [view] = views(*(study(o.record, "gsm8k", o.value, metric="exact_match", filter="strict-match") for o in BOTH))
    assert {measure_label(row) for row in view.rows} == {"gsm8k exact_match (strict-match)"}


def test_the_page_lists_each_ratio_and_says_when_there_is_none():
    text = equal_ratios_page(views(*BOTH))
    assert "[2.4x](#ratio-2-40) (2 levels)" in text and "## 2.4x { #ratio-2-40 }" in text and "`arc acc`" in text
    assert "No two models have outcomes at one expansion ratio yet." in equal_ratios_page([])

"""The decode speed-up chart and table of the ``decode-b1`` page, computed in-process from small bench outcomes."""

from __future__ import annotations

from outcome_builders import bench_level, shipped_records

from glu_catalogue.site.links import model_url, row_anchor
from glu_catalogue.site.outcome_views import bound_points, outcome_points
from glu_catalogue.site.speedup_view import CHART_NAME, speedup_chart, speedup_section

BASE, SMALL = "meta-llama/Llama-3.2-1B", "HuggingFaceTB/SmolLM2-135M"


def bounds(*levels):
    return bound_points(outcome_points([outcome for level in levels for outcome in level], shipped_records().values()))


def test_each_model_draws_its_measured_line_and_its_bound_dashed_in_one_colour_by_ratio():
    chart = speedup_chart(bounds(bench_level(f"{BASE}@40", 12.0, 1600), bench_level(f"{BASE}@0", 10.0, 2000), bench_level(f"{SMALL}@0", 50.0, 400)))
    assert [(series["label"], series["colour"], series["dash"]) for series in chart["series"]] == [
        ("SmolLM2-135M measured", 0, 0),
        ("SmolLM2-135M bound (weight bytes)", 0, 1),
        ("Llama-3.2-1B measured", 1, 0),
        ("Llama-3.2-1B bound (weight bytes)", 1, 1),
    ]  # models by id
    measured, bound = chart["series"][2:]
    assert measured["points"] == [[2.4, 1.2], [4.0, 1.0]] and bound["points"] == [[2.4, 1.25], [4.0, 1.0]]  # by ratio, not by level
    assert measured["pcts"] == [40, 0] and measured["links"] == [f"{model_url(BASE)}#{row_anchor(40)}", f"{model_url(BASE)}#{row_anchor(0)}"]
    assert chart["reference_lines"] == [[1, "no speed-up"]]


def test_a_model_benched_on_two_machines_names_each():
    chart = speedup_chart(bounds(bench_level(f"{BASE}@0", 10.0, 2000), bench_level(f"{BASE}@0", 20.0, 2000, machine="Intel Xeon, 8 cores")))
    assert [series["label"] for series in chart["series"]] == [
        "Llama-3.2-1B on AMD EPYC, float32 measured",
        "Llama-3.2-1B on AMD EPYC, float32 bound (weight bytes)",
        "Llama-3.2-1B on Intel Xeon, float32 measured",
        "Llama-3.2-1B on Intel Xeon, float32 bound (weight bytes)",
    ]


def test_the_section_gives_the_numbers_behind_the_chart():
    section = speedup_section("outcomes/efficiency/decode-b1.md", bounds(bench_level(f"{BASE}@0", 10.0, 2000), bench_level(f"{BASE}@40", 12.0, 1600)))
    assert f"{{ #{CHART_NAME} }}" in section
    assert "| x1.20 | x1.25 |" in section and "| x1.00 | x1.00 |" in section

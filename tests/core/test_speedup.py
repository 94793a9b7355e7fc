"""The shipped CPU bench: every benched level's decode speed-up beside its weight-bytes bound, on the site.

The bound is recomputed here from the records (fp32 weights: four bytes per parameter, tied
tensors once, as the record counts them), the measured speed-up from the stored decode values;
the ``decode-b1`` page and the browser's data must show both.
"""

from __future__ import annotations

import pytest
from conftest import DATA, REPO
from site_outcomes import page_charts

from glu_catalogue import load_catalogue
from glu_catalogue.core.speedup import speedups
from glu_catalogue.site.speedup_view import CHART_NAME
from glu_catalogue.store.outcomes_files import read_outcomes

BENCHED = ("HuggingFaceTB/SmolLM2-135M", "Qwen/Qwen3-0.6B", "meta-llama/Llama-3.2-1B")
LEVELS = (0, 10, 20, 30, 40, 50, 60)


@pytest.fixture(scope="module")
def rows():
    return speedups(read_outcomes(DATA).outcomes)


def test_every_benched_level_has_its_speedup_and_bound(rows):
    assert {(row.base_model, row.pruning_pct) for row in rows} == {(model, level) for model in BENCHED for level in LEVELS}


def test_the_bound_is_the_baselines_weight_bytes_over_the_levels(rows):
    records = {(r.base_model, r.pruning_pct): r for r in load_catalogue().models}
    decode = {
        (o.base_model, o.pruning_pct): o.value
        for o in read_outcomes(DATA).outcomes
        if o.kind == "efficiency" and o.workload.name == "decode-b1" and o.quantity == "decode_tokens_per_s" and o.measurement is not None
    }
    for row in rows:
        parameters = records[(row.base_model, row.pruning_pct)].pruned_architecture.total_parameters
        baseline = records[(row.base_model, 0)].pruned_architecture.total_parameters
        assert row.weights_bytes == 4 * parameters and row.baseline_weights_bytes == 4 * baseline  # fp32
        assert row.bound == pytest.approx(baseline / parameters)
        assert row.measured == pytest.approx(decode[(row.base_model, row.pruning_pct)] / decode[(row.base_model, 0)])


def test_the_decode_page_and_the_browser_data_show_measured_and_bound(rows):
    page = (REPO / "docs" / "outcomes" / "workloads" / "decode-b1.md").read_text()
    assert f"{{ #{CHART_NAME} }}" in page and f'data-chart="{CHART_NAME}"' in page
    for row in rows:
        assert f"| {row.pruning_pct} |" in page and f"x{row.measured:.2f} | x{row.bound:.2f} |" in page
    chart = page_charts(REPO / "docs" / "outcomes" / "workloads")[CHART_NAME]
    labels = [series["label"] for series in chart["series"]]
    assert labels == [f"{name} {kind}" for name in ("SmolLM2-135M", "Qwen3-0.6B", "Llama-3.2-1B") for kind in ("measured", "bound (weight bytes)")]
    bounds = {series["label"]: series["points"] for series in chart["series"]}
    llama = [row for row in rows if row.base_model == "meta-llama/Llama-3.2-1B"]
    assert [point[1] for point in bounds["Llama-3.2-1B bound (weight bytes)"]] == pytest.approx([row.bound for row in reversed(llama)])
    assert chart["reference_lines"] == [[1, "no speed-up"]]
    # a model's bound is drawn in its measured line's colour, dashed
    assert [(series["colour"], series["dash"]) for series in chart["series"]] == [(model, dash) for model in range(3) for dash in (0, 1)]

"""What the outcome pages show, computed in-process from small outcomes: points, measures, series, pages, bounds.

Records are the shipped catalogue's (Llama-3.2-1B at 0 % is 4.0x, at 40 % 2.4x); the outcomes are built
with only the fields each view reads.
"""

from __future__ import annotations

import pytest
from outcome_builders import bench_level, bench_measurement, efficiency, score, shipped_records, source

from glu_catalogue.core.outcome_records import Runs
from glu_catalogue.site.outcome_views import (
    Measure,
    OutcomePoint,
    bound_points,
    chart_points,
    is_run_part,
    outcome_points,
    series_name,
    spread_of,
    spread_text,
    subjects,
    value_text,
    way_of,
)

BASE = "meta-llama/Llama-3.2-1B"


def points(*outcomes) -> list[OutcomePoint]:
    return outcome_points(outcomes, shipped_records().values())


def measure(*outcomes) -> Measure:
    [subject] = subjects(points(*outcomes))
    [found] = subject.measures
    return found


def test_values_and_spreads_are_written_to_their_significant_digits():
    assert [value_text(v) for v in (0.3626, 2941.08, 0.0002710690, 1234567.89)] == ["0.3626", "2941.08", "0.000271069", "1234568"]
    assert [spread_text(v) for v in (0.0068, 9.891e-06, 12.345)] == ["0.0068", "9.89e-06", "12.3"]


def test_the_way_a_format_writes_and_single_runs():
    assert way_of("study-capability-csv") == way_of("study-capability-json") == "study-capability"
    assert way_of("lm-eval-results") == "lm-eval-results"
    run = efficiency(f"{BASE}@40", "mmlu_latency_b1", "energy_net_kwh", 0.001, source=source("run.json", "study-carbon-run"))
    assert is_run_part(run) and not is_run_part(efficiency(f"{BASE}@40", "decode-b1", "decode_tokens_per_s", 9.0))


def test_a_spread_is_the_stderr_or_the_runs_std():
    assert spread_of(score(f"{BASE}@40", "arc", "acc", 0.5, stderr=0.01)) == 0.01
    assert spread_of(efficiency(f"{BASE}@40", "w", "duration_s", 3.0, runs=Runs(count=3, std=0.2))) == 0.2
    assert spread_of(efficiency(f"{BASE}@40", "w", "duration_s", 3.0)) is None


def test_an_outcome_of_a_record_the_catalogue_does_not_hold_is_not_shown():
    found = points(score(f"{BASE}@40", "arc", "acc", 0.5), score(f"{BASE}@45", "arc", "acc", 0.5), score("me/unknown@0", "arc", "acc", 0.5))
    assert [(point.record.pruning_pct, point.expansion_ratio) for point in found] == [(40, 2.4)]


def test_a_measure_is_labelled_by_metric_and_filter_and_named_for_its_chart():
    found = measure(score(f"{BASE}@40", "gsm8k", "exact_match", 0.3, filter="strict-match"))
    assert (found.label, found.chart_name) == ("exact_match (strict-match)", "outcome-gsm8k-exact-match-strict-match")
    assert measure(score(f"{BASE}@40", "arc", "acc", 0.5, filter="none")).label == "acc"
    assert measure(efficiency(f"{BASE}@40", "decode-b1", "decode_tokens_per_s", 9.0)).chart_name == "efficiency-decode-b1-decode-tokens-per-s"


@pytest.mark.parametrize(("values", "log"), [((2.0, 20.0), True), ((2.0, 19.9), False)])
def test_a_perplexity_spanning_ten_times_is_drawn_on_a_log_scale(values, log):
    low, high = values
    assert measure(score(f"{BASE}@0", "wikitext", "word_perplexity", low), score(f"{BASE}@40", "wikitext", "word_perplexity", high)).log_scale is log
    assert not measure(score(f"{BASE}@0", "arc", "acc", 0.02), score(f"{BASE}@40", "arc", "acc", 0.5)).log_scale


def test_one_series_per_model_and_way_ordered_by_ratio():
    found = measure(score(f"{BASE}@40", "arc", "acc", 0.5), score(f"{BASE}@0", "arc", "acc", 0.6), score("meta-llama/Llama-3.2-3B@10", "arc", "acc", 0.7))
    assert [(label, [point.record.pruning_pct for point in series]) for label, series in found.series] == [("Llama-3.2-1B", [40, 0]), ("Llama-3.2-3B", [10])]


def test_the_studys_json_and_csv_of_one_table_are_one_way_and_one_point_where_they_agree():
    json_file, csv_file = source("study.json", "study-capability-json"), source("study.csv", "study-capability-csv")
    found = measure(score(f"{BASE}@40", "arc", "acc", 0.5, source=json_file), score(f"{BASE}@40", "arc", "acc", 0.5, source=csv_file))
    [(label, series)] = found.series
    assert label == "Llama-3.2-1B" and len(series) == 2 and len(chart_points(series)) == 1  # one point, two sources


def test_a_records_second_value_that_differs_starts_a_second_series_of_its_way():
    json_file, csv_file = source("study.json", "study-capability-json"), source("study.csv", "study-capability-csv")
    found = measure(score(f"{BASE}@40", "arc", "acc", 0.5, source=json_file), score(f"{BASE}@40", "arc", "acc", 0.51, source=csv_file))
    assert [label for label, _ in found.series] == ["Llama-3.2-1B (study.json)", "Llama-3.2-1B (study.csv) #2"]


def test_a_model_measured_two_ways_names_each_way():
    bench = efficiency(f"{BASE}@40", "decode-b1", "decode_tokens_per_s", 9.0, measurement=bench_measurement())
    read = efficiency(f"{BASE}@40", "decode-b1", "decode_tokens_per_s", 8.0, source=source("carbon.json", "study-carbon-json"))
    labels = [label for label, _ in measure(bench, read).series]
    assert labels == ["Llama-3.2-1B (bench on AMD EPYC, float32)", "Llama-3.2-1B (carbon.json)"]


def test_single_runs_are_named_so():
    runs = [efficiency(f"{BASE}@40", "w", "energy_net_kwh", v, source=source(f"run{v}.json", "study-carbon-run")) for v in (1.0, 2.0)]
    assert series_name(points(*runs)) == "single runs"


def test_pages_are_tasks_then_workloads_by_name_with_their_measures_sorted():
    found = subjects(
        points(
            efficiency(f"{BASE}@40", "decode-b1", "decode_tokens_per_s", 9.0),
            score(f"{BASE}@40", "piqa", "acc", 0.7),
            score(f"{BASE}@40", "arc", "acc_norm", 0.5),
            score(f"{BASE}@40", "arc", "acc", 0.5),
        )
    )
    assert [(subject.kind, subject.name, [m.name for m in subject.measures]) for subject in found] == [
        ("score", "arc", ["acc", "acc_norm"]),
        ("score", "piqa", ["acc"]),
        ("efficiency", "decode-b1", ["decode_tokens_per_s"]),
    ]


def test_two_pages_or_charts_that_would_share_an_address_are_refused():
    with pytest.raises(ValueError, match="two outcome pages would share the address"):
        subjects(points(score(f"{BASE}@40", "arc_easy", "acc", 0.5), score(f"{BASE}@40", "arc-easy", "acc", 0.5)))
    with pytest.raises(ValueError, match="two outcome charts would share the address"):
        subjects(points(score(f"{BASE}@40", "arc", "acc_norm", 0.5), score(f"{BASE}@40", "arc", "acc-norm", 0.5)))


def test_the_decode_page_holds_each_levels_speed_up_beside_its_weight_bytes_bound():
    found = points(*bench_level(f"{BASE}@0", 10.0, 2000), *bench_level(f"{BASE}@40", 12.0, 1600), *bench_level(f"{BASE}@40", 30.0, 1000, machine="other"))
    bounds = bound_points(found)  # the level on the other machine has no baseline measured there
    assert [(b.record.pruning_pct, b.expansion_ratio, b.speedup.measured, b.speedup.bound) for b in bounds] == [(0, 4.0, 1.0, 1.0), (40, 2.4, 1.2, 1.25)]
    decode = next(subject for subject in subjects(found) if subject.name == "decode-b1")
    assert decode.bound == bounds and all(not subject.bound for subject in subjects(found) if subject.name != "decode-b1")

"""codecarbon's own emissions.csv, written by codecarbon's offline tracker in the test, and the layouts of its
1.x, 2.x and 3.x releases. Every command runs as a subprocess, as a user runs it; the reader's edge cases run
in-process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, run_here
from outcome_builders import shipped_records
from outcome_reports import check

from glu_catalogue.outcomes.ingest import ingest

TRACK = """
import sys, time
from codecarbon import OfflineEmissionsTracker
for run in range(2):
    tracker = OfflineEmissionsTracker(country_iso_code="FRA", output_dir=sys.argv[1], measure_power_secs=1, log_level="error",
                                      project_name="tiny-eval", save_to_file=True)
    tracker.start()
    sum(i * i for i in range(2_000_000))
    tracker.stop()
"""


@pytest.fixture(scope="module")
def emissions_csv(tmp_path_factory) -> Path:
    """An emissions.csv of two runs, written by codecarbon's offline tracker."""
    pytest.importorskip("codecarbon")
    folder = tmp_path_factory.mktemp("codecarbon")
    subprocess.run([sys.executable, "-c", TRACK, str(folder)], check=True, capture_output=True, timeout=120)
    return folder / "emissions.csv"


def test_codecarbon_csv_links_only_by_record_and_is_stored(emissions_csv, tmp_path):
    completed = run_here("results", "check", str(emissions_csv))
    assert completed.returncode == 2 and len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "does not name its model" in completed.stderr and "--record" in completed.stderr
    code, report = check(emissions_csv, "--record", "meta-llama/Llama-3.2-1B@40")
    assert code == 0, report["problems"]
    assert report["outcomes"] == 6  # two runs x raw energy, duration, emissions
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("models"))  # with the sources its outcomes name: verify checks them
    added = run_here("results", "add", str(emissions_csv), "--record", "meta-llama/Llama-3.2-1B@40", "--data", str(data))
    assert added.returncode == 0, added.stdout + added.stderr
    stored = [o for o in json.loads((data / "outcomes.json").read_text())["outcomes"] if o["source"]["format"] == "codecarbon-csv"]
    assert sorted({o["quantity"] for o in stored}) == ["duration_s", "emissions_kg_co2eq", "energy_raw_kwh"]
    assert all(o["record"] == "meta-llama/Llama-3.2-1B@40" and o["meter"]["version"] for o in stored)
    assert run_here("verify", str(data)).returncode == 0


def test_codecarbon_energy_that_is_not_its_parts_is_reported(emissions_csv, tmp_path):
    lines = emissions_csv.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    column = header.index("energy_consumed")
    cells[column] = repr(float(cells[column]) * 2)
    changed = tmp_path / "emissions.csv"
    changed.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    ingested = ingest([changed], shipped_records(), set(), "meta-llama/Llama-3.2-1B@40")  # in-process: what the command stores
    assert [(p.field, p.message) for p in ingested.problems] == [
        ("line 2, column energy_consumed", "energy_consumed is not cpu_energy + gpu_energy + ram_energy")
    ]
    assert len(ingested.outcomes) == 5 and [item.source.location for item in ingested.left_out] == ["line 2, column energy_consumed"]


# --- every release's layout -----------------------------------------------------------------------------

#: Two runs of each release's file: (duration s, emissions kg, cpu, gpu, ram kWh); energy_consumed is their sum.
RUNS = ((12.5, 3.2e-05, 1.5e-04, 0.0, 2.5e-05), (14.0, 3.6e-05, 1.7e-04, 0.0, 3.0e-05))


def release_csv(path: Path, release: str) -> Path:
    """An emissions.csv in ``release``'s layout (``LAYOUTS``), as that release writes it: every documented column filled."""
    from glu_catalogue.outcomes.readers.codecarbon_csv import LAYOUTS

    header = LAYOUTS[release]
    rows = []
    for index, (duration, emissions, cpu, gpu, ram) in enumerate(RUNS):
        cells = {
            "timestamp": f"2024-03-0{index + 1}T10:00:00",
            "experiment_id": "5b0fa12a-3dd7-45bb-9766-cc326314d9f1",
            "project_name": "tiny-eval",
            "run_id": f"run-{index}",
            "duration": duration,
            "emissions": emissions,
            "emissions_rate": emissions / duration,
            "cpu_energy": cpu,
            "gpu_energy": gpu,
            "ram_energy": ram,
            "energy_consumed": cpu + gpu + ram,
            "country_name": "France",
            "country_iso_code": "FRA",
            "on_cloud": "N",
            "codecarbon_version": "2.8.3" if release == "2.x" else "3.3.2",
            "tracking_mode": "machine",
        }
        rows.append(",".join(str(cells.get(column, "")) for column in header))
    path.write_text("\n".join([",".join(header), *rows]) + "\n")
    return path


def test_the_3x_layout_is_the_one_codecarbon_writes():
    """``LAYOUTS["3.x"]`` is the order of the installed codecarbon's ``EmissionsData`` (what its CSV output writes)."""
    import dataclasses

    emissions_data = pytest.importorskip("codecarbon.output_methods.emissions_data")
    from glu_catalogue.outcomes.readers.codecarbon_csv import LAYOUTS, is_codecarbon_csv

    assert LAYOUTS["3.x"] == tuple(field.name for field in dataclasses.fields(emissions_data.EmissionsData))
    assert all(is_codecarbon_csv(list(header)) for header in LAYOUTS.values())


@pytest.mark.parametrize("release, version", [("1.x", "unknown"), ("2.x", "2.8.3"), ("3.x", "3.3.2")])
def test_every_release_is_read_in_process(tmp_path, release, version):
    from glu_catalogue.outcomes.readers import read_outcome_file

    reading = read_outcome_file(release_csv(tmp_path / "emissions.csv", release))
    assert reading.format == "codecarbon-csv" and not reading.problems
    values = reading.groups[0].values
    assert len(values) == 6 and {value["meter"]["version"] for value in values} == {version}
    assert sorted(value["value"] for value in values if value["quantity"] == "duration_s") == [12.5, 14.0]


def test_a_codecarbon_1x_file_is_read_and_stored_with_its_version_unknown(tmp_path):
    """A 1.x file (no codecarbon_version, no energy parts) was refused as 'not an outcome file'."""
    source = release_csv(tmp_path / "emissions.csv", "1.x")  # its reading: test_every_release_is_read_in_process
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("models", "sources"))
    added = run_here("results", "add", str(source), "--record", "meta-llama/Llama-3.2-1B@40", "--data", str(data))
    assert added.returncode == 0, added.stdout + added.stderr
    stored = [o for o in json.loads((data / "outcomes.json").read_text())["outcomes"] if o["source"]["format"] == "codecarbon-csv"]
    assert len(stored) == 6 and {o["meter"]["version"] for o in stored} == {"unknown"}


# --- the reader in-process on rows of the 2.x layout -----------------------------------------------------------


def read_rows(*changes: dict[str, str]):
    """``read_codecarbon_csv`` on rows of the 2.x layout: the first run of ``RUNS``, each row with ``changes`` made."""
    from glu_catalogue.outcomes.readers.codecarbon_csv import LAYOUTS, read_codecarbon_csv

    header = list(LAYOUTS["2.x"])
    duration, emissions, cpu, gpu, ram = RUNS[0]
    cells = {
        "timestamp": "2024-03-01T10:00:00",
        "project_name": "tiny-eval",
        "duration": repr(duration),
        "emissions": repr(emissions),
        "emissions_rate": repr(emissions / duration),
        "cpu_energy": repr(cpu),
        "gpu_energy": repr(gpu),
        "ram_energy": repr(ram),
        "energy_consumed": repr(cpu + gpu + ram),
        "codecarbon_version": "2.8.3",
        "tracking_mode": "machine",
        "cpu_model": "AMD EPYC",
    }
    rows = [(line, [{**cells, **change}.get(column, "") for column in header]) for line, change in enumerate(changes, start=2)]
    return read_codecarbon_csv(Path("emissions.csv"), "0" * 64, header, rows)


def test_a_row_gives_raw_energy_duration_and_emissions_with_its_meter():
    reading = read_rows({})
    assert reading.problems == [] and reading.groups[0].claim.repository is None  # the file names no model: --record links it
    values = {value["quantity"]: value for value in reading.groups[0].values}
    assert {quantity: value["value"] for quantity, value in values.items()} == {
        "energy_raw_kwh": sum(RUNS[0][2:]),
        "duration_s": 12.5,
        "emissions_kg_co2eq": 3.2e-05,
    }
    assert values["duration_s"]["meter"] == {"tool": "codecarbon", "version": "2.8.3", "mode": "machine", "device": "AMD EPYC"}
    assert values["duration_s"]["workload"] == {"name": "tiny-eval"} and values["duration_s"]["source"]["location"] == "line 2, column duration"


def test_a_row_without_a_version_or_project_is_read_as_unknown_and_codecarbon():
    [value, *_] = read_rows({"codecarbon_version": "", "project_name": ""}).groups[0].values
    assert value["meter"]["version"] == "unknown" and value["workload"]["name"] == "codecarbon"


@pytest.mark.parametrize(
    ("change", "place", "kind"),
    [
        ({"duration": "-1.0"}, "line 2, column duration", "outcome-nature"),
        ({"emissions": "n/a"}, "line 2, column emissions", "outcome-nature"),
        ({"energy_consumed": "inf"}, "line 2, column energy_consumed", "outcome-nature"),
        ({"energy_consumed": "0.5"}, "line 2, column energy_consumed", "outcome-consistency"),
        ({"emissions_rate": "1.0"}, "line 2, column emissions", "outcome-consistency"),
        ({"project_name": "tiny\teval"}, "line 2, column project_name", "outcome-nature"),
    ],
)
def test_a_cell_that_is_no_value_or_disagrees_with_its_parts_is_a_problem_at_its_line_and_column(change, place, kind):
    reading = read_rows({}, change)
    assert [(problem.field.replace("line 3", "line 2"), problem.kind) for problem in reading.problems] == [(place, kind)]
    assert all(problem.field.startswith("line 3") for problem in reading.problems)  # the first row is clean


def test_a_row_of_another_length_than_the_header_is_a_problem_and_not_read():
    from glu_catalogue.outcomes.readers.codecarbon_csv import LAYOUTS, read_codecarbon_csv

    header = list(LAYOUTS["1.x"])
    reading = read_codecarbon_csv(Path("emissions.csv"), "0" * 64, header, [(2, ["2024-03-01T10:00:00", "x", "tiny", "12.5"])])
    assert [(problem.field, problem.found) for problem in reading.problems] == [("line 2", "4 cells")] and len(reading.groups[0].values) == 0

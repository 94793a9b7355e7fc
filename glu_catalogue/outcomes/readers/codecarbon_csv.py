"""codecarbon's ``emissions.csv``: one row per tracked run (``tracker.stop()``), appended run after run.

Every release's layout is read; they differ in the columns beside the ones used (``LAYOUTS``):
1.x writes ``timestamp, experiment_id, project_name, duration, emissions, energy_consumed,
country_name, ...`` and no ``codecarbon_version``; 2.x adds the parts of the energy, the power and
the version; 3.x the utilisation and water columns. Columns used: ``project_name`` (the workload's
name), ``duration`` (s), ``energy_consumed`` (kWh: CPU + GPU + RAM, nothing subtracted, so stored
as raw energy), ``cpu_energy``, ``gpu_energy``, ``ram_energy``, ``emissions`` (kg CO2eq),
``emissions_rate`` (kg/s), ``codecarbon_version`` (``"unknown"`` where the file has no such
column or leaves it empty), ``tracking_mode``, ``cpu_model``/``gpu_model``. The file does not name
the model measured, so it links only with ``--record``. Checked: the energy is the sum of its parts,
the rate is emissions over duration, every quantity is a finite number >= 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from ..reading import Claim, ModelGroup, Reading, number
from .registry import OutcomeReader

FORMAT = "codecarbon-csv"

#: The header of each documented release's emissions.csv, in its order (3.x: ``EmissionsData`` of codecarbon 3.3).
LAYOUTS = {
    "1.x": (
        "timestamp",
        "experiment_id",
        "project_name",
        "duration",
        "emissions",
        "energy_consumed",
        "country_name",
        "country_iso_code",
        "region",
        "on_cloud",
        "cloud_provider",
        "cloud_region",
    ),
    "2.x": (
        "timestamp",
        "project_name",
        "run_id",
        "experiment_id",
        "duration",
        "emissions",
        "emissions_rate",
        "cpu_power",
        "gpu_power",
        "ram_power",
        "cpu_energy",
        "gpu_energy",
        "ram_energy",
        "energy_consumed",
        "country_name",
        "country_iso_code",
        "region",
        "cloud_provider",
        "cloud_region",
        "os",
        "python_version",
        "codecarbon_version",
        "cpu_count",
        "cpu_model",
        "gpu_count",
        "gpu_model",
        "longitude",
        "latitude",
        "ram_total_size",
        "tracking_mode",
        "on_cloud",
        "pue",
    ),
    "3.x": (
        "timestamp",
        "project_name",
        "run_id",
        "experiment_id",
        "duration",
        "emissions",
        "emissions_rate",
        "cpu_power",
        "gpu_power",
        "ram_power",
        "cpu_energy",
        "gpu_energy",
        "ram_energy",
        "energy_consumed",
        "water_consumed",
        "country_name",
        "country_iso_code",
        "region",
        "cloud_provider",
        "cloud_region",
        "os",
        "python_version",
        "codecarbon_version",
        "cpu_count",
        "cpu_model",
        "gpu_count",
        "gpu_model",
        "longitude",
        "latitude",
        "ram_total_size",
        "tracking_mode",
        "cpu_utilization_percent",
        "gpu_utilization_percent",
        "ram_utilization_percent",
        "ram_used_gb",
        "on_cloud",
        "pue",
        "wue",
    ),
}

#: Columns every release's emissions.csv has.
REQUIRED = ("timestamp", "duration", "emissions", "energy_consumed")

#: The meter's version where the file does not state it (1.x has no codecarbon_version column).
UNKNOWN_VERSION = "unknown"

#: Stored quantity -> column.
QUANTITIES = {"energy_raw_kwh": "energy_consumed", "duration_s": "duration", "emissions_kg_co2eq": "emissions"}

#: codecarbon sums and divides in floating point and writes repr(): they agree to rounding.
REL_TOLERANCE = 1e-9


def is_codecarbon_csv(header: list[str]) -> bool:
    """True for a CSV with codecarbon's columns."""
    return set(REQUIRED) <= set(header)


def read_codecarbon_csv(path: Path, sha256: str, header: list[str], records: Iterable[tuple[int, list[str]]]) -> Reading:
    """Every run of an emissions.csv (``records``: each row with its line) as one model's values (``--record`` names the model)."""
    reading = Reading(path, sha256, FORMAT)
    group = ModelGroup(Claim(where="line 1"))
    for line, row in records:
        cells = dict(zip(header, row))
        where = f"line {line}"
        if len(row) != len(header):
            reading.problem("-", where, f"{len(header)} cells", f"{len(row)} cells", "the row does not have the header's columns", "outcome-nature")
            continue
        workload = {"name": cells.get("project_name") or "codecarbon"}
        if not reading.names_ok("-", f"{where}, column project_name", {"project": workload["name"]}):
            continue
        meter = {
            "tool": "codecarbon",
            "version": cells.get("codecarbon_version") or UNKNOWN_VERSION,
            "mode": cells.get("tracking_mode") or None,
            "device": cells.get("gpu_model") or cells.get("cpu_model") or None,
        }
        common = {"kind": "efficiency", "workload": workload, "runs": {"count": 1}, "meter": meter}  # a run per row
        values = {}
        for quantity, column in QUANTITIES.items():
            value = number(cells.get(column))
            if value is None or value < 0:
                reading.problem("-", f"{where}, column {column}", "a finite number >= 0", cells.get(column), f"{column} must be a number", "outcome-nature")
                continue
            values[column] = value
            reading.add_columns(group, common, None, quantity, None, value, None, None, (line, column))
        _check_parts(reading, where, cells, values)
    reading.groups.append(group)
    return reading


def _check_parts(reading: Reading, where: str, cells: dict[str, str], values: dict[str, float]) -> None:
    """energy_consumed = cpu + gpu + ram energy; emissions_rate = emissions / duration."""
    parts = [number(cells.get(column)) for column in ("cpu_energy", "gpu_energy", "ram_energy")]
    energy = values.get("energy_consumed")
    if energy is not None and all(part is not None for part in parts) and not math.isclose(energy, sum(parts), rel_tol=REL_TOLERANCE, abs_tol=1e-15):
        reading.problem(
            "-", f"{where}, column energy_consumed", sum(parts), energy, "energy_consumed is not cpu_energy + gpu_energy + ram_energy", "outcome-consistency"
        )
    rate, emissions, duration = number(cells.get("emissions_rate")), values.get("emissions"), values.get("duration")
    if rate is not None and emissions is not None and duration and not math.isclose(rate, emissions / duration, rel_tol=1e-6, abs_tol=1e-18):
        reading.problem("-", f"{where}, column emissions", emissions / duration, rate, "emissions_rate is not emissions / duration", "outcome-consistency")


#: This module's layouts, as the registry (``registry.py``) finds them.
READERS = (OutcomeReader(format=FORMAT, kind="csv", detects=is_codecarbon_csv, expects="codecarbon's emissions.csv", reads=read_codecarbon_csv),)

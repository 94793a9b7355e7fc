"""The measuring pipeline's parts (``measuring``): which records to measure, what is done, how a result is kept.

``select_groups`` turns ``--models`` and ``--levels`` into the catalogue's records, grouped by how
they were built (weights, method, dtype): each group is one load. A record must exist and have
been built by optipfair (its kept-neuron digest is what the measured model is checked against).
``inputs_sha256`` hashes what a measurement was asked to do; a (record, unit) whose outcomes
already carry that digest is done, and a second run with the same inputs does nothing.
``keep`` stores one measurement file through ``catalogue results add`` (checked, linked by the
record and digest the file names, one journalled write): a killed run keeps every unit it
finished. torch is not imported here.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._version import __version__
from ..core.outcome_records import OutcomesFile
from ..core.records import ExpansionRecord, successful_by_key
from ..errors import InputError, UsageError
from ..store.catalogue_dir import existing_catalogue
from ..store.outcomes_files import read_outcomes
from ..store.registry import ModelEntry
from ..store.writing import write_files
from .models import resolve_model
from .selection import parse_models

#: Where measurement files go inside a data directory (``--output`` overrides).
MEASUREMENTS_DIR = "measurements"


class NothingToMeasure(InputError):
    """A selection that names no record the catalogue holds."""


@dataclass
class Group:
    """Records of one model built the same way: measured from one load."""

    entry: ModelEntry
    records: list[ExpansionRecord]

    @property
    def model_id(self) -> str:
        """The model's registry id."""
        return self.entry.model_id


def select_groups(data_dir: Path, models: str | None, levels: tuple[int, ...] | None) -> list[Group]:
    """The records of ``models`` (default: every model of the catalogue) at ``levels`` (default: all), one group per load."""
    catalogue = existing_catalogue(data_dir)
    if catalogue is None:
        raise NothingToMeasure(f"{data_dir}: no catalogue here: `catalogue build --data {data_dir}` first")
    successful = list(successful_by_key(catalogue.models).values())
    wanted = parse_models(models) if models is not None else tuple(dict.fromkeys(record.base_model for record in successful))
    groups = []
    for text in wanted:
        entry = resolve_model(text)
        records = sorted((r for r in successful if r.base_model == entry.model_id), key=lambda r: r.pruning_pct)
        if levels is not None:
            missing = sorted(set(levels) - {r.pruning_pct for r in records})
            if missing:
                raise NothingToMeasure(
                    f"{data_dir}: no record of {entry.model_id} at {', '.join(map(str, missing))} %: "
                    f"`catalogue build --models {entry.model_id} --levels {','.join(map(str, missing))} --data {data_dir}` first"
                )
            records = [r for r in records if r.pruning_pct in levels]
        if not records:
            raise NothingToMeasure(f"{data_dir}: no record of {entry.model_id}: `catalogue build --models {entry.model_id}` first")
        groups.extend(Group(entry, list(same)) for same in _by_recipe(records))
    return groups


def _by_recipe(records: list[ExpansionRecord]) -> Iterable[list[ExpansionRecord]]:
    recipes: dict[tuple, list[ExpansionRecord]] = {}
    for record in records:
        p = record.provenance
        key = (p.weights, p.weights_source, p.weights_revision, p.seed, p.neuron_selection_method, p.dtype) if p else None
        recipes.setdefault(key, []).append(record)
    return recipes.values()


#: What a measurement of random-init weights is worth, said in the file and in the outcomes (``measurement.note``).
RANDOM_INIT_NOTES = {
    "catalogue evaluate": "random-init weights: this score measures nothing about the real model (stored because --store-random-init was given)",
    "catalogue bench": "random-init weights: speed and memory are the architecture's (the same shapes); the values computed are not the real model's",
}


def measurement_block(
    tool: str, inputs: str, kept_indices_sha256: str, weights, device: str, dtype: str, machine: str, seeds: dict[str, int], versions: dict[str, str]
) -> dict[str, Any]:
    """How one level was measured, as the measurement file holds it (``core.outcome_records.Measurement``'s fields).

    ``weights`` is the records' ``WeightsSource``; ``dtype`` is torch's name (``bfloat16``).
    """
    return {
        "tool": tool,
        "catalogue_version": __version__,
        "inputs_sha256": inputs,
        "kept_indices_sha256": kept_indices_sha256,
        "weights": weights.kind,
        "weights_source": weights.location,
        "weights_revision": weights.revision,
        "seed": weights.seed,
        "device": device,
        "dtype": dtype,
        "machine": machine,
        "seeds": seeds,
        "versions": versions,
        "note": RANDOM_INIT_NOTES[tool] if weights.kind == "random-init" else None,
    }


def label(record: ExpansionRecord) -> str:
    """``MODEL@PCT``."""
    return f"{record.base_model}@{record.pruning_pct}"


def inputs_sha256(tool: str, record: ExpansionRecord, asked: dict[str, Any]) -> str:
    """sha256 of what a measurement of ``record`` was asked to do (the record's kept neurons included)."""
    document = {"tool": tool, "record": label(record), "kept_indices_sha256": record.provenance.kept_indices_sha256, **asked}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def done_inputs(data_dir: Path) -> set[tuple[str, str]]:
    """(record, inputs digest) of every outcome a measurement stored in ``data_dir``."""
    stored: OutcomesFile = read_outcomes(data_dir)
    return {(o.record, o.measurement.inputs_sha256) for o in stored.outcomes if o.measurement is not None}


def measurement_dir(data_dir: Path, output: Path | None, tool: str, record: ExpansionRecord) -> Path:
    """Where the measurement files of ``record`` go: ``<output or data/measurements>/<tool>/<org__name>/pruned-PPpct``."""
    root = Path(output) if output is not None else Path(data_dir) / MEASUREMENTS_DIR
    return root / tool / record.base_model.replace("/", "__") / f"pruned-{record.pruning_pct:02d}pct"


def shown_path(path: Path) -> Path:
    """``path`` relative to the working directory when it lies inside it (what outcomes record as the source)."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return Path(path).resolve()


def write_measurement(path: Path, document: dict[str, Any]) -> Path:
    """Write one measurement file atomically (a killed run leaves the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_files({path: json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"}, journal_dir=path.parent)
    return path


def keep(paths: list[Path], data_dir: Path):
    """Store what ``paths`` measured in ``data_dir``'s outcomes (``results add``), return its ``ResultsOutcome``."""
    from .results import add_results

    return add_results([shown_path(path) for path in paths], data_dir)


def finished_file(directory: Path, pattern: str, inputs: str) -> Path | None:
    """A measurement file a killed run wrote in ``directory`` with these inputs but did not store, if any."""
    if not directory.is_dir():
        return None
    for path in sorted(directory.glob(pattern)):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        block = document.get("catalogue", document) if isinstance(document, dict) else None
        measurement = block.get("measurement") if isinstance(block, dict) else None
        if isinstance(measurement, dict) and measurement.get("inputs_sha256") == inputs:
            return path
    return None


def require_libraries(command: str, modules: tuple[str, ...]) -> None:
    """One line naming the extra to install when ``modules`` are not importable (before anything is loaded)."""
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"catalogue {command} needs {', '.join(missing)}: pip install 'glu-catalogue[measure]' (or -e '.[measure]' in a clone)")


def check_positive(name: str, value: int | None, allow_none: bool = False) -> None:
    """``--repeats 0`` and the like are usage errors."""
    if value is None and allow_none:
        return
    if value is None or value < 1:
        raise UsageError(f"{name} {value}: expected a whole number from 1")


def check_directory(option: str, path: Path) -> None:
    """``UsageError`` when ``path`` cannot be a directory: a file is there, or above it where a directory must be."""
    here = Path(path)
    for place in (here, *here.parents):
        try:
            is_directory = stat.S_ISDIR(os.stat(place).st_mode)
        except (FileNotFoundError, NotADirectoryError):  # not there yet, or a file above it: look further up
            continue
        except (OSError, ValueError) as error:
            raise UsageError(f"{option} {path}: cannot be read ({getattr(error, 'strerror', None) or error})") from None
        if not is_directory:
            where = "is a file" if place == here else f"lies under {place}, which is a file"
            raise UsageError(f"{option} {path}: {where}, where a directory is needed: give a directory")
        return

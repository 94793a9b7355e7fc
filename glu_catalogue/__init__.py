"""glu_catalogue: the architecture data of width-pruned GLU language models, produced and verified.

The expansion ratio is ``intermediate_size / hidden_size`` as a factor (Llama-3.2-1B: 8192 / 2048
= 4.0x). The functions below are the ones the ``catalogue`` command calls, for notebooks:

>>> import glu_catalogue as gc
>>> record = gc.load_catalogue().record("meta-llama/Llama-3.2-1B", 40)
>>> record.pruned_architecture.intermediate_size, record.pruned_architecture.expansion_rate
(4916, 2.4)

Importing this package imports neither torch nor pandas; each function imports what it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

    from .checkpoints.inspection import Inspection
    from .core.problems import Report
    from .core.records import Catalogue
    from .planning.planner import PlanRow
    from .store.registry import ModelEntry

from ._version import __version__
from .core.source_formats import install_loader


def _reader_formats() -> tuple[str, ...]:
    """The format names the outcome readers declare: core checks stored outcomes against them but cannot import
    the readers (they stand above it), so the package root, which every import runs first, hands core this."""
    from .outcomes.readers.registry import source_formats

    return source_formats()


install_loader(_reader_formats)

__all__ = ["__version__", "compare", "inspect_checkpoint", "load_catalogue", "load_frame", "load_outcomes", "models", "plan", "verify"]


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """The validated catalogue of ``path`` (a catalogue JSON, or a data directory; default: the shipped data).

    Raises ``glu_catalogue.errors.ReadError`` for a file that cannot be read, pydantic's
    ``ValidationError`` for one that is not a valid catalogue (``verify`` says what is wrong).

    >>> catalogue = load_catalogue()
    >>> catalogue.metadata.pruning_method, len(catalogue.models) > 0
    ('MAW', True)
    """
    from .store.paths import CATALOGUE_FILE, default_data_dir
    from .store.reading import load_catalogue as load

    path = Path(path) if path is not None else default_data_dir()
    return load(path / CATALOGUE_FILE if path.is_dir() else path)


def load_frame(path: str | Path | None = None) -> pandas.DataFrame:
    """The catalogue as a pandas DataFrame: one row per successful record, the summary CSV's columns.

    The rows are projected from the JSON records (the CSV is the same projection).

    >>> frame = load_frame()
    >>> row = frame[(frame["Base Model"] == "meta-llama/Llama-3.2-3B") & (frame["Pruning %"] == 10)]
    >>> row["Pruned Intermediate Size"].item(), row["Pruned Params (M)"].item()
    (7373, 3001.41)
    """
    import pandas

    from .core.summary import COLUMNS, summary_rows
    from .store.registry import size_label

    records = load_catalogue(path).models
    return pandas.DataFrame(summary_rows(list(records), size_label), columns=list(COLUMNS))


def load_outcomes(data_dir: str | Path | None = None) -> pandas.DataFrame:
    """The outcomes of ``data_dir`` (default: the shipped data) as a DataFrame: one row per outcome, beside its record.

    Each outcome's fields are flattened (``task``, ``metric``, ``value``, ``stderr``, ``n_shot``;
    ``workload_name``, ``quantity``, ``runs_std``, ``meter_idle_power_w``; ``source_path``,
    ``source_sha256``, ...) and joined to the architecture of the record it measured, read from the
    catalogue in the same directory: ``expansion_ratio`` (I / H of the pruned model, a factor),
    ``intermediate_size``, ``hidden_size``, ``num_hidden_layers``, ``total_parameters``.

    ``measure`` is what is measured, for every outcome: the metric of a score, the quantity of an
    efficiency value (``metric`` and ``quantity`` stay), so one pivot serves both kinds.

    >>> outcomes = load_outcomes()
    >>> llama = outcomes["base_model"] == "meta-llama/Llama-3.2-1B"
    >>> mmlu = outcomes[llama & (outcomes["task"] == "mmlu") & (outcomes["source_format"] == "study-capability-json")]
    >>> print(mmlu[["pruning_pct", "expansion_ratio", "measure", "value"]].round(4).to_string(index=False))
     pruning_pct  expansion_ratio  measure  value
               0           4.0000 accuracy 0.3111
              10           3.6001 accuracy 0.2511
              20           3.2002 accuracy 0.2661
              30           2.8003 accuracy 0.2610
              40           2.4004 accuracy 0.2689
              50           2.0000 accuracy 0.2606
              60           1.6001 accuracy 0.2554
    """
    from .outcomes.frame import outcome_frame
    from .store.outcomes_files import read_outcomes
    from .store.paths import CATALOGUE_FILE, default_data_dir

    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    return outcome_frame(read_outcomes(data_dir).outcomes, load_catalogue(data_dir / CATALOGUE_FILE).models)


def compare(
    ratio: float | None = None, pct: int | None = None, tolerance: float | None = None, models: Sequence[str] = (), data_dir: str | Path | None = None
) -> pandas.DataFrame:
    """Every model's level at expansion ratio ``ratio`` (within ``tolerance``, a factor; default 0.01) or at pruning ``pct``,
    per task and metric (or workload and quantity), beside its own baseline: what ``catalogue compare`` lists, one row each.

    Columns: kind, task, measure, filter, base_model, record, pruning_pct, expansion_ratio, value,
    spread (stderr or runs' std, spread_kind says which), baseline_record, baseline_value,
    baseline_spread, change, change_pct, sources (the files), note (why a model has no row values:
    no level at the ratio, nothing is interpolated).

    >>> at = compare(ratio=2.4, models=["meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-3B"])
    >>> mmlu = at[(at["task"] == "mmlu") & (at["measure"] == "accuracy")]
    >>> print(mmlu[["record", "value", "baseline_value", "change_pct"]].round(4).to_string(index=False))
                        record  value  baseline_value  change_pct
    meta-llama/Llama-3.2-1B@40 0.2689          0.3111    -13.5648
    meta-llama/Llama-3.2-3B@10 0.4333          0.5605    -22.6940
    """
    from .core.comparison import DEFAULT_RATIO_TOLERANCE
    from .outcomes.compare import compare_stored, comparison_frame

    tolerance = DEFAULT_RATIO_TOLERANCE if tolerance is None else tolerance
    return comparison_frame(compare_stored(Path(data_dir) if data_dir else None, ratio=ratio, pruning_pct=pct, tolerance=tolerance, models=models))


def models() -> dict[str, ModelEntry]:
    """The model registry (``data/models/``): every model by id, with its config, facts and sources.

    >>> entry = models()["meta-llama/Llama-3.2-1B"]
    >>> entry.architecture.hidden_size, entry.architecture.intermediate_size
    (2048, 8192)
    """
    from .store.registry import load_registry

    return load_registry()


def plan(model_ids: Sequence[str] = (), *, ratio: float | str | None = None, pruning_pct: float | None = None, divisor: int | None = None) -> list[PlanRow]:
    """What optipfair 0.4.2 keeps for a target ratio (``ratio``, a factor) or ``pruning_pct``; nothing is built.

    ``model_ids`` are what ``catalogue plan --model`` takes: registry ids, config.json paths,
    checkpoint directories or hub ids (``org/name[@revision]``; default: every registry model).
    A model outside the registry is built on the meta device to read its architecture (this
    imports torch). Give exactly one of ``ratio`` and ``pruning_pct``; ``divisor`` is
    optipfair's ``expansion_divisor``. Pass the ratio as text (``"2.4"``) to keep its exact
    decimal value.

    >>> [row] = plan(["meta-llama/Llama-3.2-3B"], ratio="2.4")
    >>> row.status, round(row.pruning_pct, 2), row.intermediate_size, row.total_parameters
    ('ok', 10.0, 7373, 3001408512)
    """
    from .errors import UsageError
    from .pipeline.models import resolve_model
    from .planning.planner import plan as make_plan
    from .store.registry import load_registry

    if (ratio is None) == (pruning_pct is None):
        raise UsageError("give exactly one of ratio or pruning_pct")
    entries = [resolve_model(str(model_id)) for model_id in dict.fromkeys(model_ids)] or list(load_registry().values())
    return make_plan(entries, ratio=ratio, pruning_pct=pruning_pct, divisor=divisor)


def inspect_checkpoint(directory: str | Path, record: str | None = None, data: str | Path | None = None) -> Inspection:
    """Inspect a checkpoint directory, or a hub id ``org/name[@revision]``, from its safetensors headers
    (no torch, no weights read; a hub id's headers by range requests, as ``catalogue inspect`` reads them).

    ``record`` (``MODEL@PCT``) also compares it with that record of the catalogue in ``data`` (a
    data directory or catalogue JSON, as ``catalogue inspect --data``; default: the shipped data);
    MODEL may also be a config.json, checkpoint or hub id, whose record is computed. The result
    holds the architecture, each layer's MLP width, the totals and a ``report`` of problems.

    >>> inspection = inspect_checkpoint(checkpoint_dir)  # a directory saved by save_pretrained
    >>> inspection.uniform, inspection.ok
    (True, True)
    """
    from .checkpoints.hub_checkpoint import open_checkpoint
    from .checkpoints.inspect import inspect_checkpoint as inspect
    from .pipeline.models import record_for_label

    catalogue = Path(data) if data is not None else None
    expected = record_for_label(record, catalogue) if record is not None else None
    return inspect(open_checkpoint(directory)[0], expected, catalogue)


def verify(paths: Sequence[str | Path] = ()) -> Report:
    """Run ``catalogue verify``'s checks: the data in ``paths`` (default: the shipped data), schemas/, the site.

    >>> report = verify()
    >>> report.ok, report.problems
    (True, [])
    """
    from .pipeline.check import check

    return check([Path(path) for path in paths])

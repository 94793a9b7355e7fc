"""``catalogue build``: decide what to (re)build, produce the records, write them, check the result.

A record is rebuilt only when its inputs changed (method, weights, seed, config, dtype) or with
``force``; a build with nothing to do prunes nothing and only runs the checks. Each model is
built by ``generate.build_model`` (imported only when a model needs building, so a no-op build
needs no torch). A model that fails is reported and the others go on; the records it had stay.
Each model, once built, is committed as its own atomic write (records, CSV, schemas, site) under a
lock on the data directory (``lock``), so a build killed at any moment keeps every model it
finished and the next run builds only the rest. With ``shard``, only that worker's models
(``shards``), into its own data directory.
With ``save_pruned``, what interrupted saves of the requested models left there is put back or
removed first (``checkpoint_dirs.sweep``) and listed in the result. torch is not imported by this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from ..core.derive import closed_form_provenance, closed_form_record
from ..core.problems import Report
from ..core.records import MAX_EXACT_INT, Catalogue, ExpansionRecord, optipfair_versions
from ..errors import BuildError, CatalogueError, ModelFailed, UsageError, failure_reason
from ..generate import checkpoint_dirs
from ..generate.checkpoint_dirs import Leftover
from ..generate.weights import DEFAULT_SEED, WeightsSource, config_sha256, resolve_sources
from ..store.catalogue_dir import existing_catalogue
from ..store.paths import MODELS_DIR, default_data_dir, display_path, is_layered
from ..store.registry import ModelEntry, load_registry
from ..store.sources import read_source
from ..store.writing import recover_data_dir
from .lock import build_lock
from .models import resolve_model, unique_entries
from .publish import write_catalogue
from .shards import Shard, shard_units

#: The study's pruning levels, in percent.
DEFAULT_LEVELS = (0, 10, 20, 30, 40, 50, 60)

#: The study's four models.
STUDY_MODELS = ("meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-3B", "meta-llama/Llama-3.2-3B-Instruct")

#: ``--dtype`` choices and the torch dtype names provenance records.
DTYPE_NAMES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


@dataclass(frozen=True)
class BuildRequest:
    """Everything ``catalogue build`` was asked to do."""

    model_ids: tuple[str, ...] = ()
    levels: tuple[int, ...] = DEFAULT_LEVELS
    data_dir: Path = Path("data")
    method: str = "MAW"
    device: str = "auto"
    dtype: str = "bf16"
    weights: tuple[str, ...] = ()
    seed: int = DEFAULT_SEED
    save_pruned: Path | None = None
    stream: bool = False
    force: bool = False
    closed_form: bool = False
    wait: bool = False
    quiet: bool = False  # no progress bars, transformers' ("Loading weights") included
    shard: Shard | None = None  # this worker's models only (``--shard I/N``)


@dataclass
class ModelOutcome:
    """What happened to one model: levels built and skipped, time, memory, weights, or the error."""

    model_id: str
    weights: str
    built: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    seconds: float = 0.0
    peak_memory_bytes: int | None = None
    model_bytes: int | None = None
    build_path: str | None = None  # in-memory or streaming
    build_path_reason: str | None = None
    error: str | None = None
    not_prunable: str | None = None


@dataclass
class BuildResult:
    """The outcome of every model, the files that changed, and the checks of the result."""

    outcomes: list[ModelOutcome]
    changed_files: list[Path]
    #: None when nothing was written: no catalogue existed and no model could be built.
    report: Report | None
    #: What interrupted ``--save-pruned`` saves had left, and what became of it.
    leftovers: list[Leftover] = field(default_factory=list)

    @property
    def failed(self) -> list[ModelOutcome]:
        """The models that could not be built."""
        return [outcome for outcome in self.outcomes if outcome.error]


class Progress(Protocol):
    """What a build tells its caller as it goes (the CLI draws progress bars from it)."""

    def plan(self, work: list[tuple[str, int]]) -> None: ...  # (model id, levels to build) for each model
    def model_started(self, model_id: str, weights: str) -> None: ...
    def path_chosen(self, model_id: str, path: str, reason: str) -> None: ...  # in-memory or streaming, and why
    def layer_done(self, model_id: str, done: int, total: int) -> None: ...  # streaming: layers done of all
    def level_done(self, model_id: str, level: int) -> None: ...
    def model_done(self, outcome: ModelOutcome) -> None: ...


class _Silent:
    def plan(self, work: list[tuple[str, int]]) -> None: ...
    def model_started(self, model_id: str, weights: str) -> None: ...
    def path_chosen(self, model_id: str, path: str, reason: str) -> None: ...
    def layer_done(self, model_id: str, done: int, total: int) -> None: ...
    def level_done(self, model_id: str, level: int) -> None: ...
    def model_done(self, outcome: ModelOutcome) -> None: ...


def is_current(record: ExpansionRecord, request: BuildRequest, weights: WeightsSource, config_digest: str) -> bool:
    """True when ``record`` was built by optipfair from the same inputs the request would use."""
    provenance = record.provenance
    return (
        record.status == "success"
        and provenance is not None
        and provenance.method == "optipfair"
        and provenance.neuron_selection_method == request.method
        and provenance.weights == weights.kind
        and provenance.weights_source == weights.location
        and provenance.weights_revision == weights.revision
        and provenance.seed == weights.seed
        and provenance.config_sha256 == config_digest
        and provenance.dtype == DTYPE_NAMES[request.dtype]
    )


def run_build(request: BuildRequest, progress: Progress | None = None) -> BuildResult:
    """Build what ``request`` asks for, write the catalogue to ``request.data_dir`` and check it."""
    progress = progress or _Silent()
    _check_request(request)
    texts = request.model_ids or default_models(request.data_dir)
    entries = unique_entries(texts, [resolve_model(model) for model in texts])
    if request.shard is not None:
        if request.data_dir.resolve() == default_data_dir().resolve():
            raise UsageError(f"--shard {request.shard}: each shard writes its own data directory: give --data DIR (then `catalogue merge`)")
        entries = shard_units(entries, [entry.model_id for entry in entries], request.shard)
    with build_lock(request.data_dir, request.wait):
        recover_data_dir(request.data_dir)
        leftovers = sweep_saved(request.save_pruned, entries)
        existing = existing_catalogue(request.data_dir)
        records = {(r.base_model, r.pruning_pct): r for r in existing.models} if existing else {}
        _check_method(existing, request, {entry.model_id for entry in entries})
        written: dict[Path, None] = {}

        def commit() -> Report:
            """Write what is built so far, as one transaction: a build killed later keeps it."""
            ordered = list(records.values())
            changed, report = write_catalogue(request.data_dir, ordered, optipfair_versions(ordered), request.method)
            written.update(dict.fromkeys(changed))
            return report

        if request.closed_form:
            outcomes = _closed_form(entries, request, records)
        else:
            outcomes = _generated(entries, request, records, progress, on_model_built=commit)
        if existing is None and not records and any(outcome.error for outcome in outcomes):
            return BuildResult(outcomes=outcomes, changed_files=[], report=None, leftovers=leftovers)  # every model failed: write nothing
        report = commit()
    return BuildResult(outcomes=outcomes, changed_files=list(written), report=report, leftovers=leftovers)


def default_models(data_dir: Path) -> tuple[str, ...]:
    """What a build without ``--models`` builds: every registry model; in a workspace of one's own, its own models
    (the shipped ones have their records in the shipped layer already)."""
    if not is_layered(data_dir):
        return tuple(load_registry())
    own = data_dir / MODELS_DIR
    models = tuple(load_registry(own)) if own.is_dir() and any(own.glob("*.json")) else ()
    if not models:
        raise UsageError(f"{display_path(own)}: this workspace has no models of its own yet: `catalogue add` one, or name models with --models")
    return models


def sweep_saved(root: Path | None, entries: list[ModelEntry]) -> list[Leftover]:
    """What interrupted saves of these models left under ``root`` (``--save-pruned``), put back or removed."""
    if root is None:
        return []
    leftovers = []
    for entry in entries:
        try:
            leftovers += checkpoint_dirs.sweep(checkpoint_dirs.model_directory(root, entry.model_id))
        except ModelFailed:
            continue  # an id that makes no directory name: saving that model fails, and says why
        except OSError as error:
            raise BuildError(
                f"{error.filename}: cannot remove what an interrupted --save-pruned left ({error.strerror}): remove it, then build again"
            ) from None
    return leftovers


def _check_request(request: BuildRequest) -> None:
    """Options that cannot work are refused before anything is loaded or written."""
    if request.dtype not in DTYPE_NAMES:
        raise BuildError(f"--dtype {request.dtype}: choose one of {', '.join(DTYPE_NAMES)}")
    if not 0 <= request.seed <= MAX_EXACT_INT:
        raise UsageError(f"--seed {request.seed}: expected an integer from 0 to 2**53")


def _check_method(existing: Catalogue | None, request: BuildRequest, selected: set[str]) -> None:
    """One catalogue, one neuron-selection method: switching needs every model rebuilt."""
    if existing is None or existing.metadata.pruning_method == request.method or not existing.models:
        return
    others = sorted({r.base_model for r in existing.models} - selected)
    if others or not request.force:
        raise BuildError(
            f"{request.data_dir} holds a catalogue pruned with {existing.metadata.pruning_method}, not "
            f"{request.method}: write the {request.method} catalogue elsewhere with --data DIR, or rebuild "
            f"every model of it with --force"
        )


def _closed_form(entries: list[ModelEntry], request: BuildRequest, records: dict) -> list[ModelOutcome]:
    provenance = closed_form_provenance()
    outcomes = []
    for entry in entries:
        outcome = ModelOutcome(entry.model_id, weights="none (closed form)", not_prunable=entry.not_prunable)
        if entry.not_prunable:
            outcomes.append(outcome)
            continue
        for level in request.levels:
            record = closed_form_record(entry.model_id, entry.architecture, level, provenance)
            old = records.get((entry.model_id, level))
            if old is not None and not request.force and _same_numbers(old, record):
                outcome.skipped.append(level)
                continue
            records[(entry.model_id, level)] = record
            outcome.built.append(level)
        outcomes.append(outcome)
    return outcomes


def _same_numbers(old: ExpansionRecord, new: ExpansionRecord) -> bool:
    keep = {"original_architecture", "pruned_architecture", "reductions", "optipfair_stats", "status"}
    same_kind = old.provenance is not None and old.provenance.method == (new.provenance.method if new.provenance else None)
    return same_kind and old.model_dump(include=keep) == new.model_dump(include=keep)


@dataclass
class _Work:
    """One model of a generated build: its weights, the levels to build and to skip, or why it cannot start."""

    entry: ModelEntry
    weights: WeightsSource
    todo: list[int]
    skipped: list[int]
    error: str | None = None


def _generated(
    entries: list[ModelEntry], request: BuildRequest, records: dict, progress: Progress, on_model_built: Callable[[], object] = lambda: None
) -> list[ModelOutcome]:
    """Build every model in turn; ``on_model_built`` runs after each model that built a level (to commit it)."""
    from ..generate.weights import WeightsError

    prunable = [entry for entry in entries if not entry.not_prunable]
    try:
        sources = resolve_sources(request.weights, tuple(entry.model_id for entry in prunable), request.seed)
    except WeightsError as error:
        raise BuildError(str(error)) from None
    work = [_work(entry, own_checkpoint(entry, sources[entry.model_id], request.weights), request, records) for entry in prunable]
    progress.plan([(item.entry.model_id, len(item.todo)) for item in work])
    outcomes = {entry.model_id: ModelOutcome(entry.model_id, "-", not_prunable=entry.not_prunable) for entry in entries if entry.not_prunable}
    for item in work:
        outcome = ModelOutcome(item.entry.model_id, item.weights.describe(), skipped=item.skipped, error=item.error)
        if item.todo and item.error is None:
            progress.model_started(item.entry.model_id, item.weights.describe())
            _build_one(item.entry, item.weights, item.todo, request, records, outcome, progress)
            if outcome.built:
                on_model_built()
        progress.model_done(outcome)
        outcomes[item.entry.model_id] = outcome
    return [outcomes[entry.model_id] for entry in entries]


def _work(entry: ModelEntry, weights: WeightsSource, request: BuildRequest, records: dict) -> _Work:
    """Which of the requested levels of ``entry`` need building: those whose record is missing or stale."""
    try:
        weights = resolve_hub(weights)
        digest = config_sha256(entry.config, weights)
    except OSError as error:
        return _Work(entry, weights, list(request.levels), [], f"checkpoint {weights.location}: cannot read config.json ({error.strerror})")
    except CatalogueError as error:
        return _Work(entry, weights, list(request.levels), [], str(error))
    work = _Work(entry, weights, [], [])
    for level in request.levels:
        old = records.get((entry.model_id, level))
        current = old is not None and is_current(old, request, weights, digest)
        (work.skipped if current and not request.force else work.todo).append(level)
    return work


def own_checkpoint(entry: ModelEntry, weights: WeightsSource, options: tuple[str, ...]) -> WeightsSource:
    """A model given as a checkpoint directory is built from that checkpoint, and one given as a hub id
    whose weights are in the Hugging Face cache from that id at the commit it resolved to, unless
    ``--weights`` says otherwise."""
    origin = entry.origin
    if options or origin is None or origin.kind == "config":
        return weights
    if origin.kind == "hub":
        if weights.kind != "checkpoint" or "Hugging Face cache" not in weights.chosen_by:
            return weights
        return WeightsSource(kind="hub", location=origin.location, revision=origin.revision, chosen_by="the hub id the model was given as")
    directory = Path(origin.location).expanduser()
    if weights.kind != "random-init" or not any(directory.glob("*.safetensors")):
        return weights
    return WeightsSource(kind="checkpoint", location=str(directory.resolve()), chosen_by="the checkpoint the model was given as")


def resolve_hub(weights: WeightsSource) -> WeightsSource:
    """Hub weights pinned to the commit their id resolves to (the cache when offline), with that config.json's hash."""
    if weights.kind != "hub":
        return weights
    source = read_source(f"{weights.location}@{weights.revision}" if weights.revision else weights.location)
    return replace(weights, revision=source.revision, config_digest=source.config_sha256)


def _build_one(
    entry: ModelEntry, weights: WeightsSource, levels: list[int], request: BuildRequest, records: dict, outcome: ModelOutcome, progress: Progress
) -> None:
    """Build one model into ``records``; any failure becomes ``outcome.error`` and leaves ``records`` as they were."""
    try:
        from ..generate import memory, streaming
        from ..generate import model as generate

        settings = generate.BuildSettings(
            method=request.method, device=generate.resolve_device(request.device), dtype=request.dtype, save_pruned=request.save_pruned, stream=request.stream
        )
        path = streaming.choose_path(entry, settings)
        outcome.build_path, outcome.build_path_reason = path.name, path.reason
        progress.path_chosen(entry.model_id, path.name, path.reason)

        def on_level(level):
            progress.level_done(entry.model_id, level)

        def on_layer(done, total):
            progress.layer_done(entry.model_id, done, total)

        with generate.progress_bars(shown=not request.quiet):
            if path.name == memory.STREAMING:
                build = streaming.build_streaming(entry, levels, weights, settings, on_level=on_level, on_layer=on_layer)
            else:
                build = generate.build_model(entry, levels, weights, settings, on_level=on_level)
    except ImportError as error:
        outcome.error = f"the generator needs torch, transformers and optipfair (pip install 'glu-catalogue[generate]'): {error}"
        return
    except MemoryError:
        outcome.error = "out of memory while building: use a machine with more memory, or --dtype bf16"
        return
    except Exception as error:
        outcome.error = failure_reason(error)
        return
    for record in build.records:
        records[(record.base_model, record.pruning_pct)] = record
    if request.save_pruned is not None:
        from .card import card_after_build

        card_after_build(request.save_pruned, build.records)  # README.md beside each saved checkpoint
    outcome.built = [record.pruning_pct for record in build.records]
    outcome.seconds = build.seconds
    outcome.peak_memory_bytes = build.peak_memory_bytes
    outcome.model_bytes = build.model_bytes

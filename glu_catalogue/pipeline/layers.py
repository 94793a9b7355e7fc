"""The one catalogue a workspace of one's own shows: the shipped layer's records and outcomes it includes, plus its own.

The workspace's files hold only its own records and outcomes; the shipped layer is read where it
is installed. Where both hold a record of the same model and pruning level, the workspace's
wins (it was rebuilt there). The result is the site's files (``site.generated.read_site_files``'
paths), rendered as the catalogue's own files would be.
"""

from __future__ import annotations

from pathlib import Path

from ..core.outcome_records import OutcomesFile
from ..site.generated import read_site_files
from ..store.outcomes_files import OUTCOMES_FILE, outcomes_texts, read_outcomes, sorted_outcomes
from ..store.paths import CATALOGUE_FILE, shipped_data_dir
from ..store.reading import load_catalogue, path_exists
from ..store.workspace import Workspace
from .build import optipfair_versions
from .publish import catalogue_texts


def layered_site_files(workspace: Workspace) -> dict[str, bytes]:
    """The site's files of ``workspace``: its records and outcomes over the shipped ones it includes, and the schemas."""
    shipped = shipped_data_dir()
    own = workspace.data_dir
    records = {}
    method = "MAW"
    for data_dir, included in ((shipped, workspace.includes), (own, lambda model_id: True)):
        if data_dir == shipped and workspace.shipped_models == "none":
            continue
        if not path_exists(data_dir / CATALOGUE_FILE):
            continue
        catalogue = load_catalogue(data_dir / CATALOGUE_FILE)
        method = catalogue.metadata.pruning_method or method
        records.update({(r.base_model, r.pruning_pct): r for r in catalogue.models if included(r.base_model)})
    ordered = list(records.values())
    texts = catalogue_texts(Path("data"), ordered, optipfair_versions(ordered), method)
    outcomes = _outcomes(workspace, shipped, own, {model for model, _ in records})
    if outcomes.outcomes or outcomes.left_out:
        texts.update(outcomes_texts(Path("data"), sorted_outcomes(outcomes)))
    files = {name: content for name, content in read_site_files(shipped).items() if name.startswith("schemas/")}
    files.update({f"data/{path.name}": text.encode("utf-8") for path, text in texts.items()})
    return files


def _outcomes(workspace: Workspace, shipped: Path, own: Path, models: set[str]) -> OutcomesFile:
    """The shipped outcomes of the included models (if the workspace includes outcomes) and the workspace's own."""
    parts = [read_outcomes(own)] if path_exists(own / OUTCOMES_FILE) else []
    if workspace.shipped_outcomes and workspace.shipped_models != "none":
        stored = read_outcomes(shipped)
        parts.insert(0, stored.model_copy(update={"outcomes": [o for o in stored.outcomes if o.base_model in models and workspace.includes(o.base_model)]}))
    return OutcomesFile(outcomes=[outcome for part in parts for outcome in part.outcomes], left_out=[item for part in parts for item in part.left_out])

"""``catalogue verify``: the data, then the site that shows it.

The verifier (``glu_catalogue.verifier``) checks the data and ``schemas/`` and knows nothing of the
site; the site (``glu_catalogue.site``) checks its pages against data it is given and knows
nothing of the verifier. This module runs the one, then the other, and hands the site the
verifier's report (which the site's Verification page shows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..core.problems import Report
from ..core.records import successful_by_key
from ..errors import ReadError
from ..outcomes.verify import verify_outcomes
from ..site.generated import check_site, read_site_files
from ..site.layout_page import check_layout_page
from ..store.outcomes_files import OUTCOMES_FILE
from ..store.paths import CATALOGUE_FILE, default_data_dir, is_layered, schemas_dir, site_docs_dir
from ..store.reading import load_catalogue, path_exists
from ..store.registry import ModelEntry, load_registry
from ..store.writing import recover, recover_data_dir
from ..verifier.catalogue import verify_contents, verify_path, verify_schemas


def check(paths: Sequence[Path] = (), *, check_schemas: bool = True, check_docs: bool = True) -> Report:
    """Check every catalogue in ``paths`` (none = the default data directory), ``schemas/``, then the site.

    The site (``docs/``) is checked for the default data directory only, unless ``check_docs``
    is False. Raises ``ReadError`` for unreadable input.
    """
    targets = [Path(path) for path in paths or _default_targets()]
    recover_before_reading(targets)
    report = Report()
    registry = load_registry()
    sites: list[tuple[Path, Path, Report]] = []
    for path in targets:
        part = Report()
        verify_path(path, part, registry)
        report.extend(part)
        if path.is_dir() and path_exists(path / OUTCOMES_FILE):  # beside the site's report on the data, which does not show outcomes
            outcomes = Report()
            verify_outcomes(path, successful(path), outcomes)
            report.extend(outcomes)
        docs = site_docs_dir(path) if check_docs and path.is_dir() else None
        if docs is not None:
            sites.append((path, docs, part))
    schema_report = Report()
    if check_schemas or sites:
        verify_schemas(schemas_dir(), schema_report)
    if check_schemas:
        report.extend(schema_report)
    for data_dir, docs, part in sites:
        data_report = Report()
        data_report.extend(part)
        data_report.extend(schema_report)
        check_site(docs, read_site_files(data_dir), registry, data_report, report)
    return report


def _default_targets() -> tuple[Path, ...]:
    """The default data directory; none for a workspace of one's own with no records yet (its registry and the schemas are still checked)."""
    data_dir = default_data_dir()
    if is_layered(data_dir) and not path_exists(data_dir / CATALOGUE_FILE):
        return ()
    return (data_dir,)


def successful(data_dir: Path) -> dict[tuple[str, int], object]:
    """The successful records of ``data_dir``'s catalogue by (model, pct); none when it cannot be read (verify says why)."""
    try:
        catalogue = load_catalogue(data_dir / CATALOGUE_FILE)
    except (ReadError, ValueError):
        return {}
    return successful_by_key(catalogue.models)


def recover_before_reading(paths: Sequence[Path]) -> None:
    """Complete or undo any write a crash interrupted in the data directories of ``paths`` and in schemas/."""
    for path in paths:
        path_exists(path)  # a name too long or a loop is one line naming it, before anything is touched
        recover_data_dir(path if path.is_dir() else path.parent)
    recover(schemas_dir())


def docs_report(data_dir: Path, docs_dir: Path, registry: Mapping[str, ModelEntry]) -> Report:
    """The problems of ``docs_dir`` alone (``catalogue docs --check``): the pages the data renders, and the layout
    page's tree, which the package's modules render."""
    recover_data_dir(data_dir)
    files = read_site_files(data_dir)
    report = Report()
    check_site(docs_dir, files, registry, verify_contents(data_dir, files, registry), report)
    check_layout_page(docs_dir, report)
    return report

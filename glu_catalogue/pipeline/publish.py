"""Writing a catalogue: the JSON, the CSV projected from it, the schemas and the site, in one atomic step.

``site_update`` is what any write of the site's sources (the catalogue, a registry file, the
outcomes) puts into the site in the same step; ``default_site_update`` renders it for a write
that replaces some of the sources on disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.derive import metadata_for
from ..core.problems import Report
from ..core.records import ExpansionRecord, successful_by_key
from ..core.summary import summary_rows
from ..outcomes.verify import verify_outcomes
from ..site.generated import obsolete_generated, planned_plots, read_outcome_files, read_site_files, site_content, site_texts
from ..site.layout_page import layout_update
from ..store.paths import CATALOGUE_FILE, SUMMARY_FILE, default_data_dir, schemas_dir, site_docs_dir, write_roots
from ..store.registry import ModelEntry, load_registry, size_label
from ..store.schemas import rendered_schemas
from ..store.writing import catalogue_json, recover_data_dir, summary_csv_text, write_files
from ..verifier.catalogue import verify_contents


def sort_records(records: list[ExpansionRecord]) -> list[ExpansionRecord]:
    """The file's record order: by model id, then pruning percentage."""
    return sorted(records, key=lambda record: (record.base_model, record.pruning_pct))


def catalogue_texts(data_dir: Path, records: list[ExpansionRecord], optipfair_version: str, pruning_method: str) -> dict[Path, str]:
    """Path -> text of the catalogue JSON and the summary CSV for ``records`` (sorted)."""
    records = sort_records(records)
    metadata = metadata_for(records, optipfair_version, pruning_method)
    return {data_dir / CATALOGUE_FILE: catalogue_json(metadata, records), data_dir / SUMMARY_FILE: summary_csv_text(summary_rows(records, size_label))}


@dataclass(frozen=True)
class SiteUpdate:
    """What a write puts into a site in the same step: the generated files' texts, the generated files to delete."""

    texts: dict[Path, str] = field(default_factory=dict)
    obsolete: list[Path] = field(default_factory=list)
    #: How many charts the site has (drawn or kept), for the report.
    n_plots: int = 0

    def count(self, report: Report) -> None:
        """Add the pages, data files and charts written to ``report.checked``, as ``catalogue verify`` counts them."""
        counts = {
            "docs_pages": sum(path.suffix == ".md" for path in self.texts),
            "site_data_files": sum(path.suffix == ".js" for path in self.texts),
            "plots": self.n_plots,
        }
        for name, count in counts.items():
            if count:  # a write without a site (``build --data DIR``) checked no pages: it says none
                report.checked[name] += count


def site_update(docs_dir: Path, files: Mapping[str, bytes], registry: Mapping[str, ModelEntry], report: Report) -> SiteUpdate:
    """The generated files of ``docs_dir`` as ``files`` (the site's sources, ``read_site_files``' paths) render them,
    with ``report`` (the verifier's on ``files``) on the verification page; and the generated files they no longer produce."""
    content = site_content(files, registry, report)
    return SiteUpdate(site_texts(docs_dir, content), obsolete_generated(docs_dir, content), len(planned_plots(content)))


def default_site_update(data_dir: Path, registry: Mapping[str, ModelEntry], replaced: Mapping[str, bytes] | None = None) -> SiteUpdate:
    """The update of ``data_dir``'s site for a write that replaces some of its sources: the site files on disk,
    ``replaced`` (site path -> the bytes the same write puts there), verified and rendered.

    Empty where ``data_dir`` has no site (only the default data directory has one) or no catalogue yet.
    """
    docs_dir = site_docs_dir(data_dir)
    if docs_dir is None or not (data_dir / CATALOGUE_FILE).exists():
        return SiteUpdate()
    recover_data_dir(data_dir)
    files = {**read_site_files(data_dir), **(replaced or {})}
    return site_update(docs_dir, files, registry, verify_contents(data_dir, files, registry))


def write_catalogue(
    data_dir: Path, records: list[ExpansionRecord], optipfair_version: str, pruning_method: str = "MAW", extra_texts: Mapping[Path, str] | None = None
) -> tuple[list[Path], Report]:
    """Check and write the JSON, the CSV, schemas/ and the site's pages in one atomic step.

    ``extra_texts`` (path -> text) are other files of ``data_dir`` the same step writes, which the
    site renders as written (``catalogue merge`` writes the merged outcomes so).

    The outcomes stored in ``data_dir`` are checked against the records being written too, and
    the site shows them as they are.

    The data is checked once, on the texts about to be written (``verify_contents``) against
    the schemas the code generates. Only the default data directory (``paths.write_roots``)
    has the checkout's schemas/ and a site: for it, schemas/ and the site's pages and charts,
    rendered from those same texts and that report, are written in the same step, and generated
    pages the new data no longer has are deleted in it. Returns the files whose content
    changed and the report on the data, schemas and pages.
    """
    texts = catalogue_texts(data_dir, records, optipfair_version, pruning_method)
    schemas = rendered_schemas()
    texts.update(extra_texts or {})
    files = read_outcome_files(data_dir)
    files.update({f"data/{path.name}": text.encode("utf-8") for path, text in texts.items()})
    files.update({f"schemas/{name}": text.encode("utf-8") for name, text in schemas.items()})
    registry = load_registry()
    report = verify_contents(data_dir, files, registry)
    roots = write_roots(data_dir)
    if schemas_dir() in roots:
        texts.update({schemas_dir() / name: text for name, text in schemas.items()})
    docs_dir = site_docs_dir(data_dir)
    site = site_update(docs_dir, files, registry, report) if docs_dir is not None else SiteUpdate()
    texts.update(site.texts)
    # The stored outcomes against the records about to be written, counted where verify counts them (before the schemas).
    outcomes = Report()
    verify_outcomes(data_dir, successful_by_key(records), outcomes)
    report.problems.extend(outcomes.problems)
    checked = dict(report.checked)
    report.checked.clear()
    for name, count in checked.items():
        if name == "schemas":
            report.checked.update(outcomes.checked)
        report.checked[name] += count
    if "schemas" not in checked:
        report.checked.update(outcomes.checked)
    site.count(report)
    changed = write_files(texts, delete=site.obsolete, journal_dir=data_dir, roots=roots)
    return changed, report


def site_for_registry(registry: Mapping[str, ModelEntry]) -> tuple[dict[Path, str], list[Path]]:
    """The default site's generated files as ``registry`` renders them, and the pages it no longer has.

    What ``catalogue add`` writes in the same step as a registry file, so the site's planner
    data and pages never lag the registry. Empty when the default data directory has no site.
    """
    site = default_site_update(default_data_dir(), registry)
    return site.texts, site.obsolete


def write_docs(data_dir: Path, docs_dir: Path, registry: Mapping[str, ModelEntry]) -> tuple[list[Path], list[Path]]:
    """Rewrite the generated files of ``docs_dir`` from ``data_dir``, and the layout page's tree from the package, in one
    atomic step; returns (changed, deleted) paths."""
    recover_data_dir(data_dir)
    files = read_site_files(data_dir)
    site = site_update(docs_dir, files, registry, verify_contents(data_dir, files, registry))
    changed = write_files({**site.texts, **layout_update(docs_dir)}, delete=site.obsolete, journal_dir=docs_dir)
    return changed, site.obsolete

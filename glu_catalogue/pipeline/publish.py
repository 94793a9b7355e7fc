"""Writing a catalogue: the JSON, the CSV projected from it, the schemas and the site, in one atomic step."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..core.derive import metadata_for
from ..core.problems import Report
from ..core.records import ExpansionRecord
from ..core.summary import summary_rows
from ..site.generated import obsolete_generated, planned_plots, read_site_files, site_content, site_texts
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
    return {
        data_dir / CATALOGUE_FILE: catalogue_json(metadata, records),
        data_dir / SUMMARY_FILE: summary_csv_text(summary_rows(records, size_label)),
    }


def write_catalogue(
    data_dir: Path, records: list[ExpansionRecord], optipfair_version: str, pruning_method: str = "MAW"
) -> tuple[list[Path], Report]:
    """Check and write the JSON, the CSV, schemas/ and the site's pages in one atomic step.

    The data is checked once, on the texts about to be written (``verify_contents``) against
    the schemas the code generates. Only the default data directory (``paths.write_roots``)
    has the checkout's schemas/ and a site: for it, schemas/ and the site's pages and charts,
    rendered from those same texts and that report, are written in the same step, and generated
    pages the new data no longer has are deleted in it. Returns the files whose content
    changed and the report on the data, schemas and pages.
    """
    texts = catalogue_texts(data_dir, records, optipfair_version, pruning_method)
    schemas = rendered_schemas()
    files = {f"data/{path.name}": text.encode("utf-8") for path, text in texts.items()}
    files.update({f"schemas/{name}": text.encode("utf-8") for name, text in schemas.items()})
    registry = load_registry()
    report = verify_contents(data_dir, files, registry)
    roots = write_roots(data_dir)
    if schemas_dir() in roots:
        texts.update({schemas_dir() / name: text for name, text in schemas.items()})
    docs_dir = site_docs_dir(data_dir)
    obsolete: list[Path] = []
    if docs_dir is not None:
        content = site_content(files, registry, report)
        site = site_texts(docs_dir, content)
        texts.update(site)
        obsolete = obsolete_generated(docs_dir, content)
        report.checked["docs_pages"] += sum(path.suffix == ".md" for path in site)
        report.checked["site_data_files"] += sum(path.suffix == ".js" for path in site)
        report.checked["plots"] += len(planned_plots(content))
    changed = write_files(texts, delete=obsolete, journal_dir=data_dir, roots=roots)
    return changed, report


def site_for_registry(registry: Mapping[str, ModelEntry]) -> tuple[dict[Path, str], list[Path]]:
    """The default site's generated files as ``registry`` renders them, and the pages it no longer has.

    What ``catalogue add`` writes in the same step as a registry file, so the site's planner
    data and pages never lag the registry. Empty when the default data directory has no site.
    """
    data_dir = default_data_dir()
    docs_dir = site_docs_dir(data_dir)
    if docs_dir is None or not (data_dir / CATALOGUE_FILE).exists():
        return {}, []
    recover_data_dir(data_dir)
    files = read_site_files(data_dir)
    content = site_content(files, registry, verify_contents(data_dir, files, registry))
    return site_texts(docs_dir, content), obsolete_generated(docs_dir, content)


def write_docs(data_dir: Path, docs_dir: Path, registry: Mapping[str, ModelEntry]) -> tuple[list[Path], list[Path]]:
    """Rewrite the generated files of ``docs_dir`` from ``data_dir`` in one atomic step; returns (changed, deleted) paths."""
    recover_data_dir(data_dir)
    files = read_site_files(data_dir)
    content = site_content(files, registry, verify_contents(data_dir, files, registry))
    obsolete = obsolete_generated(docs_dir, content)
    changed = write_files(site_texts(docs_dir, content), delete=obsolete, journal_dir=docs_dir)
    return changed, obsolete

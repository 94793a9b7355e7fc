"""Writing a catalogue: the JSON, the CSV projected from it, the schemas and the site, in one atomic step."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..core.derive import metadata_for
from ..core.problems import Report
from ..core.records import ExpansionRecord
from ..core.summary import summary_rows
from ..site.generated import delete_obsolete, planned_plots, read_site_files, site_content, site_texts
from ..store.paths import CATALOGUE_FILE, SUMMARY_FILE, schemas_dir, site_docs_dir
from ..store.registry import ModelEntry, load_registry, size_label
from ..store.schemas import rendered_schemas
from ..store.writing import catalogue_json, summary_csv_text, write_files
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
    """Check and write the JSON, the CSV, schemas/ and the site's pages atomically.

    The data is checked once, on the texts about to be written (``verify_contents``); the site's
    pages and charts (only for the default data directory, ``paths.site_docs_dir``) are
    rendered from those same texts and that report, so they show the data by construction.
    Generated pages the new data no longer has are deleted afterwards. Returns the files whose
    content changed and the report on the data, schemas and pages.
    """
    texts = catalogue_texts(data_dir, records, optipfair_version, pruning_method)
    schemas = rendered_schemas()
    texts.update({schemas_dir() / name: text for name, text in schemas.items()})
    files = {f"data/{path.name}": text.encode("utf-8") for path, text in texts.items() if path.parent == data_dir}
    files.update({f"schemas/{name}": text.encode("utf-8") for name, text in schemas.items()})
    registry = load_registry()
    report = verify_contents(data_dir, files, registry)
    docs_dir = site_docs_dir(data_dir)
    content = None
    if docs_dir is not None:
        content = site_content(files, registry, report)
        site = site_texts(docs_dir, content)
        texts.update(site)
        report.checked["docs_pages"] += sum(path.suffix == ".md" for path in site)
        report.checked["plots"] += len(planned_plots(content))
    changed = write_files(texts)
    if content is not None:
        delete_obsolete(docs_dir, content)
    return changed, report


def write_docs(data_dir: Path, docs_dir: Path, registry: Mapping[str, ModelEntry]) -> tuple[list[Path], list[Path]]:
    """Rewrite the generated files of ``docs_dir`` from ``data_dir``; returns (changed, deleted) paths."""
    files = read_site_files(data_dir)
    content = site_content(files, registry, verify_contents(data_dir, files, registry))
    changed = write_files(site_texts(docs_dir, content))
    return changed, delete_obsolete(docs_dir, content)

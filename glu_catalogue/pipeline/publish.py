"""Writing a catalogue: the JSON, the CSV projected from it, the schemas and the site, in one atomic step."""

from __future__ import annotations

from pathlib import Path

from ..core.derive import metadata_for
from ..store.paths import CATALOGUE_FILE, SUMMARY_FILE, schemas_dir, site_docs_dir
from ..core.records import ExpansionRecord
from ..store.registry import size_label
from ..store.schemas import rendered_schemas
from ..store.writing import catalogue_json, summary_csv_text, write_files
from ..core.summary import summary_rows


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
) -> list[Path]:
    """Write the JSON, the CSV, schemas/ and the site's pages atomically; returns the files whose content changed.

    The generated pages and charts of ``docs/`` are written only for the default data
    directory (``paths.site_docs_dir``), rendered from the texts being written; generated pages
    the new data no longer has are deleted afterwards.
    """
    texts = catalogue_texts(data_dir, records, optipfair_version, pruning_method)
    schemas = rendered_schemas()
    texts.update({schemas_dir() / name: text for name, text in schemas.items()})
    docs_dir = site_docs_dir(data_dir)
    if docs_dir is None:
        return write_files(texts)
    from ..store.registry import load_registry
    from ..site.generated import delete_obsolete, site_content, site_texts
    from ..verify.catalogue import verify_contents

    files = {f"data/{path.name}": text.encode("utf-8") for path, text in texts.items() if path.parent == data_dir}
    files.update({f"schemas/{name}": text.encode("utf-8") for name, text in schemas.items()})
    registry = load_registry()
    content = site_content(files, registry, verify_contents(data_dir, files, registry))
    texts.update(site_texts(docs_dir, content))
    changed = write_files(texts)
    delete_obsolete(docs_dir, content)
    return changed

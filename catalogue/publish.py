"""Writing a catalogue: the JSON, the CSV projected from it and the schemas, in one atomic step."""

from __future__ import annotations

from pathlib import Path

from .derive import metadata_for
from .paths import CATALOGUE_FILE, SUMMARY_FILE, schemas_dir
from .records import ExpansionRecord
from .registry import size_label
from .schemas import rendered_schemas
from .store import catalogue_json, summary_csv_text, write_files
from .summary import summary_rows


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
    """Write the JSON, the CSV and schemas/ atomically; returns the files whose content changed."""
    texts = catalogue_texts(data_dir, records, optipfair_version, pruning_method)
    texts.update({schemas_dir() / name: text for name, text in rendered_schemas().items()})
    return write_files(texts)

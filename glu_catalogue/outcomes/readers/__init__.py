"""One reader per outcome-file format; ``read_outcome_file`` tells them apart by their layout.

JSON: lm-evaluation-harness's ``results_*.json`` (``catalogue evaluate`` writes them too), the files of
``catalogue bench``, the study's capability and carbon files (aggregated
and per run). CSV: the study's capability CSV, codecarbon's ``emissions.csv``. Any other layout is
one line naming what was expected.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import ReadError
from ...store.reading import CsvTable
from ..reading import Reading, read_file, read_json_document, text_of, unknown_layout
from .catalogue_bench import is_catalogue_bench, read_catalogue_bench
from .codecarbon_csv import is_codecarbon_csv, read_codecarbon_csv
from .eee import is_eee, read_eee
from .lm_eval import is_lm_eval, read_lm_eval
from .study_capability import is_study_capability, is_study_capability_csv, read_study_capability, read_study_capability_csv
from .study_carbon import is_study_carbon, is_study_carbon_run, read_study_carbon, read_study_carbon_run

EXPECTED = (
    "an lm-evaluation-harness results_*.json (results, config), a catalogue bench file, the study's capability or carbon JSON "
    "(models_evaluated) or per-run carbon file (metadata, results), the study's capability CSV "
    "(model, pruning_pct, is_star, task, ...), codecarbon's emissions.csv or an Every Eval Ever record"
)


#: (detector, reader) of each JSON layout, tried in turn.
JSON_READERS = (
    (is_lm_eval, read_lm_eval),
    (is_catalogue_bench, read_catalogue_bench),
    (is_study_capability, read_study_capability),
    (is_study_carbon, read_study_carbon),
    (is_study_carbon_run, read_study_carbon_run),
    (is_eee, read_eee),
)


def read_outcome_file(path: Path) -> Reading:
    """The ``Reading`` of one outcome file, whatever its format; ``ReadError`` (one line) when none reads it."""
    path = Path(path)
    content, sha256 = read_file(path)
    if path.suffix.lower() == ".csv":
        table = CsvTable(path, text_of(path, content))
        del content  # the text is read row by row; the bytes are not needed again (a 64 MiB file holds them twice)
        repeated = [name for index, name in enumerate(table.header) if name in table.header[:index]]
        if repeated:
            raise ReadError(path, f"column {repeated[0]!r} appears twice in the header (readers disagree on which value counts): keep one", 1)
        if is_study_capability_csv(table.header):
            return read_study_capability_csv(path, sha256, table.header, table.records())
        if is_codecarbon_csv(table.header):
            return read_codecarbon_csv(path, sha256, table.header, table.records())
        raise unknown_layout(path, EXPECTED)
    try:
        document = read_json_document(path, content)
    except ReadError as error:
        if path.suffix.lower() == ".json" or not error.message.startswith("invalid JSON"):
            raise  # a .json file's JSON error, with its line and column, is the useful line
        raise ReadError(path, f"not an outcome file the catalogue reads (neither JSON nor a .csv file): expected {EXPECTED}") from None
    del content  # parsed: the bytes are not needed while the document is read
    for detects, reads in JSON_READERS:
        if detects(document):
            return reads(path, sha256, document)
    raise unknown_layout(path, EXPECTED)

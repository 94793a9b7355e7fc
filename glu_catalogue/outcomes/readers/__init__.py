"""One reader per outcome-file format; ``read_outcome_file`` tells them apart by their layout.

Each reader declares itself in its own module (``READERS``, see ``registry``): its format, whether it
reads a JSON document or a CSV header, how it recognises the layout and what it expects. A file is
read by the one reader whose detector accepts it; a file none accepts, or two, is one line naming
what was expected.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import ReadError
from ...store.reading import CsvTable
from ..reading import Reading, read_file, read_json_document, text_of, unknown_layout
from .registry import Kind, OutcomeReader, accepting, expected


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
        return _reader(path, "csv", table.header).reads(path, sha256, table.header, table.records())
    try:
        document = read_json_document(path, content)
    except ReadError as error:
        if path.suffix.lower() == ".json" or not error.message.startswith("invalid JSON"):
            raise  # a .json file's JSON error, with its line and column, is the useful line
        raise ReadError(path, f"not an outcome file the catalogue reads (neither JSON nor a .csv file): expected {expected()}") from None
    del content  # parsed: the bytes are not needed while the document is read
    return _reader(path, "json", document).reads(path, sha256, document)


def _reader(path: Path, kind: Kind, layout: object) -> OutcomeReader:
    """The one reader that accepts ``layout``; ``ReadError`` when none does, or when two do (no reader wins by its place)."""
    found = accepting(kind, layout)
    if not found:
        raise unknown_layout(path, expected())
    if len(found) > 1:
        raise ReadError(path, f"the file has the layout of two formats, {found[0].format} and {found[1].format}: it cannot be told which it is")
    return found[0]

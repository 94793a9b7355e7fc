"""Checks of the summary CSV against its table schema and against the records it projects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..core.problems import Report
from ..core.summary import COLUMNS, LEGACY_COLUMNS, TEXT_COLUMNS
from ..core.text import record_label
from ..store.reading import CsvTable
from ..store.writing import summary_csv_text
from .records import RecordsResult


def check_summary(file: str, table: CsvTable, records: RecordsResult, legacy: bool, report: Report) -> None:
    """Compare ``table`` with the rows the records project (``records.rows``, None where none).

    A CSV byte-identical to the projection of valid records is correct cell for cell; only
    otherwise are pandas and pandera (about a second to import) loaded to locate every
    difference: header, table schema, missing/extra/duplicate rows, changed cells.
    """
    report.checked["files"] += 1
    if None not in records.keys and table.text == summary_csv_text(()) + records.csv_lines:
        projected = sum(row is not None for row in records.rows)
        report.checked["csv_rows"] += projected
        report.checked["values"] += projected * len(COLUMNS)
        return
    rows, labels = records.rows, records.labels
    report.checked["csv_rows"] += len(table.rows)
    columns = _check_header(file, table.header, legacy, report)
    rejected = _check_table_schema(file, table, columns, report)
    _check_rows(file, table, columns, rows, labels, rejected, report)


def _check_header(file: str, header: list[str], legacy: bool, report: Report) -> list[str]:
    """The known columns present, in canonical order; problems for missing, unknown, reordered, duplicated."""
    required = LEGACY_COLUMNS if legacy else COLUMNS
    for column in required:
        if column not in header:
            report.add(file, "(header)", column, "present", "missing", "missing column: the CSV must carry every column of the schema", kind="csv")
    for column, count in Counter(header).items():
        if column not in COLUMNS:
            report.add(file, "(header)", column, "", "present", "unknown column: not in the schema", kind="csv")
        elif count > 1:
            report.add(file, "(header)", column, "once", f"{count} times", "duplicate column", kind="duplicate")
    known = [column for column in header if column in COLUMNS]
    canonical = [column for column in COLUMNS if column in known]
    if known != canonical:
        report.add(
            file,
            "(header)",
            "(columns)",
            ", ".join(canonical),
            ", ".join(known),
            "columns are out of order: the study's columns come first, in its order, then the catalogue's",
            kind="csv",
        )
    return canonical


def _check_table_schema(file: str, table: CsvTable, columns: list[str], report: Report) -> set[tuple[int, str]]:
    """Run the pandera schema on the known columns; returns the (line, column) cells it rejected."""
    import pandas as pd

    from ..core.frames import validate_summary

    positions = [table.header.index(column) for column in columns]
    frame = pd.DataFrame([[row[i] for i in positions] for row in table.rows], columns=columns, dtype=object)
    rejected: set[tuple[int, str]] = set()
    for failure in validate_summary(frame):
        if failure.check in ("column_ordered", "column_in_dataframe", "column_in_schema"):
            continue  # reported by _check_header, with names
        line = table.lines[failure.row] if failure.row is not None else None
        record = "(table)"
        if failure.row is not None:
            cells = dict(zip(columns, frame.iloc[failure.row]))
            record = record_label(cells.get("Base Model") or cells.get("Model Family"), cells.get("Pruning %"))
            rejected.add((line, failure.column))
        where = f"line {line}: " if line is not None else ""
        report.add(file, record, failure.column or "(table)", failure.check, failure.value, f"{where}table schema check failed: {failure.check}", kind="csv")
    return rejected


def _check_rows(
    file: str, table: CsvTable, columns: list[str], rows: Sequence[tuple | None], labels: Sequence[str], rejected: set[tuple[int, str]], report: Report
) -> None:
    """Join CSV rows to records by model (Base Model, else Model Family) and Pruning %; compare cells."""
    by_model = "Base Model" in columns
    key_column = COLUMNS.index("Base Model" if by_model else "Model Family")
    expected: dict[tuple[str, str], tuple[int, tuple, str]] = {}
    for position, (row, name) in enumerate(zip(rows, labels)):
        if row is not None:
            expected.setdefault((str(row[key_column]), str(row[1])), (position, row, name))
    positions = {column: table.header.index(column) for column in columns}
    seen: dict[tuple[str, str], int] = {}
    order: list[int] = []
    for cells, line in zip(table.rows, table.lines):
        model = cells[positions[COLUMNS[key_column]]] if COLUMNS[key_column] in positions else ""
        key = (model, cells[positions["Pruning %"]].strip() if "Pruning %" in positions else "")
        where = record_label(*key)
        if key in seen:
            report.add(
                file,
                where,
                "(row)",
                "one row per record",
                f"line {line}",
                f"duplicate row: line {seen[key]} has the same model and Pruning %",
                kind="duplicate",
            )
            continue
        seen[key] = line
        if key not in expected:
            report.add(file, where, "(row)", "", f"line {line}", "extra row: no successful record in the JSON has this model and Pruning %", kind="csv")
            continue
        position, row, name = expected[key]
        order.append(position)
        for column in columns:
            if (line, column) in rejected:
                continue
            report.checked["values"] += 1
            want, text = row[COLUMNS.index(column)], cells[positions[column]]
            if not _cell_matches(column, text, want):
                report.add(file, name, column, want, text, f"line {line}: cell differs from the JSON record it projects", kind="csv")
    for key, (_, _, name) in expected.items():
        if key not in seen:
            report.add(file, name, "(row)", "a row", "no row", "missing row: every successful record has one CSV row", kind="csv")
    if order != sorted(order):
        report.add(file, "(table)", "(rows)", "the JSON's order", "another order", "rows are not in the order of the JSON's records", kind="csv")


def _cell_matches(column: str, text: str, expected: Any) -> bool:
    if column in TEXT_COLUMNS:
        return text == expected
    try:
        if isinstance(expected, int):
            return int(text) == expected
        return float(text) == expected  # display cells hold the record's rounded value, exact ones repr
    except ValueError:
        return False

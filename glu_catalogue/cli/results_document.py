"""``catalogue results check DOCUMENT.md``: what a results document's tables say, checked against the stored outcomes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from .output import echo_json, print_report


def show_documents(paths: tuple[Path, ...], data_dir: Path | None, output: str) -> None:
    """Check each Markdown document, print each column's match and the problems, exit 0 or 1."""
    from ..core.problems import Report
    from ..outcomes.results_document import check_stored

    checks = [check_stored(path, data_dir) for path in paths]
    report = Report()
    for check in checks:
        report.extend(check.report)
    if output == "json":
        document = report.as_dict()
        document["columns"] = [
            {
                "file": str(check.path),
                "line": column.line,
                "column": column.column,
                "measure": column.measure,
                "agree": column.agree,
                "checked": column.checked,
                "note": column.note,
            }
            for check in checks
            for column in check.columns
        ]
        echo_json(document)
    else:
        for check in checks:
            for column in check.columns:
                if column.measure is not None:
                    click.echo(f"{check.path}:{column.line} '{column.column}': {column.measure}, {column.agree} of {column.checked} cells agree")
                else:
                    click.echo(f"{check.path}:{column.line} '{column.column}': unmatched ({column.note})")
        print_report(report)
    sys.exit(EXIT_OK if report.ok else EXIT_PROBLEMS)

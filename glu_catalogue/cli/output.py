"""What every command prints and shares: the --format option, JSON output, rich tables, the problem report.

One place for output, so each command module stays a thin parse-call-print-exit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from click.exceptions import NoArgsIsHelpError

from ..errors import EXIT_UNUSABLE, CatalogueError

FORMAT_OPTION = click.option(
    "--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True, help="table (for people) or json (for programs)."
)


def one_line(message: str) -> str:
    """``message`` as one printable line: line breaks become spaces, other control characters escapes."""
    if message.isprintable():
        return message
    message = " ".join(message.splitlines())
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in message)


def echo_json(document) -> None:
    """Print ``document`` as JSON; NaN or infinity would not be JSON, so they are a bug, never output."""
    click.echo(json.dumps(document, indent=2, allow_nan=False))


def plain(*values: str) -> list:
    """Table cells shown as written: ``[generate]`` in a message is text, not rich markup."""
    from rich.text import Text

    return [Text(value) for value in values]


def console():
    """A rich console, wide enough for tables in CI logs where there is no terminal to measure."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200, highlight=False, soft_wrap=False)


#: The most problems the table shows; ``--format json`` always lists all of them.
MAX_TABLE_PROBLEMS = 100


def print_report(report) -> None:
    """The problem table and a one-line summary."""
    checked = report.checked
    scope = ", ".join(f"{count} {name.replace('_', ' ').removesuffix('s' if count == 1 else '')}" for name, count in checked.items())
    if report.ok:
        click.echo(f"OK: no problems ({scope} checked)")
        return
    from rich.table import Table

    out = console()
    table = Table(header_style="bold")
    for column in ("file", "record", "field", "expected", "found", "message"):
        table.add_column(column, overflow="fold")
    for problem in report.problems[:MAX_TABLE_PROBLEMS]:
        table.add_row(*plain(problem.file, problem.record, problem.field, problem.expected, problem.found, problem.message))
    out.print(table)
    count = len(report.problems)
    if count > MAX_TABLE_PROBLEMS:
        out.print(f"... and {count - MAX_TABLE_PROBLEMS} more problems not shown: `--format json` lists all {count}")
    out.print(f"FAILED: {count} problem{'s' if count != 1 else ''} ({scope} checked)")


def directory_option(value: str | None, option: str) -> Path | None:
    """A directory option's path; an empty value is a usage error (it would mean the current directory)."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("an empty path: give a directory", param_hint=option)
    return Path(value)


# --- errors: one line on stderr, the documented exit code ---------------------------------------


class Failure(click.ClickException):
    """A one-line error on stderr (``error: ...``) with the documented exit code."""

    def __init__(self, message: str, code: int = EXIT_UNUSABLE):
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class CatalogueGroup(click.Group):
    """The command group; the one place where errors become one line on stderr and an exit code.

    The catalogue's own errors keep their exit code; click's usage errors (an unknown option, a
    bad value, a missing argument) become ``error: ...`` and exit 2, without click's usage lines.
    """

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except NoArgsIsHelpError:
            raise  # `catalogue` alone prints the help
        except click.UsageError as error:
            raise usage_failure(error) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CatalogueError as error:
            raise Failure(one_line(str(error)), error.exit_code) from None
        except click.UsageError as error:
            raise usage_failure(error) from None


def usage_failure(error: click.UsageError) -> Failure:
    """click's usage error as one line naming the command, exit 2."""
    command = error.ctx.command_path if error.ctx is not None else "catalogue"
    return Failure(f"{one_line(error.format_message())} (`{command} --help` shows the usage)", EXIT_UNUSABLE)


# --- option texts more than one command shares ------------------------------------------------------

CHECKPOINT_HELP = (
    "A checkpoint to check instead of catalogue files: a directory (config.json + *.safetensors), or a hub id "
    "org/name[@revision], read from its safetensors headers (no weights)."
)
RECORD_HELP = (
    "With a checkpoint: also compare it with this catalogue record, MODEL@PCT (e.g. meta-llama/Llama-3.2-1B@40); "
    "MODEL may be a config.json, checkpoint or hub id outside the registry (its record is computed)."
)
DATA_HELP = "The data directory whose catalogue --record's record is read from, as `catalogue build --data DIR` wrote it (default: data/)."

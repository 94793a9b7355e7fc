"""The ``catalogue`` command line: the group, its entry point, and one module per command (``cli/<command>.py``).

Each command parses, calls one library function, formats, exits.

Exit codes (every command): 0 = done, nothing wrong; 1 = problems found (or a model failed);
2 = input cannot be read or the command line is wrong (one line on stderr, no traceback).
Heavy imports (pandas, pandera, torch) happen inside the commands that need them.
"""

from __future__ import annotations

import sys

import click

from .output import MAX_TABLE_PROBLEMS, CatalogueGroup  # noqa: F401 - MAX_TABLE_PROBLEMS: where the tests read it
from .registry import load_commands


@click.group(cls=CatalogueGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="glu-catalogue")
def cli() -> None:
    """Produce, verify and publish the architecture data of width-pruned GLU language models.

    The expansion ratio is intermediate_size / hidden_size as a factor (Llama-3.2-1B: 4.0x).
    Exit codes: 0 = nothing wrong, 1 = problems found, 2 = unreadable input or bad usage.
    """


def main() -> None:
    """Console-script entry point."""
    # pandera imports hypothesis (0.4 s) for data synthesis whenever it is installed; no
    # command needs that, and `catalogue verify` has a start-up budget. A None entry makes the
    # import fail, which pandera handles.
    sys.modules.setdefault("hypothesis", None)
    cli(prog_name="catalogue")


def _register_commands() -> None:
    """Each command lives in its own module under ``cli/`` and declares itself there (``cli/registry.py``)."""
    load_commands().assemble(cli)


_register_commands()

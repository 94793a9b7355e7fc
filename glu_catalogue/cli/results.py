"""``catalogue results``: outcome files (lm-eval results, the study's files, codecarbon) joined to records.

``results check FILE...`` reads, links and checks without writing (exit 1 with problems);
``results add FILE...`` stores what passes in ``data/outcomes.json`` and ``outcomes.csv``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from .output import FORMAT_OPTION, directory_option, echo_json, print_report
from .registry import register

FILES = click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
RECORD = click.option(
    "--record",
    default=None,
    metavar="MODEL@PCT",
    help="The catalogue record the file measured, for a file of one model that names none usable (an in-memory model, a local "
    "path that is gone); default: the model the file names. A file naming another model is a problem (outcome-model).",
)
DATA = click.option(
    "--data",
    "data_dir",
    default=None,
    callback=lambda ctx, param, value: directory_option(value, "--data"),
    help="The catalogue to join to and write (default: data/).",
)


@register(nav_order=90, examples="run")
@click.group()
def results() -> None:
    """Outcomes: what each pruned model scores and costs, from the files people have.

    Reads lm-evaluation-harness results_*.json, the study's capability JSON and CSV and its carbon
    files (aggregated and per run), and codecarbon's emissions.csv. Each model a file measured is
    joined to exactly one catalogue record: --record, else the checkpoint (by its safetensors
    headers) or hub id the file names, else the study's model family and pruning %; a parameter
    count alone never links. Values a check rejects are reported and left out, never corrected.
    One source never gives two values of one record, task, metric, filter and n-shot, and two
    sources must agree within their stated uncertainty (else the rounding of the values).
    """


@results.command("check")
@FILES
@RECORD
@DATA
@FORMAT_OPTION
def check_command(files: tuple[Path, ...], record: str | None, data_dir: Path | None, output: str) -> None:
    """Read, link and check outcome files; write nothing. Exit 0: no problems; 1: problems; 2: unusable file.

    \b
    Example:
      catalogue results check results_2026-01-21T03-44-18.json
      catalogue results check llama_1b_complete_results_latest.json llama_1b_results_latest.csv
      catalogue results check results-readme.md   (a Markdown document's tables, cell by cell)
    """
    if files and all(path.suffix.lower() == ".md" for path in files):
        from .results_document import show_documents

        show_documents(files, data_dir, output)
    from ..pipeline.results import check_results

    outcome = check_results(files, data_dir, record)
    _show(outcome, output, wrote=False)


@results.command("add")
@FILES
@RECORD
@DATA
@click.option("--wait", is_flag=True, help="Wait for another build, merge or results add writing the same data directory instead of refusing.")
@FORMAT_OPTION
def add_command(files: tuple[Path, ...], record: str | None, data_dir: Path | None, wait: bool, output: str) -> None:
    """Check outcome files and add what passes to the catalogue's outcomes (one atomic write).

    Adding the same file again changes nothing; a file whose value differs from the one stored
    for the same record, measurement and place is refused, and so is a file stored under another
    record. One value per record, task, metric, filter and n-shot: a score that disagrees with the
    stored one beyond their uncertainty (or rounding) is left out, naming the kept one. At most
    150,000 values are stored at once (`results check` checks a file of any size). Exit 0:
    added, no problems; 1: added, with values left out (listed); 2: unusable file, nothing written.

    \b
    Example:
      catalogue results add llama_1b_complete_results_latest.json
      catalogue results add results.json --record meta-llama/Llama-3.2-1B@40
    """
    from ..pipeline.results import add_results
    from ..store.paths import write_data_dir

    outcome = add_results(files, write_data_dir(data_dir), record, wait=wait)
    _show(outcome, output, wrote=True)


def _show(outcome, output: str, wrote: bool) -> None:
    if output == "json":
        document = outcome.report.as_dict()
        document["links"] = {str(path): [link.label for link in links] for path, links in outcome.ingested.links.items()}
        document["outcomes"] = outcome.ingested.n_outcomes
        document["left_out"] = outcome.ingested.n_left_out
        if wrote:
            document.update(added=outcome.added, unchanged=outcome.unchanged, files_written=[str(path) for path in outcome.changed_files])
        echo_json(document)
    else:
        for path, links in outcome.ingested.links.items():
            labels = sorted({link.label for link in links})
            click.echo(f"{path}: {len(links)} model(s) -> {', '.join(labels)} (by {links[0].by if links else '-'})")
        click.echo(f"{outcome.ingested.n_outcomes} values pass the checks, {outcome.ingested.n_left_out} left out")
        if wrote:
            written = ", ".join(str(path) for path in outcome.changed_files) or "none (unchanged)"
            click.echo(f"added {outcome.added}, already stored {outcome.unchanged}; files written: {written}")
        print_report(outcome.report)
    sys.exit(EXIT_OK if outcome.report.ok else EXIT_PROBLEMS)


def _add_sources() -> None:
    """``catalogue results sources`` (cli/sources.py): the study's files, installed with the package."""
    from .sources import sources

    results.add_command(sources)


_add_sources()

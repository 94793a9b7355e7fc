"""The page of the study's results as checked: what was read from which file, what was stored, what was left out and why.

Pure, from ``data/outcomes.json`` (an ``OutcomesFile``: the stored outcomes, and the values a
check rejected with its reason) and the outcomes joined to their records
(``glu_catalogue.site.outcome_views``), like the other pages of ``glu_catalogue.site``.
"""

from __future__ import annotations

from typing import Sequence

from ..core.outcome_records import LeftOut, OutcomesFile, OutcomeSource
from ..core.problems import show
from .links import CHECKED_PAGE, model_link
from .markdown import code, count, join_and, page, plain, table, unsearched
from .outcome_pages import source_anchor
from .outcome_views import OutcomePoint

CHECKED_TITLE = "The study's results as checked"
#: The table of values left out, column for column.
LEFT_OUT_COLUMNS = ("Record", "What", "Value", "Reason", "Kind", "Where", "File")
#: Where the table of values left out is (an anchor of the page).
LEFT_OUT_ANCHOR = "values-left-out"
#: The table of values two sources disagree on, column for column, and its anchor.
DISAGREEMENT_COLUMNS = ("Record", "What", "Kept", "Kept from", "Left out", "Left out from")
DISAGREEMENT_ANCHOR = "sources-that-disagree"


def source_files(outcomes: OutcomesFile) -> list[OutcomeSource]:
    """Every file values were read from (stored or left out), once each, by path then sha256."""
    found: dict[tuple[str, str], OutcomeSource] = {}
    for source in [outcome.source for outcome in outcomes.outcomes] + [item.source for item in outcomes.left_out]:
        found.setdefault((source.path, source.sha256), source)
    return [found[key] for key in sorted(found)]


def file_name(source: OutcomeSource) -> str:
    """The last part of the file's path as it was given."""
    return source.path.replace("\\", "/").rsplit("/", 1)[-1]


def _stored_records(points: Sequence[OutcomePoint]) -> str:
    """``Llama-3.2-1B at 0, 10 and 20 %``: each model once, each level linked to its record's row."""
    levels: dict[str, set[int]] = {}
    for point in points:
        levels.setdefault(point.outcome.base_model, set()).add(point.record.pruning_pct)
    parts = [
        f"{model_link(CHECKED_PAGE, model_id)} at "
        + join_and([model_link(CHECKED_PAGE, model_id, str(pct), pct) for pct in sorted(pcts)])
        + " %"
        for model_id, pcts in sorted(levels.items())
    ]
    return join_and(parts)


def file_block(source: OutcomeSource, outcomes: OutcomesFile, points: Sequence[OutcomePoint]) -> str:
    """One file read: its path, format and sha256, how many values were stored (of which records) and left out."""
    stored = [outcome for outcome in outcomes.outcomes if outcome.source.sha256 == source.sha256]
    shown = [point for point in points if point.outcome.source.sha256 == source.sha256]
    left = [item for item in outcomes.left_out if item.source.sha256 == source.sha256]
    unmatched = len(stored) - len(shown)
    stored_text = f"**{count(len(stored))}**"
    if shown:
        stored_text += f", of {_stored_records(shown)}"
    if unmatched:
        stored_text += f" ({count(unmatched)} name no record of the catalogue: `catalogue verify` reports them)"
    left_text = f"**{count(len(left))}**" + (f" ([listed below](#{LEFT_OUT_ANCHOR}))" if left else "")
    lines = [
        f"Path: {code(source.path)}",
        f"Format: {code(source.format)}",
        f"SHA-256 `{source.sha256}`{{: .catalogue-hash }}",
        f"Values stored: {stored_text}",
        f"Values left out: {left_text}",
    ]
    return f"### {code(file_name(source))} {{ #{source_anchor(source.sha256)} }}\n\n" + "\n".join(f"- {line}" for line in lines)


def _record_cell(item: LeftOut, paged: set[str]) -> str:
    model_id, _, pct = (item.record or "").rpartition("@")
    if model_id in paged and pct.isdigit():
        return model_link(CHECKED_PAGE, model_id, plain(item.record), int(pct))
    return plain(item.record) if item.record else "—"


def left_out_rows(outcomes: OutcomesFile, paged: set[str]) -> list[tuple]:
    """One row per value left out: its record (linked where it has a page), what, value, reason, kind, place and file."""
    return [
        (
            _record_cell(item, paged),
            plain(item.what),
            plain(item.value),
            plain(item.reason),
            code(item.kind),
            code(item.source.location),
            f"[{code(file_name(item.source))}](#{source_anchor(item.source.sha256)})",
        )
        for item in outcomes.left_out
    ]


def _file_link(source: OutcomeSource) -> str:
    return f"[{code(file_name(source))}](#{source_anchor(source.sha256)}) {code(source.location)}"


def disagreement_rows(outcomes: OutcomesFile, paged: set[str]) -> list[tuple]:
    """One row per value left out because another source gave the same thing otherwise: the value kept and its
    source beside the value left out and its source."""
    stored = {(outcome.source.sha256, outcome.source.location, outcome.record): outcome for outcome in outcomes.outcomes}
    rows = []
    for item in outcomes.left_out:
        if item.disagrees_with is None:
            continue
        kept = stored.get((item.disagrees_with.sha256, item.disagrees_with.location, item.record))
        rows.append(
            (
                _record_cell(item, paged), plain(item.what), plain(show(kept.value)) if kept else "— (not stored)",
                _file_link(item.disagrees_with), plain(item.value), _file_link(item.source),
            )
        )  # fmt: skip
    return rows


def disagreements_block(outcomes: OutcomesFile, paged: set[str]) -> str:
    """The section of values two sources disagree on: which was kept, from which file, beside the other."""
    rows = disagreement_rows(outcomes, paged)
    rule = (
        "One source states one value for a record's task, metric, filter and n-shot, and two sources must agree within "
        "their stated uncertainty (two standard errors of their difference), or else within the rounding of the values "
        "as written. The value stored first is kept; the other is left out, naming it."
    )
    if not rows:
        return f"{rule}\n\nNo two sources disagree."
    return f"{rule} {count(len(rows))} values disagree with a kept one:\n\n" + table(DISAGREEMENT_COLUMNS, rows)


def checked_results_page(outcomes: OutcomesFile, points: Sequence[OutcomePoint], paged: set[str]) -> str:
    """Every results file read (path, sha256, values stored and left out), then every value left out with its reason.

    ``points`` are the stored outcomes joined to their records; ``paged`` the models with a page.
    """
    sources = source_files(outcomes)
    intro = (
        "`catalogue results add` reads a results file, links each value to the catalogue record it measured, and checks "
        "it: what the file claims about the model against the record, the file against itself, each value against its "
        "nature (a proportion lies in [0, 1], a perplexity is at least 1). A value that passes is stored in "
        "`outcomes.json`; one a check rejects is left out, with the reason, and never corrected."
    )
    blocks = [intro, "## Files read"]
    if sources:
        blocks += [file_block(source, outcomes, points) for source in sources]
    else:
        blocks.append("No results file has been read yet: `catalogue results add FILE` reads one.")
    blocks += [f"## Sources that disagree {{ #{DISAGREEMENT_ANCHOR} }}", disagreements_block(outcomes, paged)]
    blocks.append(f"## Values left out {{ #{LEFT_OUT_ANCHOR} }}")
    if outcomes.left_out:
        blocks.append(
            f"{count(len(outcomes.left_out))} values left out, each with the check that rejected it:\n\n"
            + unsearched(table(LEFT_OUT_COLUMNS, left_out_rows(outcomes, paged)))
        )
    else:
        blocks.append("No value was left out.")
    return page(CHECKED_TITLE, *blocks, meta={"title": CHECKED_TITLE})

"""The page of the study's results as checked: what was read from which file, what was stored, what was left out and why.

The values left out are listed by file on pages of their own (``left_out_pages``), each at most
``LEFT_OUT_ROWS_PER_PAGE`` rows: every page of the site loads the theme, the scripts and the
search index (about 1.2 MB), and a row of the table weighs about 1 kB. A file's entry on the
checked page links to its table there, and the table back to the entry.

Pure, from ``data/outcomes.json`` (an ``OutcomesFile``: the stored outcomes, and the values a
check rejected with its reason) and the outcomes joined to their records
(``glu_catalogue.site.outcome_views``), like the other pages of ``glu_catalogue.site``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.outcome_records import LeftOut, OutcomesFile, OutcomeSource
from ..core.problems import show
from .links import CHECKED_PAGE, left_out_page, model_link, relative
from .markdown import bullets, code, count, join_and, page, plain, table, unsearched
from .outcome_pages import source_anchor
from .outcome_views import OutcomePoint

CHECKED_TITLE = "The study's results as checked"
#: A file's table of values left out, column for column.
LEFT_OUT_COLUMNS = ("Record", "What", "Value", "Reason", "Kind", "Where")
#: Where the checked page lists the pages of values left out (an anchor of the page).
LEFT_OUT_ANCHOR = "values-left-out"
#: The most values a page of values left out lists (a file's values share a page unless they are more).
LEFT_OUT_ROWS_PER_PAGE = 100
#: The title of a page of values left out.
LEFT_OUT_TITLE = "Values left out"
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


def left_out_by_file(outcomes: OutcomesFile) -> list[tuple[OutcomeSource, list[LeftOut]]]:
    """Each file with values left out (in ``source_files`` order) and its values left out, in the file's order."""
    found = [
        (source, [item for item in outcomes.left_out if (item.source.path, item.source.sha256) == (source.path, source.sha256)])
        for source in source_files(outcomes)
    ]
    return [(source, items) for source, items in found if items]


def left_out_parts(outcomes: OutcomesFile) -> list[list[tuple[OutcomeSource, list[LeftOut]]]]:
    """The pages of values left out: files in order, a page taking files while it holds at most
    ``LEFT_OUT_ROWS_PER_PAGE`` values (a file with more has a page of its own, split at that many)."""
    parts: list[list[tuple[OutcomeSource, list[LeftOut]]]] = [[]]
    for source, items in left_out_by_file(outcomes):
        for start in range(0, len(items), LEFT_OUT_ROWS_PER_PAGE):
            chunk = items[start : start + LEFT_OUT_ROWS_PER_PAGE]
            if sum(len(held) for _, held in parts[-1]) + len(chunk) > LEFT_OUT_ROWS_PER_PAGE:
                parts.append([])
            parts[-1].append((source, chunk))
    return [part for part in parts if part]


def _left_out_places(outcomes: OutcomesFile) -> dict[tuple[str, str], int]:
    """(path, sha256) -> the part (from 1) whose page lists the file's first value left out."""
    places: dict[tuple[str, str], int] = {}
    for number, part in enumerate(left_out_parts(outcomes), 1):
        for source, _ in part:
            places.setdefault((source.path, source.sha256), number)
    return places


def _stored_records(points: Sequence[OutcomePoint]) -> str:
    """``Llama-3.2-1B at 0, 10 and 20 %``: each model once, each level linked to its record's row."""
    levels: dict[str, set[int]] = {}
    for point in points:
        levels.setdefault(point.outcome.base_model, set()).add(point.record.pruning_pct)
    parts = [
        f"{model_link(CHECKED_PAGE, model_id)} at " + join_and([model_link(CHECKED_PAGE, model_id, str(pct), pct) for pct in sorted(pcts)]) + " %"
        for model_id, pcts in sorted(levels.items())
    ]
    return join_and(parts)


def file_block(source: OutcomeSource, outcomes: OutcomesFile, points: Sequence[OutcomePoint], part: int | None = None) -> str:
    """One file read: its path, format and sha256, how many values were stored (of which records) and left out
    (linked to their table on page ``part`` of the values left out)."""
    stored = [outcome for outcome in outcomes.outcomes if outcome.source.sha256 == source.sha256]
    shown = [point for point in points if point.outcome.source.sha256 == source.sha256]
    left = [item for item in outcomes.left_out if item.source.sha256 == source.sha256]
    unmatched = len(stored) - len(shown)
    stored_text = f"**{count(len(stored))}**"
    if shown:
        stored_text += f", of {_stored_records(shown)}"
    if unmatched:
        stored_text += f" ({count(unmatched)} name no record of the catalogue: `catalogue verify` reports them)"
    left_text = f"**{count(len(left))}**"
    if left and part is not None:
        target = relative(CHECKED_PAGE, f"{left_out_page(part)}#{source_anchor(source.sha256)}")
        left_text += f" ([listed with their reasons]({target}))"
    lines = [
        f"Path: {code(source.path)}",
        f"Format: {code(source.format)}",
        f"SHA-256 `{source.sha256}`{{: .catalogue-hash }}",
        f"Values stored: {stored_text}",
        f"Values left out: {left_text}",
    ]
    return f"### {code(file_name(source))} {{ #{source_anchor(source.sha256)} }}\n\n" + "\n".join(f"- {line}" for line in lines)


def _record_cell(item: LeftOut, paged: set[str], source_page: str = CHECKED_PAGE) -> str:
    model_id, _, pct = (item.record or "").rpartition("@")
    if model_id in paged and pct.isdigit():
        return model_link(source_page, model_id, plain(item.record), int(pct))
    return plain(item.record) if item.record else "—"


def left_out_rows(items: Sequence[LeftOut], paged: set[str], source_page: str) -> list[tuple]:
    """One row per value left out: its record (linked where it has a page), what, value, reason, kind and place."""
    return [
        (_record_cell(item, paged, source_page), plain(item.what), plain(item.value), plain(item.reason), code(item.kind), code(item.source.location))
        for item in items
    ]


def left_out_pages(outcomes: OutcomesFile, paged: set[str]) -> dict[str, str]:
    """The pages of values left out (``left_out_page``): per file, its path linked to its entry on the checked page,
    then a table of its values left out with the check that rejected each."""
    parts = left_out_parts(outcomes)
    pages = {}
    for number, part in enumerate(parts, 1):
        source_page = left_out_page(number)
        checked = relative(source_page, CHECKED_PAGE)
        others = join_and(
            [f"[{other}]({relative(source_page, left_out_page(other))})" if other != number else str(other) for other in range(1, len(parts) + 1)]
        )
        where = f", page {number} of {len(parts)} ({others})" if len(parts) > 1 else ""
        intro = (
            f"The values of the results files that a check rejected, each with its reason, by file: "
            f"{count(sum(len(items) for _, items in part))} values of {count(len(part))} files here{where}. "
            f"[{CHECKED_TITLE}]({checked}#{LEFT_OUT_ANCHOR}) lists every file read."
        )
        blocks = [intro]
        for source, items in part:
            entry = f"{checked}#{source_anchor(source.sha256)}"
            blocks.append(
                f"## {code(file_name(source))} {{ #{source_anchor(source.sha256)} }}\n\n"
                f"Path: {code(source.path)} ([the file as read]({entry})); {count(len(items))} values left out:\n\n"
                + unsearched(table(LEFT_OUT_COLUMNS, left_out_rows(items, paged, source_page)))
            )
        title = f"{LEFT_OUT_TITLE} ({number} of {len(parts)})" if len(parts) > 1 else LEFT_OUT_TITLE
        pages[source_page] = page(title, *blocks, meta={"title": title})
    return pages


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
                _record_cell(item, paged),
                plain(item.what),
                plain(show(kept.value)) if kept else "— (not stored)",
                _file_link(item.disagrees_with),
                plain(item.value),
                _file_link(item.source),
            )
        )
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
    places = _left_out_places(outcomes)
    intro = (
        "`catalogue results add` reads a results file, links each value to the catalogue record it measured, and checks "
        "it: what the file claims about the model against the record, the file against itself, each value against its "
        "nature (a proportion lies in [0, 1], a perplexity is at least 1). A value that passes is stored in "
        "`outcomes.json`; one a check rejects is left out, with the reason, and never corrected."
    )
    blocks = [intro, "## Files read"]
    if sources:
        blocks += [file_block(source, outcomes, points, places.get((source.path, source.sha256))) for source in sources]
    else:
        blocks.append("No results file has been read yet: `catalogue results add FILE` reads one.")
    blocks += [f"## Sources that disagree {{ #{DISAGREEMENT_ANCHOR} }}", disagreements_block(outcomes, paged)]
    blocks.append(f"## Values left out {{ #{LEFT_OUT_ANCHOR} }}")
    parts = left_out_parts(outcomes)
    if parts:
        listed = [
            f"[{LEFT_OUT_TITLE.lower()}"
            + (f", page {number}" if len(parts) > 1 else "")
            + f"]({relative(CHECKED_PAGE, left_out_page(number))}): "
            + join_and([f"{code(file_name(source))} ({count(len(items))})" for source, items in part])
            for number, part in enumerate(parts, 1)
        ]
        blocks.append(f"{count(len(outcomes.left_out))} values left out, each listed with the check that rejected it, by file:\n\n" + bullets(listed))
    else:
        blocks.append("No value was left out.")
    return page(CHECKED_TITLE, *blocks, meta={"title": CHECKED_TITLE})

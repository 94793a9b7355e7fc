"""The generated part of ``docs/``: what it must hold, whether it does, and writing it.

The site is rendered from its *files*: the catalogue JSON and CSV, the outcomes JSON and CSV
where there are any, and ``schemas/``, as the bytes the site offers for download
(``read_site_files``; a build or ``results add`` passes the bytes it is about to write). From
them come the records, the outcomes, the schemas and the verifier's report on them, and from
those ``glu_catalogue.site.render`` renders every page and ``glu_catalogue.site.plots`` every chart.

* ``check_site`` (called by ``catalogue verify`` and ``catalogue docs --check``) renders the pages
  and the browser code's data file (``glu_catalogue.site.data``: the planner's inputs, the
  charts' series) again and compares them with ``docs/`` line by line; a chart is compared by
  the fingerprint of the data it draws, so checking needs no matplotlib. Leftover generated
  files (a family or model no longer in the data) are problems too.
* ``site_texts`` is what a write puts into ``docs/``: every page, the data file, and every chart
  whose fingerprint changed (drawn with matplotlib).

A generated page carries ``markdown.GENERATED_MARKER`` below its title, the data file in its
first line; a generated chart carries ``plots.FINGERPRINT_PREFIX``. Nothing else in ``docs/`` is
touched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic_core
from pydantic import ValidationError

from ..core.outcome_records import OutcomesFile
from ..core.problems import Report
from ..core.records import Catalogue
from ..errors import ReadError, SiteError
from ..store.outcomes_files import OUTCOMES_CSV_FILE, OUTCOMES_FILE
from ..store.paths import CATALOGUE_FILE, SUMMARY_FILE, display_path, schemas_dir
from ..store.reading import MAX_CATALOGUE_BYTES, MAX_SMALL_FILE_BYTES, path_exists, read_bytes, read_text
from ..store.registry import ModelEntry
from ..store.schemas import SCHEMA_FILES
from .data import DATA_FILE, render_data_file
from .markdown import MARKER_LINES, has_marker
from .plots import FINGERPRINT_PREFIX, PALETTES, PlotSpec, draw_svg, plot_specs
from .reference import VerificationSummary
from .render import SiteContent, render_pages
from .views import all_groups

#: What a stale site's problems tell the reader to do.
FIX = "docs/ is stale: run `catalogue docs` (or `catalogue build`) and commit the result"


def read_site_files(data_dir: Path) -> dict[str, bytes]:
    """The files the site is rendered from and offers, by site path (``data/...``, ``schemas/...``).

    Missing schema files are left out (the verifier reports them); a missing or unreadable data
    file raises ``ReadError``.
    """
    files = {f"data/{name}": read_bytes(data_dir / name, MAX_CATALOGUE_BYTES) for name in (CATALOGUE_FILE, SUMMARY_FILE)}
    files.update(read_outcome_files(data_dir))
    for name in SCHEMA_FILES:
        path = schemas_dir() / name
        if path.is_file():
            files[f"schemas/{name}"] = read_bytes(path, MAX_SMALL_FILE_BYTES)
    return files


def read_outcome_files(data_dir: Path) -> dict[str, bytes]:
    """The outcome files of ``data_dir`` by site path (``data/outcomes.json``, ``data/outcomes.csv``); none where there are none."""
    names = (OUTCOMES_FILE, OUTCOMES_CSV_FILE)
    return {f"data/{name}": read_bytes(data_dir / name, MAX_CATALOGUE_BYTES) for name in names if path_exists(data_dir / name)}


def site_outcomes(files: Mapping[str, bytes]) -> OutcomesFile:
    """The outcomes ``files`` hold (an empty file where they hold none); ``SiteError`` if they are not valid."""
    content = files.get(f"data/{OUTCOMES_FILE}")
    if content is None:
        return OutcomesFile()
    try:
        return OutcomesFile.model_validate(pydantic_core.from_json(content))
    except (ValidationError, ValueError) as error:
        raise SiteError(
            f"data/{OUTCOMES_FILE} is not a valid outcomes file ({str(error).splitlines()[0]}): run `catalogue verify` and fix the data first"
        ) from None


def summarise(report: Report) -> VerificationSummary:
    """The verification page's view of a report on the data and schemas."""
    return VerificationSummary(tuple(report.checked.items()), tuple(report.problems))


def site_content(files: Mapping[str, bytes], registry: Mapping[str, ModelEntry], data_report: Report) -> SiteContent:
    """Everything the pages are rendered from; ``SiteError`` if the catalogue is not valid."""
    try:
        catalogue = Catalogue.model_validate(pydantic_core.from_json(files[f"data/{CATALOGUE_FILE}"]))
    except (ValidationError, ValueError) as error:
        raise SiteError(
            f"data/{CATALOGUE_FILE} is not a valid catalogue ({str(error).splitlines()[0]}): run `catalogue verify` and fix the data first"
        ) from None
    schemas: dict[str, Any] = {}
    for path, content in files.items():
        if path.startswith("schemas/"):
            try:
                schemas[path.split("/", 1)[1]] = json.loads(content)
            except ValueError:
                continue  # the verifier reports the stale schema
    return SiteContent(
        records=tuple(catalogue.models),
        registry=registry,
        schemas=schemas,
        downloads=dict(files),
        verification=summarise(data_report),
        metadata=catalogue.metadata,
        outcomes=site_outcomes(files),
    )


def generated_texts(content: SiteContent) -> dict[str, str]:
    """Every generated text file of docs/ (pages and the browser code's data file): path -> text."""
    specs = plot_specs(all_groups(content.views))
    data = render_data_file(content.registry, content.paged_models, specs)
    return {**render_pages(content), DATA_FILE: data}


def planned_plots(content: SiteContent) -> dict[str, tuple[PlotSpec, str]]:
    """Every chart file (path relative to docs/) -> (what it plots, palette)."""
    return {spec.file(palette): (spec, palette) for spec in plot_specs(all_groups(content.views)) for palette in PALETTES}


def is_generated(path: Path) -> bool:
    """True for a file ``catalogue docs`` wrote: a page starting with the marker, or a fingerprinted chart."""
    text = _read(path)
    if text is None:
        return False
    if path.suffix == ".md":
        return has_marker(text.splitlines(keepends=True)[:MARKER_LINES])
    return path.suffix == ".svg" and FINGERPRINT_PREFIX in text


def obsolete_files(docs_dir: Path, expected: set[str]) -> list[Path]:
    """Generated files of ``docs_dir`` that the current data no longer produces."""
    candidates = sorted(docs_dir.rglob("*.md")) + sorted((docs_dir / "plots").glob("*.svg"))
    return [path for path in candidates if path.relative_to(docs_dir).as_posix() not in expected and is_generated(path)]


def _read(path: Path) -> str | None:
    """The text of a regular file ``path``; None if it is missing, special, too large or not UTF-8."""
    try:
        return read_text(path, MAX_SMALL_FILE_BYTES)
    except ReadError:
        return None


def check_site(docs_dir: Path, files: Mapping[str, bytes], registry: Mapping[str, ModelEntry], data_report: Report, report: Report) -> None:
    """Add a problem to ``report`` for every generated page or chart of ``docs_dir`` that does not show ``files``.

    ``data_report`` is the verifier's report on those files (data and schemas), which the
    verification page shows. Counts go to ``report.checked["docs_pages"]`` and ``["plots"]``.
    """
    try:
        content = site_content(files, registry, data_report)
    except SiteError:
        return  # the data's own problems are in the report already
    pages = generated_texts(content)
    plots = planned_plots(content)
    report.checked["docs_pages"] += sum(relative.endswith(".md") for relative in pages)
    report.checked["site_data_files"] += sum(not relative.endswith(".md") for relative in pages)
    report.checked["plots"] += len(plots)
    for relative, text in pages.items():
        _compare_page(docs_dir / relative, text, report)
    for relative, (spec, palette) in plots.items():
        path = docs_dir / relative
        fingerprint = spec.fingerprint(palette)
        committed = _read(path)
        if committed is None or fingerprint not in committed:
            report.add(
                display_path(path),
                "(chart)",
                "fingerprint",
                fingerprint,
                "missing" if committed is None else "a chart of other data",
                f"the chart does not show the data: {FIX}",
                kind="site",
            )
    for path in obsolete_files(docs_dir, set(pages) | set(plots)):
        report.add(
            display_path(path),
            "(file)",
            "(file)",
            "no such generated file",
            "present",
            f"generated from data that is no longer there: {FIX}, which deletes it",
            kind="site",
        )


def _compare_page(path: Path, expected: str, report: Report) -> None:
    committed = _read(path)
    if committed is None:
        report.add(display_path(path), "(page)", "(file)", "the generated page", "missing", FIX, kind="site")
        return
    if committed == expected:
        return
    wanted, found = expected.splitlines(), committed.splitlines()
    line = next((index for index, pair in enumerate(zip(wanted, found)) if pair[0] != pair[1]), min(len(wanted), len(found)))
    report.add(
        display_path(path),
        "(page)",
        f"line {line + 1}",
        wanted[line] if line < len(wanted) else "(end of page)",
        found[line] if line < len(found) else "(end of page)",
        f"the page differs from what the data renders: {FIX}",
        kind="site",
    )


def site_texts(docs_dir: Path, content: SiteContent) -> dict[Path, str]:
    """Path -> text of every generated file a write puts into ``docs_dir``.

    Every page; a chart only where the file on disk does not carry the fingerprint of the data
    it should show (so an unchanged chart is not redrawn, and another matplotlib version does
    not rewrite it).
    """
    texts = {docs_dir / relative: text for relative, text in generated_texts(content).items()}
    for relative, (spec, palette) in planned_plots(content).items():
        path = docs_dir / relative
        committed = _read(path)
        if committed is None or spec.fingerprint(palette) not in committed:
            texts[path] = draw_svg(spec, palette)
    return texts


def obsolete_generated(docs_dir: Path, content: SiteContent) -> list[Path]:
    """The generated files of ``docs_dir`` that ``content`` no longer produces (a write deletes them)."""
    return obsolete_files(docs_dir, set(generated_texts(content)) | set(planned_plots(content)))


def delete_obsolete(docs_dir: Path, content: SiteContent) -> list[Path]:
    """Delete the generated files of ``docs_dir`` that ``content`` no longer produces; returns them."""
    removed = obsolete_generated(docs_dir, content)
    for path in removed:
        path.unlink()
    return removed

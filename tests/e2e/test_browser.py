"""The site as its readers use it, in Chromium: pages, planner, tables, search, charts, downloads, phones.

The site is built with ``mkdocs build --strict`` for, and served at, a local address under a
subpath (``/glu-catalogue/``, as GitHub Pages serves a project), with the 404 page answering
unknown paths. Skipped, with how to install it, where Debian's chromium or playwright is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DATA, REPO, run_cli
from site_browser import built_and_served, launch, missing_browser, page_urls

from glu_catalogue.core.speedup import speedups
from glu_catalogue.planning.planner import plan
from glu_catalogue.site.speedup_view import CHART_NAME as SPEEDUP_CHART
from glu_catalogue.store.outcomes_files import read_outcomes
from glu_catalogue.store.registry import load_registry

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.skipif(missing_browser() is not None, reason=missing_browser() or "")]

#: The planner's grid (the issue's): ratios 1.0-6.0 by 0.05 as typed, percentages 0-95 by 5, every divisor.
RATIOS = [f"{1 + 0.05 * step:.2f}" for step in range(101)]
PCTS = [str(5 * step) for step in range(20)]
DIVISORS = [None, 32, 64, 128, 256]
#: The most a page may transfer, HTML and everything it loads (charting library included).
MAX_PAGE_BYTES = 1_500_000
#: Material's search fetches this index on every page, after the page's load event (from its search worker).
SEARCH_INDEX = "search/search_index.json"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
#: The README's picture of the planner; rewritten only when this variable is set.
SCREENSHOT = REPO / "docs" / "assets" / "planner.png"
SCREENSHOT_ENV = "CATALOGUE_WRITE_SCREENSHOT"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(site URL, built site folder), served for the module."""
    with built_and_served(tmp_path_factory.mktemp("served")) as found:
        yield found


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def new_page(browser, viewport=DESKTOP, scheme="light", errors: list | None = None):
    """A page in a fresh context (empty cache); console errors and page errors go to ``errors``."""
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    if errors is not None:
        page.on("console", lambda message: errors.append(f"console {message.type}: {message.text}") if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    return page


# --- every page ------------------------------------------------------------------------------


@dataclass
class Visit:
    """What one page of the sitemap showed when loaded at 390 px in ``scheme``."""

    scheme: str
    #: Console and page errors, and loads that failed or answered 400 or more.
    problems: list[str]
    #: The bytes of every file it loaded (see ``loaded_bytes``).
    weight_bytes: int
    #: How far the page scrolls sideways at 390 px (0: not at all).
    overflow_px: int
    #: Whether the site's script ran (``data-catalogue-ready``).
    script_ran: bool
    #: The palette the page shows (``data-md-color-scheme``).
    palette: str
    #: The outcome charts it drew (``OUTCOME_CHARTS``), with its chart counts (placed, live).
    outcome_charts: list[dict]
    chart_counts: tuple[int, int]


@pytest.fixture(scope="module")
def visits(site, browser) -> dict[str, Visit]:
    """Every page of the sitemap loaded once at 390 px, in turn light and dark: what each showed.

    One pass serves the page checks and the outcome-chart checks: loading the site's pages is the
    costly part of the browser tests."""
    url, folder = site
    errors: list[str] = []
    failed: list[str] = []
    pages = {scheme: new_page(browser, PHONE, scheme, errors) for scheme in ("light", "dark")}
    # The search index is one file, the same on every page, and the search test loads and queries it. Here each page's
    # search worker gets an index of no pages (the same config), so that 127 loads do not each index the whole site:
    # that took a third of the browser's CPU time. Its bytes still count in each page's weight (loaded_bytes).
    index = json.loads((folder / SEARCH_INDEX).read_text(encoding="utf-8"))
    empty_index = json.dumps({**index, "docs": []})
    for page in pages.values():
        page.route(f"**/{SEARCH_INDEX}", lambda route: route.fulfill(status=200, content_type="application/json", body=empty_index))
        page.on("response", lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None)
        page.on("requestfailed", lambda request: failed.append(f"failed {request.url}"))
    found = {}
    for index, address in enumerate(page_urls(folder, url)):
        scheme = ("light", "dark")[index % 2]
        page = pages[scheme]
        errors.clear()
        failed.clear()
        page.goto(address, wait_until="load")
        weight = loaded_bytes(page, url, folder)
        overflow, ready, palette, placed, live = page.evaluate(
            "[document.documentElement.scrollWidth - window.innerWidth, document.documentElement.dataset.catalogueReady,"
            " document.body.getAttribute('data-md-color-scheme'), document.querySelectorAll('.catalogue-chart[data-chart]').length,"
            " document.querySelectorAll('.catalogue-chart--live').length]"
        )
        charts = page.evaluate(OUTCOME_CHARTS) if is_outcome_page(address) else []
        found[address] = Visit(scheme, errors + failed, weight, overflow, ready == "true", palette, charts, (placed, live))
    for page in pages.values():
        page.context.close()
    return found


def test_every_page_loads_clean_fits_a_phone_and_weighs_under_the_limit(site, visits):
    """Every page of the sitemap at 390 px, in turn light and dark: no error, no sideways scroll, its script ran, its weight."""
    _, folder = site
    assert len(visits) == sum(1 for path in folder.rglob("index.html") if "assets" not in path.parts)
    problems = []
    for address, visit in visits.items():
        problems += [f"{address}: {item}" for item in visit.problems]
        if visit.overflow_px > 0:
            problems.append(f"{address}: scrolls sideways by {visit.overflow_px} px at 390 px")
        if not visit.script_ran:
            problems.append(f"{address}: the site's script did not run")
        if visit.palette != ("slate" if visit.scheme == "dark" else "default"):
            problems.append(f"{address}: palette {visit.palette} in {visit.scheme} mode")
        if visit.weight_bytes > MAX_PAGE_BYTES:
            problems.append(f"{address}: loads {visit.weight_bytes:,} bytes > {MAX_PAGE_BYTES:,}")
    assert not problems, "\n".join(problems)


def loaded_bytes(page, url: str, folder: Path) -> int:
    """The bytes a cold load of the page transfers: the size of every file it loaded, and the search index its
    search fetches on every page (counted whether or not the fetch has ended yet: waiting for it doubles the
    time a page takes; the search test sees it fetched)."""
    names = page.evaluate("[location.href, ...performance.getEntriesByType('resource').map(e => e.name)]")
    relatives = {name.split("#")[0].split("?")[0].removeprefix(url) for name in names} | {SEARCH_INDEX}
    total = 0
    for relative in relatives:
        path = folder / relative
        total += (path / "index.html" if path.is_dir() else path).stat().st_size
    return total


def test_a_missing_page_gets_the_404_page_working_under_the_subpath(site, browser):
    url, _ = site
    errors: list[str] = []
    page = new_page(browser, DESKTOP, "light", errors)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on(
        "response",
        lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 and not response.url.endswith("/deeper/") else None,
    )
    response = page.goto(url + "no/such/page/deeper/", wait_until="networkidle")
    assert response.status == 404
    assert "404" in page.inner_text("article")
    assert not failed, failed
    assert [error for error in errors if "status of 404" not in error] == [], errors  # the page itself is the one 404
    home = page.get_attribute("a.md-header__button.md-logo", "href")
    assert home is not None and page.evaluate("(href) => new URL(href, location.href).href", home) == url
    page.context.close()


# --- the planner ---------------------------------------------------------------------------------------


def planner_page(browser, site, query: str = "", viewport=DESKTOP, scheme="light", errors=None):
    url, _ = site
    page = new_page(browser, viewport, scheme, errors)
    page.goto(url + "planner/" + query, wait_until="load")
    page.wait_for_selector("#catalogue-planner[data-ready=true]")
    return page


def python_rows(question: dict) -> list[dict]:
    entries = list(load_registry().values())
    divisor = question.get("divisor")
    if "ratio" in question:
        return [row.as_dict() for row in plan(entries, ratio=question["ratio"], divisor=divisor)]
    return [row.as_dict() for row in plan(entries, pruning_pct=float(question["pct"]), divisor=divisor)]


#: The page's planner over many questions, in one call. Returned as JSON text, which crosses over ten times
#: faster than objects; JavaScript writes each double's shortest round-trip digits, so no value changes.
BROWSER_GRID = """(questions) => {
  const planner = window.cataloguePlanner;
  const models = planner.models();
  return JSON.stringify(questions.map((question) => planner.plan(models, question)));
}"""


def test_planner_equals_the_python_planner_on_the_whole_grid(site, browser):
    questions = [{"ratio": ratio, "divisor": divisor} for ratio in RATIOS for divisor in DIVISORS]
    questions += [{"pct": pct, "divisor": divisor} for pct in PCTS for divisor in DIVISORS]
    page = planner_page(browser, site)
    answers = json.loads(page.evaluate(BROWSER_GRID, questions))
    page.context.close()
    registry = load_registry()
    statuses = set()
    for question, rows in zip(questions, answers):
        expected = python_rows(question)
        assert [row["model_id"] for row in rows] == list(registry), question
        for got, want in zip(rows, expected):
            assert list(got) == list(want), (question, got["model_id"])
            for key, value in want.items():
                assert got[key] == value and type(got[key]) is not bool, (question, got["model_id"], key, got[key], value)
            statuses.add(want["status"])
    assert {"ok", "below-target", "fused-mlp"} <= statuses


def test_planner_equals_catalogue_plan_on_the_command_line(site, browser):
    questions = [
        ({"ratio": "2.4"}, ["--ratio", "2.4"]),
        ({"ratio": "2.67", "divisor": 256}, ["--ratio", "2.67", "--divisor", "256"]),
        ({"ratio": "3.9999"}, ["--ratio", "3.9999"]),
        ({"pct": "35", "divisor": 128}, ["--pct", "35", "--divisor", "128"]),
        ({"pct": "0.001"}, ["--pct", "0.001"]),
    ]
    page = planner_page(browser, site)
    answers = json.loads(page.evaluate(BROWSER_GRID, [question for question, _ in questions]))
    page.context.close()
    statuses = set()
    for (question, arguments), rows in zip(questions, answers):
        completed = run_cli("plan", *arguments, "--format", "json")
        assert completed.returncode == 0, completed.stderr
        assert rows == json.loads(completed.stdout), question
        statuses |= {row["status"] for row in rows}
    assert statuses == {"ok", "below-target", "refused", "fused-mlp", "not-prunable"}


def test_planner_refuses_what_the_command_line_refuses(site, browser):
    """Each refusal reads the same on the page as on the command line; percentages in plain words."""
    page = planner_page(browser, site)
    cases = {
        ("ratio", "abc"): ["--ratio", "abc"],
        ("ratio", "0"): ["--ratio", "0"],
        ("ratio", "nan"): ["--ratio", "nan"],
        ("pct", "abc"): ["--pct", "abc"],
        ("pct", "150"): ["--pct", "150"],
        ("pct", "-1"): ["--pct=-1"],
        ("pct", "nan"): ["--pct", "nan"],
        ("pct", "inf"): ["--pct", "inf"],
    }
    for (mode, text), arguments in cases.items():
        message = page.evaluate(
            "([mode, text]) => { try { window.cataloguePlanner.plan([], {[mode]: text}); return null } catch (e) { return e.message } }", [mode, text]
        )
        completed = run_cli("plan", *arguments)
        assert completed.returncode == 2 and message and message in completed.stderr, (text, message, completed.stderr)
        if mode == "pct":
            assert message.startswith("pruning % ") and "valid float" not in message and "<=x<=" not in message, message
    page.context.close()


def contrast_ratio(page, selector: str) -> float:
    """WCAG contrast of an element's text colour against the first opaque background behind it."""
    colours = page.evaluate(
        r"""(selector) => {
          const parse = (text) => text.match(/[\d.]+/g).map(Number);
          let node = document.querySelector(selector);
          const fg = parse(getComputedStyle(node).color);
          let bg = null;
          for (; node; node = node.parentElement) {
            const value = parse(getComputedStyle(node).backgroundColor);
            if (value.length < 4 || value[3] === 1) { bg = value; break; }
          }
          return [fg, bg || [255, 255, 255]];
        }""",
        selector,
    )
    (fg, bg) = colours
    assert len(fg) == 3 or fg[3] == 1, f"{selector}: translucent text colour {fg}"

    def luminance(rgb_values):
        channels = [value / 255 for value in rgb_values[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(fg), luminance(bg)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_planner_errors_are_readable_and_clear_the_stale_answer(site, browser, scheme):
    errors: list[str] = []
    page = planner_page(browser, site, "?ratio=2.4", PHONE, scheme, errors)
    assert page.eval_on_selector_all("#planner-results tbody tr", "rows => rows.length") > 0
    assert page.is_visible("#planner-command")
    page.fill("#planner-target", "abc")
    assert page.inner_text("#planner-error") == "expansion ratio 'abc' is not a number (e.g. 2.4)"
    assert page.eval_on_selector_all("#planner-results tr", "rows => rows.length") == 0, "the last valid answer is still shown"
    assert page.eval_on_selector_all("#planner-notes li", "items => items.length") == 0
    assert not page.is_visible("#planner-command"), "the page still offers a command for the last valid target"
    ratio = contrast_ratio(page, "#planner-error")
    assert ratio >= 4.5, f"{scheme}: the error's contrast is {ratio:.2f}:1, under WCAG AA's 4.5:1"
    page.check("#planner-mode-pct")
    page.fill("#planner-target", "150")
    assert page.inner_text("#planner-error") == "pruning % must be between 0 and 100, got 150"
    page.fill("#planner-target", "forty")
    assert page.inner_text("#planner-error") == "pruning % 'forty' is not a number (e.g. 40)"
    page.fill("#planner-target", "40")
    assert page.inner_text("#planner-error") == "" and page.get_attribute("#planner-target", "aria-invalid") is None
    assert page.eval_on_selector_all("#planner-results tbody tr", "rows => rows.length") > 0
    assert page.inner_text("#planner-command").startswith("catalogue plan --pct 40")
    page.context.close()
    assert not errors, errors


#: Each checkbox's left edge, its vertical centre and its text's, per family row, at a width.
CHECKBOX_GEOMETRY = """() => [...document.querySelectorAll('.catalogue-planner__family')].map((family) => {
  const box = (element) => element.getBoundingClientRect();
  const limit = box(family).right;
  return [...family.querySelectorAll('label')].map((label) => {
    const input = box(label.querySelector('input')), text = box(label.querySelector('span'));
    return {name: label.textContent.trim(), family: label.classList.contains('catalogue-planner__family-name'),
            left: Math.round(input.left), top: Math.round(input.top), inputMiddle: (input.top + input.bottom) / 2,
            textMiddle: (text.top + text.bottom) / 2, overflows: box(label).right > limit + 0.5};
  });
})"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1400px"])
def test_planner_model_checkboxes_line_up(site, browser, viewport):
    page = planner_page(browser, site, "?ratio=2.4&family=Qwen3", viewport)
    page.evaluate("document.querySelector('.catalogue-planner__models').open = true")
    families = page.evaluate(CHECKBOX_GEOMETRY)
    page.context.close()
    assert families
    problems = []
    for labels in families:
        chips = [label for label in labels if not label["family"]]
        first_row = {label["left"] for label in chips if label["top"] == chips[0]["top"]}
        problems += [
            f"{label['name']}: its checkbox is at x={label['left']}, off the columns {sorted(first_row)}" for label in chips if label["left"] not in first_row
        ]
        problems += [
            f"{label['name']}: checkbox centre {label['inputMiddle'] - label['textMiddle']:+.1f} px from its text's"
            for label in labels
            if abs(label["inputMiddle"] - label["textMiddle"]) > 2
        ]
        problems += [f"{label['name']}: runs past its row" for label in labels if label["overflows"]]
        family_box = next(label for label in labels if label["family"])
        if family_box["left"] != min(first_row):
            problems.append(f"{family_box['name']}: the family's checkbox is at x={family_box['left']}, its models' at {min(first_row)}")
    assert not problems, problems


#: Values whose formatting is hard to get right: exact binary ties (0.125), values just below a rounding
#: boundary, large and small magnitudes, the planner's own (I / H, percentages).
TRICKY_VALUES = [
    0.0,
    0.125,
    0.375,
    2.5,
    1.0625,
    12.125,
    99.995,
    1.005,
    2.675,
    9.9995,
    39.99999999999999,
    2.4000000000000004,
    2.6666666666666665,
    0.00012345,
    1e-7,
    123456.789,
    1e16,
    1235814400.0,
    5.428571428571429,
    -0.001,
]
RATIO_TEXTS = ["2.4", " 2.4 ", "1_0", "+.5", "5.", "2.45e0", "1E-1", "2.4000000000000000000000000000001", "3.333333333333333333333333333333333"]


def test_planner_formats_and_reads_numbers_as_python_does(site, browser):
    from decimal import Decimal

    page = planner_page(browser, site)
    got = page.evaluate(
        """([values, texts]) => {
          const P = window.cataloguePlanner;
          return [values.map(v => [P.pyFixed(v, 2), P.pyFixed(v, 4), P.pyGeneral(v, 4), P.pyGeneral(v, 6), P.pyRepr(v)]),
                  texts.map(t => P.expansionRatePct(t))];
        }""",
        [TRICKY_VALUES, RATIO_TEXTS],
    )
    page.context.close()
    assert got[0] == [[f"{v:.2f}", f"{v:.4f}", f"{v:.4g}", f"{v:g}", repr(v)] for v in TRICKY_VALUES]
    assert got[1] == [float(Decimal(text.strip()) * 100) for text in RATIO_TEXTS]


def test_planner_form_answers_and_keeps_its_inputs_in_the_address(site, browser):
    registry = load_registry()
    family = registry["meta-llama/Llama-3.2-1B"].family
    members = [model_id for model_id, entry in registry.items() if entry.family == family]
    errors: list[str] = []
    page = planner_page(browser, site, f"?pct=40&divisor=64&family={family}", errors=errors)
    rows = page.eval_on_selector_all("#planner-results tbody tr", "rows => rows.map(r => r.dataset.model)")
    assert rows == members
    expected = {row["model_id"]: row for row in python_rows({"pct": "40", "divisor": 64})}
    kept = page.eval_on_selector_all("#planner-results tbody tr", "rows => rows.map(r => r.cells[3].textContent)")
    assert kept == [f"{expected[model_id]['intermediate_size']:,}" for model_id in members]
    assert page.input_value("#planner-target") == "40" and page.input_value("#planner-divisor") == "64"
    page.check("#planner-mode-ratio")
    page.fill("#planner-target", "3")
    page.select_option("#planner-divisor", "")
    query = page.evaluate("location.search")
    assert "ratio=3" in query and "divisor" not in query and f"family={family}".replace(" ", "+") in query
    link = page.evaluate("location.href")
    assert page.inner_text("#planner-command").startswith("catalogue plan --ratio 3")
    page.fill("#planner-target", "x")
    assert "not a number" in page.inner_text("#planner-error")
    copy = new_page(browser, DESKTOP)
    copy.goto(link, wait_until="load")
    copy.wait_for_selector("#catalogue-planner[data-ready=true]")
    assert copy.input_value("#planner-target") == "3"
    assert copy.eval_on_selector_all("#planner-results tbody tr", "rows => rows.length") == len(members)
    copy.context.close()
    page.context.close()
    assert not errors, errors


def test_planner_screenshot_for_the_readme(site, browser):
    """The README shows the planner; the picture is rewritten when CATALOGUE_WRITE_SCREENSHOT is set."""
    page = planner_page(browser, site, "?ratio=2.4&family=Llama-3.2&family=Qwen3&family=Gemma-3", {"width": 1100, "height": 900})
    page.evaluate("document.querySelector('.catalogue-planner__models').open = false")
    picture = page.locator("#catalogue-planner").screenshot()
    page.context.close()
    if os.environ.get(SCREENSHOT_ENV):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(picture)
    assert SCREENSHOT.is_file(), f"no {SCREENSHOT}: run the browser tests with {SCREENSHOT_ENV}=1"
    assert png_size(SCREENSHOT.read_bytes()) == png_size(picture)
    assert "docs/assets/planner.png" in (REPO / "README.md").read_text()


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", content[16:24])


# --- tables, links, search ---------------------------------------------------------------------------


def column(page, table: str, index: int) -> list[str]:
    return page.eval_on_selector_all(f"{table} tbody tr:not([hidden])", f"rows => rows.map(r => r.cells[{index}].textContent.trim())")


def number(text: str) -> float:
    return float(text.replace(",", "").rstrip("x%").split()[0])


def test_sorting_a_column_orders_it_and_filtering_hides_rows(site, browser):
    url, _ = site
    page = new_page(browser, DESKTOP)
    page.goto(url + "families/", wait_until="load")
    table = "article table"
    headers = page.eval_on_selector_all(f"{table} thead th", "cells => cells.map(c => c.textContent.trim())")
    ratio = headers.index("Baseline Expansion Ratio")
    header = page.locator(f"{table} thead th").nth(ratio)
    header.click()
    values = [number(text) for text in column(page, table, ratio)]
    assert values == sorted(values) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    values = [number(text) for text in column(page, table, ratio)]
    assert values == sorted(values, reverse=True) and header.get_attribute("aria-sort") == "descending"
    model = headers.index("Model")
    page.locator(f"{table} thead th").nth(model).click()
    names = column(page, table, model)
    assert names == sorted(names, key=str.lower)
    registry = load_registry()
    family = registry["Qwen/Qwen3-0.6B"].family
    page.fill(".catalogue-filter__input", family)
    shown = column(page, table, headers.index("Family"))
    assert shown and set(shown) == {family}
    page.context.close()


def test_home_links_its_example_to_the_exact_row(site, browser):
    url, _ = site
    page = new_page(browser, DESKTOP)
    page.goto(url, wait_until="load")
    link = page.locator("article p", has_text="Equal ratios need unequal pruning").locator("a[href*='#pruning-']").first
    href = link.get_attribute("href")
    link.click()
    page.wait_for_load_state("load")
    anchor = href.split("#")[1]
    assert page.evaluate("location.hash") == "#" + anchor
    row = page.locator(f"tr:has(span#{anchor})")
    assert row.count() == 1
    assert page.evaluate(f"getComputedStyle(document.querySelector('tr:has(span#{anchor}) td')).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.context.close()


def search_results(browser, url: str, query: str, wanted: str):
    """A fresh page of the site with ``query`` in mkdocs-material's search: (page, result addresses, what it said, its
    console errors and page errors).

    The index is built in a web worker after the page loads, and under load a query can race it;
    the query is typed again until results show, and the results are read once the first is
    ``wanted`` (or after 30 s, whatever they are then).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    messages: list[str] = []
    errors: list[str] = []
    page = new_page(browser, DESKTOP, errors=errors)
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
    page.goto(url, wait_until="networkidle")
    page.click("label.md-header__button[for=__search]") if not page.is_visible(".md-search__input") else None
    page.wait_for_function(  # "Initializing search" until the worker is ready
        "() => { const meta = document.querySelector('.md-search-result__meta');"
        " return meta !== null && meta.textContent.trim() !== '' && !/Initializing/i.test(meta.textContent) }",
        timeout=120_000,
    )
    page.fill(".md-search__input", query)
    for _ in range(20):
        try:
            page.wait_for_selector(".md-search-result__item", timeout=3_000)
            break
        except PlaywrightTimeout:  # under load the worker can answer an empty query: type the text key by key instead
            page.fill(".md-search__input", "")
            page.locator(".md-search__input").press_sequentially(query, delay=10)
    try:
        page.wait_for_function(
            "(wanted) => { const a = document.querySelector('.md-search-result__link'); return a !== null && a.href.split(/[?#]/)[0] === wanted }",
            arg=wanted,
            timeout=30_000,
        )
    except PlaywrightTimeout:
        pass
    found = _settled_results(page)
    state = page.evaluate("[document.querySelector('.md-search-result__meta')?.textContent, document.querySelector('.md-search__input')?.value]")
    return page, found, f"search said {state[0]!r} for {state[1]!r}; console: {messages[-10:]}", errors


def _settled_results(page, quiet_ms: int = 1_000, tries: int = 20) -> list[str]:
    """The result addresses once they stay the same for ``quiet_ms``: a query typed key by key is
    answered once per key, and a late answer to a shorter prefix can replace the list after it
    first showed the wanted page."""
    read = "links => links.map(a => a.href.split(/[?#]/)[0])"
    found = page.eval_on_selector_all(".md-search-result__link", read)
    for _ in range(tries):
        page.wait_for_timeout(quiet_ms)
        again = page.eval_on_selector_all(".md-search-result__link", read)
        if again == found:
            break
        found = again
    return found


def test_search_for_a_model_id_reaches_its_page(site, browser):
    url, _ = site
    model_id = "meta-llama/Llama-3.2-3B-Instruct"
    wanted = url + "models/meta-llama-llama-3-2-3b-instruct/"
    for _ in range(3):  # a page whose search worker never answered is tried afresh
        page, targets, diagnosis, errors = search_results(browser, url, model_id, wanted)
        if targets:
            break
        page.context.close()
    assert targets and targets[0] == wanted, (targets, diagnosis)
    assert not errors, errors  # the whole search index, indexed in the worker (the page checks give it none: ``visits``)
    page.locator(".md-search-result__link").first.click()  # the list has settled (search_results)
    page.wait_for_load_state("load")
    assert page.evaluate("location.origin + location.pathname") == wanted
    assert model_id in page.inner_text("h1")
    page.context.close()


# --- charts -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_charts_render_hover_and_toggle_in_both_palettes(site, browser, scheme):
    url, _ = site
    errors: list[str] = []
    page = new_page(browser, PHONE if scheme == "dark" else DESKTOP, scheme, errors)
    page.goto(url + "plots/", wait_until="load")
    data = page.evaluate("window.CATALOGUE_DATA")
    palette = data["styles"]["palettes"]["dark" if scheme == "dark" else "light"]
    charts = page.locator(".catalogue-chart--live")
    assert charts.count() == len(data["charts"])
    for index in range(charts.count()):
        chart = charts.nth(index)
        spec = data["charts"][chart.get_attribute("data-chart")]
        assert chart.get_attribute("data-palette") == ("dark" if scheme == "dark" else "light")
        assert not chart.locator("img").first.is_visible()  # the static SVG is for readers without JavaScript
        labels = chart.locator(".u-legend .u-series .u-label").all_inner_texts()
        series = [item["label"] for item in spec["series"]]
        assert labels[: len(series)] == series
        assert len(set(series)) == len(series)
        sizes = chart.locator(".u-legend .u-series .u-label").evaluate_all("ls => ls.map(l => parseFloat(getComputedStyle(l).fontSize))")
        assert min(sizes) >= 11, f"legend text of {min(sizes)} px"
        markers = chart.locator(".u-legend .u-series .u-marker").evaluate_all("ms => ms.map(m => getComputedStyle(m).borderColor)")
        assert markers[0] == rgb(palette["series"][0])
        chart.scroll_into_view_if_needed()
        box = chart.locator(".u-over").bounding_box()
        page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
        tooltip = chart.locator(".catalogue-chart__tooltip")
        tooltip.wait_for(state="visible")
        assert "% pruned" in tooltip.inner_text() and spec["value_suffix"].strip() in tooltip.inner_text()
        legend = chart.locator(".u-legend .u-series").nth(0)
        legend.click()
        assert "u-off" in (legend.get_attribute("class") or "")
        legend.click()
        assert "u-off" not in (legend.get_attribute("class") or "")
    page.context.close()
    assert not errors, errors


def rgb(colour: str) -> str:
    value = colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(value[index : index + 2], 16) for index in (0, 2, 4)))


def test_equal_series_share_a_line_named_together(site, browser):
    url, _ = site
    page = new_page(browser, DESKTOP)
    page.goto(url + "plots/", wait_until="load")
    data = page.evaluate("window.CATALOGUE_DATA")
    page.context.close()
    for spec in data["charts"].values():
        points = [json.dumps(series["points"]) for series in spec["series"]]
        assert len(points) == len(set(points)), "two series on the same points would hide one another"


# --- outcome charts ------------------------------------------------------------------------------------

#: Every outcome chart the page drew: what it measures and, per series, the points uPlot plots (from the
#: chart object) beside the site data's points, spreads, levels and links.
OUTCOME_CHARTS = """() => window.catalogueCharts.map(({container, plot}) => {
  const spec = window.CATALOGUE_DATA.outcome_charts[container.dataset.chart];
  if (spec === undefined) return null;
  return {
    name: container.dataset.chart, measure: spec.measure, palette: container.dataset.palette,
    labels: plot.series.slice(1).map((s) => s.label),
    series: spec.series.map((s, index) => ({
      label: s.label, model: s.model, points: s.points, spreads: s.spreads, pcts: s.pcts, links: s.links,
      sources: s.sources || null, files: s.files || null, line: s.line !== false,
      unjoined: s.line === false ? plot.series[index + 1].paths(plot, index + 1, 0, 0) === null : null,
      plotted: plot.data[0].map((x, at) => [x, plot.data[index + 1][at]]).filter((point) => point[1] !== null),
    })),
  };
}).filter(Boolean)"""


def is_outcome_page(address: str) -> bool:
    """Whether the page is a task's or a workload's outcome page (its charts: ``OUTCOME_CHARTS``)."""
    return "/outcomes/tasks/" in address or "/outcomes/workloads/" in address


def outcome_page_urls(folder: Path, url: str) -> list[str]:
    return [address for address in page_urls(folder, url) if is_outcome_page(address)]


def measure_label(measure: dict) -> str:
    return measure["name"] + (f" ({measure['filter']})" if measure["filter"] not in (None, "none") else "")


def test_outcome_charts_plot_the_outcomes_at_their_records_ratios(site, visits):
    """Every point of every outcome chart is an outcome of data/outcomes.json at its record's expansion ratio, with its
    spread, level and a link to its record's row; the same value read from two files is one point naming both files;
    at 390 px, in the page's palette (the pages are seen in light and dark in turn: ``visits``)."""
    from site_outcomes import shown_outcomes

    url, folder = site
    plotted, bound_charts = [], []
    addresses = outcome_page_urls(folder, url)
    assert addresses, "the sitemap has no outcome page"
    assert {visits[address].scheme for address in addresses} == {"light", "dark"}
    for address in addresses:
        visit = visits[address]
        placed, live = visit.chart_counts
        assert placed == live > 0, address
        for chart in visit.outcome_charts:
            if chart["name"] == SPEEDUP_CHART:  # derived from the outcomes, not one: checked on its own
                bound_charts.append((visit.scheme, chart))
                continue
            assert chart["palette"] == visit.scheme and chart["labels"] == [series["label"] for series in chart["series"]], chart["name"]
            measure = chart["measure"]
            for series in chart["series"]:
                assert sorted(map(tuple, series["plotted"])) == sorted(map(tuple, series["points"])), (chart["name"], series["label"])
                assert len(set(series["pcts"])) == len(series["pcts"]), (chart["name"], series["label"])  # a point per record
                assert series["line"] or series["unjoined"], (chart["name"], series["label"])  # single runs: points, no line
                sources = series["sources"] or [None] * len(series["points"])
                for (ratio, value), spread, pct, link, files in zip(series["points"], series["spreads"], series["pcts"], series["links"], sources):
                    names = [series["files"][index] for index in files] if files else [None]
                    for name in names:
                        plotted.append((measure["kind"], measure["subject"], measure_label(measure), series["model"], pct, ratio, value, spread, name))
                    page_path, anchor = link.split("#")
                    assert page_path == f"models/{re.sub(r'[^a-z0-9]+', '-', series['model'].lower()).strip('-')}/", link
                    assert f'id="{anchor}"' in (folder / page_path / "index.html").read_text(encoding="utf-8"), link
    # Each stored value once: a point shown once for several files counts once per file, and names each of them.
    stored = [(item.kind, item.subject, item.label, item.model, item.pct, item.ratio, item.value, item.spread, item.file) for item in shown_outcomes()]
    assert sorted((item[:-1] for item in plotted), key=repr) == sorted((item[:-1] for item in stored), key=repr)
    assert {item for item in plotted if item[-1] is not None} <= set(stored)
    assert any(item[-1] is not None for item in plotted), "no point of the shipped data stands for two files"
    assert len(bound_charts) == 1, [chart["name"] for _, chart in bound_charts]
    [(scheme, bound)] = bound_charts
    assert bound["palette"] == scheme and bound["labels"] == [series["label"] for series in bound["series"]] + ["no speed-up"]
    drawn = {}
    for series in bound["series"]:
        assert sorted(map(tuple, series["plotted"])) == sorted(map(tuple, series["points"])), series["label"]
        for (_, value), pct in zip(series["points"], series["pcts"]):
            drawn[(series["model"], series["label"].endswith("(weight bytes)"), pct)] = value
    rows = speedups(read_outcomes(DATA).outcomes)
    expected_bound = {(row.base_model, is_bound, row.pruning_pct): row.bound if is_bound else row.measured for row in rows for is_bound in (False, True)}
    assert drawn.keys() == expected_bound.keys() and all(drawn[key] == pytest.approx(value) for key, value in expected_bound.items())


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_outcome_chart_hovers_toggles_and_opens_the_record(site, browser, scheme):
    """At 390 px: hovering a point shows its value and spread, a legend click hides its series, a click opens its record's row."""
    url, folder = site
    errors: list[str] = []
    page = new_page(browser, PHONE, scheme, errors)
    address = next(address for address in outcome_page_urls(folder, url) if "/gsm8k/" in address)  # a task with stderrs
    page.goto(address, wait_until="load")
    chart = page.locator(".catalogue-chart--live").first
    chart.scroll_into_view_if_needed()
    spec = page.evaluate(OUTCOME_CHARTS)[0]
    series = spec["series"][0]
    at = len(series["points"]) // 2
    (ratio, value), spread, pct = series["points"][at], series["spreads"][at], series["pcts"][at]
    where = page.evaluate("([x, y]) => { const plot = window.catalogueCharts[0].plot; return [plot.valToPos(x, 'x'), plot.valToPos(y, 'y')] }", [ratio, value])
    box = chart.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + where[0], box["y"] + where[1])
    tooltip = chart.locator(".catalogue-chart__tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert f"{ratio:.2f}x expansion ratio" in text and f"{value:.7g}" in text and f"{pct} % pruned" in text, text
    assert spread is None or f"± {spread:.3g}" in text, text
    legend = chart.locator(".u-legend .u-series").nth(0)
    legend.click()
    assert "u-off" in (legend.get_attribute("class") or "")
    assert page.evaluate("window.catalogueCharts[0].plot.series[1].show") is False
    legend.click()
    assert page.evaluate("window.catalogueCharts[0].plot.series[1].show") is True
    page.mouse.move(box["x"] + where[0], box["y"] + where[1] + 1)
    tooltip.wait_for(state="visible")
    with page.expect_navigation():
        page.mouse.click(box["x"] + where[0], box["y"] + where[1] + 1)
    assert page.evaluate("location.pathname + location.hash").endswith(series["links"][at]), series["links"][at]
    assert page.locator(f"span#pruning-{pct}").count() == 1
    page.context.close()
    assert not errors, errors


# --- downloads ------------------------------------------------------------------------------------------


def test_downloads_download_and_hashes_copy(site, browser):
    url, _ = site
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(url + "downloads/", wait_until="load")
    link = page.locator("a[download='expansion_rates.json']")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "expansion_rates.json"
    content = Path(download.path()).read_bytes()
    assert content == (DATA / "expansion_rates.json").read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    code = page.locator("code.catalogue-hash", has_text=digest)
    assert code.count() == 1
    button = code.locator("xpath=following-sibling::button[1]")
    button.click()
    assert page.evaluate("navigator.clipboard.readText()") == digest
    assert button.inner_text() == "Copied"
    context.close()


# --- equal ratios and the change from baseline ------------------------------------------------------------


def test_equal_ratios_page_shows_what_catalogue_compare_lists(site, browser):
    """At 2.4x: 1B@40 beside 3B@10, each task's change from its baseline in the table and the chart, as compare() gives them."""
    from glu_catalogue import compare

    url, _ = site
    errors: list[str] = []
    page = new_page(browser, DESKTOP, "light", errors)
    page.goto(url + "outcomes/equal-ratios/", wait_until="load")
    page.locator("article a[href='#ratio-2-40']").first.click()  # pick the ratio
    assert page.evaluate("location.hash") == "#ratio-2-40"
    expected = compare(ratio=2.4)
    expected = expected[expected["change_pct"].notna() & (expected["kind"] == "score")]
    cells = page.evaluate(
        """() => { let node = document.getElementById('ratio-2-40').nextElementSibling;
                   const data = (item) => item.matches('table') ? item : item.querySelector('table:not(.u-legend)');
                   while (node && node.tagName !== 'H2' && !data(node)) node = node.nextElementSibling;
                   return [...data(node).tBodies[0].rows].map((row) => [...row.cells].map((cell) => cell.innerText.trim())); }"""
    )
    shown = {(measure, level): change for measure, level, _, _, _, change, _ in cells}
    for model, pct, study in (("meta-llama/Llama-3.2-1B", 40, "-13.6 %"), ("meta-llama/Llama-3.2-3B", 10, "-22.7 %")):
        assert shown[("mmlu accuracy", f"{model}@{pct}")] == study
    for row in expected.itertuples():
        label = f"{row.task} {row.measure}" + (f" ({row.filter})" if isinstance(row.filter, str) and row.filter != "none" else "")
        assert shown[(label, row.record)] == f"{row.change_pct:+.1f} %", (label, row.record)
    chart = page.evaluate(
        """() => { const item = window.catalogueCharts.find((c) => c.container.dataset.chart === 'equal-ratio-2-40');
                   const spec = window.CATALOGUE_DATA.outcome_charts['equal-ratio-2-40'];
                   return {categories: spec.categories, labels: item.plot.series.slice(1).map((s) => s.label),
                           data: item.plot.data.slice(1), live: item.container.classList.contains('catalogue-chart--live')}; }"""
    )
    assert chart["live"]
    mmlu = chart["categories"].index("mmlu accuracy")
    plotted = {label: values[mmlu] for label, values in zip(chart["labels"], chart["data"])}
    assert plotted["Llama-3.2-1B @ 40 %"] == pytest.approx(100 * (0.2689 - 0.3111) / 0.3111)
    assert plotted["Llama-3.2-3B @ 10 %"] == pytest.approx(100 * (0.4333 - 0.5605) / 0.5605)
    page.context.close()
    assert not errors, errors


def test_an_outcome_chart_switches_to_the_change_from_baseline(site, browser):
    """The mmlu chart's "Change from baseline" button plots each level's change from its series' 0 % point."""
    url, _ = site
    errors: list[str] = []
    page = new_page(browser, DESKTOP, "light", errors)
    page.goto(url + "outcomes/tasks/mmlu/", wait_until="load")
    chart = page.locator(".catalogue-chart--live").first
    chart.get_by_role("button", name="Change from baseline").click()
    drawn = page.evaluate(
        """() => { const item = window.catalogueCharts[0]; const spec = window.CATALOGUE_DATA.outcome_charts[item.container.dataset.chart];
                   return {view: item.container.dataset.view, xs: item.plot.data[0], ys: item.plot.data.slice(1),
                           series: spec.series.map((s) => ({label: s.label, points: s.points, pcts: s.pcts}))}; }"""
    )
    assert drawn["view"] == "change"
    for series, ys in zip(drawn["series"], drawn["ys"]):
        base = dict(zip(series["pcts"], (value for _, value in series["points"]))).get(0)
        if base is None:
            continue
        for (ratio, value), pct in zip(series["points"], series["pcts"]):
            assert ys[drawn["xs"].index(ratio)] == pytest.approx(100 * (value - base) / base), (series["label"], pct)
    chart.get_by_role("button", name="Values").click()
    assert page.evaluate("window.catalogueCharts[0].container.dataset.view") == "values"
    page.context.close()
    assert not errors, errors

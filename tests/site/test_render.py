"""The site as a publication: its addresses, licence, citation and header; its wording; the browser code's data.

These read the repository and the site built by ``mkdocs build --strict`` (the ``site`` fixture);
the same site in a real browser is ``tests/e2e/test_browser.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import DATA, REPO, load_json
from site_outcomes import page_charts, shown_outcomes

from glu_catalogue.core import formulas
from glu_catalogue.pipeline.check import check as verify
from glu_catalogue.planning.planner import plan_for_pct, pruned_status
from glu_catalogue.site.data import DATA_FILE, chart_data
from glu_catalogue.site.generated import generated_texts, read_site_files, site_content
from glu_catalogue.site.plots import plot_specs
from glu_catalogue.site.views import all_groups, tied_extremes
from glu_catalogue.store.registry import load_registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
DOCS = REPO / "docs"
VENDOR = DOCS / "javascripts" / "vendor"


def content():
    return site_content(read_site_files(DATA), load_registry(), verify(check_docs=False))


def data_document(text: str) -> dict:
    """The JSON the data file assigns to window.CATALOGUE_DATA."""
    prefix = "window.CATALOGUE_DATA = "
    body = text.split(prefix, 1)[1].rstrip().removesuffix(";")
    return json.loads(body)


# --- addresses, licence, citation, header -----------------------------------------------------------


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    files = []
    for name in names:
        path = REPO / name
        if path.suffix in {".png", ".svg"} or not path.is_file():
            continue
        files.append(path)
    return files


def test_the_project_addresses_are_written_in_pyproject_only():
    addresses = [url.rstrip("/") for url in PROJECT["urls"].values()]
    assert {"Homepage", "Documentation"} <= set(PROJECT["urls"])
    found = [
        f"{path.relative_to(REPO)}: {address}"
        for path in tracked_text_files()
        if path.name != "pyproject.toml" and path != REPO / "README.md"
        for address in addresses
        if address in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert not found, found


def test_the_readmes_links_to_the_site_are_pages_it_has():
    """The README, read on the forge, links to the site at pyproject's Documentation address: each link is a page of docs/."""
    site = PROJECT["urls"]["Documentation"]
    links = re.findall(r"\]\((https?://[^)\s]+)\)", (REPO / "README.md").read_text(encoding="utf-8"))
    pages = [link.removeprefix(site) for link in links if link.startswith(site)]
    assert len(pages) >= 8, "the README's tour links each job to its page on the site"
    for page in pages:
        source = REPO / "docs" / (page.rstrip("/") + ".md" if page else "index.md")
        assert source.is_file(), f"README links to {site}{page}, which docs/ does not have"
    other_hosts = {re.match(r"https?://[^/]+", link)[0] for link in links if not link.startswith(site)}
    assert not {host for host in other_hosts if "glu-catalogue" in host}, "a link to the site not at pyproject's Documentation address"


def test_the_built_site_is_published_where_pyproject_says_with_its_licence_repository_and_data_version(site):
    documentation = PROJECT["urls"]["Documentation"]
    repository = PROJECT["urls"]["Homepage"]
    sitemap = (site / "sitemap.xml").read_text()
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert locations and all(location.startswith(documentation) for location in locations)
    assert f"{documentation}models/meta-llama-llama-3-2-1b/" in locations
    missing = (site / "404.html").read_text()
    subpath = "/" + documentation.split("://", 1)[1].split("/", 1)[1]
    assert f'href="{subpath}assets/stylesheets/' in missing and f'src="{subpath}javascripts/catalogue.js"' in missing
    home = (site / "index.html").read_text()
    assert f'href="{repository}"' in home and f'{repository}/blob/main/LICENSE">{PROJECT["license"]["text"]}</a>' in home
    metadata = load_json(DATA / "expansion_rates.json")["metadata"]
    header = re.search(r'<div class="md-header__catalogue".*?</div>', home, re.S).group(0)
    assert f"schema {metadata['schema_version']}" in header and f"data {metadata['generated_at'][:10]}" in header
    assert (REPO / "LICENSE").read_text().lstrip().startswith("Apache License")


def test_the_cite_page_renders_citation_cff(site):
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == PROJECT["version"] and citation["license"] == PROJECT["license"]["text"]
    page = (site / "cite" / "index.html").read_text()
    text = re.sub(r"<[^>]+>", "", page)
    assert citation["title"] in text and f"Version {citation['version']}" in text
    assert "@software{glu_catalogue" in text and PROJECT["urls"]["Homepage"] in text
    assert (site / "CITATION.cff").read_bytes() == (REPO / "CITATION.cff").read_bytes()


def test_no_page_loads_anything_from_another_host(site):
    loads = re.compile(r'<(?:script|img|iframe)[^>]+src="([^"]+)"|<link[^>]+href="([^"]+)"[^>]*>')
    for path in site.rglob("*.html"):
        for match in loads.finditer(path.read_text(encoding="utf-8")):
            address = match.group(1) or match.group(2)
            tag = match.group(0)
            if "<link" in tag and not re.search(r'rel="(stylesheet|icon|preload|modulepreload)"', tag):
                continue  # canonical and alternate links are addresses, not loads
            assert not re.match(r"(https?:)?//", address), f"{path.relative_to(site)} loads {address}"


# --- wording ---------------------------------------------------------------------------------------


INTERNAL = re.compile(r"glu_catalogue|\bcatalogue\.[a-z_]+\b|\bformulas\.|check_complete|\blegacy\b|\b\w+\.py\b")


def test_public_pages_name_no_internal_code():
    texts = generated_texts(content())
    texts.update({f"schemas/{path.name}": path.read_text() for path in (REPO / "schemas").glob("*.json")})
    found = {path: INTERNAL.findall(re.sub(r"https?://\S+", "", text)) for path, text in texts.items() if not path.endswith(".js")}
    assert not {path: names for path, names in found.items() if names}


def test_ties_are_said_as_ties():
    """The lowest and highest baseline ratios name every model at that ratio, and "(a tie)" exactly when several."""
    site = content()
    groups = [group for group in all_groups(site.views) if group.baseline is not None]
    pages = generated_texts(site)
    for value, tied in tied_extremes([(group.baseline.expansion_rate, group) for group in groups]):
        for path in ("observations.md", "equivalence.md"):
            sentence = next(line for line in pages[path].splitlines() if f"{value:.2f}x for" in line)
            tail = sentence.split(f"{value:.2f}x for", 1)[1]
            for group in tied:
                assert group.model_ids[0].split("/")[-1] in tail, (path, group.label)
            assert ("(a tie)" in tail) == (len(tied) > 1), (path, value)


def test_a_tie_is_said_as_a_tie():
    """Two groups at one ratio (the shipped data's extremes need not tie): both linked, then "(a tie)"."""
    from glu_catalogue.site.render import _ties

    first, second = [group for group in all_groups(content().views) if group.baseline is not None][:2]
    text = _ties("observations.md", [first, second])
    assert text.endswith(" (a tie)")
    assert first.model_ids[0].split("/")[-1] in text and second.model_ids[0].split("/")[-1] in text
    assert "(a tie)" not in _ties("observations.md", [first])


# --- the browser code's data ----------------------------------------------------------------------------


def test_the_data_file_gives_the_planner_the_closed_form_and_the_charts_their_series():
    site = content()
    texts = generated_texts(site)
    assert texts == generated_texts(content()), "deterministic"
    document = data_document(texts[DATA_FILE])
    assert (DOCS / DATA_FILE).read_text() == texts[DATA_FILE]
    registry = load_registry()
    models = document["planner"]["models"]
    assert [model["model_id"] for model in models] == list(registry)
    for model in models:
        entry = registry[model["model_id"]]
        shape = entry.architecture
        assert (model["hidden_size"], model["intermediate_size"]) == (shape.hidden_size, shape.intermediate_size)
        if entry.not_prunable:  # a mixture of experts: catalogue plan's status and note, no numbers
            row = plan_for_pct(entry, 20)
            assert (model["pruned_status"], model["pruned_note"]) == (row.status, row.note) == ("not-prunable", row.note)
            assert row.total_parameters is None
            continue
        assert (model["pruned_status"], model["pruned_note"]) == pruned_status(entry)
        for kept in (1, shape.intermediate_size // 3, shape.intermediate_size):
            removed = (shape.intermediate_size - kept) * model["parameters_per_neuron"]
            assert model["total_parameters"] - removed == formulas.total_parameters(shape, kept)
        if model["page"]:
            assert (DOCS / (model["page"].rstrip("/") + ".md")).is_file()
    assert document["planner"]["divisors"] == list(formulas.EXPANSION_DIVISORS)
    assert document["charts"] == json.loads(json.dumps(chart_data(plot_specs(all_groups(site.views)))))


def test_each_outcome_chart_draws_one_line_per_model_and_way_of_measuring():
    """A bench or evaluate file holds one level; the levels of one model measured one way (tool, machine,
    device, dtype, weights) are one line against the expansion ratio, not a one-point series per file."""
    charts = page_charts(DOCS)
    stored = load_json(DATA / "outcomes.json")["outcomes"]
    for name, chart in charts.items():
        labels = [series["label"] for series in chart["series"]]
        assert len(labels) == len(set(labels)), (name, labels)
    ways: dict[tuple, set] = {}
    for outcome in stored:
        how = outcome.get("measurement")
        if how and outcome["kind"] == "efficiency":
            way = (how["tool"], how["machine"], how["device"], how["dtype"], how["weights"], how["weights_source"])
            ways.setdefault((outcome["workload"]["name"], outcome["quantity"], outcome["base_model"]), set()).add(way)
    assert ways, "the shipped data holds the CPU bench"
    for (workload, quantity, model), measured_ways in ways.items():
        chart = next(c for c in charts.values() if c["measure"]["subject"] == workload and c["measure"]["name"] == quantity)
        lines = [series for series in chart["series"] if series["model"] == model]
        assert len(lines) == len(measured_ways), (workload, quantity, model, [line["label"] for line in lines])
        levels = {o["pruning_pct"] for o in stored if o["base_model"] == model and (o.get("workload") or {}).get("name") == workload}
        assert sorted(lines[0]["pcts"]) == sorted(levels), (workload, quantity, model)


# --- the vendored charting library ------------------------------------------------------------------


def test_vendored_files_are_what_the_manifest_says():
    manifest = load_json(VENDOR / "manifest.json")
    mkdocs = (REPO / "mkdocs.yml").read_text()
    for package, entry in manifest.items():
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]+=*", entry["integrity"]), package
        assert entry["tarball"].startswith(f"https://registry.npmjs.org/{package}/") and entry["version"] in entry["tarball"]
        assert "LICENSE" in entry["files"], f"{package} is vendored without its licence"
        for target, digest in entry["sha256"].items():
            assert hashlib.sha256((VENDOR / target).read_bytes()).hexdigest() == digest, target
        for target in entry["files"].values():
            if target.endswith((".js", ".css")):
                assert f"javascripts/vendor/{target}" in mkdocs, f"mkdocs.yml does not load {target}"


@pytest.mark.parametrize("name", ["catalogue.js"])
def test_the_browser_code_loads_nothing_from_other_hosts(name):
    source = (DOCS / "javascripts" / name).read_text()
    assert not re.search(r"\bfetch\(|XMLHttpRequest|https?://", source)


# --- the outcomes --------------------------------------------------------------------------------------


def markdown_cells(line: str) -> tuple:
    """A Markdown table row's cells as read: links reduced to their text, code to its content, escapes removed."""
    cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
    return tuple(re.sub(r"\\(.)", r"\1", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", cell)).replace("`", "") for cell in cells)


def test_a_model_page_lists_its_outcomes():
    """Each model with outcomes has an Outcomes table with one row per value: level, ratio, task, metric, value, stderr, file
    (the study's single carbon runs are on their workloads' pages, not here: the table lists their means)."""
    from glu_catalogue.site.links import model_page
    from glu_catalogue.site.outcome_pages import MODEL_OUTCOME_COLUMNS

    pages = generated_texts(content())
    expected: dict[str, list[tuple]] = {}
    for item in shown_outcomes():
        row = (str(item.pct), item.ratio_text, item.subject, item.label, item.value_text, item.spread_text, item.file)
        if item.format != "study-carbon-run":
            expected.setdefault(item.model, []).append(row)
    assert expected, "data/outcomes.json holds no outcome of a catalogue record"
    for path, text in pages.items():
        if not path.startswith("models/"):
            continue
        model_id = next((model_id for model_id in expected if model_page(model_id) == path), None)
        if model_id is None:
            assert "## Outcomes" not in text, f"{path} lists outcomes it has none of"
            continue
        section = text.split("## Outcomes\n", 1)[1].split("\n## ", 1)[0]
        lines = [line for line in section.splitlines() if line.startswith("|")]
        assert markdown_cells(lines[0]) == MODEL_OUTCOME_COLUMNS
        rows = [markdown_cells(line) for line in lines[2:]]
        assert sorted(rows) == sorted(expected[model_id]), model_id
        links = re.findall(r"\]\(([^)]+)\)", section)
        assert all(link.startswith(("#pruning-", "../outcomes/")) for link in links), links


def _article(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("<article", 1)[1].split("</article>", 1)[0]


def test_the_checked_results_page_lists_every_left_out_value_with_its_reason(site):
    """Every file read, with its path, sha256 and counts, linked to its values left out; every value left out, in a row
    of its own with its reason, under its file on a page of values left out that links back to the file's entry."""
    from html import unescape

    from glu_catalogue.site.checked_results import LEFT_OUT_ANCHOR
    from glu_catalogue.site.outcome_pages import source_anchor

    document = load_json(DATA / "outcomes.json")
    article = _article(site / "outcomes" / "checked" / "index.html")

    def text(html: str) -> str:
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())

    left_out = document["left_out"]
    assert left_out, "data/outcomes.json leaves nothing out: nothing to show"
    pages = {path.parent.name: _article(path) for path in sorted((site / "outcomes").glob("left-out-*/index.html"))}
    linked = set(re.findall(r'href="\.\./(left-out-\d+)/"', article.split(f'id="{LEFT_OUT_ANCHOR}"', 1)[1]))
    assert pages and linked == set(pages), "the checked page lists every page of values left out"
    rows = {name: [text(row) for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)] for name, html in pages.items()}
    for item in left_out:
        parts = [item["record"] or "—", item["what"], item["value"], item["reason"], item["kind"], item["source"]["location"]]
        anchor = source_anchor(item["source"]["sha256"])
        name = next((name for name, html in pages.items() if f'id="{anchor}"' in html), None)
        assert name is not None, f"no page of values left out has the file {item['source']['path']}"
        assert f'href="../checked/#{anchor}"' in pages[name], f"{name} does not link {anchor} back to its entry"
        assert f'href="../{name}/#{anchor}"' in article, f"the checked page does not link {anchor} to {name}"
        matching = [row for row in rows[name] if all(" ".join(part.split()) in row for part in parts)]
        assert len(matching) >= 1, f"no row of {name} shows {parts}"
    files = len({(item["source"]["path"], item["source"]["sha256"]) for item in left_out})
    assert sum(len(found) for found in rows.values()) == len(left_out) + files  # per file a header, then a row per value
    whole = text(article)
    sources = {(item["source"]["path"], item["source"]["sha256"]) for item in document["outcomes"] + left_out}
    for path, sha256 in sources:
        stored = sum(outcome["source"]["sha256"] == sha256 for outcome in document["outcomes"])
        dropped = sum(item["source"]["sha256"] == sha256 for item in left_out)
        block = whole.split(f"Path: {path}", 1)[1].split("Path: ", 1)[0]
        assert f"SHA-256 {sha256}" in block and f"Values stored: {stored:,}" in block and f"Values left out: {dropped:,}" in block, path


def command_options():
    """(page, command path, option strings) of every command of ``catalogue``, subcommands of groups included."""
    import click

    from glu_catalogue.cli.commands import cli

    found = []
    for name, command in sorted(cli.commands.items()):
        found.append((name, name, command))
        if isinstance(command, click.Group):
            found += [(name, f"{name} {sub_name}", sub) for sub_name, sub in sorted(command.commands.items())]
    return [(page, path, [opt for param in command.params if isinstance(param, click.Option) for opt in param.opts]) for page, path, command in found]


def test_every_command_has_a_page_generated_from_it_with_every_option(site):
    """A command that gains an option its page lacks fails here: the pages render the click commands (mkdocs-click)."""
    for page, path, options in command_options():
        source = REPO / "docs" / "commands" / f"{page}.md"
        assert source.is_file(), f"`catalogue {path}` has no page docs/commands/{page}.md"
        html = (site / "commands" / page / "index.html").read_text(encoding="utf-8")
        assert f"catalogue {path}" in html, f"the page of `catalogue {path}` does not show its usage"
        missing = [option for option in options if option not in html]
        assert not missing, f"docs/commands/{page}.md lacks options of `catalogue {path}`: {missing}"


def test_the_study_json_and_csv_of_one_model_draw_one_line_and_values_that_differ_stay_apart():
    """The study's JSON and CSV of one table are one way of measuring: the same value (and stderr) of a record
    from both is one point naming both files; a value the two state otherwise is a second series, never merged."""
    from glu_catalogue.core.outcome_records import ScoreOutcome
    from glu_catalogue.core.records import Catalogue
    from glu_catalogue.site.data import outcome_chart
    from glu_catalogue.site.outcome_views import outcome_points, subjects

    records = Catalogue.model_validate(load_json(DATA / "expansion_rates.json")).models

    def value(pct: int, number: float, name: str, stderr: float | None = 0.01) -> ScoreOutcome:
        return ScoreOutcome(
            record=f"meta-llama/Llama-3.2-1B@{pct}",
            base_model="meta-llama/Llama-3.2-1B",
            pruning_pct=pct,
            task="arc_challenge",
            metric="acc",
            value=number,
            stderr=stderr,
            source={"path": f"study/{name}", "sha256": name[0] * 64, "format": f"study-capability-{name.rsplit('.', 1)[1]}", "location": "x"},
        )

    same = [value(0, 0.4, "a.json"), value(10, 0.38, "a.json"), value(0, 0.4, "a.csv"), value(10, 0.38, "a.csv")]
    [measure] = subjects(outcome_points(same, records))[0].measures
    [(label, points)] = measure.series
    chart = outcome_chart(measure)["series"]
    assert label == "Llama-3.2-1B" and len(points) == 4 and [len(series["points"]) for series in chart] == [2]
    assert chart[0]["files"] == ["a.csv", "a.json"] and chart[0]["sources"] == [[0, 1], [0, 1]] and "line" not in chart[0]
    for differing in (value(10, 0.37, "a.csv"), value(10, 0.38, "a.csv", stderr=0.02)):
        [measure] = subjects(outcome_points([*same[:3], differing], records))[0].measures
        labels = [label for label, _ in measure.series]
        assert labels == ["Llama-3.2-1B (study-capability)", "Llama-3.2-1B (a.csv) #2"], labels
        first, second = outcome_chart(measure)["series"]
        at = first["pcts"].index(10)
        assert first["points"][at][1] == 0.38 and second["pcts"] == [10] and second["points"][0][1] == differing.value
        assert first["sources"][at] == [first["files"].index("a.json")] and "files" not in second

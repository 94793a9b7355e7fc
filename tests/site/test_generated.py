"""The site: generated pages are current, the built site shows the data cell for cell, stale pages fail verify.

The built site is checked against the records independently of ``catalogue.render``: the tables
are parsed out of the HTML mkdocs writes and every cell is compared with the value the test
derives from ``data/expansion_rates.json`` (or the formulas, for computed equivalence cells).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import DATA, REPO, invoke, load_json, run_cli, run_here
from site_outcomes import shown_outcomes

from glu_catalogue.core import formulas
from glu_catalogue.core.architecture import Architecture
from glu_catalogue.core.derive import closed_form_provenance, closed_form_record
from glu_catalogue.core.problems import Report
from glu_catalogue.core.records import Catalogue
from glu_catalogue.pipeline.check import check as verify
from glu_catalogue.pipeline.check import docs_report
from glu_catalogue.pipeline.publish import catalogue_texts
from glu_catalogue.site.generated import check_site, read_site_files, site_content
from glu_catalogue.site.plots import PALETTES, draw_svg, plot_specs
from glu_catalogue.site.reference import VerificationSummary
from glu_catalogue.site.render import SiteContent, render_pages
from glu_catalogue.site.views import all_groups
from glu_catalogue.store.outcomes_files import outcomes_texts, read_outcomes
from glu_catalogue.store.paths import docs_dir, schemas_dir
from glu_catalogue.store.registry import load_registry
from glu_catalogue.store.schemas import rendered_schemas
from glu_catalogue.verifier.catalogue import verify_contents

DOCS = REPO / "docs"
RAW = load_json(DATA / "expansion_rates.json")
CATALOGUE = Catalogue.model_validate(RAW)
RECORDS = {(record.base_model, record.pruning_pct): record for record in CATALOGUE.models}
SUCCESSFUL = {key: record for key, record in RECORDS.items() if record.status == "success"}


def current_content() -> SiteContent:
    files = read_site_files(DATA)
    return site_content(files, load_registry(), verify(check_docs=False))


# --- (a) the committed pages are current --------------------------------------------------------------


def test_committed_site_is_current():
    assert docs_dir() == DOCS
    report = docs_report(DATA, DOCS, load_registry())
    assert report.ok, [(p.file, p.field, p.expected, p.found) for p in report.problems]
    assert report.checked["docs_pages"] == len(render_pages(current_content()))
    assert invoke("docs", "--check").exit_code == 0


def test_verify_counts_the_site():
    report = verify()
    assert report.ok
    assert report.checked["docs_pages"] >= 10
    assert report.checked["plots"] == 2 * len(PALETTES)


def test_rendering_is_deterministic():
    content = current_content()
    assert render_pages(content) == render_pages(current_content())
    spec = plot_specs(all_groups(content.views))[0]
    first, second = draw_svg(spec, "light"), draw_svg(spec, "light")
    assert first == second
    assert spec.fingerprint("light") in first and spec.fingerprint("dark") not in first


def test_every_generated_page_is_in_docs_and_says_so():
    for relative in render_pages(current_content()):
        text = (DOCS / relative).read_text()
        assert text.startswith("# ") or text.startswith("---\n"), relative
        assert "catalogue docs" in text.split("\n\n")[1] or "catalogue docs" in text, relative


# --- (b) the built site shows the data, cell for cell -----------------------------------------------


@dataclass
class Table:
    """One HTML table: its header, its rows, the models linked from each cell, and the page's title above it."""

    heading: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    styles: list[list[str]] = field(default_factory=list)
    #: Per header cell and per row's cells: the model ids its links point to.
    header_links: list[list[str]] = field(default_factory=list)
    row_links: list[list[list[str]]] = field(default_factory=list)
    title: str = ""


#: A model page's slug -> the model id (the site's model pages are ``models/<slug>/``).
MODEL_SLUGS = {re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-"): model_id for model_id, _ in RECORDS}


def linked_model(href: str) -> str | None:
    """The model id a link points to (``../models/meta-llama-llama-3-2-1b/#pruning-40``), if any."""
    match = re.search(r"models/([a-z0-9-]+)/", href)
    return MODEL_SLUGS.get(match.group(1)) if match else None


class Page(HTMLParser):
    """The tables of a built page's article, each with the page's title and the models its cells link to."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[Table] = []
        self.heading = ""
        self.title = ""
        self.images: list[str] = []
        self._text: list[str] | None = None
        self._kind = ""
        self._row: list[str] | None = None
        self._row_links: list[list[str]] = []
        self._cell_links: list[str] = []
        self._row_styles: list[str] = []
        self._cell_style = "plain"
        self._skip = 0
        self._in_header = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._skip or (tag == "a" and "headerlink" in (attrs.get("class") or "")):
            self._skip += 1 if tag == "a" else 0
            return
        if tag in ("h1", "h2", "h3", "h4", "p"):
            self._text, self._kind = [], tag
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "table":
            self.tables.append(Table(self.heading, [], title=self.title))
        elif tag == "thead":
            self._in_header = True
        elif tag == "tr":
            self._row, self._row_styles, self._row_links = [], [], []
        elif tag in ("td", "th"):
            self._text, self._kind, self._cell_style, self._cell_links = [], tag, "plain", []
        elif tag in ("em", "strong") and self._kind in ("td", "th"):
            self._cell_style = {"em": "italic", "strong": "bold"}[tag]
        elif tag == "a" and self._kind in ("td", "th") and linked_model(attrs.get("href") or ""):
            self._cell_links.append(linked_model(attrs["href"]))

    def handle_endtag(self, tag):
        if self._skip:
            self._skip -= 1 if tag == "a" else 0
            return
        if self._text is None or tag != self._kind:
            if tag == "thead":
                self._in_header = False
            elif tag == "tr" and self._row is not None:
                table = self.tables[-1]
                if self._in_header:
                    table.header, table.header_links = self._row, self._row_links
                else:
                    table.rows.append(self._row)
                    table.styles.append(self._row_styles)
                    table.row_links.append(self._row_links)
                self._row = None
            return
        text = " ".join("".join(self._text).split())
        if tag in ("h1", "h2", "h3", "h4"):
            self.heading = text
            self.title = self.title or text
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(text)
            self._row_styles.append(self._cell_style)
            self._row_links.append(self._cell_links)
        self._text = None

    def handle_data(self, data):
        if self._text is not None and not self._skip:
            self._text.append(data)


def parse(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


def html_pages(site: Path) -> dict[str, Page]:
    """Every page of the site by its URL path ('' for home)."""
    return {path.parent.relative_to(site).as_posix().strip("."): parse(path) for path in sorted(site.rglob("index.html")) if "assets" not in path.parts}


def fmt(value: float) -> str:
    """A display value as every page writes it: two decimals, thousands separators."""
    return f"{value:,.2f}"


def records_of(model_id: str) -> list:
    records = sorted((r for (m, _), r in SUCCESSFUL.items() if m == model_id), key=lambda r: r.pruning_pct)
    assert records, f"no successful record of {model_id!r}"
    return records


def check_study_table(table: Table, covered: set) -> None:
    """A model page's table: the page's title is the model id; every row equals its record."""
    model_id = table.title
    assert model_id in MODEL_SLUGS.values(), f"a study table on a page titled {model_id!r}"
    for row in table.rows:
        pct_text, ratio_text, width, millions, reduction = row
        if pct_text == "baseline":
            base = records_of(model_id)[0].original_architecture
            assert row[1:] == [f"{fmt(base.expansion_rate)}x", f"{base.intermediate_size:,}", fmt(base.total_parameters_millions), fmt(0)]
            continue
        pct = int(pct_text.replace(" (baseline)", ""))
        assert pct_text.endswith("(baseline)") == (pct == 0)
        record = SUCCESSFUL[(model_id, pct)]
        pruned = record.pruned_architecture
        assert ratio_text == f"{fmt(pruned.expansion_rate)}x", (model_id, pct)
        assert width == f"{pruned.intermediate_size:,}", (model_id, pct)
        assert millions == fmt(pruned.total_parameters_millions), (model_id, pct)
        assert reduction == fmt(record.reductions.parameter_reduction_pct), (model_id, pct)
        covered.add((model_id, pct))
    assert {int(row[0].split()[0]) for row in table.rows if row[0] != "baseline"} == {r.pruning_pct for r in records_of(model_id)}


def check_architecture_table(table: Table) -> None:
    base = records_of(table.title)[0].original_architecture
    for name, value in table.rows:
        if name == "MLP share of parameters %":
            assert value == fmt(formulas.mlp_share(base.architecture()) * 100)
            continue
        expected = getattr(base, name.replace(" (baseline)", ""))
        assert value == (str(expected).lower() if isinstance(expected, bool) else f"{expected:,}"), (table.title, name)


def expected_equivalence(model_id: str, ratio_text: str) -> tuple[str, str]:
    """(cell text, style) the equivalence table must show for a model at a ratio: records bold, computed italic."""
    target = float(ratio_text.rstrip("x"))
    records = records_of(model_id)
    pcts = [r.pruning_pct for r in records if r.pruned_architecture.expansion_rate == target]
    if pcts:
        return ", ".join(map(str, pcts)), "bold"
    base = records[0].original_architecture
    try:
        pct = formulas.pruning_pct_for_expansion_rate(base.intermediate_size, base.hidden_size, round(target * 100, 2))
        kept = formulas.kept_neurons(base.intermediate_size, pct)
    except formulas.PruningError:
        return "—", "plain"
    mark = "" if round(kept / base.hidden_size, 2) == target else " †"
    return fmt(pct) + mark, "italic"


def same_numbers(model_ids: list[str]) -> None:
    """Models named together in one cell hold identical records."""
    first = records_of(model_ids[0])
    for other in model_ids[1:]:
        assert [r.model_dump(exclude={"base_model", "provenance"}) for r in records_of(other)] == [
            r.model_dump(exclude={"base_model", "provenance"}) for r in first
        ], (model_ids[0], other)


def check_equivalence_table(table: Table, ratios_seen: set, models_seen: set) -> None:
    for models in table.header_links[1:]:
        assert models, f"an equivalence column names no model: {table.header}"
        same_numbers(models)
        models_seen.update(models)
    for row, styles in zip(table.rows, table.styles):
        ratios_seen.add(row[0])
        for models, cell, style in zip(table.header_links[1:], row[1:], styles[1:]):
            assert (cell, style) == expected_equivalence(models[0], row[0]), (models[0], row[0])


def check_baselines_table(table: Table) -> None:
    registry = load_registry()
    for (label, family, hidden, width, layers, ratio_text), links in zip(table.rows, table.row_links):
        assert links[0], label
        same_numbers(links[0])
        for model_id in links[0]:
            base = records_of(model_id)[0].original_architecture
            assert registry[model_id].family == family
            assert [hidden, width, layers, ratio_text] == [
                f"{base.hidden_size:,}",
                f"{base.intermediate_size:,}",
                f"{base.num_hidden_layers:,}",
                f"{fmt(base.expansion_rate)}x",
            ]


def check_reduction_table(table: Table) -> None:
    levels = [int(name.split()[0]) for name in table.header[2:]]
    for (label, share, *cells), links in zip(table.rows, table.row_links):
        assert links[0], label
        for model_id in links[0]:
            records = {r.pruning_pct: r for r in records_of(model_id)}
            assert share == fmt(formulas.mlp_share(records_of(model_id)[0].original_architecture.architecture()) * 100)
            for level, cell in zip(levels, cells):
                assert cell == (fmt(records[level].reductions.parameter_reduction_pct) if level in records else "")


def check_models_table(table: Table, models_seen: set) -> None:
    registry = load_registry()
    for row, links in zip(table.rows, table.row_links):
        model, family, size, hidden, width, layers, ratio_text, millions, share, levels = row
        [model_id] = links[0]
        records = records_of(model_id)
        base = records[0].original_architecture
        assert model == model_id.split("/")[-1] and (family, size) == (registry[model_id].family, registry[model_id].size_label)
        assert [hidden, width, layers] == [f"{base.hidden_size:,}", f"{base.intermediate_size:,}", f"{base.num_hidden_layers:,}"]
        assert ratio_text == f"{fmt(base.expansion_rate)}x" and millions == fmt(base.total_parameters_millions)
        assert share == fmt(formulas.mlp_share(base.architecture()) * 100)
        assert levels == f"{records[0].pruning_pct}–{records[-1].pruning_pct}"
        models_seen.add(model_id)


def check_chart_table(table: Table, charted: set) -> None:
    """The numbers behind a chart: per row, every linked model's record at each level (a ratio, or the reduction)."""
    levels = [int(name.split()[0]) for name in table.header[1:]]
    for row, links in zip(table.rows, table.row_links):
        assert links[0], row[0]
        for model_id in links[0]:  # every model named on a row has the row's values: they share a line
            records = {r.pruning_pct: r for r in records_of(model_id)}
            for level, cell in zip(levels, row[1:]):
                record = records.get(level)
                if record is None:
                    assert cell == ""
                elif cell.endswith("x"):
                    assert cell == f"{fmt(record.pruned_architecture.expansion_rate)}x", (model_id, level)
                else:
                    assert cell == fmt(record.reductions.parameter_reduction_pct), (model_id, level)
            charted.add((model_id, cell.endswith("x")))


def check_verification_table(table: Table) -> None:
    checked = {
        kind: n for kind, n in verify(check_docs=False).checked.items() if kind not in ("outcomes", "outcome_sources")
    }  # the page shows the data's report
    labels = {"Files (JSON and CSV)": "files", "Records": "records", "Values compared": "values", "CSV rows": "csv_rows", "Schema files": "schemas"}
    assert {labels[name]: int(count) for name, count in table.rows} == checked
    assert dict(table.rows)["Records"] == str(len(RAW["models"]))


def check_commands_table(table: Table) -> None:
    """The Commands page lists every declared command, in the declared order, with its help's first sentence."""
    from glu_catalogue.cli.registry import load_commands

    entries = load_commands().entries()
    assert table.rows == [[entry.title, entry.command.get_short_help_str(limit=200)] for entry in entries]


def _shown_by_key() -> dict[tuple, object]:
    """Each shown outcome by model, level, task, measure and file (the study's JSON and CSV give the same value twice)."""
    return {(item.model, item.pct, item.subject, item.label, item.file): item for item in shown_outcomes()}


def check_equal_ratio_table(table: Table, seen: set) -> None:
    """An equal-ratios section: each row what ``compare()`` lists at that ratio (the study's single carbon runs aside)."""
    from glu_catalogue import compare
    from glu_catalogue.core.comparison import pct_cell, value_cell

    ratio = float(table.heading.removesuffix("x"))
    frame = compare(ratio=ratio)
    expected = []
    for row in frame.itertuples():
        if _none(row.value) is None or all("/individual_files/" in source for source in row.sources):
            continue  # no level at the ratio, or a single carbon run
        label = f"{row.task} {row.measure}" + (f" ({row.filter})" if isinstance(row.filter, str) and row.filter != "none" else "")
        files = ", ".join(source.rsplit("/", 1)[-1] for source in row.sources)
        change = pct_cell(row.change_pct) if _none(row.change_pct) is not None else (row.note or "")
        expected.append(
            (
                label,
                row.record,
                f"{row.expansion_ratio:.4f}",
                value_cell(row.value, _none(row.spread)),
                value_cell(_none(row.baseline_value), _none(row.baseline_spread)),
                change,
                files,
            )
        )
    shared = {record for _, record, *_ in map(tuple, table.rows)}
    assert sorted(map(tuple, table.rows)) == sorted(item for item in expected if item[1] in shared), table.heading
    assert len({record.rpartition("@")[0] for record in shared}) >= 2, table.heading
    seen.add(ratio)


def _none(value):
    """A DataFrame's NaN as None."""
    import pandas

    return None if pandas.isna(value) else value


def check_study_model_table(table: Table) -> None:
    """The study's table of one model: each cell a stored value of its level and its column's metric, and its change
    from a stored baseline of the same metric."""
    model_id = next(model_id for model_id, _ in SUCCESSFUL if model_id.rsplit("/", 1)[-1] == table.heading)
    items = shown_outcomes()
    for cells in table.rows:
        pct = int(re.search(r"\((\d+) %\)", cells[0]).group(1))
        for name, cell in zip(table.header[1:], cells[1:]):
            task, _, label = name.partition(": ")
            level = {f"{item.value:g}" for item in items if (item.model, item.pct, item.subject, item.label) == (model_id, pct, task, label)}
            base = [item.value for item in items if (item.model, item.pct, item.subject, item.label) == (model_id, 0, task, label)]
            if cell == "-":
                assert not level, (model_id, pct, name)
                continue
            value, _, change = cell.partition(" (")
            assert value in level, (model_id, pct, name, cell)
            if pct and base:
                assert change.removesuffix(")") in {f"{100 * (float(value) - b) / b:+.1f} %" for b in base}, (model_id, pct, name, cell)


def check_outcomes_index_table(table: Table) -> None:
    """The list of outcome pages: per task or workload, its charts, models and values, counted from the JSON."""
    shown = shown_outcomes()
    subjects = {(item.kind, item.subject) for item in shown}
    assert len(table.rows) == len(subjects)
    for (title, kind, charts, _, values), links in zip(table.rows, table.row_links):
        is_score = kind == "lm-eval task"
        name = title if is_score else title.removesuffix(" (efficiency)")
        items = [item for item in shown if (item.kind, item.subject) == ("score" if is_score else "efficiency", name)]
        assert items, title
        assert int(charts) == len({item.label for item in items}) and int(values.replace(",", "")) == len(items), title
        assert sorted(links[3]) == sorted({item.model for item in items}), title


def check_outcome_chart_table(table: Table, seen: list) -> None:
    """The numbers behind an outcome chart: each row one outcome of the page's task and the chart's measure, linked to its record."""
    by_key = _shown_by_key()
    subject = table.title.removesuffix(" (efficiency)")
    for (model, pct, ratio_text, value, spread, file_name), links in zip(table.rows, table.row_links):
        [model_id] = links[0]
        item = by_key[(model_id, int(pct), subject, table.heading, file_name)]
        assert model == model_id.split("/")[-1] and ratio_text == item.ratio_text, (model_id, pct)
        assert (value, spread, file_name) == (item.value_text, item.spread_text, item.file), (model_id, pct, table.heading)
        seen.append(item)


def check_speedup_table(table: Table, seen: set) -> None:
    """The decode speed-up beside its bound: each benched level's decode-b1 tokens/s from outcomes.json, its speed-up over
    the 0 % level's, and the bound, the 0 % level's weight bytes over its own, as stored."""
    stored = [o for o in load_json(DATA / "outcomes.json")["outcomes"] if (o.get("measurement") or {}).get("tool") == "catalogue bench"]
    decode = {
        (o["base_model"], o["pruning_pct"]): o["value"] for o in stored if o["workload"]["name"] == "decode-b1" and o["quantity"] == "decode_tokens_per_s"
    }
    weights = {(o["base_model"], o["pruning_pct"]): o["value"] for o in stored if o["quantity"] == "weights_bytes"}
    for (model, pct, ratio_text, tokens, measured, bound), links in zip(table.rows, table.row_links):
        [model_id] = links[0]
        key = (model_id, int(pct))
        assert model == model_id.split("/")[-1] and ratio_text == f"{fmt(SUCCESSFUL[key].pruned_architecture.expansion_rate)}x"
        assert tokens == f"{decode[key]:.7g}" and measured == f"x{decode[key] / decode[(model_id, 0)]:.2f}"
        assert bound == f"x{weights[(model_id, 0)] / weights[key]:.2f}"
        seen.add(key)
    assert seen == set(decode), "every benched level is in the table"


def check_model_outcomes_table(table: Table, seen: list) -> None:
    """A model page's outcomes: each row one outcome of that model at a level, as the JSON has it."""
    by_key = _shown_by_key()
    for pct, ratio_text, task, metric, value, spread, file_name in table.rows:
        item = by_key[(table.title, int(pct), task, metric, file_name)]
        assert ratio_text == f"{fmt(SUCCESSFUL[(table.title, int(pct))].pruned_architecture.expansion_rate)}x" == item.ratio_text
        assert (value, spread, file_name) == (item.value_text, item.spread_text, item.file), (table.title, pct, task, metric)
        seen.append(item)


def check_left_out_table(table: Table, seen: dict[str, list]) -> None:
    """A file's values left out (the file named by the heading above the table): its rows, in order, kept for
    ``check_left_out_rows``."""
    seen.setdefault(table.heading, []).extend(table.rows)


def check_left_out_rows(seen: dict[str, list]) -> None:
    """The values left out: one row each, under its file's name, in the file's order, with its record, value, reason,
    kind and place."""
    expected: dict[str, list] = {}
    for item in load_json(DATA / "outcomes.json")["left_out"]:
        row = [item.get("record") or "—", item["what"], item["value"], item["reason"], item["kind"], item["source"]["location"]]
        expected.setdefault(item["source"]["path"].rsplit("/", 1)[-1], []).append([" ".join(text.split()) for text in row])
    assert seen == expected


def check_study_quote(table: Table) -> None:
    """The study's own tables (quoted on The study page) agree with the records, at the study's precision."""
    model_id = {"1B": "meta-llama/Llama-3.2-1B", "3B": "meta-llama/Llama-3.2-3B"}[re.search(r"(\d+B) Models", table.heading).group(1)]
    records = {r.pruning_pct: r for r in records_of(model_id)}
    for pct_text, ratio_text, width, millions, reduction in table.rows:
        record = records[int(pct_text.split("%")[0])]
        pruned = record.pruned_architecture
        decimals = len(ratio_text.rstrip("x").split(".")[1])
        assert float(ratio_text.rstrip("x")) == round(pruned.expansion_ratio_exact, decimals), (model_id, pct_text)
        assert int(width) == pruned.intermediate_size and float(millions) == pruned.total_parameters_millions
        assert float(reduction.rstrip("%")) == record.reductions.parameter_reduction_pct


BOUND_KEYS = {"≥": "minimum", ">": "exclusiveMinimum", "≤": "maximum", "<": "exclusiveMaximum", "length ≥": "minLength", "length ≤": "maxLength"}


def bounds(constraints: str) -> list[tuple[str, float]]:
    """(JSON Schema keyword, value) of every bound a constraints cell shows (``≥ 0; length ≤ 200``)."""
    found = []
    for part in constraints.split("; "):
        match = re.fullmatch(r"(length [≥≤]|[≥>≤<]) (-?[\d.]+)", part)
        if match:
            found.append((BOUND_KEYS[match.group(1)], float(match.group(2))))
        else:
            assert not re.search(r"\d", part) or part.startswith(("pattern", "one of", "always")), part
    return found


def check_schema_table(table: Table) -> None:
    file_name = None
    schemas = {path.name: load_json(path) for path in schemas_dir().glob("*.json")}
    if table.header[0] == "Column":
        fields = {column["name"]: column for name, schema in schemas.items() if name.endswith(".tableschema.json") for column in schema["fields"]}
        for name, kind, required, constraints, description in table.rows:
            column = fields[name]
            assert kind == column["type"] and description == column["description"]
            assert required == ("yes" if column["constraints"].get("required") else "no")
            for key, value in bounds(constraints):
                assert column["constraints"][key] == value, (name, key)
        return
    json_schemas = [schema for name, schema in schemas.items() if name.endswith(".schema.json")]
    definition = next((schema["$defs"][table.heading] for schema in json_schemas if table.heading in schema.get("$defs", {})), None)
    definition = definition or next((schema for schema in json_schemas if schema.get("title") == table.heading), schemas["expansion_rates.schema.json"])
    file_name = definition.get("title")
    for name, _, required, constraints, description in table.rows:
        prop = definition["properties"][name]
        assert required == ("yes" if name in definition.get("required", ()) else "no"), (file_name, name)
        assert description == " ".join(prop.get("description", "").split()).replace("``", "")
        branches = [prop, *prop.get("anyOf", ())]
        for key, value in bounds(constraints):
            assert any(branch.get(key) == value for branch in branches), (name, key, value)


def test_every_table_cell_of_the_built_site_equals_the_data(site):
    pages = html_pages(site)
    covered: set = set()
    ratios_seen: set = set()
    models_seen: set = set()
    charted: set = set()
    outcomes_seen: list = []
    outcomes_on_models: list = []
    checked_tables = 0
    equal_ratios: set = set()
    left_out: dict[str, list] = {}
    for url, page in pages.items():
        for table in page.tables:
            header = tuple(table.header)
            if url == "study":
                check_study_quote(table)
            elif header == ("Pruning %", "Expansion Ratio", "Intermediate Size", "Parameters (M)", "Param Reduction %"):
                check_study_table(table, covered)
            elif header == ("Field", "Value"):
                check_architecture_table(table)
            elif header[0] == "Expansion Ratio":
                check_equivalence_table(table, ratios_seen, models_seen)
            elif header == ("Model", "Family", "Hidden Size", "Intermediate Size", "Layers", "Baseline Expansion Ratio"):
                check_baselines_table(table)
            elif header[:2] == ("Model", "MLP Share %"):
                check_reduction_table(table)
            elif header[:3] == ("Model", "Family", "Size"):
                check_models_table(table, models_seen)
            elif header[0] == "Models":
                check_chart_table(table, charted)
            elif header == ("Checked", "Count"):
                check_verification_table(table)
            elif header == ("Task", "Kind", "Charts", "Models", "Values"):
                check_outcomes_index_table(table)
            elif header[:4] == ("Model", "Pruning %", "Expansion Ratio", "Value"):
                check_outcome_chart_table(table, outcomes_seen)
            elif header == ("Model", "Pruning %", "Expansion Ratio", "Decode tokens/s", "Measured speed-up", "Bound (weight bytes)"):
                check_speedup_table(table, set())
            elif header == ("Pruning %", "Expansion Ratio", "Task", "Metric", "Value", "Stderr", "Source"):
                check_model_outcomes_table(table, outcomes_on_models)
            elif header == ("Measure", "Level", "Ratio", "Value", "Baseline", "Change", "Files"):
                check_equal_ratio_table(table, equal_ratios)
            elif header[0] == "Expansion ratio (pruning)":
                check_study_model_table(table)
            elif header == ("Record", "What", "Value", "Reason", "Kind", "Where"):
                check_left_out_table(table, left_out)
            elif header[1:4] == ("Type", "Required", "Constraints"):
                check_schema_table(table)
            elif header == ("Command", "What it does"):
                check_commands_table(table)
            elif url.startswith(("commands/", "reference/")):
                continue  # hand-written reference: its commands run in test_documented_commands, its coverage table in test_coverage
            else:
                pytest.fail(f"{url}: a table with no check: {header}")
            checked_tables += 1
    assert covered == set(SUCCESSFUL), "every successful record appears in its model's table"
    assert ratios_seen == {f"{fmt(r.pruned_architecture.expansion_rate)}x" for r in SUCCESSFUL.values()}
    assert models_seen == {model_id for model_id, _ in SUCCESSFUL}
    assert {model_id for model_id, _ in charted} == models_seen and {kind for _, kind in charted} == {True, False}
    assert sorted(outcomes_seen, key=repr) == sorted(shown_outcomes(), key=repr), "every outcome is in its chart's table, once"
    on_models = [item for item in shown_outcomes() if item.format != "study-carbon-run"]  # single runs: on their workload's page
    assert sorted(outcomes_on_models, key=repr) == sorted(on_models, key=repr), "every outcome is on its model's page, once"
    check_left_out_rows(left_out)
    assert 2.4 in equal_ratios, "the equal-ratios page has 2.4x (Llama-3.2-1B at 40 %, Llama-3.2-3B at 10 %)"
    assert checked_tables >= 10


def test_downloads_offer_the_files_with_their_size_and_hash(site):
    text = (site / "downloads" / "index.html").read_text(encoding="utf-8")
    items = re.findall(
        r'<a download="([^"]+)" href="\.\./(data|schemas)/([^"]+)">[^<]+</a></strong> — <span title="([\d,]+) bytes">([^<]+)</span>'
        r'.*?<code class="catalogue-hash">([0-9a-f]{64})</code>',
        text,
        re.S,
    )
    assert len(items) == 2 + 2 + len(rendered_schemas())  # the catalogue's JSON and CSV, the outcomes', and every schema
    for name, folder, file_name, exact, human, digest in items:
        content = ((DATA if folder == "data" else schemas_dir()) / name).read_bytes()
        assert name == file_name and (site / folder / name).read_bytes() == content
        assert exact == f"{len(content):,}" and digest == hashlib.sha256(content).hexdigest()
        size = len(content)
        assert human == (f"{size / 1000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"), (name, size)


def test_the_studys_point_is_on_the_equivalence_page(site):
    text = re.sub(r"<[^>]+>", "", (site / "equivalence" / "index.html").read_text())
    line = re.search(r"2\.40x: ([^\n]*)", text).group(1)
    assert "40 % for Llama-3.2-1B (+ Instruct)" in line and "10 % for Llama-3.2-3B (+ Instruct)" in line


def test_search_index_and_palettes(site):
    index = json.loads((site / "search" / "search_index.json").read_text())
    titles = {doc["title"] for doc in index["docs"]}
    assert {"Cross-model equivalence", "Llama-3.2", "Key observations"} <= titles
    home = (site / "index.html").read_text()
    assert 'data-md-color-scheme="default"' in home and "slate" in home


# --- (c) the charts exist and the pages show them --------------------------------------------------------


def test_plots_exist_show_the_data_and_are_referenced(site):
    content = current_content()
    specs = plot_specs(all_groups(content.views))
    shown = {src.split("#")[0].rsplit("/", 1)[-1] for page in html_pages(site).values() for src in page.images}
    for spec in specs:
        for palette in PALETTES:
            name = spec.file(palette).rsplit("/", 1)[-1]
            assert name in shown, f"no page shows {name}"
            svg = (site / "plots" / name).read_text()
            assert spec.fingerprint(palette) in svg
            assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for spec in specs:
        named = " | ".join(label for label, _ in spec.series)
        for group in all_groups(content.views):
            assert group.label in named, f"{group.label} is on no line of {spec.name}"


# --- (d) a record changed without regenerating the site fails verify ------------------------------------


@pytest.fixture
def checkout_copy(tmp_path) -> Path:
    """A copy of data/ and docs/ side by side, as the default data directory (``CATALOGUE_DATA_DIR``)."""
    shutil.copytree(DATA, tmp_path / "data")
    shutil.copytree(DOCS, tmp_path / "docs")
    return tmp_path


def rewrite_records(data_dir: Path, keep) -> None:
    """Rewrite the JSON and CSV with the records ``keep`` selects, and the outcomes with theirs: consistent data, stale pages."""
    records = [record for record in CATALOGUE.models if keep(record)]
    for path, text in catalogue_texts(data_dir, records, RAW["metadata"]["optipfair_version"], "MAW").items():
        path.write_text(text)
    kept = {(record.base_model, record.pruning_pct) for record in records}
    stored = read_outcomes(data_dir)
    outcomes = stored.model_copy(update={"outcomes": [o for o in stored.outcomes if (o.base_model, o.pruning_pct) in kept]})
    for path, text in outcomes_texts(data_dir, outcomes).items():
        path.write_text(text)


def env_for(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "CATALOGUE_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}


def test_changed_record_without_regenerating_makes_verify_exit_1(checkout_copy):
    data = checkout_copy / "data"
    rewrite_records(data, lambda record: not (record.base_model.endswith("3B") and record.pruning_pct == 60))
    assert verify([data], check_docs=False).ok  # the data alone is fine
    completed = run_here("verify", "--format", "json", env=env_for(data))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    problems = json.loads(completed.stdout)["problems"]
    files = {Path(problem["file"]).relative_to(checkout_copy / "docs").as_posix() for problem in problems}
    assert {"models/meta-llama-llama-3-2-3b.md", "equivalence.md", "downloads.md", "index.md", "javascripts/catalogue-data.js"} <= files
    assert all(problem["message"].startswith(("the page differs", "the chart does not")) for problem in problems)
    [model] = [p for p in problems if p["file"].endswith("meta-llama-llama-3-2-3b.md")]
    assert model["field"].startswith("line ") and "run `catalogue docs`" in model["message"]
    assert any(p["field"] == "fingerprint" for p in problems)


def test_docs_rewrites_the_copy_and_verify_passes_again(checkout_copy):
    data = checkout_copy / "data"
    rewrite_records(data, lambda record: record.pruning_pct != 30)
    (checkout_copy / "docs" / "models" / "gone.md").write_text((DOCS / "models" / "meta-llama-llama-3-2-1b.md").read_text())
    completed = run_here("docs", env=env_for(data))
    assert completed.returncode == 0, completed.stderr
    assert not (checkout_copy / "docs" / "models" / "gone.md").exists()
    assert run_here("verify", env=env_for(data)).returncode == 0
    assert '"pruning-30"' not in (checkout_copy / "docs" / "models" / "meta-llama-llama-3-2-1b.md").read_text()
    second = run_here("docs", env=env_for(data))
    assert second.stdout.startswith("0 files rewritten, 0 deleted"), second.stdout


def test_build_rewrites_the_site_in_the_same_step(checkout_copy):
    data = checkout_copy / "data"
    completed = run_here("build", "--closed-form", "--models", "meta-llama/Llama-3.2-1B", "--levels", "0,25", env=env_for(data))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    page = (checkout_copy / "docs" / "models" / "meta-llama-llama-3-2-1b.md").read_text()
    assert '| <span id="pruning-25"></span>25 | 3.00x | 6,144 |' in page


def test_a_hand_edited_number_is_a_problem(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    page = docs / "models" / "meta-llama-llama-3-2-1b.md"
    lines = page.read_text().splitlines(keepends=True)
    line = next(index for index, text in enumerate(lines) if text.startswith('| <span id="pruning-40"></span>40 | 2.40x | 4,916 | 913.77 |'))
    lines[line] = lines[line].replace("913.77", "913.78")
    page.write_text("".join(lines))
    (docs / "plots" / "expansion-ratio-dark.svg").write_text("<svg/>")
    data_file = docs / "javascripts" / "catalogue-data.js"
    data_lines = data_file.read_text().splitlines(keepends=True)
    total = next(index for index, text in enumerate(data_lines) if '"total_parameters": 1235814400' in text)
    data_lines[total] = data_lines[total].replace("1235814400", "1235814401")
    data_file.write_text("".join(data_lines))
    report = Report()
    files = read_site_files(DATA)
    check_site(docs, files, load_registry(), verify_contents(DATA, files, load_registry()), report)
    found = {(Path(p.file).name, p.field) for p in report.problems}
    assert found == {
        ("meta-llama-llama-3-2-1b.md", f"line {line + 1}"),
        ("expansion-ratio-dark.svg", "fingerprint"),
        ("catalogue-data.js", f"line {total + 1}"),
    }, report.problems
    [edited] = [p for p in report.problems if p.file.endswith(".md")]
    assert "913.77" in edited.expected and "913.78" in edited.found
    [planner] = [p for p in report.problems if p.file.endswith(".js")]
    assert "1235814400" in planner.expected and "1235814401" in planner.found


def test_verify_checks_only_the_default_data_directory(data_copy):
    assert "docs_pages" not in verify([data_copy]).checked
    assert "docs_pages" in verify([DATA]).checked


# --- data-driven: many families, no list of models anywhere -------------------------------------------


def synthetic_catalogue(n_models: int) -> tuple[list, dict]:
    """Closed-form records of ``n_models`` made-up models in several families, and their registry."""
    registry = load_registry()
    template = registry["meta-llama/Llama-3.2-1B"]
    entries, records = {}, []
    provenance = closed_form_provenance("2026-01-01T00:00:00Z")
    for index in range(n_models):
        hidden = 512 + 128 * index
        shape = Architecture(
            hidden_size=hidden,
            intermediate_size=hidden * (2 + index % 5) + 64 * index,
            num_hidden_layers=8 + index,
            num_attention_heads=8,
            num_key_value_heads=2,
            head_dim=64,
            vocab_size=32000,
            tie_word_embeddings=bool(index % 2),
            qkv_bias=False,
            o_proj_bias=False,
            mlp_bias=False,
            qk_norm=False,
            norms_per_layer=2,
        )
        model_id = f"acme/Family{index % 6}-{index}B"
        entries[model_id] = template.model_copy(update={"model_id": model_id, "family": f"Family {index % 6}", "size_label": f"{index}B"})
        records += [closed_form_record(model_id, shape, level, provenance) for level in range(0, 61, 10)]
    return records, entries


def test_pages_grow_with_the_data():
    records, registry = synthetic_catalogue(18)
    content = SiteContent(records=tuple(records), registry=registry, schemas={}, downloads={}, verification=VerificationSummary(()))
    pages = render_pages(content)
    assert {path for path in pages if path.startswith("families/") and path != "families/index.md"} == {
        f"families/family-{index}/index.md" for index in range(6)
    }
    assert {path for path in pages if path.startswith("models/")} == {f"models/acme-family{index % 6}-{index}b.md" for index in range(18)}
    equivalence = pages["equivalence.md"]
    header = next(line for line in equivalence.splitlines() if line.startswith("| Expansion Ratio"))
    assert header.count("|") == 18 + 2
    assert "### " in equivalence  # many ratios: split into bands
    specs = plot_specs(all_groups(content.views))
    assert all(len(spec.series) == 18 for spec in specs)
    svg = draw_svg(specs[0], "dark")
    for label, _ in specs[0].series:
        assert f">{label}</text>" in svg, f"{label} is not in the legend"  # text as text (svg.fonttype none)


def test_verify_checks_the_site_without_matplotlib_or_mkdocs():
    completed = run_cli("verify", env={"PYTHONPROFILEIMPORTTIME": "1", "PATH": "/usr/bin:/bin"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in completed.stderr.splitlines() if line.startswith("import time:")}
    assert "glu_catalogue.site.generated" in imported
    assert not {name for name in imported if name.split(".")[0] in ("matplotlib", "mkdocs", "material")}
    assert "docs pages" in completed.stdout

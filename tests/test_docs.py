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
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import DATA, REPO, invoke, load_json, run_cli

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
from glu_catalogue.store.paths import docs_dir, schemas_dir
from glu_catalogue.store.registry import load_registry

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


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built from the repository with ``mkdocs build --strict``."""
    target = tmp_path_factory.mktemp("site")
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(target)],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return target


@dataclass
class Table:
    """One HTML table: its header, its rows, and the headings and paragraphs above it."""

    heading: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    styles: list[list[str]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


class Page(HTMLParser):
    """The tables of a built page's article, each with the nearest heading and the group's model ids."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[Table] = []
        self.heading = ""
        self.models: list[str] = []
        self.images: list[str] = []
        self._text: list[str] | None = None
        self._kind = ""
        self._row: list[str] | None = None
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
        if tag in ("h1", "h2", "h3", "p"):
            self._text, self._kind = [], tag
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "table":
            self.tables.append(Table(self.heading, [], models=list(self.models)))
        elif tag == "thead":
            self._in_header = True
        elif tag == "tr":
            self._row, self._row_styles = [], []
        elif tag in ("td", "th"):
            self._text, self._kind, self._cell_style = [], tag, "plain"
        elif tag in ("em", "strong") and self._kind in ("td", "th"):
            self._cell_style = {"em": "italic", "strong": "bold"}[tag]

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
                    table.header = self._row
                else:
                    table.rows.append(self._row)
                    table.styles.append(self._row_styles)
                self._row = None
            return
        text = " ".join("".join(self._text).split())
        if tag in ("h1", "h2", "h3"):
            self.heading, self.models = text, []
        elif tag == "p" and text.startswith("Models:"):
            self.models = re.findall(r"[\w.-]+/[\w.-]*[\w-]", text)
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(text)
            self._row_styles.append(self._cell_style)
        self._text = None

    def handle_data(self, data):
        if self._text is not None and not self._skip:
            self._text.append(data)


def parse(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


def html_pages(site: Path) -> dict[str, Page]:
    """Every page of the site by its URL path ('' for home)."""
    return {
        path.parent.relative_to(site).as_posix().strip("."): parse(path)
        for path in sorted(site.rglob("index.html"))
        if "assets" not in path.parts
    }


def fmt(value: float) -> str:
    return f"{value:.2f}"


def groups_by_label(pages: dict[str, Page]) -> dict[str, list[str]]:
    """Group label (the heading of a family page's section) -> the model ids listed under it."""
    labels = {}
    for url, page in pages.items():
        if url.startswith("families/"):
            for table in page.tables:
                if table.models:
                    labels[table.heading] = table.models
    return labels


def records_of(model_id: str) -> list:
    records = sorted((r for (m, _), r in SUCCESSFUL.items() if m == model_id), key=lambda r: r.pruning_pct)
    assert records, f"no successful record of {model_id!r}"
    return records


def check_study_table(table: Table, covered: set) -> None:
    assert table.models, f"no 'Models:' line above the table under {table.heading!r}"
    for row in table.rows:
        pct_text, ratio_text, width, millions, reduction = row
        if pct_text == "baseline":
            for model_id in table.models:
                base = records_of(model_id)[0].original_architecture
                assert row[1:] == [f"{fmt(base.expansion_rate)}x", str(base.intermediate_size), fmt(base.total_parameters_millions), fmt(0)]
            continue
        pct = int(pct_text.replace(" (baseline)", ""))
        assert pct_text.endswith("(baseline)") == (pct == 0)
        for model_id in table.models:
            record = SUCCESSFUL[(model_id, pct)]
            pruned = record.pruned_architecture
            assert ratio_text == f"{fmt(pruned.expansion_rate)}x", (model_id, pct)
            assert width == str(pruned.intermediate_size), (model_id, pct)
            assert millions == fmt(pruned.total_parameters_millions), (model_id, pct)
            assert reduction == fmt(record.reductions.parameter_reduction_pct), (model_id, pct)
            covered.add((model_id, pct))
    for model_id in table.models:
        assert {int(row[0].split()[0]) for row in table.rows if row[0] != "baseline"} == {r.pruning_pct for r in records_of(model_id)}


def check_architecture_table(table: Table) -> None:
    for model_id in table.models:
        base = records_of(model_id)[0].original_architecture
        for name, value in table.rows:
            if name == "MLP share of parameters %":
                assert value == fmt(formulas.mlp_share(base.architecture()) * 100)
                continue
            expected = getattr(base, name.replace(" (baseline)", ""))
            assert value == (str(expected).lower() if isinstance(expected, bool) else str(expected)), (model_id, name)


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


def check_equivalence_table(table: Table, labels: dict[str, list[str]], ratios_seen: set) -> None:
    for row, styles in zip(table.rows, table.styles):
        ratios_seen.add(row[0])
        for label, cell, style in zip(table.header[1:], row[1:], styles[1:]):
            assert (cell, style) == expected_equivalence(labels[label][0], row[0]), (label, row[0])


def check_baselines_table(table: Table, labels: dict[str, list[str]]) -> None:
    registry = load_registry()
    for label, family, hidden, width, layers, ratio_text in table.rows:
        for model_id in labels[label]:
            base = records_of(model_id)[0].original_architecture
            assert registry[model_id].family == family
            assert [hidden, width, layers, ratio_text] == [
                str(base.hidden_size), str(base.intermediate_size), str(base.num_hidden_layers), f"{fmt(base.expansion_rate)}x"
            ]


def check_reduction_table(table: Table, labels: dict[str, list[str]]) -> None:
    levels = [int(name.split()[0]) for name in table.header[2:]]
    for label, share, *cells in table.rows:
        for model_id in labels[label]:
            records = {r.pruning_pct: r for r in records_of(model_id)}
            assert share == fmt(formulas.mlp_share(records_of(model_id)[0].original_architecture.architecture()) * 100)
            for level, cell in zip(levels, cells):
                assert cell == (fmt(records[level].reductions.parameter_reduction_pct) if level in records else "")


def check_families_table(table: Table, labels: dict[str, list[str]]) -> None:
    registry = load_registry()
    for family, label, ratio_text, count, levels in table.rows:
        for model_id in labels[label]:
            records = records_of(model_id)
            assert registry[model_id].family == family
            assert ratio_text == f"{fmt(records[0].original_architecture.expansion_rate)}x"
            assert count == str(sum(1 for (m, _) in RECORDS if m == model_id))
            assert levels == f"{records[0].pruning_pct}–{records[-1].pruning_pct}"


def check_verification_table(table: Table) -> None:
    checked = verify(check_docs=False).checked
    labels = {"Files (JSON and CSV)": "files", "Records": "records", "Values compared": "values", "CSV rows": "csv_rows", "Schema files": "schemas"}
    assert {labels[name]: int(count) for name, count in table.rows} == dict(checked)
    assert dict(table.rows)["Records"] == str(len(RAW["models"]))


def check_downloads_table(table: Table, site: Path) -> None:
    for name, _, size, digest in table.rows:
        source = (DATA / name) if (DATA / name).is_file() else schemas_dir() / name
        content = source.read_bytes()
        assert size == str(len(content)) and digest == hashlib.sha256(content).hexdigest()
        folder = "data" if source.parent == DATA else "schemas"
        assert (site / folder / name).read_bytes() == content


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
        fields = {column["name"]: column for column in schemas["expansion_rates_summary.tableschema.json"]["fields"]}
        for name, kind, required, constraints, description in table.rows:
            column = fields[name]
            assert kind == column["type"] and description == column["description"]
            assert required == ("yes" if column["constraints"].get("required") else "no")
            for key, value in bounds(constraints):
                assert column["constraints"][key] == value, (name, key)
        return
    schema = schemas["expansion_rates.schema.json"]
    definition = schema["$defs"].get(table.heading, schema)
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
    labels = groups_by_label(pages)
    covered: set = set()
    ratios_seen: set = set()
    checked_tables = 0
    for url, page in pages.items():
        for table in page.tables:
            header = tuple(table.header)
            if header == ("Pruning %", "Expansion Ratio", "Intermediate Size", "Parameters (M)", "Param Reduction %"):
                check_study_table(table, covered)
            elif header == ("Field", "Value"):
                check_architecture_table(table)
            elif header[0] == "Expansion Ratio":
                check_equivalence_table(table, labels, ratios_seen)
            elif header == ("Model", "Family", "Hidden Size", "Intermediate Size", "Layers", "Baseline Expansion Ratio"):
                check_baselines_table(table, labels)
            elif header[:2] == ("Model", "MLP Share %"):
                check_reduction_table(table, labels)
            elif header == ("Family", "Models", "Baseline Expansion Ratio", "Records", "Pruning %"):
                check_families_table(table, labels)
            elif header == ("Checked", "Count"):
                check_verification_table(table)
            elif header == ("File", "Contents", "Bytes", "SHA-256"):
                check_downloads_table(table, site)
            elif header[1:4] == ("Type", "Required", "Constraints"):
                check_schema_table(table)
            else:
                pytest.fail(f"{url}: a table with no check: {header}")
            checked_tables += 1
    assert covered == set(SUCCESSFUL), "every successful record appears in a family table"
    assert ratios_seen == {f"{fmt(r.pruned_architecture.expansion_rate)}x" for r in SUCCESSFUL.values()}
    assert checked_tables >= 10


def test_the_studys_point_is_on_the_equivalence_page(site):
    text = (site / "equivalence" / "index.html").read_text()
    line = re.search(r"2\.40x</strong>: ([^<]*)", text).group(1)
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
    assert {label for spec in specs for label, _ in spec.series} == set(groups_by_label(html_pages(site)))


# --- (d) a record changed without regenerating the site fails verify ------------------------------------


@pytest.fixture
def checkout_copy(tmp_path) -> Path:
    """A copy of data/ and docs/ side by side, as the default data directory (``CATALOGUE_DATA_DIR``)."""
    shutil.copytree(DATA, tmp_path / "data")
    shutil.copytree(DOCS, tmp_path / "docs")
    return tmp_path


def rewrite_records(data_dir: Path, keep) -> None:
    """Rewrite the JSON and CSV with the records ``keep`` selects: consistent data, stale pages."""
    records = [record for record in CATALOGUE.models if keep(record)]
    for path, text in catalogue_texts(data_dir, records, RAW["metadata"]["optipfair_version"], "MAW").items():
        path.write_text(text)


def env_for(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "CATALOGUE_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}


def test_changed_record_without_regenerating_makes_verify_exit_1(checkout_copy):
    data = checkout_copy / "data"
    rewrite_records(data, lambda record: not (record.base_model.endswith("3B") and record.pruning_pct == 60))
    assert verify([data], check_docs=False).ok  # the data alone is fine
    completed = run_cli("verify", "--format", "json", env=env_for(data))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    problems = json.loads(completed.stdout)["problems"]
    files = {Path(problem["file"]).relative_to(checkout_copy / "docs").as_posix() for problem in problems}
    assert {"families/llama-3-2.md", "equivalence.md", "downloads.md", "index.md"} <= files
    assert all(problem["message"].startswith(("the page differs", "the chart does not")) for problem in problems)
    [family] = [p for p in problems if p["file"].endswith("llama-3-2.md")]
    assert family["field"].startswith("line ") and "run `catalogue docs`" in family["message"]
    assert any(p["field"] == "fingerprint" for p in problems)


def test_docs_rewrites_the_copy_and_verify_passes_again(checkout_copy):
    data = checkout_copy / "data"
    rewrite_records(data, lambda record: record.pruning_pct != 30)
    (checkout_copy / "docs" / "families" / "gone.md").write_text((DOCS / "families" / "llama-3-2.md").read_text())
    completed = run_cli("docs", env=env_for(data))
    assert completed.returncode == 0, completed.stderr
    assert not (checkout_copy / "docs" / "families" / "gone.md").exists()
    assert run_cli("verify", env=env_for(data)).returncode == 0
    assert "| 30 |" not in (checkout_copy / "docs" / "families" / "llama-3-2.md").read_text()
    second = run_cli("docs", env=env_for(data))
    assert second.stdout.startswith("0 files rewritten, 0 deleted"), second.stdout


def test_build_rewrites_the_site_in_the_same_step(checkout_copy):
    data = checkout_copy / "data"
    completed = run_cli("build", "--closed-form", "--models", "meta-llama/Llama-3.2-1B", "--levels", "0,25", env=env_for(data))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    page = (checkout_copy / "docs" / "families" / "llama-3-2.md").read_text()
    assert "| 25 | 3.00x | 6144 |" in page


def test_a_hand_edited_number_is_a_problem(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    page = docs / "families" / "llama-3-2.md"
    lines = page.read_text().splitlines(keepends=True)
    line = next(index for index, text in enumerate(lines) if text.startswith("| 40 | 2.40x | 4916 | 913.77 |"))
    lines[line] = lines[line].replace("913.77", "913.78")
    page.write_text("".join(lines))
    (docs / "plots" / "expansion-ratio-dark.svg").write_text("<svg/>")
    report = Report()
    files = read_site_files(DATA)
    check_site(docs, files, load_registry(), verify(check_docs=False), report)
    found = {(Path(p.file).name, p.field) for p in report.problems}
    assert found == {("llama-3-2.md", f"line {line + 1}"), ("expansion-ratio-dark.svg", "fingerprint")}, report.problems
    [edited] = [p for p in report.problems if p.file.endswith(".md")]
    assert "913.77" in edited.expected and "913.78" in edited.found


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
            hidden_size=hidden, intermediate_size=hidden * (2 + index % 5) + 64 * index, num_hidden_layers=8 + index,
            num_attention_heads=8, num_key_value_heads=2, head_dim=64, vocab_size=32000, tie_word_embeddings=bool(index % 2),
            qkv_bias=False, o_proj_bias=False, mlp_bias=False, qk_norm=False, norms_per_layer=2,
        )  # fmt: skip
        model_id = f"acme/Family{index % 6}-{index}B"
        entries[model_id] = template.model_copy(update={"model_id": model_id, "family": f"Family {index % 6}", "size_label": f"{index}B"})
        records += [closed_form_record(model_id, shape, level, provenance) for level in range(0, 61, 10)]
    return records, entries


def test_pages_grow_with_the_data():
    records, registry = synthetic_catalogue(18)
    content = SiteContent(
        records=tuple(records), registry=registry, schemas={}, downloads={}, verification=VerificationSummary(())
    )
    pages = render_pages(content)
    assert {path for path in pages if path.startswith("families/") and path != "families/index.md"} == {
        f"families/family-{index}.md" for index in range(6)
    }
    equivalence = pages["equivalence.md"]
    header = next(line for line in equivalence.splitlines() if line.startswith("| Expansion Ratio"))
    assert header.count("|") == 18 + 2
    assert "### " in equivalence  # many ratios: split into bands
    specs = plot_specs(all_groups(content.views))
    assert all(len(spec.series) == 18 for spec in specs)
    svg = draw_svg(specs[0], "dark")
    for label, _ in specs[0].series:
        assert f"<!-- {label} -->" in svg, f"{label} is not in the legend"


def test_verify_checks_the_site_without_matplotlib_or_mkdocs():
    completed = run_cli("verify", env={"PYTHONPROFILEIMPORTTIME": "1", "PATH": "/usr/bin:/bin"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in completed.stderr.splitlines() if line.startswith("import time:")}
    assert "glu_catalogue.site.generated" in imported
    assert not {name for name in imported if name.split(".")[0] in ("matplotlib", "mkdocs", "material")}
    assert "docs pages" in completed.stdout

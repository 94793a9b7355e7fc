"""The layout page's generated part (site/layout_page.py): the tree read from a package's modules, spliced between its
markers with the hand-written sections kept, and reported when stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from glu_catalogue.core.problems import Report
from glu_catalogue.errors import ReadError, SiteError
from glu_catalogue.site.layout_page import BEGIN, END, LAYOUT_PAGE, check_layout_page, layout_section, layout_update, package_tree, role


def write_package(root: Path) -> Path:
    """A package ``pkg`` with a top-level module, two parts (out of alphabetical order on the floors) and a nested package."""
    modules = {
        "__init__.py": '"""The public API."""\n',
        "errors.py": '"""Errors, each with\nits exit code.\n\nMore prose that is not the role."""\n',
        "store/__init__.py": '"""The files."""\n',
        "store/reading.py": '"""Reading ``JSON``."""\n',
        "core/__init__.py": '"""Pure."""\n',
        "core/formulas.py": '"""Closed-form counts."""\n',
        "core/readers/__init__.py": '"""One reader per format."""\n',
        "core/readers/lm_eval.py": '"""lm-eval results."""\n',
    }
    for name, text in modules.items():
        (root / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "pkg" / name).write_text(text)
    return root / "pkg"


def test_the_tree_names_every_module_with_its_role_parts_on_their_floors(tmp_path):
    tree = package_tree(write_package(tmp_path)).splitlines()
    assert tree[0] == "pkg/"
    names = [re.search(r"── (\S+)", line)[1] for line in tree[1:]]
    # top-level modules, then the parts lowest floor first (core before store), a part's __init__ on its own line only when nested
    assert names == ["__init__.py", "errors.py", "core/", "formulas.py", "readers/", "__init__.py", "lm_eval.py", "store/", "reading.py"]
    assert "│   ├── formulas.py      Closed-form counts." in tree
    assert "└── store/               The files." in tree
    assert "│   └── readers/" in tree and "│       ├── __init__.py  One reader per format." in tree  # said once, by the __init__
    assert "├── errors.py            Errors, each with its exit code." in tree  # the first paragraph, on one line
    assert "    └── reading.py       Reading `JSON`." in tree  # Markdown's code, not reST's


def test_a_long_role_wraps_with_the_tree_drawn_through(tmp_path):
    package = write_package(tmp_path)
    (package / "core" / "formulas.py").write_text('"""' + "word " * 40 + '"""\n')
    tree = package_tree(package).splitlines()
    at = next(index for index, line in enumerate(tree) if "formulas.py" in line)
    assert tree[at + 1].startswith("│   │") and tree[at + 1][25:].startswith("word")
    assert all(len(line) <= 118 for line in tree)


def test_a_module_without_a_docstring_is_named_in_the_error(tmp_path):
    path = tmp_path / "bare.py"
    path.write_text("x = 1\n")
    with pytest.raises(SiteError, match="bare.py: no docstring"):
        role(path)


def test_the_page_keeps_its_hand_written_sections_and_is_reported_until_rewritten(tmp_path):
    package = write_package(tmp_path)
    docs = tmp_path / "docs"
    (docs / "reference").mkdir(parents=True)
    page = docs / LAYOUT_PAGE
    page.write_text(f"# Layout\n\nIntro.\n\n{BEGIN}\nan old tree\n{END}\n\n## How to add an outcome reader\n\nSteps.\n")
    report = Report()
    check_layout_page(docs, report, package)
    assert [problem.field for problem in report.problems] == ["layout"] and report.problems[0].kind == "site"
    [(path, text)] = layout_update(docs, package).items()
    assert path == page
    assert text == f"# Layout\n\nIntro.\n\n{layout_section(package)}\n\n## How to add an outcome reader\n\nSteps.\n"
    page.write_text(text)
    report = Report()
    check_layout_page(docs, report, package)
    assert report.ok and layout_update(docs, package) == {}


def test_a_page_without_the_markers_is_an_error_saying_where_they_go(tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / LAYOUT_PAGE).write_text("# Layout\n")
    with pytest.raises(SiteError, match="no generated part"):
        layout_update(tmp_path, write_package(tmp_path))


def test_a_copy_of_the_pages_without_a_layout_page_is_left_alone_the_checkout_must_have_one(tmp_path, monkeypatch):
    """A ``$CATALOGUE_DATA_DIR`` may have a docs/ of its own beside it; only the checkout's docs/ must hold the layout page."""
    package = write_package(tmp_path)
    assert layout_update(tmp_path, package) == {}
    monkeypatch.setattr("glu_catalogue.site.layout_page.checkout_docs_dir", lambda: tmp_path)
    with pytest.raises(ReadError):
        layout_update(tmp_path, package)
